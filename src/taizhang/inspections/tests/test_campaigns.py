"""Campaigns: targets from a rule, shared out among teams, progress that equals a direct count of the visits,
standing campaigns that follow the registry."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from taizhang.core.errors import ApplicationError
from taizhang.establishments.models import Establishment, Status
from taizhang.inspections import selectors, services
from taizhang.inspections.models import CampaignState, CampaignTarget, Visit
from taizhang.problems.models import OPEN_STATES, Problem
from taizhang.testing_domain import START

from .conftest import school_answers

pytestmark = pytest.mark.django_db

SCHOOLS = ("s1", "k1", "t1", "s2", "t2")


def member(iw, target, suffix="a"):
    return iw.u(f"insp{target.team.code[-1]}{suffix}")


def test_targets_come_from_the_rule_and_are_shared_out_by_region(iw):
    campaign = iw.school_campaign(start=False)
    assert campaign.state == CampaignState.DRAFT
    assert selectors.preview_target_count(campaign) == 5
    campaign = services.campaign_start(actor=iw.u("jyj_staff"), campaign=campaign)
    targets = list(campaign.targets.select_related("establishment", "team"))
    assert {t.establishment.name for t in targets} == {iw.est[k].name for k in SCHOOLS}  # not the supermarkets
    # whole sub-districts per team: 光华路街道's three to one team, 头二三街道's two to the other
    by_team: dict[str, set[str]] = {}
    for t in targets:
        by_team.setdefault(t.team.code, set()).add(t.region_path.split("/")[3])
    assert sorted(len(v) for v in by_team.values()) == [1, 1]
    assert set(campaign.targets.values_list("team__code", flat=True)) == {"DDZ1", "DDZ2"}
    # the teams were told
    assert iw.u("insp1a").notifications.filter(title__contains="学校复学疫情防控督导").exists()
    with pytest.raises(ApplicationError, match="不能启动"):
        services.campaign_start(actor=iw.u("jyj_staff"), campaign=campaign)


def test_round_robin_sharing(iw):
    campaign = iw.school_campaign(share="round_robin")
    counts = sorted(campaign.targets.values_list("team__code", flat=True))
    assert counts.count("DDZ1") == 3 and counts.count("DDZ2") == 2


def test_only_the_organising_department_runs_a_campaign(iw):
    with pytest.raises(ApplicationError, match="不在"):
        services.campaign_create(
            actor=iw.u("swj_staff"),
            data={
                "name": "x",
                "version": iw.version("school-reopening"),
                "unit": iw.w.units["JYJ"],
                "region": iw.regions["文峰区"],
                "starts_on": START,
            },
            teams=[iw.teams["DDZ1"]],
        )
    with pytest.raises(ApplicationError, match="职能部门"):
        services.campaign_create(
            actor=iw.u("insp1a"),
            data={
                "name": "x",
                "version": iw.version("school-reopening"),
                "unit": iw.teams["DDZ1"],
                "region": iw.regions["文峰区"],
                "starts_on": START,
            },
            teams=[iw.teams["DDZ1"]],
        )
    with pytest.raises(ApplicationError, match="单位类型不存在"):
        services.clean_rule({"kinds": ["castle"]})


def test_progress_per_team_equals_a_direct_count_of_the_inspections(iw):
    """The Done-when: covered/total per team (and per region) equals a count made straight from the visits."""
    campaign = iw.school_campaign()
    rng = random.Random(7)
    targets = list(campaign.targets.select_related("team", "establishment"))
    now = timezone.now()
    for t in targets:
        for n in range(rng.choice([0, 1, 1, 2, 3])):  # some not visited, some visited several times
            failing = rng.random() < 0.4
            services.visit_submit(
                actor=member(iw, t, rng.choice("ab")),
                key=iw.key(),
                target=t,
                answers=school_answers(observation_room="no") if failing else school_answers(),
                absent=rng.random() < 0.1,
                visited_at=now - timedelta(hours=n + 1),
            )
    progress = selectors.campaign_progress(campaign=campaign, user=iw.u("jyj_staff"))
    assert progress.total.total == 5
    for row in progress.by_team:
        team_targets = CampaignTarget.objects.filter(campaign=campaign, team_id=row.key, active=True)
        visited = Visit.objects.filter(target__in=team_targets).values("target").distinct().count()
        assert (row.total, row.covered) == (team_targets.count(), visited)
        failed = Visit.objects.filter(target__in=team_targets).values_list("failed_count", flat=True)
        assert row.findings == sum(failed)
        problems = Problem.objects.filter(pk__in=team_targets.values("visits__answers__problem"))
        assert row.problems == problems.count() and row.problems_open == problems.filter(state__in=OPEN_STATES).count()
    assert sum(r.covered for r in progress.by_region) == progress.total.covered
    assert progress.total.covered == Visit.objects.filter(campaign=campaign).values("target").distinct().count()
    # the counters the service keeps agree with a recount from the visits
    before = list(
        CampaignTarget.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("visits_count", "findings_count", "covered_at")
    )
    services.recount_targets(CampaignTarget.objects.filter(campaign=campaign))
    after = list(
        CampaignTarget.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("visits_count", "findings_count", "covered_at")
    )
    assert before == after
    # and the dashboard's rollups, kept by the hooks the services call, agree with the rows
    from taizhang.rollups.services import verify

    assert verify(only=["targets", "visits"], record=False) == []


def test_a_team_sees_its_own_progress_only(iw):
    campaign = iw.school_campaign()
    t = campaign.targets.select_related("team").first()
    services.visit_submit(actor=member(iw, t), key=iw.key(), target=t, answers=school_answers())
    mine = selectors.campaign_progress(campaign=campaign, user=member(iw, t))
    assert [r.key for r in mine.by_team] == [t.team_id]
    assert mine.total.total == campaign.targets.filter(team=t.team).count()


def test_standing_daily_inspection_follows_the_registry(iw):
    """日常巡查 of resumed enterprises: a standing campaign, covered per day, whose targets follow resumption."""
    campaign = services.campaign_create(
        actor=iw.u("swj_staff"),
        data={
            "name": "复工企业日常巡查",
            "version": iw.version("enterprise-daily"),
            "unit": iw.w.units["SWJ"],
            "region": iw.regions["文峰区"],
            "starts_on": START,
            "standing": True,
            "rule": {"statuses": [Status.RESUMED]},
            "share": "territory",
        },
        teams=[iw.w.units["SWJ"], iw.w.units["光华路街道"], iw.w.units["头二三街道"]],
    )
    campaign = services.campaign_start(actor=iw.u("swj_staff"), campaign=campaign)
    # 属地: each sub-district office inspects the resumed establishments of its own sub-district
    assert dict(campaign.targets.values_list("establishment__name", "team__code")) == {
        "光华路超市": "JD-光华路街道",
        "乔家巷便利店": "JD-头二三街道",
    }
    passing = {
        "temperature": "yes", "masks": "yes", "disinfection": "yes", "ventilation": "yes", "density": "间隔正常",
        "health_ledger": "yes", "ppe_stock": "7天以上",
    }  # fmt: skip
    m1 = campaign.targets.get(establishment=iw.est["m1"])
    yesterday = timezone.now() - timedelta(days=1)
    services.visit_submit(actor=iw.u("ghl_office"), key=iw.key(), target=m1, answers=passing, visited_at=yesterday)
    services.visit_submit(
        actor=iw.u("swj_staff"), key=iw.key(), target=m1, answers={**passing, "ppe_stock": "不足3天"}
    )  # the organiser
    today = selectors.campaign_progress(campaign=campaign, user=iw.u("swj_staff"), day=timezone.localdate())
    assert (today.total.covered, today.total.total, today.total.findings, today.total.problems) == (1, 2, 1, 1)
    before = selectors.campaign_progress(campaign=campaign, user=iw.u("swj_staff"), day=timezone.localdate(yesterday))
    assert (before.total.covered, before.total.findings) == (1, 0)
    # the registry moves: m2 is suspended, a new supermarket resumes, a school resumes (not a kind of the checklist)
    Establishment.objects.filter(pk=iw.est["m2"].pk).update(status=Status.SUSPENDED)
    shop = iw.w.establishment("新开超市", "乔家巷社区", kind="supermarket")
    Establishment.objects.filter(pk=shop.pk).update(status=Status.RESUMED)
    Establishment.objects.filter(pk=iw.est["s1"].pk).update(status=Status.RESUMED)
    result = services.refresh_standing_campaigns()
    assert result == {"campaigns": 1, "added": 1, "removed": 1, "restored": 0}
    active = dict(campaign.targets.filter(active=True).values_list("establishment__name", "team__code"))
    assert active == {"光华路超市": "JD-光华路街道", "新开超市": "JD-头二三街道"}
    assert campaign.targets.get(establishment=iw.est["m2"]).removed_at is not None


def test_a_closed_campaign_takes_no_more_inspections(iw):
    campaign = iw.school_campaign()
    services.campaign_close(actor=iw.u("jyj_staff"), campaign=campaign)
    t = campaign.targets.select_related("team").first()
    with pytest.raises(ApplicationError, match="已结束"):
        services.visit_submit(actor=member(iw, t), key=iw.key(), target=t, answers=school_answers())
    assert selectors.establishments_for_inspector(member(iw, t)).count() == 0


def test_a_campaign_over_wenfeng_and_the_hightech_zone(iw):
    """The article's 1,005 schools are those of 文峰区 (高新区): a campaign may span several subtrees."""
    from taizhang.accounts.models import Post
    from taizhang.core.errors import NotVisible
    from taizhang.regions.models import Region

    gaoxin = Region.objects.get(code="410571000000")
    school = iw.w.establishment(
        "丽豪小学",
        iw.regions["丽豪社区"].display_name if "丽豪社区" in iw.regions else "丽豪社区",
        category="教育培训",
        kind="school",
    )
    data = {
        "name": "全区学校督导",
        "version": iw.version("school-reopening"),
        "unit": iw.w.units["JYJ"],
        "regions": [iw.regions["文峰区"], gaoxin],
        "starts_on": START,
        "rule": {"kinds": ["school"]},
    }
    with pytest.raises(NotVisible):  # a post on 文峰区 alone does not open 高新区
        services.campaign_create(actor=iw.u("jyj_staff"), data=data, teams=[iw.teams["DDZ1"]])
    Post.objects.create(user=iw.u("jyj_staff"), unit=iw.w.units["JYJ"], region=gaoxin, role="department", valid_from=START)
    from taizhang.core.scoping import forget_scope

    forget_scope(iw.u("jyj_staff"))
    campaign = services.campaign_create(actor=iw.u("jyj_staff"), data=data, teams=[iw.teams["DDZ1"], iw.teams["DDZ2"]])
    assert campaign.region.code == "410500000000"  # 安阳市: the common root
    campaign = services.campaign_start(actor=iw.u("jyj_staff"), campaign=campaign)
    assert set(campaign.targets.values_list("establishment__name", flat=True)) == {"官园小学", "乔家巷小学", school.name}
    assert "文峰区、" in services.describe_rule(campaign)
    regions = [r.label for r in selectors.campaign_progress(campaign=campaign, user=iw.u("jyj_staff")).by_region]
    assert len(regions) == 3  # 光华路街道, 头二三街道 and 高新区's 峨嵋大街街道
