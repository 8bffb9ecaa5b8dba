"""The rollups' metrics counted straight from the base rows, one GROUP BY per metric (registered with
`taizhang.rollups.registry` in DashboardsConfig.ready()).

Each query is the SQL form of a function in `taizhang.rollups.facts`: `rollups.services.rebuild()` writes what
these return (added up to every region above) and `verify()` compares the maintained rollups with it. The
dashboards' raw baseline (`selectors.raw_*`, used by the benchmark and the tests) asks the same questions of the
base rows for one region.

Daily flows stop at the community level, so the event queries group by the path cut at that level when every
region of that level has a path of one length (the NBS tree: 12-digit codes) — ten million events then come back
as a few hundred thousand groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Length, Substr, TruncDate

from taizhang.establishments.models import Establishment, Status
from taizhang.filings.models import Filing
from taizhang.filings.models import State as FilingState
from taizhang.inspections.models import Answer, CampaignTarget, Visit
from taizhang.problems.models import Problem, ProblemEvent
from taizhang.regions.models import Region
from taizhang.rollups import facts
from taizhang.rollups.registry import Leaf, MemberRow, Source, register_dependent, register_source
from taizhang.rollups.services import flow_max_depth


def rows(qs: Any) -> Iterator[dict[str, Any]]:
    """The rows of a values() queryset, as plain dicts (each query here has its own columns)."""
    return iter(qs)


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def flow_path_length() -> int | None:
    """The length of every path at the flow depth, when they all have one length."""
    lengths = set(
        Region.objects.filter(depth=flow_max_depth()).annotate(n=Length("path")).values_list("n", flat=True).distinct()[:2]
    )
    return lengths.pop() if len(lengths) == 1 else None


def _path(field: str, cut: int | None) -> Any:
    return Substr(field, 1, cut) if cut else F(field)


# --- establishments -------------------------------------------------------------------------------------


def establishment_leaves() -> Iterator[Leaf]:
    base = Establishment.objects.order_by()
    for r in rows(base.values("region_path", "category_id", "status").annotate(n=Count("id"))):
        yield ("est", r["region_path"], r["category_id"] or 0, r["status"], None, r["n"])
    for r in rows(base.filter(above_size=True).values("region_path", "category_id", "status").annotate(n=Count("id"))):
        yield ("est_above", r["region_path"], r["category_id"] or 0, r["status"], None, r["n"])
    resumed = base.filter(status=Status.RESUMED, resumed_on__isnull=False)
    cut = flow_path_length()
    for key, qs in (("all", resumed), ("above", resumed.filter(above_size=True))):
        for r in rows(qs.annotate(p=_path("region_path", cut)).values("p", "category_id", "resumed_on").annotate(n=Count("id"))):
            yield ("resumed", r["p"], r["category_id"] or 0, key, r["resumed_on"], r["n"])


# --- problems -------------------------------------------------------------------------------------------


def problem_leaves() -> Iterator[Leaf]:
    base = Problem.objects.order_by()
    for r in rows(base.values("region_path", "category_id", "state").annotate(n=Count("id"))):
        yield ("prob", r["region_path"], r["category_id"], r["state"], None, r["n"])
    is_open = Q(state__in=sorted(facts.PROBLEM_OPEN))
    overdue = is_open & Q(overdue_since__isnull=False)
    done = Q(state__in=sorted(facts.PROBLEM_DONE), resolved_at__isnull=False)
    in_sla = done & Q(due_at__isnull=False, resolved_at__lte=F("due_at"))
    for r in rows(base.filter(overdue).values("region_path", "category_id").annotate(n=Count("id"))):
        yield ("prob_overdue", r["region_path"], r["category_id"], "", None, r["n"])
    for key, q in (("done", done), ("in_sla", in_sla)):
        for r in rows(base.filter(q).values("region_path", "category_id").annotate(n=Count("id"))):
            yield ("prob_sla", r["region_path"], r["category_id"], key, None, r["n"])
    for key, q in (("open", is_open), ("overdue", overdue), ("done", done), ("in_sla", in_sla)):
        for r in rows(base.filter(q).values("region_path", "unit_id").annotate(n=Count("id"))):
            yield ("prob_unit", r["region_path"], r["unit_id"] or 0, key, None, r["n"])


def problem_event_leaves() -> Iterator[Leaf]:
    base = ProblemEvent.objects.order_by()
    totals = base.values("problem__region_path", "problem__category_id", "kind").annotate(n=Count("id"))
    for r in rows(totals):
        yield ("prob_event", r["problem__region_path"], r["problem__category_id"], r["kind"], None, r["n"])
    cut = flow_path_length()
    daily = (
        base.filter(kind__in=sorted(facts.PROBLEM_FLOW_EVENTS))
        .annotate(p=_path("problem__region_path", cut), d=TruncDate("at", tzinfo=_tz()))
        .values("p", "problem__category_id", "kind", "d")
        .annotate(n=Count("id"))
    )
    for r in rows(daily):
        yield ("prob_event", r["p"], r["problem__category_id"], r["kind"], r["d"], r["n"])


# --- filings --------------------------------------------------------------------------------------------


def filing_leaves() -> Iterator[Leaf]:
    base = Filing.objects.order_by()
    fields = ("establishment__region_path", "establishment__category_id")
    for r in rows(base.values(*fields, "state").annotate(n=Count("id"))):
        yield ("filing", r[fields[0]], r[fields[1]] or 0, r["state"], None, r["n"])
    overdue = base.filter(state=FilingState.SUBMITTED, overdue_flagged_at__isnull=False)
    for r in rows(overdue.values(*fields).annotate(n=Count("id"))):
        yield ("filing_overdue", r[fields[0]], r[fields[1]] or 0, "", None, r["n"])


def filings_of_moved_establishment(
    establishment_id: int, old: tuple[str, int], new: tuple[str, int]
) -> tuple[list[facts.Fact], list[facts.Fact]]:
    """An establishment moved region or category: its filings are counted at its new place."""
    before: list[facts.Fact] = []
    after: list[facts.Fact] = []
    for f in Filing.objects.filter(establishment_id=establishment_id).only("state", "overdue_flagged_at"):
        before += facts.filing(f, path=old[0], category_id=old[1])
        after += facts.filing(f, path=new[0], category_id=new[1])
    return before, after


# --- inspections ----------------------------------------------------------------------------------------


def target_leaves() -> Iterator[Leaf]:
    base = CampaignTarget.objects.filter(active=True).order_by()
    for r in rows(base.values("region_path", "campaign_id").annotate(n=Count("id"))):
        yield ("target", r["region_path"], r["campaign_id"], "active", None, r["n"])
    for r in rows(base.filter(covered_at__isnull=False).values("region_path", "campaign_id").annotate(n=Count("id"))):
        yield ("target", r["region_path"], r["campaign_id"], "covered", None, r["n"])


def helped_visits() -> Any:
    """Visits on which an establishment was helped: help recorded, or a problem opened from a failed item."""
    return Visit.objects.filter(establishment__isnull=False).filter(
        Q(helped=True) | Q(pk__in=Answer.objects.filter(problem__isnull=False).values("visit_id"))
    )


def visit_leaves() -> Iterator[Leaf]:
    base = Visit.objects.order_by()
    for r in rows(base.values("region_path", "unit_id", "kind").annotate(n=Count("id"), people=Sum("staff_count"))):
        yield ("visit", r["region_path"], r["unit_id"], r["kind"], None, r["n"])
        yield ("visit_people", r["region_path"], r["unit_id"], r["kind"], None, int(r["people"] or 0))
    cut = flow_path_length()
    daily = (
        base.annotate(p=_path("region_path", cut), d=TruncDate("visited_at", tzinfo=_tz()))
        .values("p", "unit_id", "kind", "d")
        .annotate(n=Count("id"), people=Sum("staff_count"))
    )
    for r in rows(daily):
        yield ("visit", r["p"], r["unit_id"], r["kind"], r["d"], r["n"])
        yield ("visit_people", r["p"], r["unit_id"], r["kind"], r["d"], int(r["people"] or 0))
    # An establishment helped is counted once, where it was first helped.
    for metric, _member, path in helped_members():
        yield (metric, path, 0, "", None, 1)


def helped_members() -> Iterator[MemberRow]:
    """Each establishment helped, at the place of the first visit recorded that helped it (as the hook counts it)."""
    first: dict[int, str] = {}
    for est_id, path in helped_visits().order_by("pk").values_list("establishment_id", "region_path"):
        first.setdefault(est_id, path)
    for est_id, path in sorted(first.items()):
        yield ("helped", est_id, path)


SOURCES = [
    Source("establishments", ("est", "est_above", "resumed"), establishment_leaves),
    Source("problems", ("prob", "prob_overdue", "prob_sla", "prob_unit"), problem_leaves),
    Source("problem_events", ("prob_event",), problem_event_leaves),
    Source("filings", ("filing", "filing_overdue"), filing_leaves),
    Source("targets", ("target",), target_leaves),
    Source("visits", ("visit", "visit_people", "helped"), visit_leaves, members=helped_members, member_metrics=("helped",)),
]


def register() -> None:
    for source in SOURCES:
        register_source(source)
    register_dependent(filings_of_moved_establishment)
