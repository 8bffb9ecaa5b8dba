"""Turns the dashboard's `Numbers` into what the page shows: cards, tables and chart series, each figure with the
link to the list of rows behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from taizhang.accounts.models import OrgUnit
from taizhang.establishments.models import Status
from taizhang.industries.models import ServiceCategory
from taizhang.inspections.models import Campaign, CampaignState
from taizhang.problems.models import ProblemCategory
from taizhang.regions.models import Level, Region
from taizhang.rollups import facts

from .scope import View
from .selectors import TREND_DAYS, Numbers

ACTIVE_STATUSES = [s for s in Status.values if s != Status.CLOSED]
# The region levels each list's filter accepts (a figure of another level links without the region filter).
EST_REGION_LEVELS: set[str] = {Level.SUBDISTRICT.value, Level.COMMUNITY.value, Level.GRID.value}
PROBLEM_REGION_LEVELS: set[str] = {Level.DISTRICT.value, Level.SUBDISTRICT.value, Level.COMMUNITY.value}


@dataclass
class Card:
    label: str
    value: int | str
    url: str = ""
    note: str = ""
    tone: str = ""
    testid: str = ""


@dataclass
class Page:
    view: View
    on: date
    numbers: Numbers
    breadcrumb: list[tuple[str, str]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    problem_categories: list[dict[str, Any]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "", False)})
    return reverse(name) + (f"?{query}" if query else "")


def _region_param(region: Region | None, levels: set[str]) -> int | None:
    return region.pk if region is not None and region.level in levels else None


def _rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def dashboard_url(region: Region | None = None, on: date | None = None, name: str = "dashboards:home") -> str:
    return _url(name, region=region.pk if region else None, on=on.isoformat() if on else None)


def build(view: View, n: Numbers, *, on: date, default_on: date) -> Page:
    page = Page(view=view, on=on, numbers=n)
    keep_on = on if on != default_on else None
    region = view.region
    est_region = _region_param(region, EST_REGION_LEVELS)
    prob_region = _region_param(region, PROBLEM_REGION_LEVELS)

    # breadcrumb: from the user's root down to the region
    if region is not None:
        roots = [r for r in view.roots if region.path.startswith(r.path)]
        root = roots[0]
        chain = Region.objects.filter(path__in=[p for p in _prefixes(region.path) if p.startswith(root.path)]).order_by("depth")
        if len(view.roots) > 1:
            page.breadcrumb.append(("全部辖区", dashboard_url(None, keep_on)))
        page.breadcrumb += [(r.display_name, dashboard_url(r, keep_on)) for r in chain]

    # cards
    est_total = sum(v for (_c, s), v in n.est.items() if s in ACTIVE_STATUSES)
    filing_waiting = n.filing.get("submitted", 0)
    prob_open = sum(v for (_c, s), v in n.prob_unit.items() if s == "open")
    prob_overdue = sum(v for (_c, s), v in n.prob_unit.items() if s == "overdue")
    done = sum(v for (_c, s), v in n.prob_unit.items() if s == "done")
    in_sla = sum(v for (_c, s), v in n.prob_unit.items() if s == "in_sla")
    covered = sum(v for (_c, k), v in n.targets.items() if k == "covered")
    targets = sum(v for (_c, k), v in n.targets.items() if k == "active")
    day = f"{on.month}月{on.day}日"
    page.cards = [
        Card("在册单位", est_total, _url("establishments:list", region=est_region), testid="est-total"),
        Card(
            f"截至{day}复工复产",
            n.resumed_as_of,
            _url("establishments:list", region=est_region, status=Status.RESUMED),
            tone="ok",
            testid="resumed-total",
        ),
        Card(
            "其中限上企业",
            n.resumed_above_as_of,
            _url("establishments:list", region=est_region, status=Status.RESUMED, above_size=1),
            testid="resumed-above",
        ),
        Card(
            f"{day}复工",
            n.resumed_today,
            _url("establishments:list", region=est_region, status=Status.RESUMED),
            testid="resumed-today",
        ),
        Card("备案待审核", filing_waiting, _url("filings:list", state="submitted"), testid="filings-waiting"),
        Card(
            "逾期未审",
            n.filing_overdue,
            reverse("filings:overdue"),
            tone="bad" if n.filing_overdue else "",
            testid="filings-overdue",
        ),
        Card("问题未办结", prob_open, _url("problems:list", region=prob_region, state="open"), testid="problems-open"),
        Card("问题超期", prob_overdue, _url("problems:overdue"), tone="bad" if prob_overdue else "", testid="problems-overdue"),
        Card(
            "按期办结率",
            _rate(in_sla, done),
            _url("problems:list", region=prob_region, state="done"),
            note=f"{in_sla}/{done}",
            testid="problems-in-sla",
        ),
        Card(
            "出动人次",
            n.visit_people,
            reverse("inspections:figures"),
            note=f"走访巡查 {sum(n.visits.values())} 次",
            testid="person-times",
        ),
    ]
    if view.helped:
        page.cards.append(Card("帮扶企业", n.helped, reverse("inspections:figures"), testid="helped"))
    page.cards.append(
        Card(
            "专项行动覆盖",
            _rate(covered, targets),
            reverse("inspections:campaigns"),
            note=f"{covered}/{targets}",
            testid="coverage",
        )
    )

    # establishments by major category and status
    cats = {sc.pk: sc for sc in ServiceCategory.objects.all()}
    majors: dict[int, dict[str, int]] = {}
    for (cat, status), v in n.est.items():
        sc = cats.get(cat)
        major = (sc.parent_id or sc.pk) if sc is not None else 0
        majors.setdefault(major, {})
        majors[major][status] = majors[major].get(status, 0) + v
    above: dict[int, int] = {}
    for (cat, status), v in n.est_above.items():
        if status == Status.RESUMED:
            sc = cats.get(cat)
            major = (sc.parent_id or sc.pk) if sc is not None else 0
            above[major] = above.get(major, 0) + v
    page.statuses = [(s.value, s.label) for s in Status if s != Status.CLOSED]
    order = sorted(majors, key=lambda m: (cats[m].sort, cats[m].code) if m in cats else (9999, "~"))
    for m in order:
        counts = majors[m]
        total = sum(counts.get(s, 0) for s in ACTIVE_STATUSES)
        if not total:
            continue
        page.categories.append(
            {
                "label": cats[m].name if m in cats else "未分类",
                "cells": [
                    (counts.get(s, 0), _url("establishments:list", region=est_region, category=m or None, status=s))
                    for s in ACTIVE_STATUSES
                ],
                "total": total,
                "url": _url("establishments:list", region=est_region, category=m or None),
                "rate": _rate(counts.get(Status.RESUMED, 0), total),
                "above": above.get(m, 0),
            }
        )

    # drill-down
    child_regions = {r.path: r for r in Region.objects.filter(path__in=list(n.children))} if n.children else {}
    if region is None:
        child_regions.update({r.path: r for r in view.roots})
    for path in sorted(n.children):
        r = child_regions.get(path)
        if r is None:
            continue
        cv = n.children[path]
        total = sum(cv.get(("est", s), 0) for s in ACTIVE_STATUSES)
        active, cov = cv.get(("target", "active"), 0), cv.get(("target", "covered"), 0)
        page.children.append(
            {
                "region": r,
                "url": dashboard_url(r, keep_on),
                "total": total,
                "resumed": cv.get(("est", Status.RESUMED), 0),
                "rate": _rate(cv.get(("est", Status.RESUMED), 0), total),
                "open": cv.get(("prob_unit", "open"), 0),
                "overdue": cv.get(("prob_unit", "overdue"), 0),
                "filing_overdue": cv.get(("filing_overdue", ""), 0),
                "coverage": _rate(cov, active),
                "covered": cov,
                "targets": active,
                "est_url": _url("establishments:list", region=_region_param(r, EST_REGION_LEVELS)),
                "prob_url": _url("problems:list", region=_region_param(r, PROBLEM_REGION_LEVELS), state="open"),
            }
        )

    # problems by category (territorial views) and by unit
    if view.problems:
        pcats = {pc.pk: pc for pc in ProblemCategory.objects.all()}
        ids = sorted(
            {c for c, _s in n.prob} | set(n.prob_overdue),
            key=lambda c: (pcats[c].sort, pcats[c].code) if c in pcats else (9999, ""),
        )
        for c in ids:
            open_ = sum(v for (cat, s), v in n.prob.items() if cat == c and s in facts.PROBLEM_OPEN)
            d, ok = n.prob_sla.get((c, "done"), 0), n.prob_sla.get((c, "in_sla"), 0)
            page.problem_categories.append(
                {
                    "label": pcats[c].name if c in pcats else str(c),
                    "open": open_,
                    "overdue": n.prob_overdue.get(c, 0),
                    "done": d,
                    "in_sla": ok,
                    "rate": _rate(ok, d),
                    "url": _url("problems:list", region=prob_region, category=c, state="open"),
                    "done_url": _url("problems:list", region=prob_region, category=c, state="done"),
                }
            )
    unit_ids = {u for u, _k in n.prob_unit}
    names = {u.pk: u.name for u in OrgUnit.objects.filter(pk__in=unit_ids)}
    rows: list[dict[str, Any]] = []
    for u in unit_ids:
        d, ok = n.prob_unit.get((u, "done"), 0), n.prob_unit.get((u, "in_sla"), 0)
        rows.append(
            {
                "label": names.get(u, "未分派"),
                "open": n.prob_unit.get((u, "open"), 0),
                "overdue": n.prob_unit.get((u, "overdue"), 0),
                "done": d,
                "in_sla": ok,
                "rate": _rate(ok, d),
            }
        )
    page.units = sorted(rows, key=lambda r: (-r["overdue"], -r["open"], -r["done"], r["label"]))[:15]

    # campaigns
    campaign_ids = {c for c, _k in n.targets}
    for camp in Campaign.objects.filter(pk__in=campaign_ids, state=CampaignState.ACTIVE).order_by("-starts_on", "-id"):
        active, cov = n.targets.get((camp.pk, "active"), 0), n.targets.get((camp.pk, "covered"), 0)
        if active:
            page.campaigns.append(
                {
                    "campaign": camp,
                    "targets": active,
                    "covered": cov,
                    "rate": _rate(cov, active),
                    "percent": round(cov * 100 / active) if active else 0,
                    "url": reverse("inspections:campaign", args=[camp.pk]),
                }
            )

    # charts (data only; drawn by static/dashboards/dashboard.js)
    days = [on - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    daily = [n.resumed_trend.get(d, 0) for d in days]
    base = n.resumed_as_of - sum(daily) if on >= days[-1] else 0
    cumulative, running = [], base
    for v in daily:
        running += v
        cumulative.append(running)
    labels = [f"{d.month}/{d.day}" for d in days]
    page.charts = {
        "resumed": {"title": "每日复工", "labels": labels, "daily": daily, "cumulative": cumulative},
        "problems": {
            "title": "问题上报与办结",
            "labels": labels,
            "reported": [n.prob_trend.get((d, "reported"), 0) for d in days],
            "resolved": [n.prob_trend.get((d, "resolved"), 0) for d in days],
        },
        "coverage": {
            "title": "复工率与专项行动覆盖率（按下级区划）",
            "labels": [c["region"].display_name for c in page.children],
            "resumed": [round(c["resumed"] * 100 / c["total"], 1) if c["total"] else 0 for c in page.children],
            "covered": [round(c["covered"] * 100 / c["targets"], 1) if c["targets"] else 0 for c in page.children],
        },
        "has_trend": bool(view.region is None or view.region.depth <= _flow_depth()),
    }
    return page


def _flow_depth() -> int:
    from taizhang.rollups.services import flow_max_depth

    return flow_max_depth()


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
