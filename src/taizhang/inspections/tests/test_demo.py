"""The demo step on a small world: campaigns started through the services, visits written in bulk agree with the
counters and the rollups, the 商务局's visits are linked to the problems they found."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from taizhang.accounts.models import Post
from taizhang.inspections import selectors
from taizhang.inspections.demo import HELP_PERSON_TIMES, INSPECTORS_PER_TEAM, build_inspections
from taizhang.inspections.models import Answer, Campaign, CampaignTarget, Visit
from taizhang.problems.models import ProblemCategory, Source
from taizhang.problems.services import problem_report
from taizhang.rollups.services import verify
from taizhang.testing_domain import DemoStepContext

pytestmark = pytest.mark.django_db
TODAY = date(2020, 3, 19)


def test_the_demo_step(iw):
    units = {**iw.w.units, **iw.teams}
    for unit in ("SWJ", "JYJ"):
        Post.objects.filter(unit=units[unit]).update(valid_from=date(2020, 1, 20))
    found = problem_report(
        reporter=iw.u("swj_staff"),
        source=Source.VISIT,
        category=ProblemCategory.objects.get(code="ppe_shortage"),
        description="口罩仅够两天使用",
        establishment=iw.est["m1"],
        at=iw.est["m1"].created_at.replace(year=2020, month=3, day=2),
    )
    ctx = DemoStepContext(today=TODAY, units=units)
    build_inspections(ctx, password="x-Demo-Password-1")
    summary = ctx.extra["inspections"]

    # 学校复学疫情防控督导: every school-like establishment is a target of one of the teams, each team has its inspectors
    school = Campaign.objects.get(name="学校复学疫情防控督导")
    assert school.state == "active" and school.targets.count() == 5 == summary["school"]["targets"]
    for team in iw.teams.values():
        assert len(selectors.team_members([team.pk])[team.pk]) == INSPECTORS_PER_TEAM
    progress = selectors.campaign_progress(campaign=school, user=iw.u("leader"))
    for row in progress.by_team:
        direct = Visit.objects.filter(target__campaign=school, target__team_id=row.key).values("target").distinct().count()
        assert row.covered == direct
    assert all(
        date(2020, 2, 7) < v.date() <= TODAY for v in Visit.objects.filter(campaign=school).values_list("visited_at", flat=True)
    )

    # 商务局 帮扶走访: the problem found on a visit is linked to that visit's failed item; 200+ person-times
    answer = Answer.objects.get(problem=found)
    assert answer.failed and answer.item.code == "ppe_enough" and answer.visit.unit == iw.w.units["SWJ"]
    assert answer.visit.visited_at < found.created_at
    figures = selectors.dispatch_figures(user=iw.u("leader"), start=date(2020, 2, 1), end=TODAY, unit=iw.w.units["SWJ"])
    assert figures.total.person_times >= HELP_PERSON_TIMES and figures.total.helped == summary["commerce"]["helped"] >= 1

    # 复工商超日常巡查: standing, shared to the sub-district offices by territory, inspected in the last week
    daily = Campaign.objects.get(name="复工商超日常巡查")
    assert daily.standing and daily.share == "territory"
    assert dict(daily.targets.values_list("establishment__name", "team__code")) == {
        "光华路超市": "JD-光华路街道",
        "乔家巷便利店": "JD-头二三街道",
    }
    days = {v.date() for v in Visit.objects.filter(campaign=daily).values_list("visited_at", flat=True)}
    assert days and min(days) >= TODAY - timedelta(days=6)

    # the counters and the dashboard's rollups agree with the rows written in bulk
    for t in CampaignTarget.objects.all():
        assert t.visits_count == t.visits.count()
    assert verify(only=["targets", "visits"], record=False) == []
    assert ctx.logins["department"][0]["username"] == "jyj_ducha"
