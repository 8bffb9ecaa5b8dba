"""The SLA sweep (超时督办): overdue problems are marked, escalated to the unit above (向上反映) and notified;
escalation repeats up the tree, one level per further SLA period, until the top unit is reached.

A problem is overdue when it is still open (reported, assigned, in progress, returned, reopened) and `now` is
later than its deadline `due_at` — the end of the category's Nth working day after the report, on the
working-day calendar (core/workdays.py). The first sweep that sees it overdue marks it (`overdue_since`,
an "overdue" event) and escalates it to the parent of its handling unit; later sweeps escalate it again to
the parent of the last escalation unit once `next_escalation_at` (one more SLA period in working days) has
passed. A resolved problem's clock is stopped; a reopened one gets a fresh deadline.

Rectifications past their due date are reminded once (an event and a notice to the handler and the
enterprise). The sweep is idempotent: running it twice at the same `now` changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.workdays import WorkCalendar
from taizhang.notifications.services import notify
from taizhang.rollups import services as rollups

from .models import OPEN_STATES, EventKind, PartyRole, Problem, Rectification
from .services import _enterprise_users, _event, _party, _save, _unit_users, problem_url


@dataclass
class SweepResult:
    overdue: list[str] = field(default_factory=list)  # codes newly marked overdue
    escalated: list[str] = field(default_factory=list)  # codes escalated in this sweep
    rectification_overdue: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "overdue": len(self.overdue),
            "escalated": len(self.escalated),
            "rectification_overdue": len(self.rectification_overdue),
        }


def due_for_sweep(now: datetime) -> Any:
    return Problem.objects.filter(state__in=OPEN_STATES, due_at__lt=now).filter(
        Q(overdue_since__isnull=True) | Q(next_escalation_at__lt=now)
    )


def escalate_overdue(*, now: datetime | None = None, calendar: WorkCalendar | None = None) -> SweepResult:
    """Run one sweep at `now` (default: the current time). Each problem is handled in its own transaction."""
    now = now or timezone.now()
    calendar = calendar or WorkCalendar.load()
    result = SweepResult()
    for pk in list(due_for_sweep(now).order_by("due_at", "id").values_list("pk", flat=True)):
        with transaction.atomic():
            _sweep_one(pk, now, calendar, result)
    today = timezone.localtime(now).date()
    late = Problem.objects.filter(
        rectification=Rectification.REQUIRED, rectification_due__lt=today, rectification_overdue_notified=False
    )
    for pk in list(late.order_by("id").values_list("pk", flat=True)):
        with transaction.atomic():
            _rectification_overdue(pk, now, today, result)
    return result


def _sweep_one(pk: int, now: datetime, calendar: WorkCalendar, result: SweepResult) -> None:
    p = (
        Problem.objects.select_for_update(of=("self",))
        .select_related("category", "unit", "unit__parent", "escalated_unit", "escalated_unit__parent")
        .get(pk=pk)
    )
    rollups.problem_locked(p)
    if p.state not in OPEN_STATES or p.due_at is None or p.due_at >= now:
        return  # changed since the candidate query
    first = p.overdue_since is None
    if not first and (p.next_escalation_at is None or p.next_escalation_at >= now):
        return
    fields: list[str] = []
    late_days = calendar.working_days_between(p.due_at, now)
    if first:
        p.overdue_since = now
        fields.append("overdue_since")
        _event(
            p,
            EventKind.OVERDUE,
            actor=None,
            unit=p.unit,
            from_state=p.state,
            to_state=p.state,
            at=now,
            note=f"已超过办理期限（{timezone.localtime(p.due_at):%Y-%m-%d %H:%M}）",
            data={"due_at": p.due_at.isoformat(), "working_days": late_days},
        )
        result.overdue.append(p.code)
    current = p.escalated_unit or p.unit
    target = current.parent if current is not None else None
    if target is not None and target.is_active and p.escalation_level < 20:
        p.escalation_level += 1
        p.escalated_unit = target
        p.next_escalation_at = calendar.add_working_days(now, p.category.sla_days)
        fields += ["escalation_level", "escalated_unit", "next_escalation_at"]
        _party(p, target, PartyRole.ESCALATED, now)
        note = f"超期 {late_days} 个工作日未办结，向上反映至{target}督办（第 {p.escalation_level} 级）"
        _event(
            p,
            EventKind.ESCALATED,
            actor=None,
            unit=target,
            from_state=p.state,
            to_state=p.state,
            at=now,
            note=note,
            data={
                "level": p.escalation_level,
                "from_unit": current.pk if current else None,
                "to_unit": target.pk,
                "to_unit_name": target.name,
                "working_days": late_days,
                "next_escalation_at": p.next_escalation_at.isoformat(),
            },
        )
        result.escalated.append(p.code)
        handlers = [p.assignee] if p.assignee_id else _unit_users([p.unit_id])
        notify(
            users=[*_unit_users([target.pk]), *handlers],
            title=f"督办：{p.code} 超期 {late_days} 个工作日",
            body=note,
            url=problem_url(p),
            kind="problem_escalated",
        )
    else:
        p.next_escalation_at = None  # the top of the tree: stays overdue, shown on every overdue list
        fields.append("next_escalation_at")
        if first:
            notify(
                users=[p.assignee] if p.assignee_id else _unit_users([p.unit_id]),
                title=f"超期：{p.code}",
                body=p.summary,
                url=problem_url(p),
                kind="problem_overdue",
            )
    _save(p, fields, bump=False)
    audit_record(
        action=Action.UPDATE,
        actor=None,
        username="system",
        target=p,
        detail={"event": "escalated" if p.code in result.escalated else "overdue", "level": p.escalation_level},
    )


def _rectification_overdue(pk: int, now: datetime, today: Any, result: SweepResult) -> None:
    p = rollups.problem_locked(Problem.objects.select_for_update(of=("self",)).select_related("category").get(pk=pk))
    if (
        p.rectification != Rectification.REQUIRED
        or p.rectification_overdue_notified
        or p.rectification_due is None
        or p.rectification_due >= today
    ):
        return
    p.rectification_overdue_notified = True
    _save(p, ["rectification_overdue_notified"], bump=False)
    note = f"整改期限 {p.rectification_due:%Y-%m-%d} 已过，企业尚未报告整改"
    _event(p, EventKind.RECTIFICATION_OVERDUE, actor=None, unit=p.unit, from_state=p.state, to_state=p.state, at=now, note=note)
    audit_record(action=Action.UPDATE, actor=None, username="system", target=p, detail={"event": EventKind.RECTIFICATION_OVERDUE})
    handlers = [p.assignee] if p.assignee_id else _unit_users([p.unit_id])
    notify(
        users=[*handlers, *_enterprise_users(p)],
        title=f"整改超期：{p.code}",
        body=note,
        url=problem_url(p),
        kind="problem_rectification",
    )
    result.rectification_overdue.append(p.code)
