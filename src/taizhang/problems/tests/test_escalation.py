"""The SLA sweep on a frozen clock across the 2020 National Day 调休: exactly the problems that are overdue in
working days escalate, one level up the unit tree per further SLA period."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from taizhang.core.workdays import WorkCalendar
from taizhang.notifications.models import Notification
from taizhang.problems import services
from taizhang.problems.escalation import escalate_overdue
from taizhang.problems.models import EventKind, PartyRole, Problem, Source, State

SH = ZoneInfo("Asia/Shanghai")


def at(m: int, d: int, h: int = 10) -> datetime:
    return datetime(2020, m, d, h, 0, tzinfo=SH)


@pytest.fixture
def one_day(pw):
    cat = pw.cat("measures_inadequate")
    cat.sla_days = 1
    cat.save()
    return cat


def report(pw, cat, when: datetime, text: str) -> Problem:
    # A place without an establishment: routed to the 官园社区 committee (parent 光华路街道办事处, then 指挥部).
    return services.problem_report(
        reporter=pw.u("guanyuan_a"),
        source=Source.VISIT,
        category=cat,
        region=pw.regions["官园第1网格"],
        description=text,
        at=when,
    )


def test_escalation_across_the_national_day_adjusted_weekend(pw, one_day, django_capture_on_commit_callbacks):
    fri = report(pw, one_day, at(9, 25), "周五上报")  # due end of Sun 27 Sep (调休 working day)
    sat = report(pw, one_day, at(9, 26), "周六上报")  # due end of Sun 27 Sep
    sun = report(pw, one_day, at(9, 27), "周日（调休）上报")  # due end of Mon 28 Sep
    wed = report(pw, one_day, at(9, 30), "节前上报")  # due end of Fri 9 Oct (1–8 Oct holiday)
    done = report(pw, one_day, at(9, 25), "已办结")
    done = services.problem_transition(problem=done, to=State.IN_PROGRESS, actor=pw.u("guanyuan_b"))
    services.problem_transition(problem=done, to=State.RESOLVED, actor=pw.u("guanyuan_b"), note="已处理")

    assert fri.due_at is not None and wed.due_at is not None
    naive = WorkCalendar(use_package=False)  # Monday to Friday only: would get every one of these wrong
    assert naive.add_working_days(at(9, 25), 1) != fri.due_at
    assert naive.add_working_days(at(9, 30), 1) < wed.due_at

    # Monday 28 September, 09:00: only the two due on the worked Sunday are overdue.
    result = escalate_overdue(now=at(9, 28, 9))
    assert sorted(result.escalated) == sorted([fri.code, sat.code])
    assert sorted(result.overdue) == sorted([fri.code, sat.code])
    fri.refresh_from_db()
    assert (fri.escalation_level, fri.escalated_unit) == (1, pw.unit("光华路街道"))
    assert fri.overdue_since == at(9, 28, 9)
    assert fri.next_escalation_at == WorkCalendar().add_working_days(at(9, 28, 9), 1)  # end of Tue 29 Sep
    assert fri.events.filter(kind=EventKind.ESCALATED).get().data["working_days"] == 1  # Mon 28 (the due day, Sun 27, was worked)
    assert fri.parties.filter(role=PartyRole.ESCALATED, unit=pw.unit("光华路街道")).exists()

    # Running again at the same time changes nothing.
    assert escalate_overdue(now=at(9, 28, 9)).counts() == {"overdue": 0, "escalated": 0, "rectification_overdue": 0}

    # Friday 9 October, 12:00 (after the holiday): the Sunday report is overdue now; the two escalated ones go up
    # again; the pre-holiday one is due only tonight.
    result = escalate_overdue(now=at(10, 9, 12))
    assert result.overdue == [sun.code]
    assert sorted(result.escalated) == sorted([fri.code, sat.code, sun.code])
    fri.refresh_from_db()
    assert (fri.escalation_level, fri.escalated_unit) == (2, pw.unit("command"))
    wed.refresh_from_db()
    assert wed.escalation_level == 0 and wed.overdue_since is None

    # Saturday 10 October (a worked day), 09:00: the pre-holiday report is overdue. The others are at the
    # top of the tree (指挥部 has no parent) or waiting for their next period.
    with django_capture_on_commit_callbacks(execute=True):
        result = escalate_overdue(now=at(10, 10, 9))
    assert result.overdue == [wed.code]
    assert result.escalated == [wed.code]
    assert Notification.objects.filter(title__contains=wed.code).exists()

    # Monday 12 October, 09:00: the first two are at the command, with nothing above it; the Sunday one goes up
    # to the command; the pre-holiday one waits until the end of today (Sunday 11 October was a rest day).
    result = escalate_overdue(now=at(10, 12, 9))
    assert result.escalated == [sun.code]
    fri.refresh_from_db()
    assert fri.escalation_level == 2 and fri.next_escalation_at is None
    assert Problem.objects.get(pk=done.pk).escalation_level == 0  # resolved: the clock stopped


def test_overdue_problems_are_listed_and_reopened_ones_get_a_fresh_deadline(pw, one_day):
    from django.utils import timezone

    p = report(pw, one_day, at(9, 25), "x")
    escalate_overdue(now=at(9, 28, 9))
    assert Problem.objects.overdue(now=at(9, 28, 9)).filter(pk=p.pk).exists()
    handler, office = pw.u("guanyuan_b"), pw.u("ghl_office")
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler)
    p = services.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="已办")
    assert not Problem.objects.overdue(now=at(9, 28, 9)).filter(pk=p.pk).exists()  # the clock stops while it waits
    p = services.problem_transition(problem=p, to=State.REOPENED, actor=office, note="未解决")
    assert p.due_at is not None and p.due_at > timezone.now()
    assert p.overdue_since is None and p.next_escalation_at is None
    assert p.escalation_level == 1  # the history stays


def test_rectification_overdue_is_reminded_once(pw, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    p = services.problem_report(
        reporter=pw.u("guanyuan_a"),
        source=Source.VISIT,
        category=pw.cat("measures_inadequate"),
        establishment=pw.e1,
        description="未测温",
    )
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("guanyuan_b"))
    p = services.require_rectification(problem=p, due=timezone.localdate(), actor=pw.u("guanyuan_b"))
    later = timezone.now() + timedelta(days=2)
    result = escalate_overdue(now=later)
    assert result.rectification_overdue == [p.code]
    assert escalate_overdue(now=later).rectification_overdue == []
    assert p.events.filter(kind=EventKind.RECTIFICATION_OVERDUE).count() == 1


def test_the_sweep_is_a_registered_periodic_task(pw, one_day):
    from taizhang.core import periodic
    from taizhang.problems.tasks import escalate_overdue_problems

    job = next(j for j in periodic.jobs() if j.name == "problems_escalate_overdue")
    assert job.task is escalate_overdue_problems
    report(pw, one_day, at(3, 2), "很久以前上报")  # overdue against today's clock
    result = escalate_overdue_problems.enqueue()  # the immediate backend in tests
    assert result.return_value == {"overdue": 1, "escalated": 1, "rectification_overdue": 0}
