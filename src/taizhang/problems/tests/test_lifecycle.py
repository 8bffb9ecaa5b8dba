"""One problem's whole story: found on a visit, routed, handed back, reassigned, coordinated with two units,
rectified by the enterprise (rejected, then accepted), resolved, rejected at verification, resolved again,
verified by another unit and closed — and a duplicate merged into it. Its event list tells it in order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.problems import selectors, services
from taizhang.problems.models import AppendOnlyError, EventKind, Problem, ProblemEvent, Rectification, Source, State

from .conftest import photo


def test_one_problem_through_every_state(pw):
    grid, handler, office = pw.u("guanyuan_a"), pw.u("guanyuan_b"), pw.u("ghl_office")
    swj, scj = pw.u("swj_staff"), pw.u("scj_staff")
    cat = pw.cat("measures_inadequate")

    # 1. Found on a visit: routed at once to the 包联 staff member of the establishment.
    p = services.problem_report(
        reporter=grid,
        source=Source.VISIT,
        category=cat,
        establishment=pw.e1,
        description="收银台未设一米线，员工未佩戴口罩，缺少消毒记录",
        photos=[photo()],
    )
    assert p.code.startswith("WF-") and len(p.code) == len("WF-20200319-0042")
    assert (p.state, p.unit, p.assignee) == (State.ASSIGNED, pw.unit("官园社区"), handler)
    assert p.region == pw.e1.region and p.region_path == pw.e1.region.path
    assert p.due_at is not None and p.due_at > timezone.now()

    # 2. The assignee hands it back (退回): it goes up to the sub-district office for re-dispatch.
    p = services.problem_transition(
        problem=p, to=State.RETURNED, actor=handler, note="需区商务局协调口罩货源", expected_version=p.version
    )
    assert (p.state, p.unit, p.assignee) == (State.RETURNED, pw.unit("光华路街道"), None)

    # 3. The office reassigns it to the community with a reason.
    p = services.problem_reassign(
        problem=p, unit=pw.unit("官园社区"), assignee=handler, actor=office, reason="属地落实整改，物资由商务局协调"
    )
    assert (p.state, p.assignee) == (State.ASSIGNED, handler)

    # 4. Accepted (签收).
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler, expected_version=p.version)

    # 5. Coordination with two units.
    t1 = services.problem_add_task(problem=p, unit=pw.unit("SWJ"), text="协调口罩货源2000只", actor=handler)
    t2 = services.problem_add_task(problem=p, unit=pw.unit("SCJ"), text="指导消毒与一米线设置", actor=handler)

    # 6. Rectification required of the enterprise.
    p = services.require_rectification(problem=p, due=timezone.localdate() + timedelta(days=3), actor=handler)
    assert p.rectification == Rectification.REQUIRED

    # 7. Cannot resolve while coordination replies are missing (refused, nothing recorded).
    with pytest.raises(ApplicationError, match="协调事项未答复"):
        services.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="已整改")
    services.task_reply(task=t1, actor=swj, reply="已协调口罩2000只，3月10日送达")
    services.task_reply(task=t2, actor=scj, reply="已现场指导，设置一米线")

    # 8. Cannot resolve while the rectification is not accepted either.
    with pytest.raises(ApplicationError, match="整改尚未核验通过"):
        services.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="已整改")

    # 9. The enterprise reports its rectification; rejected; reported again; accepted.
    p = services.rectification_report(problem=p, actor=pw.enterprise, note="已设一米线", evidence=[photo("一米线.jpg")])
    p = services.rectification_verify(problem=p, actor=handler, accepted=False, note="消毒记录仍缺")
    assert p.rectification == Rectification.REQUIRED
    p = services.rectification_report(problem=p, actor=pw.enterprise, note="已补消毒记录", evidence=[photo("消毒记录.jpg")])
    p = services.rectification_verify(problem=p, actor=handler, accepted=True, note="整改到位")
    assert p.rectification == Rectification.ACCEPTED

    # 10. A duplicate reported by the hotline is offered the open problem and merged into it.
    assert selectors.find_open_duplicate(category=cat, establishment=pw.e1) == p
    dup = services.problem_report(
        reporter=pw.hotline,
        source=Source.HOTLINE,
        category=cat,
        region=pw.regions["官园第1网格"],
        description="群众反映光华路超市不戴口罩",
        address="光华路18号",
    )
    dup = services.problem_merge(problem=dup, into=p, actor=handler, note="同一问题")
    assert (dup.state, dup.merged_into) == (State.MERGED, p)

    # 11. Resolved; the resolving unit may not verify its own work (separation of duties).
    p = services.problem_transition(
        problem=p, to=State.RESOLVED, actor=handler, note="一米线、口罩、消毒记录均已落实", photos=[photo()]
    )
    assert p.resolved_by_unit == pw.unit("官园社区")
    assert p.verifier_unit == pw.unit("光华路街道")  # the reporter's unit resolved it: the unit above verifies
    with pytest.raises(ApplicationError, match="不能核验自己办结"):
        services.problem_transition(problem=p, to=State.VERIFIED, actor=grid)

    # 12. Rejected at verification: reopened with a fresh deadline; resolved again; verified; closed.
    p = services.problem_transition(problem=p, to=State.REOPENED, actor=office, note="复查发现后门通道未测温")
    assert p.state == State.REOPENED
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler)
    p = services.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="后门已设测温点")
    p = services.problem_transition(problem=p, to=State.VERIFIED, actor=office, note="复查合格")
    p = services.problem_transition(problem=p, to=State.CLOSED, actor=office)
    assert p.state == State.CLOSED and p.closed_at is not None

    track = [(e.kind, e.from_state, e.to_state) for e in selectors.problem_track(problem=p)]
    assert track == [
        (EventKind.REPORTED, "", State.REPORTED),
        (EventKind.ROUTED, State.REPORTED, State.ASSIGNED),
        (EventKind.RETURNED, State.ASSIGNED, State.RETURNED),
        (EventKind.REASSIGNED, State.RETURNED, State.ASSIGNED),
        (EventKind.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS),
        (EventKind.TASK_ADDED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.TASK_ADDED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RECTIFICATION_REQUIRED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.TASK_REPLIED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.TASK_REPLIED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RECTIFICATION_REPORTED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RECTIFICATION_REJECTED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RECTIFICATION_REPORTED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RECTIFICATION_ACCEPTED, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.MERGED_FROM, State.IN_PROGRESS, State.IN_PROGRESS),
        (EventKind.RESOLVED, State.IN_PROGRESS, State.RESOLVED),
        (EventKind.REJECTED, State.RESOLVED, State.REOPENED),
        (EventKind.ACCEPTED, State.REOPENED, State.IN_PROGRESS),
        (EventKind.RESOLVED, State.IN_PROGRESS, State.RESOLVED),
        (EventKind.VERIFIED, State.RESOLVED, State.VERIFIED),
        (EventKind.CLOSED, State.VERIFIED, State.CLOSED),
    ]
    events = selectors.problem_track(problem=p)
    assert [e.actor for e in events[:3]] == [grid, None, handler]  # routing is the system's
    assert events[10].actor == pw.enterprise and events[10].attachments.count() == 1
    assert {e.unit for e in events if e.kind == EventKind.TASK_REPLIED} == {pw.unit("SWJ"), pw.unit("SCJ")}
    assert [e.kind for e in selectors.problem_track(problem=dup)] == [EventKind.REPORTED, EventKind.ROUTED, EventKind.MERGED]
    assert p.attachments.count() == 4  # report photo, two evidence photos, resolution photo
    # every step is in the audit log too
    assert AuditEvent.objects.filter(object_type="problems.problem", object_id=str(p.pk)).count() >= 15


def test_the_track_is_append_only(pw):
    p = services.problem_report(
        reporter=pw.u("guanyuan_a"), source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
    )
    event = p.events.first()
    event.note = "改写"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ProblemEvent.objects.filter(problem=p).update(note="改写")
    with pytest.raises(AppendOnlyError):
        ProblemEvent.objects.filter(problem=p).delete()


def test_leaders_are_read_only(pw):
    p = services.problem_report(
        reporter=pw.u("guanyuan_a"), source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
    )
    leader = pw.u("leader")
    assert selectors.access_problem(leader, p.pk) == p
    for call in (
        lambda: services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=leader),
        lambda: services.problem_comment(problem=p, actor=leader, note="督促"),
        lambda: services.problem_report(
            reporter=leader, source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
        ),
        lambda: services.problem_reassign(problem=p, unit=pw.unit("SWJ"), actor=leader, reason="x"),
    ):
        with pytest.raises(ApplicationError, match="只能查看"):
            call()


def test_only_the_handling_unit_moves_the_work(pw):
    p = services.problem_report(
        reporter=pw.u("guanyuan_a"), source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
    )
    with pytest.raises(ApplicationError, match="只有承办单位"):
        services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("swj_staff"))
    with pytest.raises(ApplicationError, match="不能变为"):
        services.problem_transition(problem=p, to=State.CLOSED, actor=pw.u("guanyuan_b"))
    with pytest.raises(ApplicationError, match="请填写"):
        services.problem_transition(problem=p, to=State.RETURNED, actor=pw.u("guanyuan_b"), note="  ")


def test_idempotent_report(pw):
    kwargs = {
        "reporter": pw.u("guanyuan_a"),
        "source": Source.VISIT,
        "category": pw.cat("other"),
        "establishment": pw.e1,
        "description": "x",
    }
    first = services.problem_report(**kwargs, idempotency_key="form-123")
    again = services.problem_report(**kwargs, idempotency_key="form-123")
    assert first.pk == again.pk
    assert Problem.objects.count() == 1
    from taizhang.core.errors import ConflictError

    with pytest.raises(ConflictError):
        services.problem_report(**{**kwargs, "reporter": pw.u("guanyuan_b")}, idempotency_key="form-123")


def test_codes_count_per_day(pw):
    at = timezone.make_aware(datetime(2020, 3, 19, 9, 0))
    codes = [
        services.problem_report(
            reporter=pw.u("guanyuan_a"),
            source=Source.VISIT,
            category=pw.cat("other"),
            establishment=pw.e1,
            description="x",
            at=at,
        ).code
        for _ in range(3)
    ]
    assert codes == ["WF-20200319-0001", "WF-20200319-0002", "WF-20200319-0003"]
    next_day = services.problem_report(
        reporter=pw.u("guanyuan_a"),
        source=Source.VISIT,
        category=pw.cat("other"),
        establishment=pw.e1,
        description="x",
        at=at + timedelta(days=1),
    )
    assert next_day.code == "WF-20200320-0001"


def test_reporting_outside_scope_is_not_visible(pw):
    with pytest.raises(NotVisible):
        services.problem_report(
            reporter=pw.u("qiaojia_a"), source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
        )
