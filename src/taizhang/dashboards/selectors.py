"""The dashboard's figures, read from the rollups (`numbers`) — and the same figures counted straight from the
base rows (`raw_numbers`), which the benchmark times against and the tests compare with.

`numbers()` makes a fixed number of indexed lookups per part of the view (taizhang.dashboards.scope), each
reading at most (categories × keys) or (days × keys) rows: its cost does not grow with the data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from taizhang.core.paths import subtree_q
from taizhang.establishments.models import Establishment, Status
from taizhang.filings.models import Filing
from taizhang.filings.models import State as FilingState
from taizhang.inspections.models import CampaignTarget, Visit
from taizhang.problems.models import Problem, ProblemEvent
from taizhang.rollups import facts
from taizhang.rollups import selectors as rollups
from taizhang.rollups.services import ancestors, flow_max_depth

from .scope import Part, View
from .sources import helped_visits, rows

TREND_DAYS = 30
CHILD_METRICS: dict[str, tuple[str, ...]] = {  # what the drill-down table shows per child region, by family
    "establishments": ("est", "filing_overdue"),
    "problems": ("prob_overdue",),
    "units": ("prob_unit",),
    "targets": ("target",),
}
TREND_EVENTS = ("reported", "resolved")


@dataclass
class Numbers:
    """Every figure of a dashboard page, as counts keyed the way the rollups key them."""

    on: date
    est: dict[tuple[int, str], int] = field(default_factory=dict)  # (category, status)
    est_above: dict[tuple[int, str], int] = field(default_factory=dict)
    resumed_as_of: int = 0
    resumed_above_as_of: int = 0
    resumed_today: int = 0
    resumed_trend: dict[date, int] = field(default_factory=dict)
    filing: dict[str, int] = field(default_factory=dict)  # state
    filing_overdue: int = 0
    prob: dict[tuple[int, str], int] = field(default_factory=dict)  # (problem category, state)
    prob_overdue: dict[int, int] = field(default_factory=dict)
    prob_sla: dict[tuple[int, str], int] = field(default_factory=dict)  # (problem category, done|in_sla)
    prob_unit: dict[tuple[int, str], int] = field(default_factory=dict)  # (unit, open|overdue|done|in_sla)
    prob_trend: dict[tuple[date, str], int] = field(default_factory=dict)  # (day, reported|resolved)
    visits: dict[str, int] = field(default_factory=dict)  # kind
    visit_people: int = 0
    visits_today: int = 0
    helped: int = 0
    targets: dict[tuple[int, str], int] = field(default_factory=dict)  # (campaign, active|covered)
    children: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)  # child path → (metric, key)

    def comparable(self) -> dict[str, Any]:
        """Everything but zero counts (a missing row and a zero are the same figure)."""
        out: dict[str, Any] = {}
        for name, value in vars(self).items():
            if isinstance(value, dict):
                if name == "children":
                    value = {p: {k: v for k, v in d.items() if v} for p, d in value.items()}
                    value = {p: d for p, d in value.items() if d}
                else:
                    value = {k: v for k, v in value.items() if v}
            out[name] = value
        return out


def _add(into: dict[Any, int], items: Iterable[tuple[Any, int]]) -> None:
    for k, v in items:
        if v:
            into[k] = into.get(k, 0) + v


def _trend_window(on: date) -> tuple[date, date]:
    return on - timedelta(days=TREND_DAYS - 1), on


FAMILY_METRICS: dict[str, tuple[str, ...]] = {
    "establishments": ("est", "est_above", "filing", "filing_overdue"),
    "problems": ("prob", "prob_overdue", "prob_sla"),
    "units": ("prob_unit",),
    "visits": ("visit", "visit_people"),
    "targets": ("target",),
    "helped": ("helped",),
}
FAMILY_FLOWS: dict[str, tuple[str, ...]] = {"establishments": ("resumed",), "problems": ("prob_event",), "visits": ("visit",)}


def _families(view: View) -> dict[str, tuple[Part, ...]]:
    return {
        "establishments": view.establishments,
        "problems": view.problems,
        "units": view.units,
        "visits": view.visits,
        "targets": view.targets,
        "helped": view.helped,
    }


def _grouped(view: View, wanted: dict[str, tuple[str, ...]]) -> dict[Part, set[str]]:
    """Each distinct part of the view with every metric asked of it: one query per part, however many families
    share it (a territorial view has one part)."""
    out: dict[Part, set[str]] = defaultdict(set)
    for family, parts in _families(view).items():
        for part in parts:
            out[part] |= set(wanted.get(family, ()))
    return {p: m for p, m in out.items() if m}


def numbers(view: View, *, on: date, today: date | None = None) -> Numbers:
    """The figures of `view` as of `on`, from the rollups: per distinct part of the view one tally lookup, one
    daily-flow range (and one more for the resumed count of a past day), one drill-down range scan."""
    today = today or timezone.localdate()
    n = Numbers(on=on)
    start, end = _trend_window(on)
    flow_depth = flow_max_depth()
    families = _families(view)
    tallies = {
        part: rollups.tallies(metrics, part.path, dims=part.dims, exclude_dims=part.exclude)
        for part, metrics in _grouped(view, FAMILY_METRICS).items()
    }
    daily = {
        part: rollups.flows_by_metric(metrics, part.path, start=start, end=end, dims=part.dims, exclude_dims=part.exclude)
        for part, metrics in _grouped(view, FAMILY_FLOWS).items()
        if part.depth <= flow_depth
    }

    for part in families["establishments"]:
        t = tallies[part]
        _add(n.est, t["est"].items())
        _add(n.est_above, t["est_above"].items())
        _add(n.filing, ((key, v) for (_dim, key), v in t["filing"].items()))
        n.filing_overdue += sum(t["filing_overdue"].values())
        current = (
            sum(v for (_d, s), v in t["est"].items() if s == Status.RESUMED),
            sum(v for (_d, s), v in t["est_above"].items() if s == Status.RESUMED),
        )
        if part.depth > flow_depth or on >= today:
            # live figures (or below the community level, where there are no daily flows): the current count
            n.resumed_as_of += current[0]
            n.resumed_above_as_of += current[1]
        else:
            totals = rollups.flow_totals("resumed", part.path, end=on, dims=part.dims, exclude_dims=part.exclude)
            n.resumed_as_of += totals.get("all", 0)
            n.resumed_above_as_of += totals.get("above", 0)
        if part in daily:
            _add(n.resumed_trend, ((d, kv.get("all", 0)) for d, kv in daily[part]["resumed"].items()))
    n.resumed_today = n.resumed_trend.get(on, 0)
    for part in families["problems"]:
        t = tallies[part]
        _add(n.prob, t["prob"].items())
        _add(n.prob_overdue, ((dim, v) for (dim, _k), v in t["prob_overdue"].items()))
        _add(n.prob_sla, t["prob_sla"].items())
        if part in daily:
            _add(
                n.prob_trend,
                (((d, k), v) for d, kv in daily[part]["prob_event"].items() for k, v in kv.items() if k in TREND_EVENTS),
            )
    for part in families["units"]:
        _add(n.prob_unit, tallies[part]["prob_unit"].items())
    for part in families["visits"]:
        t = tallies[part]
        _add(n.visits, ((k, v) for (_d, k), v in t["visit"].items()))
        n.visit_people += sum(t["visit_people"].values())
        if part in daily:
            n.visits_today += sum(daily[part]["visit"].get(on, {}).values())
    for part in families["targets"]:
        _add(n.targets, tallies[part]["target"].items())
    for part in families["helped"]:
        n.helped += sum(tallies[part]["helped"].values())
    n.children = _children(view)
    return n


def _children(view: View) -> dict[str, dict[tuple[str, str], int]]:
    """Per region one level below the view (or per root, for a user's whole area): the drill-down table."""
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for part, metrics in _grouped(view, CHILD_METRICS).items():
        if view.region is None:  # the user's roots are the rows
            root = next(r.path for r in view.roots if part.path.startswith(r.path))
            t = rollups.tallies(metrics, part.path, dims=part.dims, exclude_dims=part.exclude)
            for metric, values in t.items():
                for (_dim, key), v in values.items():
                    out[root][(metric, key)] += v
        elif part.path == view.region.path:
            below = rollups.children_tallies(metrics, part.path, part.depth, dims=part.dims, exclude_dims=part.exclude)
            for child, child_values in below.items():
                for mk, v in child_values.items():
                    out[child][mk] += v
        else:  # a part deeper than the view (a department's covered sub-district): add it to its child
            child = ancestors(part.path)[view.region.depth + 1][0]
            t = rollups.tallies(metrics, part.path, dims=part.dims, exclude_dims=part.exclude)
            for metric, values in t.items():
                for (_dim, key), v in values.items():
                    out[child][(metric, key)] += v
    return {p: dict(v) for p, v in out.items()}


# --- the same figures straight from the base rows (territorial views) --------------------------------------


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def raw_numbers(path: str, depth: int, *, on: date, today: date | None = None) -> Numbers:
    """What `numbers()` returns for a territorial view of the region at `path`, counted by GROUP BY queries over
    establishments, filings, problems, problem events, campaign targets and visits of the subtree."""
    today = today or timezone.localdate()
    n = Numbers(on=on)
    start, end = _trend_window(on)
    flow_depth = flow_max_depth()
    child_depth = depth + 1
    est = Establishment.objects.filter(subtree_q([path], "region_path")).order_by()
    for r in rows(est.values("category_id", "status").annotate(c=Count("id"))):
        _add(n.est, [((r["category_id"] or 0, r["status"]), r["c"])])
    for r in rows(est.filter(above_size=True).values("category_id", "status").annotate(c=Count("id"))):
        _add(n.est_above, [((r["category_id"] or 0, r["status"]), r["c"])])
    resumed = est.filter(status=Status.RESUMED)
    if depth <= flow_depth:
        dated = resumed.filter(resumed_on__isnull=False)
        as_of = resumed if on >= today else dated.filter(resumed_on__lte=on)
        agg = as_of.aggregate(all=Count("id"), above=Count("id", filter=Q(above_size=True)))
        n.resumed_as_of, n.resumed_above_as_of = agg["all"], agg["above"]
        for r in rows(dated.filter(resumed_on__gte=start, resumed_on__lte=end).values("resumed_on").annotate(c=Count("id"))):
            _add(n.resumed_trend, [(r["resumed_on"], r["c"])])
    else:
        agg = resumed.aggregate(all=Count("id"), above=Count("id", filter=Q(above_size=True)))
        n.resumed_as_of, n.resumed_above_as_of = agg["all"], agg["above"]
    n.resumed_today = n.resumed_trend.get(on, 0)
    filings = Filing.objects.filter(subtree_q([path], "establishment__region_path")).order_by()
    _add(n.filing, ((r["state"], r["c"]) for r in filings.values("state").annotate(c=Count("id"))))
    n.filing_overdue = filings.filter(state=FilingState.SUBMITTED, overdue_flagged_at__isnull=False).count()

    problems = Problem.objects.filter(subtree_q([path], "region_path")).order_by()
    is_open = Q(state__in=sorted(facts.PROBLEM_OPEN))
    overdue = is_open & Q(overdue_since__isnull=False)
    done = Q(state__in=sorted(facts.PROBLEM_DONE), resolved_at__isnull=False)
    in_sla = done & Q(due_at__isnull=False, resolved_at__lte=F("due_at"))
    by_cat = problems.values("category_id").annotate(
        overdue=Count("id", filter=overdue), done=Count("id", filter=done), in_sla=Count("id", filter=in_sla)
    )
    for r in rows(problems.values("category_id", "state").annotate(c=Count("id"))):
        _add(n.prob, [((r["category_id"], r["state"]), r["c"])])
    for r in rows(by_cat):
        _add(n.prob_overdue, [(r["category_id"], r["overdue"])])
        _add(n.prob_sla, [((r["category_id"], "done"), r["done"]), ((r["category_id"], "in_sla"), r["in_sla"])])
    by_unit = problems.values("unit_id").annotate(
        open=Count("id", filter=is_open),
        overdue=Count("id", filter=overdue),
        done=Count("id", filter=done),
        in_sla=Count("id", filter=in_sla),
    )
    for r in rows(by_unit):
        _add(n.prob_unit, [((r["unit_id"] or 0, k), r[k]) for k in ("open", "overdue", "done", "in_sla")])
    if depth <= flow_depth:
        events = (
            ProblemEvent.objects.filter(subtree_q([path], "problem__region_path"), kind__in=TREND_EVENTS)
            .annotate(d=TruncDate("at", tzinfo=_tz()))
            .filter(d__gte=start, d__lte=end)
            .values("d", "kind")
            .annotate(c=Count("id"))
            .order_by()
        )
        _add(n.prob_trend, (((r["d"], r["kind"]), r["c"]) for r in events))

    visits = Visit.objects.filter(subtree_q([path], "region_path")).order_by()
    for r in rows(visits.values("kind").annotate(c=Count("id"), people=Sum("staff_count"))):
        _add(n.visits, [(r["kind"], r["c"])])
        n.visit_people += int(r["people"] or 0)
    if depth <= flow_depth:
        n.visits_today = visits.annotate(d=TruncDate("visited_at", tzinfo=_tz())).filter(d=on).count()
    first_path: dict[int, str] = {}
    for est_id, p in helped_visits().order_by("pk").values_list("establishment_id", "region_path"):
        first_path.setdefault(est_id, p)
    n.helped = sum(1 for p in first_path.values() if p.startswith(path))
    targets = CampaignTarget.objects.filter(subtree_q([path], "region_path"), active=True).order_by()
    for r in rows(
        targets.values("campaign_id").annotate(active=Count("id"), covered=Count("id", filter=Q(covered_at__isnull=False)))
    ):
        _add(n.targets, [((r["campaign_id"], "active"), r["active"]), ((r["campaign_id"], "covered"), r["covered"])])

    # the drill-down table
    from taizhang.regions.models import Region

    children = {r.path: r for r in Region.objects.filter(depth=child_depth).filter(subtree_q([path]))}
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))

    def child_of(p: str) -> str | None:
        chain = ancestors(p)
        return chain[child_depth][0] if len(chain) > child_depth and chain[child_depth][0] in children else None

    for r in rows(est.values("region_path", "status").annotate(c=Count("id"))):
        if (c := child_of(r["region_path"])) is not None:
            out[c][("est", r["status"])] += r["c"]
    for r in rows(
        filings.filter(state=FilingState.SUBMITTED, overdue_flagged_at__isnull=False)
        .values("establishment__region_path")
        .annotate(c=Count("id"))
    ):
        if (c := child_of(r["establishment__region_path"])) is not None:
            out[c][("filing_overdue", "")] += r["c"]
    for r in rows(
        problems.values("region_path").annotate(
            overdue=Count("id", filter=overdue),
            open=Count("id", filter=is_open),
            done=Count("id", filter=done),
            in_sla=Count("id", filter=in_sla),
        )
    ):
        if (c := child_of(r["region_path"])) is not None:
            out[c][("prob_overdue", "")] += r["overdue"]
            for k in ("open", "overdue", "done", "in_sla"):
                out[c][("prob_unit", k)] += r[k]
    for r in rows(
        targets.values("region_path").annotate(active=Count("id"), covered=Count("id", filter=Q(covered_at__isnull=False)))
    ):
        if (c := child_of(r["region_path"])) is not None:
            out[c][("target", "active")] += r["active"]
            out[c][("target", "covered")] += r["covered"]
    n.children = {p: dict(v) for p, v in out.items()}
    return n
