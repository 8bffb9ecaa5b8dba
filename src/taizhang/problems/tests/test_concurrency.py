"""Optimistic locking: two people acting on the same problem from the same page state cannot both win."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from taizhang.core.errors import ApplicationError, ConflictError
from taizhang.problems import services
from taizhang.problems.models import EventKind, Problem, Source, State


def _problem(pw):
    p = services.problem_report(
        reporter=pw.u("guanyuan_a"), source=Source.VISIT, category=pw.cat("other"), establishment=pw.e1, description="x"
    )
    return services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("guanyuan_b"))


def test_a_stale_version_loses(pw):
    p = _problem(pw)
    seen = p.version  # both colleagues opened the page at this version
    services.problem_transition(problem=p, to=State.RESOLVED, actor=pw.u("guanyuan_b"), note="已办", expected_version=seen)
    with pytest.raises(ConflictError, match="已被他人处理"):
        services.problem_transition(problem=p, to=State.RETURNED, actor=pw.u("guanyuan_a"), note="退回", expected_version=seen)
    with pytest.raises(ConflictError):
        services.problem_reassign(problem=p, unit=pw.unit("SWJ"), actor=pw.u("ghl_office"), reason="x", expected_version=seen)
    p.refresh_from_db()
    assert p.state == State.RESOLVED
    assert p.events.filter(kind__in=[EventKind.RESOLVED, EventKind.RETURNED]).count() == 1


def test_comments_do_not_invalidate_an_open_form(pw):
    p = _problem(pw)
    seen = p.version
    services.problem_comment(problem=p, actor=pw.u("guanyuan_a"), note="补充情况")
    p = services.problem_transition(problem=p, to=State.RESOLVED, actor=pw.u("guanyuan_b"), note="已办", expected_version=seen)
    assert p.state == State.RESOLVED and p.version == seen + 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_cannot_both_win(shipped_data, pw):
    p = _problem(pw)
    seen = p.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user_key: str, to: str, note: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.problem_transition(
                problem=Problem.objects.get(pk=p.pk), to=to, actor=pw.u(user_key), note=note, expected_version=seen
            )
            outcomes.append("won")
        except (ConflictError, ApplicationError) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=("guanyuan_b", State.RESOLVED, "已办")),
        threading.Thread(target=act, args=("guanyuan_a", State.RETURNED, "退回")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ConflictError", "won"]
    p.refresh_from_db()
    assert p.version == seen + 1
    assert p.events.filter(kind__in=[EventKind.RESOLVED, EventKind.RETURNED]).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_codes(shipped_data, pw):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    when = datetime(2020, 3, 19, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    barrier = threading.Barrier(4)
    codes: list[str] = []
    errors: list[Exception] = []

    def report() -> None:
        try:
            barrier.wait(timeout=10)
            codes.append(
                services.problem_report(
                    reporter=pw.u("guanyuan_a"),
                    source=Source.VISIT,
                    category=pw.cat("other"),
                    establishment=pw.e1,
                    description="x",
                    at=when,
                ).code
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(codes) == [f"WF-20200319-{n:04d}" for n in range(1, 5)]
