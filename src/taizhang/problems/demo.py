"""Demo problems of the Wenfeng scenario (问题台账), written in bulk with realistic tracks.

`build_problems(ctx, password=...)` runs after the establishments step and writes about 360 problems of
every category, source and state, reported over the 28 days up to the scenario's today (the article's
2020-02-20 to 2020-03-19), each with
the event track the services would have written: routing through the responsibility chain (the same
`routing.choose` as `problem_report`), acceptance, coordination with other units, rectification by the
enterprise, resolution, verification by another unit (sometimes rejected first), closing, hand-backs,
duplicates merged — and, for those left open past their deadline on the working-day calendar, the overdue
and escalation steps the SLA sweep would have taken (向上反映, one level per further SLA period).

The article's "帮扶企业30余家": 32 establishments get problems from the 商务局's own visits (刘秀英's
"有的企业防疫物资匮乏,有的企业员工流失严重,有的企业防疫措施不到位"). A dispatcher login at the command
(指挥部调度员) handles the triage queue. Everything is invented; timestamps are the scenario's, up to its clock
(`ctx.now`: 18:00 of its today, or the present moment when built for the real today): built for the real date,
the SLA sweep of the running system finds the same problems overdue as the demo marked.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.services import Action, audit_bulk
from taizhang.core.roles import Role
from taizhang.core.workdays import WorkCalendar
from taizhang.duties.demo import DemoContext, before_now, bulk_staff, scenario_timestamps, story_day
from taizhang.duties.models import Assignment, Kind
from taizhang.duties.selectors import responsible_for_many
from taizhang.establishments.models import EnterpriseAccount, Establishment, Status
from taizhang.notifications.models import Notification
from taizhang.regions.models import Level, Region

from .defaults import ensure_default_categories
from .models import (
    ACTIVE_STATES,
    OPEN_STATES,
    EventKind,
    Follow,
    PartyRole,
    Problem,
    ProblemCategory,
    ProblemCounter,
    ProblemEvent,
    ProblemParty,
    ProblemTask,
    Rectification,
    Severity,
    Source,
    State,
)
from .routing import Route, choose, route_for_region
from .scoping import ACTING_ROLES
from .services import format_code

TZ = ZoneInfo(settings.TIME_ZONE)
FROM = date(2020, 2, 20)  # on the article's timeline (28 days before its today): `story_day` places it
TOTAL = 360
HELPED = 32  # "帮扶企业30余家": establishments with problems from the 商务局's own visits
DISPATCHER = ("zhb_diaodu", "何调度")
FEATURED_HOLDERS = ("guanyuan_bi", "guanyuan_grid1", "qiaojia_du")  # the scenario's community logins
FEATURED = 30  # problems on the establishments they hold

CATEGORY_WEIGHTS = {
    "ppe_shortage": 30,
    "measures_inadequate": 25,
    "staff_loss": 15,
    "policy_request": 12,
    "supply_request": 10,
    "other": 8,
}
STATE_WEIGHTS = {
    State.CLOSED: 40,
    State.VERIFIED: 10,
    State.RESOLVED: 9,
    State.IN_PROGRESS: 17,
    State.ASSIGNED: 9,
    State.RETURNED: 3,
    State.REOPENED: 4,
    State.MERGED: 5,
    State.REPORTED: 3,
}
TEXTS = {
    "ppe_shortage": [
        "口罩库存仅够{n}天使用，员工{e}人，急需口罩约{m}只",
        "缺少红外测温枪和消毒液，达不到复工防疫要求",
        "医用酒精和84消毒液采购不到，请求协调货源",
        "一次性手套、口罩等防护用品紧缺，影响正常营业",
    ],
    "staff_loss": [
        "外地员工{n}人因所在村封村无法返岗",
        "春节后员工流失{n}人，招工困难，部分岗位停摆",
        "返岗员工需开具健康证明，所在乡镇办理不畅",
        "员工担心疫情不愿返岗，影响复工进度",
    ],
    "measures_inadequate": [
        "入口未设体温检测登记点",
        "员工未规范佩戴口罩，收银台未设一米线",
        "未建立每日消毒通风记录",
        "防控组织架构不明确，无专人负责防疫",
        "顾客进店未扫码登记，人员聚集未疏导",
    ],
    "policy_request": [
        "咨询社保费阶段性减免政策及申报流程",
        "咨询复工复产贷款贴息政策",
        "咨询国有房产房租减免政策",
        "咨询稳岗补贴申报条件和所需材料",
        "咨询小微企业增值税减免政策",
    ],
    "supply_request": ["申请调拨医用口罩{m}只", "申请调拨消毒液{n}桶", "申请调拨红外测温枪{n}把"],
    "other": [
        "门前道路施工影响顾客进出，请求协调",
        "夜间装卸货噪声扰民投诉",
        "店外停车位被长期占用，影响进货",
        "小区门口摊贩聚集，人员密集",
    ],
}
RESOLUTIONS = {
    "ppe_shortage": "已协调区商务局调拨口罩{m}只、消毒液{n}桶，企业已领取",
    "staff_loss": "已与员工所在乡镇对接，开通绿色通道，{n}名员工已返岗",
    "measures_inadequate": "已督促企业设置测温登记点、一米线，建立消毒记录，现场复查合格",
    "policy_request": "已上门讲解政策，指导企业完成网上申报",
    "supply_request": "物资已从街道物资库调拨，企业签收",
    "other": "已协调有关单位现场处理，问题已解决",
}
TASKS = [
    ("请协调口罩、消毒液货源", "已协调货源，近日送达"),
    ("请协助联系员工所在村开具返岗证明", "已联系村委会，证明已开具"),
    ("请派员现场指导防疫措施", "已派员现场指导"),
    ("请提供最新扶持政策文件", "政策文件已发送企业"),
]
ACCEPT_NOTES = ["已签收，明日到现场核实", "已签收，正在联系企业", "已签收", "已电话联系企业负责人，马上到现场"]
RETURN_NOTES = ["该事项属行业主管部门职责，请重新分派", "地址不在本社区辖区，请重新分派"]
REJECT_NOTES = ["回访发现问题仍未解决，退回重新办理", "企业反映物资尚未送达，请继续办理"]
VERIFY_NOTES = ["经电话回访，企业反映问题已解决", "现场复查合格", "回访满意"]


def _at(day: date, hour: float) -> datetime:
    minutes = round(hour * 60)
    return datetime.combine(day, time(0, 0), tzinfo=TZ) + timedelta(minutes=minutes)


@dataclass
class Step:
    at: datetime
    kind: str
    from_state: str
    to_state: str
    actor: User | None
    unit: OrgUnit | None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    problem: Problem
    steps: list[Step] = field(default_factory=list)
    tasks: list[ProblemTask] = field(default_factory=list)
    parties: set[tuple[int, str]] = field(default_factory=set)
    bumps: int = 0


class Builder:
    def __init__(self, ctx: DemoContext, *, password: str, seed: int) -> None:
        self.ctx, self.password = ctx, password
        self.rng = random.Random(seed)  # noqa: S311 - invented demo data, not a secret
        self.now = ctx.now  # the scenario's clock
        self.first_day = story_day(ctx.today, FROM)
        self.calendar = WorkCalendar.load()
        self.categories = {c.code: c for c in ProblemCategory.objects.filter(is_active=True)}
        self.units = {u.pk: u for u in OrgUnit.objects.all()}
        self.command = next((u for u in self.units.values() if u.kind == OrgUnit.Kind.COMMAND), None)
        self.members: dict[int, list[User]] = defaultdict(list)
        for post in (
            Post.objects.active(ctx.today).filter(role__in=ACTING_ROLES).select_related("user").order_by("user__username")
        ):
            if post.user not in self.members[post.unit_id]:
                self.members[post.unit_id].append(post.user)
        self.unit_of: dict[int, OrgUnit] = {}
        for unit_id, people in self.members.items():
            for person in people:
                self.unit_of.setdefault(person.pk, self.units[unit_id])
        self.rr: dict[int, int] = defaultdict(int)
        self.counters: dict[date, int] = defaultdict(int)
        self.plans: list[Plan] = []
        self.enterprise_by_est: dict[int, User] = {}
        self.featured_ids: set[int] = set()

    # --- people -----------------------------------------------------------------------------------
    def pick(self, unit: OrgUnit, people: Any) -> User | None:
        candidates = list(people) or self.members.get(unit.pk, [])
        if not candidates:
            return None
        self.rr[unit.pk] += 1
        return candidates[self.rr[unit.pk] % len(candidates)]

    def member(self, unit: OrgUnit | None, avoid: User | None = None) -> User | None:
        people = [p for p in self.members.get(unit.pk, []) if p != avoid] if unit else []
        return self.rng.choice(people) if people else None

    def user(self, username: str) -> User | None:
        return next((u for people in self.members.values() for u in people if u.username == username), None)

    # --- time -------------------------------------------------------------------------------------
    def later(self, t: datetime, low_h: float, high_h: float) -> datetime:
        """`t` plus some hours, moved into office hours (08:30–19:00)."""
        moment = t + timedelta(hours=self.rng.uniform(low_h, high_h))
        local = moment.astimezone(TZ)
        hour = local.hour + local.minute / 60
        if hour < 8.5:
            return _at(local.date(), self.rng.uniform(8.5, 10))
        if hour > 19:
            return _at(local.date() + timedelta(days=1), self.rng.uniform(8.5, 10.5))
        return moment

    def report_time(self, target: str) -> datetime:
        """Finished problems come from the whole period, unfinished ones mostly from the last days."""
        span = (self.ctx.today - self.first_day).days
        if target in (State.CLOSED, State.VERIFIED, State.MERGED):
            first, last = 0, span * 3 // 4
        elif target in (State.REPORTED, State.ASSIGNED):
            first, last = span - 3, span
        else:
            first, last = span - 10, span
        day = self.first_day + timedelta(days=self.rng.randint(max(0, first), max(0, last)))
        return before_now(_at(day, self.rng.uniform(8.5, 17.5)), self.now)

    # --- one problem ------------------------------------------------------------------------------
    def code(self, at: datetime) -> str:
        day = at.astimezone(TZ).date()
        self.counters[day] += 1
        return format_code(day, self.counters[day])

    def text(self, category: str, est: Establishment | None) -> str:
        template = self.rng.choice(TEXTS[category])
        return template.format(
            n=self.rng.randint(2, 15),
            m=self.rng.choice([500, 1000, 2000, 3000]),
            e=getattr(est, "employees", 0) or self.rng.randint(5, 40),
        )

    def step(
        self,
        plan: Plan,
        at: datetime,
        kind: str,
        to: str | None,
        actor: User | None,
        by_unit: OrgUnit | None,
        note: str = "",
        bump: bool = True,
        **data: Any,
    ) -> datetime:
        p = plan.problem
        before = p.state
        to_state = to or before
        plan.steps.append(Step(at, kind, before, to_state, actor, by_unit, note, data))
        if to is not None and to != before:
            p.state, p.state_changed_at = to, at
        if bump:
            plan.bumps += 1
        return at

    def new_plan(
        self,
        *,
        category: ProblemCategory,
        source: str,
        reporter: User | None,
        at: datetime,
        est: Establishment | None,
        region: Region,
        route: Route | None,
        contact: str = "",
    ) -> Plan:
        p = Problem(
            code=self.code(at),
            source=source,
            category=category,
            establishment=est,
            region=region,
            region_path=region.path,
            description=self.text(category.code, est),
            severity=self.rng.choices(list(Severity.values), [10, 70, 15, 5])[0],
            reporter=reporter,
            address=(est.address if est else f"{region.display_name}{self.rng.randint(1, 99)}号院附近"),
            latitude=getattr(est, "latitude", None),
            longitude=getattr(est, "longitude", None),
            created_at=at,
            state=State.REPORTED,
            state_changed_at=at,
            due_at=self.calendar.add_working_days(at, category.sla_days),
            contact_name=contact,
            contact_phone=f"13{self.rng.randint(0, 9)}{self.rng.randrange(10**8):08d}" if contact else "",
        )
        plan = Plan(p)
        reporter_unit = self.unit_of.get(reporter.pk) if reporter else None
        if reporter_unit is not None:
            plan.parties.add((reporter_unit.pk, PartyRole.REPORTING))
        self.step(
            plan,
            at,
            EventKind.REPORTED,
            State.REPORTED,
            reporter,
            reporter_unit,
            p.description,
            bump=False,
            source=source,
            severity=p.severity,
        )
        r = route or Route(self.command, None, "triage", "指挥部分派")
        p.unit, p.assignee = r.unit, r.assignee
        if r.unit is not None:
            plan.parties.add((r.unit.pk, PartyRole.ASSIGNED))
        self.step(
            plan,
            at + timedelta(seconds=1),
            EventKind.TRIAGE if r.is_triage else EventKind.ROUTED,
            State.REPORTED if r.is_triage else State.ASSIGNED,
            None,
            r.unit,
            r.describe(),
            bump=False,
            axis=r.axis,
            via=r.label,
            unit=r.unit.pk if r.unit else None,
            unit_name=str(r.unit or ""),
            assignee=r.assignee.pk if r.assignee else None,
            assignee_name=str(r.assignee or ""),
        )
        self.plans.append(plan)
        return plan

    def play(self, plan: Plan, target: str) -> None:
        """Walk the lifecycle towards `target`, stopping at the demo's "now"."""
        p = plan.problem
        if target == State.REPORTED or p.state == State.REPORTED:
            return
        t = p.created_at
        handler = p.assignee or self.member(p.unit)
        if target == State.RETURNED:
            t = self.later(t, 1, 20)
            if t >= self.now or p.unit is None:
                return
            parent = self.units.get(p.unit.parent_id or 0) or self.command
            if parent is None:
                return
            returning = p.unit
            p.unit, p.assignee = parent, None
            plan.parties.add((parent.pk, PartyRole.ASSIGNED))
            self.step(
                plan, t, EventKind.RETURNED, State.RETURNED, handler, returning, self.rng.choice(RETURN_NOTES), unit=parent.pk
            )
            return
        if target == State.ASSIGNED:
            return
        t = self.later(t, 0.5, 20)
        if t >= self.now:
            return
        if p.assignee is None:
            p.assignee = handler
        self.step(plan, t, EventKind.ACCEPTED, State.IN_PROGRESS, handler, p.unit, self.rng.choice(ACCEPT_NOTES))
        # coordination with other units
        open_tasks = target == State.IN_PROGRESS and self.rng.random() < 0.35
        if self.rng.random() < 0.3 or open_tasks:
            others = [
                u for u in self.units.values() if u.kind == OrgUnit.Kind.DEPARTMENT and u.pk != (p.unit.pk if p.unit else 0)
            ]
            for k in range(self.rng.choice([1, 1, 2])):
                unit = self.rng.choice(others)
                text, reply = self.rng.choice(TASKS)
                t = self.later(t, 1, 8)
                if t >= self.now:
                    return
                task = ProblemTask(
                    unit=unit,
                    text=text,
                    due_at=self.calendar.add_working_days(t, p.category.sla_days),
                    created_by=handler,
                    created_at=t,
                )
                plan.tasks.append(task)
                plan.parties.add((unit.pk, PartyRole.COORDINATING))
                self.step(
                    plan, t, EventKind.TASK_ADDED, None, handler, p.unit, text, bump=False, unit=unit.pk, unit_name=unit.name
                )
                if open_tasks and k == 0:
                    continue
                rt = self.later(t, 4, 40)
                if rt >= self.now:
                    continue
                replier = self.member(unit)
                task.state, task.reply, task.replied_at, task.replied_by = ProblemTask.State.REPLIED, reply, rt, replier
                self.step(
                    plan, rt, EventKind.TASK_REPLIED, None, replier, unit, reply, bump=False, unit=unit.pk, unit_name=unit.name
                )
                t = max(t, rt)
        if any(task.state == ProblemTask.State.OPEN for task in plan.tasks):
            return
        # rectification by the enterprise
        if p.establishment is not None and p.category.code == "measures_inadequate" and self.rng.random() < 0.7:
            t = self.later(t, 0.5, 4)
            if t >= self.now:
                return
            due = (t + timedelta(days=self.rng.choice([2, 3, 5]))).astimezone(TZ).date()
            p.rectification, p.rectification_due = Rectification.REQUIRED, due
            self.step(
                plan,
                t,
                EventKind.RECTIFICATION_REQUIRED,
                None,
                handler,
                p.unit,
                p.category.rectification_template,
                due=due.isoformat(),
            )
            if target == State.IN_PROGRESS and self.rng.random() < 0.5:
                return
            rounds = 2 if self.rng.random() < 0.25 else 1
            for r in range(rounds):
                t = self.later(t, 10, 50)
                if t >= self.now:
                    return
                reporter = self.enterprise_user(p.establishment) or handler
                p.rectification = Rectification.REPORTED
                self.step(
                    plan,
                    t,
                    EventKind.RECTIFICATION_REPORTED,
                    None,
                    reporter,
                    None if reporter != handler else p.unit,
                    "已按要求整改，附整改照片",
                    on_behalf=reporter == handler,
                )
                t = self.later(t, 1, 20)
                if t >= self.now:
                    return
                if r < rounds - 1:
                    p.rectification = Rectification.REQUIRED
                    self.step(
                        plan,
                        t,
                        EventKind.RECTIFICATION_REJECTED,
                        None,
                        handler,
                        p.unit,
                        "消毒记录仍不完整，请继续整改",
                        due=str(due),
                    )
                else:
                    p.rectification = Rectification.ACCEPTED
                    self.step(plan, t, EventKind.RECTIFICATION_ACCEPTED, None, handler, p.unit, "整改到位")
        if target == State.IN_PROGRESS:
            return
        resolved = self.resolve(plan, t, handler)
        if resolved is None or target == State.RESOLVED:
            return
        t = resolved
        verifier_unit = p.verifier_unit
        verifier = self.member(verifier_unit, avoid=handler) or self.member(self.command)
        if target == State.REOPENED or self.rng.random() < 0.12:
            t = self.later(t, 2, 30)
            if t >= self.now:
                return
            self.step(plan, t, EventKind.REJECTED, State.REOPENED, verifier, verifier_unit, self.rng.choice(REJECT_NOTES))
            p.due_at = self.calendar.add_working_days(t, p.category.sla_days)
            p.resolved_at = None
            if target == State.REOPENED:
                return
            t = self.later(t, 1, 10)
            if t >= self.now:
                return
            self.step(plan, t, EventKind.ACCEPTED, State.IN_PROGRESS, handler, p.unit, "重新办理")
            resolved = self.resolve(plan, t, handler)
            if resolved is None:
                return
            t = resolved
        t = self.later(t, 2, 30)
        if t >= self.now:
            return
        p.verified_at = t
        self.step(plan, t, EventKind.VERIFIED, State.VERIFIED, verifier, verifier_unit, self.rng.choice(VERIFY_NOTES))
        if target == State.VERIFIED:
            return
        t = self.later(t, 0.5, 24)
        if t >= self.now:
            return
        p.closed_at = t
        self.step(plan, t, EventKind.CLOSED, State.CLOSED, verifier, verifier_unit, "问题已解决，销号")

    def resolve(self, plan: Plan, t: datetime, handler: User | None) -> datetime | None:
        p = plan.problem
        # most are solved within the SLA, some late (and escalated meanwhile)
        sla_hours = max(4.0, (p.due_at - t).total_seconds() / 3600 if p.due_at else 24)
        t = self.later(t, 2, sla_hours * (0.6 if self.rng.random() < 0.85 else 2.0))
        if t >= self.now:
            return None
        p.resolved_at, p.resolved_by_unit = t, p.unit
        reporter_unit = next((self.units[u] for u, role in plan.parties if role == PartyRole.REPORTING), None)
        if reporter_unit is not None and p.unit is not None and reporter_unit.pk != p.unit.pk:
            p.verifier_unit = reporter_unit
        else:
            p.verifier_unit = self.units.get(p.unit.parent_id or 0) if p.unit else None
            p.verifier_unit = p.verifier_unit or self.command
        if p.verifier_unit is not None:
            plan.parties.add((p.verifier_unit.pk, PartyRole.VERIFYING))
        m, n = self.rng.choice([500, 1000, 2000]), self.rng.randint(2, 10)
        self.step(plan, t, EventKind.RESOLVED, State.RESOLVED, handler, p.unit, RESOLUTIONS[p.category.code].format(m=m, n=n))
        return t

    def enterprise_user(self, est: Establishment) -> User | None:
        return self.enterprise_by_est.get(est.pk)

    # --- escalation as the sweep would have done it ---------------------------------------------------
    def escalate(self, plan: Plan) -> None:
        p = plan.problem
        steps = sorted(plan.steps, key=lambda s: s.at)
        extra: list[Step] = []
        due = self.calendar.add_working_days(p.created_at, p.category.sla_days)
        level, esc_unit, next_at, overdue_since = 0, None, None, None
        t = due + timedelta(minutes=40)
        while t < self.now:
            done = [s for s in steps if s.at <= t]
            state = done[-1].to_state if done else State.REPORTED
            if state not in OPEN_STATES:
                reopen = next((s for s in steps if s.at > t and s.to_state == State.REOPENED), None)
                if reopen is None:
                    break
                due = self.calendar.add_working_days(reopen.at, p.category.sla_days)
                t = due + timedelta(minutes=40)
                overdue_since, next_at = None, None
                continue
            unit_steps = [s for s in done if s.kind in (EventKind.RETURNED, EventKind.ROUTED, EventKind.TRIAGE)]
            unit = self.units.get(unit_steps[-1].data.get("unit") or 0) if unit_steps else p.unit
            if overdue_since is None:
                overdue_since = t
                extra.append(
                    Step(
                        t,
                        EventKind.OVERDUE,
                        state,
                        state,
                        None,
                        unit,
                        f"已超过办理期限（{due.astimezone(TZ):%Y-%m-%d %H:%M}）",
                        {"due_at": due.isoformat(), "working_days": self.calendar.working_days_between(due, t)},
                    )
                )
            current = esc_unit or unit
            target = self.units.get(current.parent_id or 0) if current else None
            if target is None:
                next_at = None
                break
            level += 1
            esc_unit = target
            next_at = self.calendar.add_working_days(t, p.category.sla_days)
            days = self.calendar.working_days_between(due, t)
            extra.append(
                Step(
                    t,
                    EventKind.ESCALATED,
                    state,
                    state,
                    None,
                    target,
                    f"超期 {days} 个工作日未办结，向上反映至{target}督办（第 {level} 级）",
                    {"level": level, "to_unit": target.pk, "to_unit_name": target.name, "working_days": days},
                )
            )
            plan.parties.add((target.pk, PartyRole.ESCALATED))
            t = next_at + timedelta(minutes=40)
        plan.steps = sorted(steps + extra, key=lambda s: s.at)
        if p.state in OPEN_STATES and overdue_since is not None:
            p.overdue_since, p.escalation_level, p.escalated_unit, p.next_escalation_at = overdue_since, level, esc_unit, next_at
        elif level:
            p.escalation_level, p.escalated_unit = level, esc_unit

    # --- the whole set ----------------------------------------------------------------------------
    def establishments(self) -> list[Establishment]:
        qs = (
            Establishment.objects.filter(Q(status__in=[Status.RESUMED, Status.APPROVED, Status.FILING]))
            .select_related("region")
            .only(
                "pk",
                "name",
                "region",
                "region_path",
                "address",
                "latitude",
                "longitude",
                "category_id",
                "road_section_id",
                "status",
                "employees",
            )
        )
        ids = list(qs.values_list("pk", flat=True))
        chosen = set(self.rng.sample(ids, min(len(ids), 260))) | set(self.enterprise_by_est)
        # the establishments held (包联) by the community logins of the demo, so that their queues are not empty
        held = Assignment.objects.active(self.ctx.today).filter(kind=Kind.STAFF_SUBJECT, user__username__in=FEATURED_HOLDERS)
        self.featured_ids = set(qs.filter(pk__in=held.values("subject_id")).values_list("pk", flat=True))
        chosen |= self.featured_ids
        return list(qs.filter(pk__in=chosen).order_by("pk"))

    def ctx_region(self, name: str) -> Region:
        return Region.objects.filter(Q(name=name) | Q(short_name=name)).order_by("depth").first() or Region.objects.get(
            code="410502000000"
        )

    def build(self) -> dict[str, Any]:
        self.enterprise_by_est = {
            a.establishment_id: a.user
            for a in EnterpriseAccount.objects.filter(is_active=True, confirmed=True).select_related("user")
        }
        ests = self.establishments()
        resp = responsible_for_many(ests, on=self.ctx.today)
        swj_staff = self.members.get(self.ctx.units["SWJ"].pk, []) if "SWJ" in self.ctx.units else []
        liu = self.user("swj_liu") or (swj_staff[0] if swj_staff else None)
        hotline = self.user("hotline_chen")
        inspectors = [
            u
            for unit in self.units.values()
            if unit.kind in (OrgUnit.Kind.INSPECTION_TEAM, OrgUnit.Kind.DEPARTMENT)
            for u in self.members.get(unit.pk, [])
        ]
        communities = list(Region.objects.filter(level=Level.COMMUNITY).order_by("code"))
        codes = list(CATEGORY_WEIGHTS)
        targets = list(State.values) + self.rng.choices(
            list(STATE_WEIGHTS), list(STATE_WEIGHTS.values()), k=TOTAL - len(State.values)
        )
        helped = [e for e in ests if e.status == Status.RESUMED] or ests[:]
        self.rng.shuffle(helped)
        helped = helped[:HELPED]
        helped_ids = {e.pk for e in helped}
        featured = [e for e in ests if e.pk in self.featured_ids and e.pk not in helped_ids]
        self.rng.shuffle(featured)
        featured = featured[:FEATURED]
        territorial = [c for c in codes if self.categories[c].routing == "territorial"]
        by_category_est: dict[tuple[str, int], Plan] = {}
        merged_targets: list[str] = []
        for i, target in enumerate(targets):
            category = self.categories[
                codes[i % len(codes)] if i < 2 * len(codes) else self.rng.choices(codes, list(CATEGORY_WEIGHTS.values()))[0]
            ]
            if target == State.MERGED:
                merged_targets.append(category.code)
                continue
            at = self.report_time(target)
            if target == State.REPORTED:  # a public report nobody could place: the triage queue
                plan = self.new_plan(
                    category=category,
                    source=self.rng.choice([Source.PUBLIC, Source.HOTLINE]),
                    reporter=None,
                    at=at,
                    est=None,
                    region=self.ctx_region("文峰区"),
                    route=None,
                    contact="群众",
                )
                continue
            roll = self.rng.random()
            if (roll < 0.15 and hotline is not None) or not ests:  # a call about a place, no establishment
                region = self.rng.choice(communities)
                plan = self.new_plan(
                    category=category,
                    source=Source.HOTLINE if hotline else Source.PUBLIC,
                    reporter=hotline,
                    at=at,
                    est=None,
                    region=region,
                    route=route_for_region(region, self.ctx.today),
                )
            else:
                reporter: User | None
                if helped:
                    est = helped.pop()
                elif featured:
                    est = featured.pop()
                    if territorial and self.rng.random() < 0.7:
                        category = self.categories[self.rng.choice(territorial)]
                else:
                    est = self.rng.choice(ests)
                if est.pk in helped_ids and liu is not None:
                    source, reporter = Source.VISIT, self.rng.choice([liu, *swj_staff]) if swj_staff else liu
                elif est.pk in self.enterprise_by_est and self.rng.random() < 0.5:
                    source, reporter = Source.SELF_REPORT, self.enterprise_by_est[est.pk]
                elif roll < 0.55:
                    source, reporter = (
                        Source.VISIT,
                        self.member(resp[est.pk].units("territorial")[0] if resp[est.pk].units("territorial") else None),
                    )
                else:
                    source, reporter = Source.INSPECTION, self.rng.choice(inspectors) if inspectors else None
                route = choose(category, resp[est.pk], self.pick) or route_for_region(est.region, self.ctx.today)
                plan = self.new_plan(
                    category=category, source=source, reporter=reporter, at=at, est=est, region=est.region, route=route
                )
                by_category_est.setdefault((category.code, est.pk), plan)
            self.play(plan, target)
        # duplicates reported while the first was open, merged into it
        for code in merged_targets:
            candidates = [
                pl
                for (c, _e), pl in by_category_est.items()
                if c == code and pl.problem.created_at < self.now - timedelta(days=1)
            ]
            if not candidates:
                continue
            first = self.rng.choice(candidates)
            fp = first.problem
            at = self.later(fp.created_at, 2, 20)
            merged_at = self.later(at, 0.5, 6)
            before = [s for s in first.steps if s.at <= merged_at]
            state_then = before[-1].to_state if before else State.REPORTED
            if merged_at >= self.now or state_then not in ACTIVE_STATES:
                continue  # a duplicate is merged into a problem that is still being handled
            via = str(first.steps[1].data.get("via", "属地"))
            route = (
                Route(fp.unit, fp.assignee, "territorial", via) if fp.unit and first.steps[1].kind == EventKind.ROUTED else None
            )
            dup = self.new_plan(
                category=fp.category,
                source=Source.HOTLINE if hotline else Source.VISIT,
                reporter=hotline,
                at=at,
                est=fp.establishment,
                region=fp.region,
                route=route,
            )
            actor = fp.assignee or self.member(fp.unit)
            dup.problem.merged_into = fp
            self.step(dup, merged_at, EventKind.MERGED, State.MERGED, actor, fp.unit, f"与 {fp.code} 重复", into_code=fp.code)
            note = f"{dup.problem.code} 与本问题重复，已并入"
            first.steps.append(
                Step(
                    merged_at,
                    EventKind.MERGED_FROM,
                    state_then,
                    state_then,
                    actor,
                    fp.unit,
                    note,
                    {"from_code": dup.problem.code},
                )
            )
            first.steps.sort(key=lambda s: s.at)
        for plan in self.plans:
            self.escalate(plan)
        return self.save(helped_ids)

    def save(self, helped_ids: set[int]) -> dict[str, Any]:
        # merged duplicates point at problems saved in the same batch: save the targets first
        plans = sorted(self.plans, key=lambda pl: pl.problem.merged_into is not None)
        for plan in plans:
            p = plan.problem
            p.version = 1 + plan.bumps
            if p.merged_into is not None:
                p.merged_into_id = p.merged_into.pk
        first = [pl.problem for pl in plans if pl.problem.merged_into is None]
        second = [pl.problem for pl in plans if pl.problem.merged_into is not None]
        for plan in plans:  # last changed at its last step (the scenario's time, not the build's)
            plan.problem.updated_at = max([plan.problem.created_at, *(s.at for s in plan.steps)])
        with scenario_timestamps(Problem):
            Problem.objects.bulk_create(first, batch_size=500)
            for p in second:
                p.merged_into_id = p.merged_into.pk if p.merged_into else None
            Problem.objects.bulk_create(second, batch_size=500)
        by_code = {pl.problem.code: pl.problem.pk for pl in plans}
        events, tasks, parties = [], [], []
        for plan in plans:
            p = plan.problem
            for s in plan.steps:
                if s.kind == EventKind.MERGED:
                    s.data["into"] = p.merged_into_id
                if s.kind == EventKind.MERGED_FROM:
                    s.data["from"] = by_code[s.data["from_code"]]
                events.append(
                    ProblemEvent(
                        problem=p,
                        at=s.at,
                        kind=s.kind,
                        actor=s.actor,
                        actor_name=(s.actor.display_name or s.actor.username)[:60] if s.actor else "",
                        unit=s.unit,
                        from_state=s.from_state,
                        to_state=s.to_state,
                        note=s.note,
                        data=s.data,
                    )
                )
            for t in plan.tasks:
                t.problem = p
                tasks.append(t)
            parties += [ProblemParty(problem=p, unit_id=u, role=role, since=p.created_at) for u, role in plan.parties]
        events.sort(key=lambda e: (e.at, e.problem.pk))
        ProblemEvent.objects.bulk_create(events, batch_size=1000)
        ProblemTask.objects.bulk_create(tasks, batch_size=500)
        ProblemParty.objects.bulk_create(parties, batch_size=1000, ignore_conflicts=True)
        ProblemCounter.objects.bulk_create(
            [ProblemCounter(day=d, last=n) for d, n in self.counters.items()],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["last"],
        )
        # watch lists and in-app notices for the people who log in to the demo
        follows, notes = [], []
        for plan in plans:
            p = plan.problem
            if p.reporter_id and self.rng.random() < 0.3:
                follows.append(Follow(user_id=p.reporter_id, problem=p, created_at=p.created_at))
            if p.state in OPEN_STATES and p.assignee_id:
                notes.append(
                    Notification(
                        user_id=p.assignee_id,
                        title=f"新问题待办：{p.code} {p.category.name}",
                        body=p.description[:200],
                        url=f"/problems/{p.pk}/",
                        kind="problem_assigned",
                        created_at=p.created_at,
                    )
                )
            if p.escalation_level and p.escalated_unit_id:
                for u in self.members.get(p.escalated_unit_id, [])[:3]:
                    notes.append(
                        Notification(
                            user=u,
                            title=f"督办：{p.code} 超期未办结",
                            body=p.description[:200],
                            url=f"/problems/{p.pk}/",
                            kind="problem_escalated",
                            created_at=p.overdue_since or p.created_at,
                        )
                    )
        Follow.objects.bulk_create(follows, ignore_conflicts=True)
        Notification.objects.bulk_create(notes, batch_size=1000)
        audit_bulk(
            action=Action.BULK_CREATE, actor=None, model=Problem, ids=[pl.problem.pk for pl in plans], detail={"source": "demo"}
        )
        states: dict[str, int] = defaultdict(int)
        for plan in plans:
            states[plan.problem.state] += 1
        return {
            "problems": len(plans),
            "events": len(events),
            "states": dict(states),
            "overdue_open": sum(
                1 for pl in plans if pl.problem.state in OPEN_STATES and pl.problem.due_at and pl.problem.due_at < self.now
            ),
            "escalated": sum(1 for pl in plans if pl.problem.escalation_level),
            "helped_by_swj": len({pl.problem.establishment_id for pl in plans if pl.problem.establishment_id in helped_ids}),
        }


def build_problems(ctx: DemoContext, *, password: str, seed: int = 319) -> None:
    """The demo step. Adds the dispatcher login; keeps a summary in ctx.extra["problems"]."""
    ensure_default_categories()
    command = next((u for u in ctx.units.values() if u.kind == OrgUnit.Kind.COMMAND), None)
    if command is not None and not User.objects.filter(username=DISPATCHER[0]).exists():
        bulk_staff(
            ctx,
            password=password,
            start=ctx.start,
            people=[(DISPATCHER[0], DISPATCHER[1], command, command.region, Role.DEPARTMENT, "调度员")],
        )
        ctx.add_login(
            Role.DEPARTMENT,
            {"username": DISPATCHER[0], "password": password, "scope": "指挥部（问题分派）", "name": DISPATCHER[1]},
        )
    ctx.extra["problems"] = Builder(ctx, password=password, seed=seed).build()
