"""What each row contributes to the rollups ("facts"), computed from the row's fields alone.

The functions read attributes (or mapping keys) by name, so the domain apps above can pass their model instances
without this layer importing them. Each returns a tuple of `Fact`s; a service that changes a row takes the facts
before and after the change and `services.apply()` adds the difference. The same definitions, written as GROUP BY
queries over the base rows, rebuild and verify the rollups (`taizhang.dashboards.sources`); a test keeps both
agreeing after every service that changes a row.

The state names are those of the domain apps (problems.models, filings.models, establishments.models);
`rollups/tests/test_facts.py` checks that they still match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

# Problem states (problems.models.State).
PROBLEM_OPEN = frozenset({"reported", "assigned", "in_progress", "returned", "reopened"})
PROBLEM_DONE = frozenset({"resolved", "verified", "closed"})
# Problem events counted per day (all kinds are counted in total).
PROBLEM_FLOW_EVENTS = frozenset({"reported", "resolved", "verified", "closed", "reopened", "escalated"})
RESUMED = "resumed"  # establishments.models.Status.RESUMED
FILING_SUBMITTED = "submitted"  # filings.models.State.SUBMITTED


@dataclass(frozen=True, order=True)
class Fact:
    """One contribution: `value` to (metric, dim, key) of the row's region and every region above it; with a
    `day`, to the daily flow of that day instead of the current tally."""

    metric: str
    path: str
    dim: int = 0
    key: str = ""
    day: date | None = None
    value: int = 1


Facts = tuple[Fact, ...]
NONE: Facts = ()


def get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def local_day(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _int(value: Any) -> int:
    return int(value) if value else 0


def establishment(e: Any) -> Facts:
    """Establishments by status and category; 限上 by status; resumed per resumption day (current state)."""
    if e is None:
        return NONE
    path, cat, status = get(e, "region_path"), _int(get(e, "category_id")), get(e, "status")
    above = bool(get(e, "above_size"))
    out = [Fact("est", path, cat, status)]
    if above:
        out.append(Fact("est_above", path, cat, status))
    resumed_on = get(e, "resumed_on")
    if status == RESUMED and resumed_on is not None:
        out.append(Fact("resumed", path, cat, "all", day=resumed_on))
        if above:
            out.append(Fact("resumed", path, cat, "above", day=resumed_on))
    return tuple(out)


def problem(p: Any) -> Facts:
    """Problems by category and state; overdue (marked by the SLA sweep); by handling unit; resolved in time."""
    if p is None:
        return NONE
    path, cat, state = get(p, "region_path"), _int(get(p, "category_id")), get(p, "state")
    unit = _int(get(p, "unit_id"))
    out = [Fact("prob", path, cat, state)]
    is_open = state in PROBLEM_OPEN
    overdue = is_open and get(p, "overdue_since") is not None
    if is_open:
        out.append(Fact("prob_unit", path, unit, "open"))
    if overdue:
        out += [Fact("prob_overdue", path, cat), Fact("prob_unit", path, unit, "overdue")]
    resolved_at, due_at = get(p, "resolved_at"), get(p, "due_at")
    if state in PROBLEM_DONE and resolved_at is not None:
        out += [Fact("prob_sla", path, cat, "done"), Fact("prob_unit", path, unit, "done")]
        if due_at is not None and resolved_at <= due_at:
            out += [Fact("prob_sla", path, cat, "in_sla"), Fact("prob_unit", path, unit, "in_sla")]
    return tuple(out)


def problem_event(*, path: str, category_id: Any, kind: str, at: datetime) -> Facts:
    """One step of a problem's track (events are only ever added): in total, and per day for the main kinds."""
    cat = _int(category_id)
    out = [Fact("prob_event", path, cat, kind)]
    if kind in PROBLEM_FLOW_EVENTS:
        out.append(Fact("prob_event", path, cat, kind, day=local_day(at)))
    return tuple(out)


def filing(f: Any, *, path: str | None = None, category_id: Any = None) -> Facts:
    """Filings by state and the establishment's category; waiting past the review deadline (flagged by the sweep).
    Place and category are the establishment's; pass `path` (and `category_id`) to count the filing elsewhere
    (when its establishment moves)."""
    if f is None:
        return NONE
    if path is None:
        est = get(f, "establishment")
        path, category_id = get(est, "region_path"), get(est, "category_id")
    cat, state = _int(category_id), get(f, "state")
    out = [Fact("filing", path, cat, state)]
    if state == FILING_SUBMITTED and get(f, "overdue_flagged_at") is not None:
        out.append(Fact("filing_overdue", path, cat))
    return tuple(out)


def campaign_target(t: Any) -> Facts:
    """A campaign's targets in scope, and those inspected at least once (coverage)."""
    if t is None or not get(t, "active"):
        return NONE
    path, campaign = get(t, "region_path"), _int(get(t, "campaign_id"))
    out = [Fact("target", path, campaign, "active")]
    if get(t, "covered_at") is not None:
        out.append(Fact("target", path, campaign, "covered"))
    return tuple(out)


def visit(v: Any) -> Facts:
    """A visit or inspection (records are never edited): by the unit that went, per day and in total; the
    person-times (出动人次) it counts."""
    path, unit, kind = get(v, "region_path"), _int(get(v, "unit_id")), get(v, "kind")
    day = local_day(get(v, "visited_at"))
    people = int(get(v, "staff_count") or 0)
    out = [Fact("visit", path, unit, kind), Fact("visit", path, unit, kind, day=day)]
    if people:
        out += [
            Fact("visit_people", path, unit, kind, value=people),
            Fact("visit_people", path, unit, kind, day=day, value=people),
        ]
    return tuple(out)
