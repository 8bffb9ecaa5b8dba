"""Demo visits, inspections and campaigns of the Wenfeng scenario (走访/巡查/督导/专项行动).

`build_inspections(ctx, password=...)` runs after the establishments and problems steps and reads what they wrote:

- 学校复学疫情防控督导: "从2月7日开始，区纪委监委派驻教育局纪检监察组联合区教育局7个督导组到…48所学校、107所民办
  幼儿园、850所辅导学校进行疫情防控督导". The 7 teams (DDZ1…DDZ7, three inspectors each) share the schools,
  kindergartens and tutoring centres of 文峰区 and 高新区 by sub-district; by today most schools are covered, fewer
  kindergartens and tutoring centres (many of them closed: 未营业). The mock-reopening drills ("各校先后进行了模拟
  开学演练") are done later and later; some teams are quicker than others. A few dozen inspections find problems
  (观察室, 值班进班登记测温 …) that are reported through `visit_submit` → `problem_report`, so they are routed.
- 区商务局 帮扶走访: "共出动人员200余人次，帮扶企业30余家". Each problem the problems step recorded from the 商务局's
  own visits gets the visit it came from (the failed item linked to it), plus follow-up visits and the 防控指导组's
  visits to large commercial facilities ("对大型服务业企业进行专业帮扶指导"), until about 215 person-times.
- 复工商超日常巡查: a standing campaign of the 商务局 over resumed malls, supermarkets and markets, inspected by the
  sub-district offices in their own areas (属地) over the last week, with some failures that opened problems.

Visits that open no problem are written in bulk (`services.bulk_record_visits`); those that do go through the service.
Everything is invented; figures quoted from the article are named where they are used. The article's dates are on its
timeline (2020-03-19 is the scenario's today; `story_day` places them); visits the scenario's clock has not reached
(a build in the morning of the real today) have not happened yet. The times the services stamp with the clock of the
build (a visit's entry time, campaign creation, notices) are put back on the scenario's time at the end.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.duties.demo import DemoContext, bulk_staff, fake_person_name, password_hash, story_day
from taizhang.establishments.models import Establishment, Status
from taizhang.notifications.models import Notification
from taizhang.problems.escalation import escalate_overdue
from taizhang.problems.models import Problem, Source
from taizhang.problems.services import problem_url
from taizhang.regions.models import Region

from . import services
from .models import (
    Answer,
    Campaign,
    CampaignTarget,
    ChecklistItem,
    ChecklistTemplate,
    ShareRule,
    SubjectType,
    TemplateVersion,
    Visit,
    VisitResult,
)
from .selectors import team_members
from .shipped import ensure_shipped_checklists

TZ = ZoneInfo(settings.TIME_ZONE)
TEAMS = 7  # "区教育局7个督导组"
INSPECTORS_PER_TEAM = 3
SCHOOL_KINDS = ("school", "kindergarten", "tutoring")
# Days on the article's timeline (its today is 2020-03-19): `story_day` places them before the scenario's today.
SUPERVISION_FROM = date(2020, 2, 7)  # "从2月7日开始" (41 days before today)
SUPERVISION_UNTIL = date(2020, 3, 31)  # the campaign's planned end (12 days after today)
DRILLS_FROM = date(2020, 2, 20)  # mock-reopening drills, done by more and more schools from then
HELP_FROM = date(2020, 2, 20)  # the 商务局's help visits
DAILY_FROM = date(2020, 3, 5)  # the standing daily inspection of resumed malls and supermarkets
COVERAGE = {"school": 0.97, "kindergarten": 0.86, "tutoring": 0.66}  # by today
CLOSED_SHARE = {"school": 0.0, "kindergarten": 0.05, "tutoring": 0.12}  # 未营业/无人 when the team came
SCHOOL_PROBLEMS = 18  # inspections whose findings open problems (through the service)
HELP_PERSON_TIMES = 215  # "共出动人员200余人次"
HELP_KEY_TARGETS = 3  # large facilities visited by the 防控指导组 beyond the 32 of the problems step ("帮扶企业30余家")
DAILY_KINDS = ("mall", "supermarket", "public_venue")
DAILY_DAYS = 7
DAILY_SHARE = 0.12  # of its targets an office inspects on a working day
DAILY_PROBLEMS = 14
WORK_HOURS = (time(8, 40), time(17, 30))


def _at(day: date, rng: random.Random) -> datetime:
    start = WORK_HOURS[0].hour * 60 + WORK_HOURS[0].minute
    end = WORK_HOURS[1].hour * 60 + WORK_HOURS[1].minute
    minute = rng.randrange(start, end)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=TZ)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _version(code: str) -> TemplateVersion:
    template = ChecklistTemplate.objects.get(code=code)
    version = template.versions.filter(published_at__isnull=False).order_by("-number").first()
    assert version is not None  # noqa: S101 - shipped by the data migration
    return version


class Builder:
    def __init__(self, ctx: DemoContext, *, password: str, seed: int) -> None:
        self.ctx, self.password = ctx, password
        self.rng = random.Random(seed)  # noqa: S311 - invented demo data
        self.today, self.now = ctx.today, ctx.now
        self.start = ctx.start
        self.districts = list(Region.objects.filter(code__in=["410502000000", "410571000000"]).order_by("code"))
        self.keys = 0

    def key(self, prefix: str) -> str:
        self.keys += 1
        return f"demo-{prefix}-{self.keys:06d}"

    # --- people ---------------------------------------------------------------------------------------

    def coordinator(self, username: str, name: str, unit_code: str, title: str) -> User:
        """A department member with posts on both districts: campaigns of 文峰区(高新区) span them."""
        unit = self.ctx.units[unit_code]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(username=username, display_name=name, password=password_hash(self.ctx, self.password))
            Post.objects.bulk_create(
                [
                    Post(user=user, unit=unit, region=d, role=Role.DEPARTMENT, title=title, valid_from=self.start)
                    for d in self.districts
                ]
            )
            self.ctx.add_login(
                Role.DEPARTMENT,
                {"username": username, "password": self.password, "scope": f"{unit.name}（{title}）", "name": name},
            )
        return user

    def inspectors(self) -> list[OrgUnit]:
        teams = [self.ctx.units[f"DDZ{i}"] for i in range(1, TEAMS + 1) if f"DDZ{i}" in self.ctx.units]
        people = []
        for team in teams:
            have = len(team_members([team.pk]).get(team.pk, []))
            for k in range(have + 1, INSPECTORS_PER_TEAM + 1):
                title = "组长" if k == 1 else "组员"
                people.append(
                    (f"{team.code.lower()}_{k:02d}", fake_person_name(self.rng), team, team.region, Role.INSPECTOR, title)
                )
        users = bulk_staff(self.ctx, password=self.password, start=self.start, people=people)
        second = next((u for u in users if u.username.startswith("ddz2_")), None)
        if second is not None:
            self.ctx.add_login(
                Role.INSPECTOR,
                {
                    "username": second.username,
                    "password": self.password,
                    "scope": "教育疫情防控第2督导组",
                    "name": second.display_name,
                },
            )
        return teams

    # --- visits in bulk -------------------------------------------------------------------------------

    def visit_row(
        self,
        *,
        version: TemplateVersion,
        est: Establishment,
        unit: OrgUnit,
        by: User,
        staff: Sequence[User],
        at: datetime,
        result: str,
        failed: int = 0,
        target: CampaignTarget | None = None,
        extra: int = 0,
        helped: bool = False,
        help_note: str = "",
        note: str = "",
        prefix: str = "v",
    ) -> tuple[Visit, list[int]]:
        visit = Visit(
            key=self.key(prefix),
            kind=version.template.visit_kind,
            version=version,
            campaign_id=target.campaign_id if target else None,
            target=target,
            subject_type=SubjectType.ESTABLISHMENT,
            establishment=est,
            region_id=est.region_id,
            region_path=est.region_path,
            place=est.address[:200],
            unit=unit,
            created_by=by,
            extra_people=extra,
            staff_count=len(staff) + extra,
            visited_at=at,
            created_at=min(at + timedelta(minutes=self.rng.randint(2, 40)), self.now),
            result=result,
            failed_count=failed,
            helped=helped,
            help_note=help_note,
            note=note,
        )
        return visit, [u.pk for u in staff]

    def write(self, rows: list[tuple[Visit, list[int]]], answers: list[Answer]) -> None:
        if rows:
            services.bulk_record_visits(
                visits=[v for v, _ in rows], staff={i: s for i, (_, s) in enumerate(rows)}, answers=answers
            )

    # --- the scenario's time -------------------------------------------------------------------------

    def restamp(self) -> None:
        """Put the times that the services stamped with the build's clock (later than the scenario's `now`) on the
        scenario's time: the shipped checklists in use since its first day, each campaign created the hour before it
        started (and its notices sent when it started), a visit entered through `visit_submit` entered just after it,
        the problems such visits opened last changed at their last state change, the notices of their assignment
        sent when they were reported and those of the sweep at the scenario's clock."""
        now = self.now
        since = datetime.combine(self.start, time(8), tzinfo=TZ)
        TemplateVersion.objects.filter(created_at__gt=now).update(created_at=since)
        TemplateVersion.objects.filter(published_at__gt=now).update(published_at=since)
        sent: dict[str, datetime] = {}
        for c in Campaign.objects.filter(created_at__gt=now).only("pk", "started_at", "starts_on"):
            at = c.started_at or datetime.combine(c.starts_on, time(8), tzinfo=TZ)
            Campaign.objects.filter(pk=c.pk).update(created_at=at - timedelta(hours=1), updated_at=at)
            sent[f"/inspections/campaigns/{c.pk}/"] = at
        visits = list(Visit.objects.filter(created_at__gt=now).only("pk", "visited_at"))
        for v in visits:
            v.created_at = min(v.visited_at + timedelta(minutes=12), now)
        Visit.objects.bulk_update(visits, ["created_at"], batch_size=500)
        Problem.objects.filter(updated_at__gt=now).update(updated_at=F("state_changed_at"))
        reported = {problem_url(p): p.created_at for p in Problem.objects.only("pk", "created_at").iterator()}
        notices = list(Notification.objects.filter(created_at__gt=now).only("pk", "url", "kind"))
        for n in notices:
            campaign = next((at for prefix, at in sent.items() if n.url.startswith(prefix)), None)
            assigned = reported.get(n.url) if n.kind == "problem_assigned" else None
            n.created_at = min(campaign or assigned or now, now)
        Notification.objects.bulk_update(notices, ["created_at"], batch_size=500)

    # --- 学校复学疫情防控督导 ----------------------------------------------------------------------------

    def school_answers(self, items: dict[str, ChecklistItem], at: datetime) -> tuple[dict[str, Any], int]:
        """Passing answers, except the mock drill: done by more and more schools as reopening nears."""
        day = at.date()
        drilled = self.rng.random() < min(0.95, max(0.05, (day - story_day(self.today, DRILLS_FROM)).days / 24))
        answers = {
            "supplies": ["口罩", "洗手液", "消毒液", "测温仪"] if self.rng.random() < 0.85 else ["口罩", "消毒液", "测温仪"],
            "systems": list(items["systems"].options),
            "preparation": True,
            "duty_check": True,
            "observation_room": True,
            "key_people": True,
            "drill": drilled,
        }
        if drilled:
            answers["drill_date"] = (day - timedelta(days=self.rng.randint(0, 6))).isoformat()
        return answers, 0 if drilled else 1

    def school_campaign(self, teams: list[OrgUnit]) -> dict[str, Any]:
        version = _version("school-reopening")
        coordinator = self.coordinator("jyj_ducha", "王督办", "JYJ", "督导办")
        campaign = services.campaign_create(
            actor=coordinator,
            data={
                "name": "学校复学疫情防控督导",
                "description": "区纪委监委派驻教育局纪检监察组联合区教育局7个督导组，重点督促防疫物资、防控制度落实、开学前后准备情况。",
                "version": version,
                "unit": self.ctx.units["JYJ"],
                "regions": self.districts,
                "starts_on": story_day(self.today, SUPERVISION_FROM),
                "ends_on": story_day(self.today, SUPERVISION_UNTIL),
                "rule": {"kinds": list(SCHOOL_KINDS)},
                "share": ShareRule.REGION,
            },
            teams=teams,
        )
        if not services.target_queryset(campaign).exists():
            return {"campaign": campaign.pk, "targets": 0}  # no registry yet: the campaign waits in draft
        started = story_day(self.today, SUPERVISION_FROM)
        campaign = services.campaign_start(actor=coordinator, campaign=campaign, at=datetime.combine(started, time(9), tzinfo=TZ))
        items = {i.code: i for i in version.items.all()}
        members = team_members([t.pk for t in teams], on=self.today)
        pace = {t.pk: 0.86 + 0.16 * self.rng.random() for t in teams}  # some teams are quicker
        targets = list(campaign.targets.select_related("establishment__kind", "team"))
        days = _days(started + timedelta(days=1), self.today)
        plan: list[tuple[CampaignTarget, datetime]] = []
        for t in targets:
            kind = t.establishment.kind.code if t.establishment else "school"
            if self.rng.random() < min(1.0, COVERAGE.get(kind, 0.7) * pace[t.team_id]):
                plan.append((t, _at(self.rng.choice(days), self.rng)))
        plan = [(t, at) for t, at in plan if at < self.now]  # later today: not yet
        # the findings that open problems go through the service (routed like any report)
        self.rng.shuffle(plan)
        real, bulk = plan[:SCHOOL_PROBLEMS], plan[SCHOOL_PROBLEMS:]
        findings = [("observation_room", False), ("duty_check", False), ("systems", ["疫情应急预案", "联防联控制度", "环境卫生制度"]),
                    ("supplies", ["口罩", "洗手液"]), ("key_people", False), ("preparation", False)]  # fmt: skip
        for t, at in real:
            staff = members.get(t.team_id) or []
            if not staff:
                continue
            answers, _ = self.school_answers(items, at)
            code, value = self.rng.choice(findings)
            answers[code] = value
            notes = {"observation_room": "观察室未配备体温计和消毒用品", "duty_check": "进班登记测温记录不全",
                     "systems": "信息日报、复学查验制度未建立", "supplies": "测温仪、消毒液尚未到位"}  # fmt: skip
            services.visit_submit(
                actor=staff[0],
                key=self.key("s"),
                target=t,
                answers=answers,
                notes={code: notes.get(code, "")},
                staff=staff[1 : 1 + self.rng.randint(1, 2)],
                extra_people=1 if self.rng.random() < 0.4 else 0,  # 纪检监察组
                visited_at=at,
                max_age_days=None,
            )
        rows: list[tuple[Visit, list[int]]] = []
        answers_out: list[Answer] = []
        for t, at in bulk:
            staff = members.get(t.team_id) or []
            if not staff or t.establishment is None:
                continue
            crew = staff[: self.rng.randint(2, len(staff))] if len(staff) > 1 else staff
            kind = t.establishment.kind.code
            if self.rng.random() < CLOSED_SHARE.get(kind, 0):
                visit, ids = self.visit_row(version=version, est=t.establishment, unit=t.team, by=crew[0], staff=crew, at=at,
                                            result=VisitResult.ABSENT, target=t, note="大门紧闭，电话联系负责人未接", prefix="s")  # fmt: skip
                rows.append((visit, ids))
                continue
            answers, failed = self.school_answers(items, at)
            visit, ids = self.visit_row(
                version=version, est=t.establishment, unit=t.team, by=crew[0], staff=crew, at=at,
                result=VisitResult.FINDINGS if failed else VisitResult.PASSED, failed=failed, target=t,
                extra=1 if self.rng.random() < 0.4 else 0, prefix="s",
            )  # fmt: skip
            rows.append((visit, ids))
            answers_out += [
                Answer(visit=visit, item=items[code], value=value, failed=code == "drill" and value is False)
                for code, value in answers.items()
            ]
        self.write(rows, answers_out)
        return {"campaign": campaign.pk, "targets": len(targets), "visits": len(rows) + len(real)}

    # --- 区商务局 帮扶走访 -------------------------------------------------------------------------------

    HELP_ITEMS = {"ppe_shortage": ("ppe_enough", False), "staff_loss": ("staff_back", False),
                  "measures_inadequate": ("measures_ok", False), "policy_request": ("policy", True)}  # fmt: skip
    HELP_NOTES = (
        "讲解复工复产防控要求，现场指导测温点设置",
        "宣传财政补贴、社保减免和金融扶持政策，指导企业申报",
        "协调口罩和消毒液，帮助企业解决防疫物资缺口",
        "对照复工要求逐项讲解，指出不足并督促整改",
        "跟踪了解员工返岗情况，协调相关镇办开辟绿色通道",
    )

    def help_answers(self, est: Establishment, day: date) -> dict[str, Any]:
        resumed = est.status == Status.RESUMED and (est.resumed_on is None or est.resumed_on <= day)
        return {
            "resumed": "已复工" if resumed else "准备复工",
            "ppe_enough": True,
            "staff_back": True,
            "measures_ok": True,
            "policy": False,
        }

    def commerce_visits(self) -> dict[str, Any]:
        version = _version("enterprise-help-visit")
        items = {i.code: i for i in version.items.all()}
        swj = self.ctx.units["SWJ"]
        self.coordinator("swj_xuncha", "赵巡查", "SWJ", "日常巡查专班")
        staff = team_members([swj.pk], on=self.today).get(swj.pk, [])
        if not staff:
            return {"visits": 0}
        liu = next((u for u in staff if u.username == "swj_liu"), staff[0])
        problems = list(
            Problem.objects.filter(source=Source.VISIT, reporter__in=staff, establishment__isnull=False)
            .select_related("establishment", "category", "reporter")
            .order_by("created_at", "pk")
        )
        rows: list[tuple[Visit, list[int]]] = []
        answers_out: list[Answer] = []
        people = 0
        helped: dict[int, Establishment] = {}

        def crew(lead: User) -> list[User]:
            others = [u for u in staff if u.pk != lead.pk]
            return [lead, *self.rng.sample(others, min(len(others), self.rng.randint(0, 2)))]

        for p in problems:  # the visit each problem came from
            est, lead = p.establishment, p.reporter or liu
            assert est is not None  # noqa: S101 - filtered above
            at = p.created_at - timedelta(minutes=self.rng.randint(20, 90))
            team = crew(lead)
            extra = self.rng.choice([0, 0, 1, 2])  # 疾控、卫生监督、市场监管 of the 防控指导组
            answers = self.help_answers(est, at.date())
            link = self.HELP_ITEMS.get(p.category.code)
            if link:
                answers[link[0]] = link[1]
            else:
                answers["difficulty"] = p.description[:200]
            visit, ids = self.visit_row(version=version, est=est, unit=swj, by=lead, staff=team, at=at,
                                        result=VisitResult.FINDINGS if link else VisitResult.PASSED, failed=1 if link else 0,
                                        extra=extra, helped=True, help_note=self.rng.choice(self.HELP_NOTES), prefix="h")  # fmt: skip
            rows.append((visit, ids))
            answers_out += [
                Answer(visit=visit, item=items[code], value=value, failed=bool(link and code == link[0]),
                       problem=p if link and code == link[0] else None)
                for code, value in answers.items()
            ]  # fmt: skip
            people += len(team) + extra
            helped[est.pk] = est
        # large commercial facilities: "对大型服务业企业进行专业帮扶指导"
        big = list(
            Establishment.objects.filter(key_target=True, status=Status.RESUMED)
            .exclude(pk__in=list(helped))
            .order_by("-employees", "pk")[:HELP_KEY_TARGETS]
        )
        if not problems:  # no problems step: help the largest resumed establishments instead
            big += list(
                Establishment.objects.filter(status=Status.RESUMED, kind__code__in=version.template.subject_kinds)
                .exclude(pk__in=[e.pk for e in big])
                .order_by("-above_size", "-employees", "pk")[:32]
            )
        for est in big:
            helped[est.pk] = est
        targets = list(helped.values())
        days = _days(story_day(self.today, HELP_FROM), self.today)
        first_visit = {v.establishment_id for v, _ in rows}
        while people < HELP_PERSON_TIMES and targets:  # follow-up visits: "跟踪服务企业"
            est = self.rng.choice(targets)
            lead = self.rng.choice(staff)
            team = crew(lead)
            extra = self.rng.choice([0, 0, 0, 1])
            at = _at(self.rng.choice(days), self.rng)
            if at >= self.now:  # later today: not yet
                continue
            visit, ids = self.visit_row(version=version, est=est, unit=swj, by=lead, staff=team, at=at, result=VisitResult.PASSED,
                                        extra=extra, helped=True, help_note=self.rng.choice(self.HELP_NOTES),
                                        note="回访" if est.pk in first_visit else "", prefix="h")  # fmt: skip
            rows.append((visit, ids))
            answers_out += [
                Answer(visit=visit, item=items[code], value=value) for code, value in self.help_answers(est, at.date()).items()
            ]
            people += len(team) + extra
            first_visit.add(est.pk)
        self.write(rows, answers_out)
        return {"visits": len(rows), "person_times": people, "helped": len(helped)}

    # --- 复工商超日常巡查 --------------------------------------------------------------------------------

    def daily_answers(self) -> dict[str, Any]:
        return {
            "temperature": True,
            "max_temperature": round(self.rng.uniform(36.0, 37.1), 1),
            "masks": True,
            "disinfection": True,
            "ventilation": True,
            "density": "间隔正常" if self.rng.random() < 0.9 else "局部较密",
            "health_ledger": True,
            "ppe_stock": "7天以上" if self.rng.random() < 0.7 else "3至7天",
        }

    def daily_campaign(self) -> dict[str, Any]:
        version = _version("enterprise-daily")
        items = {i.code: i for i in version.items.all()}
        coordinator = User.objects.get(username="swj_xuncha")
        offices = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.SUBDISTRICT_OFFICE, is_active=True).order_by("code"))
        first = self.today - timedelta(days=DAILY_DAYS - 1)
        campaign = services.campaign_create(
            actor=coordinator,
            data={
                "name": "复工商超日常巡查",
                "description": "企业复工后，区商务局加强事后监管，各镇办对辖区已复工的商场、超市、农贸市场每日巡查，建立日常巡查问题台账。",
                "version": version,
                "unit": self.ctx.units["SWJ"],
                "regions": self.districts,
                "starts_on": story_day(self.today, DAILY_FROM),
                "standing": True,
                "rule": {"kinds": list(DAILY_KINDS), "statuses": [Status.RESUMED]},
                "share": ShareRule.TERRITORY,
            },
            teams=offices,
        )
        if not services.target_queryset(campaign).exists():
            return {"campaign": campaign.pk, "targets": 0}
        campaign = services.campaign_start(
            actor=coordinator, campaign=campaign, at=datetime.combine(story_day(self.today, DAILY_FROM), time(8), tzinfo=TZ)
        )
        members = team_members([o.pk for o in offices], on=self.today)
        by_team: dict[int, list[CampaignTarget]] = defaultdict(list)
        for t in campaign.targets.select_related("establishment", "team"):
            by_team[t.team_id].append(t)
        plan: list[tuple[CampaignTarget, datetime]] = []
        for day in _days(first, self.today):
            for targets in by_team.values():
                n = max(1, round(len(targets) * DAILY_SHARE * self.rng.uniform(0.6, 1.3)))
                plan += [(t, _at(day, self.rng)) for t in self.rng.sample(targets, min(n, len(targets)))]
        plan = [(t, at) for t, at in plan if at < self.now]  # later today: not yet
        self.rng.shuffle(plan)
        real, bulk = plan[:DAILY_PROBLEMS], plan[DAILY_PROBLEMS:]
        failures = [("masks", False), ("disinfection", False), ("temperature", False), ("density", "人员聚集"),
                    ("health_ledger", False), ("ppe_stock", "不足3天"), ("ventilation", False)]  # fmt: skip
        notes = {"masks": "收银员未佩戴口罩", "disinfection": "当日消毒记录空白", "temperature": "入口测温点无人值守",
                 "density": "收银台排队人员密集", "health_ledger": "员工健康台账三天未更新", "ppe_stock": "口罩仅剩两天用量",
                 "ventilation": "卖场门窗紧闭"}  # fmt: skip
        for t, at in real:
            crew = members.get(t.team_id) or []
            if not crew:
                continue
            code, value = self.rng.choice(failures)
            services.visit_submit(
                actor=crew[0],
                key=self.key("d"),
                target=t,
                answers={**self.daily_answers(), code: value},
                notes={code: notes[code]},
                staff=crew[1:2],
                visited_at=at,
                max_age_days=None,
            )
        rows: list[tuple[Visit, list[int]]] = []
        answers_out: list[Answer] = []
        for t, at in bulk:
            crew = members.get(t.team_id) or []
            if not crew or t.establishment is None:
                continue
            answers = self.daily_answers()
            feverish = self.rng.random() < 0.003
            if feverish:
                answers["max_temperature"] = 37.6
            visit, ids = self.visit_row(version=version, est=t.establishment, unit=t.team, by=crew[0], staff=crew[: self.rng.randint(1, 2)],
                                        at=at, result=VisitResult.FINDINGS if feverish else VisitResult.PASSED, failed=int(feverish),
                                        target=t, prefix="d",
                                        note="1名员工体温37.6℃，已安排其离岗就医并报告社区" if feverish else "")  # fmt: skip
            rows.append((visit, ids))
            answers_out += [
                Answer(visit=visit, item=items[code], value=value, failed=feverish and code == "max_temperature")
                for code, value in answers.items()
            ]
        self.write(rows, answers_out)
        return {"campaign": campaign.pk, "targets": sum(len(v) for v in by_team.values()), "visits": len(rows) + len(real)}


def build_inspections(ctx: DemoContext, *, password: str, seed: int = 207) -> None:
    """Run after the establishments and problems steps. Keeps the counts written in ctx.extra["inspections"]."""
    ensure_shipped_checklists()
    builder = Builder(ctx, password=password, seed=seed)
    teams = builder.inspectors()
    summary = {
        "school": builder.school_campaign(teams),
        "commerce": builder.commerce_visits(),
        "daily": builder.daily_campaign(),
    }
    # the SLA sweep, as the scheduler would have run it by the scenario's clock: the problems the visits opened
    # through the service are marked overdue and escalated like those of the problems step
    swept = escalate_overdue(now=ctx.now)
    summary["swept"] = swept.counts()
    builder.restamp()
    ctx.extra["inspections"] = summary
