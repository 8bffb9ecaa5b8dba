"""Two reviewers pressing "approve" and "return" at the same moment, in two real database sessions.

Runs on PostgreSQL (row locks, READ COMMITTED); SQLite serialises writers anyway, and the same-revision
rule is covered there by test_services.test_two_reviewers_at_once_leave_one_outcome_and_one_event.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from taizhang.core.errors import ConflictError
from taizhang.filings import services
from taizhang.filings.models import Filing, FilingEvent, FilingVersion, State

from .conftest import all_accept, submitted

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent sessions (PostgreSQL)")
def test_concurrent_approve_and_return_have_one_winner(setup):
    filing = submitted(setup)
    seen = filing.revision
    reviewer = setup.users["swj_staff"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    returning = all_accept(filing)
    returning["staff"] = ("return", "未逐人测温")

    def run(name: str, rulings: dict) -> None:
        try:
            mine = Filing.objects.select_related("template").get(pk=filing.pk)
            barrier.wait(timeout=10)
            services.filing_review(filing=mine, actor=reviewer, rulings=rulings, expected_revision=seen)
            outcomes[name] = mine.state
        except ConflictError as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("approve", all_accept(filing))),
        threading.Thread(target=run, args=("return", returning)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [v for v in outcomes.values() if not isinstance(v, ConflictError)]
    losers = [v for v in outcomes.values() if isinstance(v, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    filing.refresh_from_db()
    assert filing.state == winners[0] and filing.state in (State.APPROVED, State.RETURNED)
    assert FilingEvent.objects.filter(filing=filing, kind__in=["approved", "returned"]).count() == 1
    assert FilingVersion.objects.get(filing=filing, number=1).outcome == filing.state
