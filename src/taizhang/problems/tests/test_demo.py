"""The demo's problems follow the same rules as the services: every track is a valid walk of the transition
table, verified by another unit, escalated exactly as the sweep would have done, inside the demo period."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from taizhang.problems.demo import build_problems
from taizhang.problems.models import OPEN_STATES, TRANSITIONS, EventKind, Problem, ProblemCategory, ProblemEvent, State
from taizhang.testing_domain import DemoStepContext

SH = ZoneInfo("Asia/Shanghai")


def test_demo_problems_tell_consistent_stories(pw):
    from taizhang.establishments.models import Establishment

    for i in range(40):
        pw.w.establishment(f"演示超市{i}", "官园第1网格" if i % 2 else "乔家巷社区", category="超市")
    Establishment.objects.update(status="resumed")
    ctx = DemoStepContext(today=date(2020, 3, 19), units=pw.w.units)
    build_problems(ctx, password="x-Demo-Password-1")
    summary = ctx.extra["problems"]
    assert summary["problems"] >= 300
    assert ctx.logins["department"][0]["username"] == "zhb_diaodu"

    problems = {p.pk: p for p in Problem.objects.all()}
    assert {p.state for p in problems.values()} == set(State.values)  # every state
    assert {p.category_id for p in problems.values()} == set(
        ProblemCategory.objects.values_list("pk", flat=True)
    )  # every category
    start, end = datetime(2020, 2, 20, tzinfo=SH), datetime(2020, 3, 19, 18, 0, tzinfo=SH)
    lifecycle = {
        EventKind.ACCEPTED,
        EventKind.RESOLVED,
        EventKind.VERIFIED,
        EventKind.REJECTED,
        EventKind.CLOSED,
        EventKind.RETURNED,
        EventKind.REOPENED,
        EventKind.MERGED,
    }
    tracks: dict[int, list[ProblemEvent]] = {}
    for e in ProblemEvent.objects.order_by("at", "id"):
        tracks.setdefault(e.problem_id, []).append(e)
    for pk, track in tracks.items():
        p = problems[pk]
        assert track[0].kind == EventKind.REPORTED and track[1].kind in (EventKind.ROUTED, EventKind.TRIAGE)
        state: str = State.REPORTED
        for e in track:
            assert start <= e.at <= end, (p.code, e.kind, e.at)
            assert e.from_state in ("", state), (p.code, e.kind, e.from_state, state)
            if e.kind in lifecycle:
                assert e.to_state in TRANSITIONS[state], (p.code, state, e.to_state)
            state = e.to_state
            if e.kind == EventKind.VERIFIED:
                assert e.unit_id != p.resolved_by_unit_id and e.actor_id != p.assignee_id, p.code  # separation of duties
        assert state == p.state, p.code
        kinds = [e.kind for e in track]
        if p.state == State.MERGED:
            assert p.merged_into is not None
            assert p.merged_into.events.filter(kind=EventKind.MERGED_FROM, data__from_code=p.code).exists()
        if p.escalation_level:
            assert kinds.count(EventKind.ESCALATED) == p.escalation_level, p.code
            assert kinds.index(EventKind.OVERDUE) < kinds.index(EventKind.ESCALATED)
        if p.state in OPEN_STATES and p.due_at is not None and p.due_at < end:
            assert EventKind.OVERDUE in kinds, p.code  # the sweep would have marked it
        if p.state in (State.VERIFIED, State.CLOSED):
            assert p.tasks.filter(state="open").count() == 0
    assert summary["escalated"] > 0 and summary["overdue_open"] > 0
    # the codes continue where the demo left off
    from taizhang.problems.services import next_code

    last = max(p.code for p in problems.values() if p.code.startswith("WF-20200319"))
    assert next_code(datetime(2020, 3, 19, 20, 0, tzinfo=SH)) == f"WF-20200319-{int(last[-4:]) + 1:04d}"
