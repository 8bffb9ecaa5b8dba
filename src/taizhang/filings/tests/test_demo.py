"""The filings demo on a 2% build of the establishments: every state, consistent with the statuses."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import transaction

from taizhang.accounts.models import User
from taizhang.core.roles import Role
from taizhang.demo import scenario
from taizhang.duties.demo import build_duties
from taizhang.establishments.demo import build_establishments
from taizhang.establishments.models import Establishment, Status
from taizhang.filings import routing, selectors
from taizhang.filings.demo import build_filings
from taizhang.filings.models import Filing, FilingEvent, FilingVersion, State
from taizhang.regions.models import Region
from taizhang.regions.services import load_nbs_divisions

AS_OF = date(2020, 3, 19)


@pytest.fixture(scope="module")
def _demo_module(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        load_nbs_divisions()
        ctx = scenario.Context(
            today=AS_OF, district=Region.objects.get(code="410502000000"), gaoxin=Region.objects.get(code="410571000000")
        )
        scenario.build_regions(ctx)
        scenario.build_units_and_users(ctx)
        build_duties(ctx, password=scenario.DEMO_PASSWORD, start=ctx.start)
        build_establishments(ctx, password=scenario.DEMO_PASSWORD, start=ctx.start, scale=0.02)
        build_filings(ctx, password=scenario.DEMO_PASSWORD)
        yield ctx
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_module, db, private_dir):
    return _demo_module


def test_every_state_is_there(demo):
    states = set(Filing.objects.values_list("state", flat=True))
    assert states == set(State.values)
    assert Filing.objects.filter(state=State.SUBMITTED, overdue_flagged_at__isnull=False).exists()
    assert Filing.objects.filter(state=State.SUBMITTED, version=2).exists()
    assert FilingVersion.objects.filter(outcome=State.RETURNED).exclude(rulings={}).exists()
    assert demo.extra["filings"][State.APPROVED] >= Establishment.objects.filter(status=Status.RESUMED).count()


def test_filings_agree_with_the_statuses(demo):
    resumed = Establishment.objects.filter(status=Status.RESUMED)
    assert not resumed.exclude(filings__state=State.APPROVED).exists()
    assert (
        not Establishment.objects.filter(status=Status.FILING)
        .exclude(filings__state__in=[State.SUBMITTED, State.RETURNED])
        .exists()
    )
    for f in Filing.objects.filter(state=State.APPROVED, establishment__status=Status.RESUMED).select_related("establishment")[
        :50
    ]:
        assert f.planned_date == f.establishment.resumed_on
        assert f.decided_at and f.submitted_at and f.submitted_at <= f.decided_at
    # the step follows the routing rule of the services
    sample = random.Random(1).sample(list(Filing.objects.exclude(reviewer_unit=None).select_related("establishment")), 30)
    assert all(routing.reviewer_unit_for(f.establishment, on=AS_OF) == f.reviewer_unit for f in sample)
    # one outcome event per decided version
    decided = FilingVersion.objects.exclude(outcome="").count()
    assert FilingEvent.objects.filter(kind__in=["approved", "returned"]).count() == decided


def test_resumed_as_of_the_article_date(demo):
    leader = User.objects.get(username="leader")
    figures = selectors.establishment_status_figures(user=leader, on=AS_OF, by="subdistrict")
    targets = demo.extra["establishments"]["targets"]
    assert (figures.resumed, figures.resumed_above_size) == (targets.resumed, targets.above_size)


def test_enterprise_logins_can_work(demo):
    logins = {e["username"]: e for e in demo.logins[Role.ENTERPRISE]}
    assert {"qy_fanhui", "qy_xinban"} <= set(logins)
    returned = User.objects.get(username="qy_fanhui")
    [filing] = selectors.filing_list(user=returned)
    assert filing.state == State.RETURNED
    view = selectors.filing_view(filing=filing, user=returned)
    assert view.can_edit and any(iv.previously_returned for iv in view.items)
    assert list(selectors.filing_list(user=User.objects.get(username="qy_xinban"))) == []
