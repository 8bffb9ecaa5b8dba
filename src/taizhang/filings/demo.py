"""Demo filings of the Wenfeng scenario (复工/复学备案), written in bulk after the establishments step.

`build_filings(ctx)` reads the establishments and their status history (`EstablishmentEvent`) from the
database and gives each the filing the services would have produced, on the same dates:
- every **resumed** establishment (the article's 13,400) has an approved filing: submitted when its status
  became "filing", approved when it became "approved", planned for (and resumed on) its resumption day;
  about one in twelve was returned once and approved on its second version;
- every **approved** one has an approved filing planned for a day after today (the resumption job turns it
  resumed on that day);
- every establishment still **filing** has a filing waiting for review (version 1, or version 2 after a
  return) or returned with per-item comments; the waiting ones past their deadline on the working-day
  calendar carry the overdue flag and event the sweep would have written;
- some **not resumed** ones have a draft, a few a withdrawn draft;
- schools, kindergartens and tutoring centres use the 复学 list, the others the 复工 list; each filing goes
  to the department responsible for its category (the rule of `services.reviewer_unit_for`).

Timestamps are the scenario's (up to its clock `ctx.now`: 18:00 of ctx.today, or the present moment when the
scenario is built for the real today), not the moment of the build. Required attachments point to one
shared sample file per item (drafts have none, so nothing can delete a shared file). The shipped checklists
are restored first (`flush` empties data-migration tables). Two enterprise logins are added next to the
establishments step's: one whose filing was returned (to try the resubmission) and one not yet filed.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.services import Action, audit_bulk
from taizhang.core.roles import Role
from taizhang.core.workdays import WorkCalendar
from taizhang.duties.demo import DemoContext, password_hash, scenario_timestamps
from taizhang.duties.models import Assignment, Kind
from taizhang.establishments.models import EnterpriseAccount, Establishment, EstablishmentEvent, Status
from taizhang.establishments.scoping import SUBJECT_TYPE
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level, Region

from .models import Audience, Filing, FilingAttachment, FilingEvent, FilingItem, FilingTemplate, FilingVersion, State
from .storage import PrivateStorage

TZ = ZoneInfo(settings.TIME_ZONE)
RETURNED_ONCE = 1 / 12  # resumed establishments whose first version was returned
SHARE_OF_FILING = {"returned": 0.3, "resubmitted": 0.2, "waiting": 0.5}
DRAFT_SHARE, WITHDRAWN_SHARE = 0.18, 0.02  # of the establishments not resumed (except rental houses)
E = FilingEvent.Kind

COMMENTS: dict[str, tuple[str, ...]] = {
    "plan": ("复工方案未明确分批复工的时间和岗位安排，请补充", "请上传加盖公章的复工方案原件"),
    "emergency_plan": ("应急预案缺少临时隔离观察场所和报告流程，请补充", "请写明发现发热人员后的报告对象和联系电话"),
    "organisation": ("请明确防控工作组各成员的具体分工", "防控负责人应为企业主要负责人"),
    "commitment": ("承诺书未加盖公章，请重新上传", "承诺书签署人与法定代表人不一致，请说明"),
    "supplies": ("口罩储备不足两周用量，请补充采购计划", "缺少测温设备，请配备后再报"),
    "staff": ("返岗人员尚未全部完成14天行程排查", "请补充异常人员的处置情况"),
    "duty_temperature": ("请补充晨午检测温登记表样式和值班安排",),
    "emergency_plan_school": ("校园应急预案缺少与属地卫生院的对接流程",),
    "joint_control": ("请写明属地社区和卫生院的联系人",),
    "reopening_check": ("请补充师生返校前健康状况查验的具体办法",),
    "sanitation": ("请写明食堂、宿舍的消毒频次",),
    "daily_report": ("请明确信息日报的报送人和报送时间",),
    "observation_room": ("观察室位置和设施不符合要求，请说明整改情况",),
    "drill": ("尚未开展模拟开学演练，请安排演练后补报",),
}


def ensure_templates() -> dict[str, FilingTemplate]:
    """The shipped checklists (a data migration; `flush` empties the tables, so the demo puts them back)."""
    shipped = importlib.import_module("taizhang.filings.migrations.0002_shipped_filing_templates").TEMPLATES
    for code, name, audience, description, items in shipped:
        template, _ = FilingTemplate.objects.get_or_create(
            code=code, defaults={"name": name, "audience": audience, "description": description, "review_days": 2}
        )
        existing = set(template.items.values_list("code", flat=True))
        FilingItem.objects.bulk_create(
            FilingItem(
                template=template, code=c, label=label, evidence=ev, needs_attachment=att, help=help_text, sort=(n + 1) * 10
            )
            for n, (c, label, ev, att, help_text) in enumerate(items)
            if c not in existing
        )
    return {t.audience: t for t in FilingTemplate.objects.filter(kinds__isnull=True, is_active=True).prefetch_related("items")}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass
class Track:
    """One filing being planned: its rows are written in bulk at the end."""

    est: Establishment
    template: FilingTemplate
    state: str
    planned: date | None = None
    created: datetime | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)  # {"at", "decided", "outcome", "returned": {code: comment}}
    events: list[tuple[datetime, str, int, str, dict[str, Any]]] = field(default_factory=list)
    overdue_at: datetime | None = None
    due_at: datetime | None = None


class Builder:
    def __init__(self, ctx: DemoContext, seed: int) -> None:
        self.ctx = ctx
        self.rng = random.Random(seed)  # noqa: S311 - invented demo data
        self.now = ctx.now  # the scenario's clock: 18:00 of its today, or the present moment if earlier
        self.calendar = WorkCalendar.load()
        self.templates = ensure_templates()
        self.items = {t.pk: list(t.items.all()) for t in self.templates.values()}
        self._answers: dict[tuple[int, int], str] = {}

    # --- reading what the establishments step wrote --------------------------------------------------
    def load(self) -> None:
        self.establishments = list(
            Establishment.objects.exclude(kind__code="rental_house").select_related("kind", "region").order_by("pk")
        )
        self.status_at: dict[int, dict[str, datetime]] = defaultdict(dict)
        rows = EstablishmentEvent.objects.filter(kind=EstablishmentEvent.Kind.STATUS).values_list(
            "establishment_id", "to_status", "at"
        )
        for est_id, to, at in rows.order_by("at", "id").iterator(chunk_size=5000):
            self.status_at[est_id][to] = at
        self.reviewer = self.reviewer_units()
        posts = (
            Post.objects.active(self.ctx.today).filter(role__in=[Role.DEPARTMENT, Role.SUBDISTRICT]).order_by("user__username")
        )
        self.reviewer_user: dict[int, int] = {}
        for unit_id, user_id in posts.values_list("unit_id", "user_id"):
            self.reviewer_user.setdefault(unit_id, user_id)
        holders = Assignment.objects.active(self.ctx.today).filter(kind=Kind.STAFF_SUBJECT, subject_type=SUBJECT_TYPE)
        self.filer: dict[int, int] = {
            s: u for s, u in holders.values_list("subject_id", "user_id").iterator(chunk_size=5000) if s is not None
        }
        for account in EnterpriseAccount.objects.filter(confirmed=True, is_active=True):
            self.filer[account.establishment_id] = account.user_id

    def reviewer_units(self) -> dict[int, OrgUnit | None]:
        """The unit each establishment's filing goes to, by the rule of `services.reviewer_unit_for` (the
        department of its category or of the category's major; else the department covering its sub-district;
        else the sub-district office), computed for all of them from three small queries."""
        active = Assignment.objects.active(self.ctx.today).select_related("unit")
        by_category = {a.category_id: a.unit for a in active.filter(kind=Kind.CATEGORY_DEPARTMENT)}
        by_subdistrict = {a.region_id: a.unit for a in active.filter(kind=Kind.DEPARTMENT_SUBDISTRICT)}
        parent = dict(ServiceCategory.objects.values_list("pk", "parent_id"))
        subdistricts = {r.path: r.pk for r in Region.objects.filter(level=Level.SUBDISTRICT)}
        offices = {u.region_id: u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.SUBDISTRICT_OFFICE, is_active=True)}
        length = len(next(iter(subdistricts), ""))
        out: dict[int, OrgUnit | None] = {}
        for est in self.establishments:
            category = est.category_id or 0
            unit = by_category.get(category) or by_category.get(parent.get(category) or 0)
            sub = subdistricts.get(est.region_path[:length])
            out[est.pk] = unit or (by_subdistrict.get(sub) or offices.get(sub) if sub is not None else None)
        return out

    # --- answers ------------------------------------------------------------------------------------
    def answers_text(self, est: Establishment, template: FilingTemplate, version: int) -> str:
        """The answers of one version as stored (JSON), the same for the filing and its version row."""
        key = (est.pk, version)
        if key not in self._answers:
            self._answers[key] = _dumps(self.answers(est, template, version))
        return self._answers[key]

    def answers(self, est: Establishment, template: FilingTemplate, version: int) -> dict[str, dict[str, Any]]:
        rng, n = self.rng, max(est.employees, 1)
        out: dict[str, dict[str, Any]] = {}
        for item in self.items[template.pk]:
            if item.evidence == "document":
                out[item.code] = {"summary": f"{est.name}{item.label}（第{version}版），已经单位负责人审定"}
            elif item.evidence == "organisation":
                out[item.code] = {
                    "leader": "单位负责人",
                    "leader_title": "总经理" if n > 20 else "店长",
                    "members": "测温登记 1人\n消毒通风 1人\n物资保障 1人",
                }
            elif item.evidence == "commitment":
                out[item.code] = {
                    "signed": True,
                    "signatory": "法定代表人",
                    "signed_on": (self.ctx.today - timedelta(days=rng.randint(5, 25))).isoformat(),
                }
            elif item.evidence == "supplies":
                out[item.code] = {
                    "masks": n * rng.randint(14, 30) + (200 if version > 1 else 0),
                    "alcohol": rng.randint(2, 5) * (1 + n // 20),
                    "disinfectant": rng.randint(5, 20),
                    "thermometers": 1 + n // 30,
                }
            elif item.evidence == "staff":
                returned = n - rng.randint(0, max(n // 5, 0))
                out[item.code] = {
                    "total": n,
                    "returned": returned,
                    "screened": returned,
                    "travel_checked": True,
                    "temperature_checked": True,
                    "abnormal": 0,
                }
            else:
                out[item.code] = {"description": f"已制定{item.label}制度，明确责任人，每日执行并留存记录"}
        return out

    def comment(self, item: FilingItem, template: FilingTemplate) -> str:
        key = f"{item.code}_school" if template.audience == Audience.SCHOOL and f"{item.code}_school" in COMMENTS else item.code
        return self.rng.choice(COMMENTS.get(key, ("材料不完整，请补充",)))

    def returned_items(self, template: FilingTemplate) -> dict[str, str]:
        items = self.items[template.pk]
        chosen = self.rng.sample(items, k=1 if self.rng.random() < 0.7 else 2)
        return {i.code: self.comment(i, template) for i in chosen}

    # --- planning -----------------------------------------------------------------------------------
    def template_of(self, est: Establishment) -> FilingTemplate:
        return self.templates[Audience.SCHOOL if est.kind.is_school_like else Audience.ENTERPRISE]

    def shares(self, ests: list[Establishment], shares: dict[str, float]) -> dict[int, str]:
        """Deal out shapes by their shares (at least one of each when there are enough establishments)."""
        order = list(ests)
        self.rng.shuffle(order)
        counts = {
            k: max(1, round(len(order) * v)) if len(order) >= len(shares) else round(len(order) * v) for k, v in shares.items()
        }
        out: dict[int, str] = {}
        it = iter(order)
        for shape, n in counts.items():
            for est in itertools.islice(it, n):
                out[est.pk] = shape
        return out

    def plan(self, pinned: dict[int, str]) -> list[Track]:
        filing_shapes = self.shares(
            [e for e in self.establishments if e.status == Status.FILING and e.pk not in pinned], SHARE_OF_FILING
        )
        idle = [e for e in self.establishments if e.status == Status.NOT_RESUMED and e.pk not in pinned]
        idle_shapes = self.shares(idle, {State.WITHDRAWN: WITHDRAWN_SHARE, State.DRAFT: DRAFT_SHARE})
        tracks: list[Track] = []
        for est in self.establishments:
            template = self.template_of(est)
            history = self.status_at.get(est.pk, {})
            if est.status == Status.RESUMED:
                tracks.append(self.approved(est, template, history, resumed=True))
            elif est.status == Status.APPROVED:
                tracks.append(self.approved(est, template, history, resumed=False))
            elif est.status == Status.FILING:
                tracks.append(self.filing(est, template, history, pinned.get(est.pk) or filing_shapes.get(est.pk, "waiting")))
            elif est.pk in idle_shapes:
                state = idle_shapes[est.pk]
                created = self.now - timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(1, 8))
                t = Track(est, template, state, created=created, planned=self.ctx.today + timedelta(days=self.rng.randint(3, 14)))
                t.events.append((created, E.CREATED, 0, template.name, {}))
                if state == State.WITHDRAWN:
                    t.events.append((created + timedelta(hours=1), E.WITHDRAWN, 0, "清单选错，重新发起", {}))
                tracks.append(t)
        return tracks

    def approved(self, est: Establishment, template: FilingTemplate, history: dict[str, datetime], *, resumed: bool) -> Track:
        filed = history.get(Status.FILING) or _at(self.ctx.today - timedelta(days=5), 10)
        approved = history.get(Status.APPROVED) or filed + timedelta(days=1)
        planned = est.resumed_on if resumed and est.resumed_on else self.ctx.today + timedelta(days=self.rng.randint(1, 10))
        created = filed - timedelta(hours=self.rng.randint(2, 30))
        t = Track(est, template, State.APPROVED, planned=planned, created=created)
        t.events.append((created, E.CREATED, 0, template.name, {}))
        span = approved - filed
        if self.rng.random() < RETURNED_ONCE and span > timedelta(hours=6):
            back, again = filed + span / 3, filed + span * 2 / 3
            returned = self.returned_items(template)
            t.versions.append({"at": filed, "decided": back, "outcome": State.RETURNED, "returned": returned})
            t.versions.append({"at": again, "decided": approved, "outcome": State.APPROVED, "returned": {}})
        else:
            t.versions.append({"at": filed, "decided": approved, "outcome": State.APPROVED, "returned": {}})
        self.version_events(t)
        if resumed:
            day = est.resumed_on or planned
            t.events.append(
                (
                    history.get(Status.RESUMED) or _at(day, 8, 30),
                    E.RESUMED,
                    len(t.versions),
                    f"{day:%Y年%m月%d日}复工",
                    {"on": day.isoformat()},
                )
            )
        return t

    def filing(self, est: Establishment, template: FilingTemplate, history: dict[str, datetime], shape: str) -> Track:
        filed = history.get(Status.FILING) or _at(self.ctx.today - timedelta(days=self.rng.randint(0, 10)), 10)
        planned = self.ctx.today + timedelta(days=self.rng.randint(2, 12))
        created = filed - timedelta(hours=self.rng.randint(2, 30))
        t = Track(est, template, State.SUBMITTED, planned=planned, created=created)
        t.events.append((created, E.CREATED, 0, template.name, {}))
        back = min(filed + timedelta(hours=self.rng.randint(20, 52)), self.now - timedelta(minutes=30))
        if shape == "waiting" or back <= filed:
            t.versions.append({"at": filed, "decided": None, "outcome": "", "returned": {}})
        elif shape == "returned":
            t.versions.append(
                {"at": filed, "decided": back, "outcome": State.RETURNED, "returned": self.returned_items(template)}
            )
            t.state = State.RETURNED
        else:
            again = back + (self.now - back) * self.rng.uniform(0.2, 0.9)
            t.versions.append(
                {"at": filed, "decided": back, "outcome": State.RETURNED, "returned": self.returned_items(template)}
            )
            t.versions.append({"at": again, "decided": None, "outcome": "", "returned": {}})
        self.version_events(t)
        if t.state == State.SUBMITTED:
            last = t.versions[-1]["at"]
            t.due_at = self.calendar.add_working_days(last, template.review_days)
            if t.due_at < self.now:
                t.overdue_at = min(t.due_at + timedelta(minutes=30), self.now)
                t.events.append(
                    (t.overdue_at, E.OVERDUE, len(t.versions), f"超过审核期限 {t.due_at.astimezone(TZ):%m月%d日 %H:%M}", {})
                )
        return t

    def version_events(self, t: Track) -> None:
        unit = self.reviewer.get(t.est.pk)
        for n, v in enumerate(t.versions, start=1):
            t.events.append(
                (
                    v["at"],
                    E.SUBMITTED,
                    n,
                    f"第{n}版，送{unit.name if unit else '审核部门'}审核",
                    {"reviewer_unit": unit.pk if unit else None},
                )
            )
            if v["outcome"] == State.RETURNED:
                note = "；".join(
                    f"{label}：{c}" for label, c in ((self.label(t.template, code), c) for code, c in v["returned"].items())
                )
                t.events.append((v["decided"], E.RETURNED, n, note, {"returned": v["returned"]}))
            elif v["outcome"] == State.APPROVED:
                t.events.append((v["decided"], E.APPROVED, n, f"第{n}版全部事项通过", {"planned_date": str(t.planned)}))

    def label(self, template: FilingTemplate, code: str) -> str:
        return next((i.label for i in self.items[template.pk] if i.code == code), code)

    # --- writing ------------------------------------------------------------------------------------
    def sample_files(self) -> dict[str, tuple[str, int, str]]:
        """One small PDF per item code, stored once and shared by the demo's attachment rows."""
        storage = PrivateStorage()
        files = {}
        for template in self.templates.values():
            for item in self.items[template.pk]:
                if not item.needs_attachment or item.code in files:
                    continue
                content = (f"%PDF-1.4\n% {item.label}（演示样本）\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").encode()
                name = f"filings/demo/{item.code}.pdf"
                if not storage.exists(name):  # the same bytes every run: written once, never duplicated
                    name = storage.save(name, ContentFile(content))
                files[item.code] = (name, len(content), hashlib.sha256(content).hexdigest())
        return files

    def write(self, tracks: list[Track]) -> list[Filing]:
        filings = []
        for t in tracks:
            n = len(t.versions)
            last = t.versions[-1] if t.versions else {}
            unit = self.reviewer.get(t.est.pk) if n else None
            decided = last.get("decided") if t.state in (State.APPROVED, State.RETURNED) else None
            at = last.get("at") or t.created or self.now
            f = Filing(
                establishment=t.est,
                template=t.template,
                state=t.state,
                version=n,
                revision=1 + 2 * n,
                planned_date=t.planned,
                submitted_at=last.get("at"),
                due_at=t.due_at,
                overdue_flagged_at=t.overdue_at,
                reviewer_unit=unit,
                decided_at=decided,
                decided_by_id=self.reviewer_user.get(unit.pk) if (unit and decided) else None,
                created_by_id=self.filer.get(t.est.pk),
                created_at=t.created or at,
                updated_at=decided or at,
            )
            f.answers_data = (
                self.answers_text(t.est, t.template, max(n, 1)) if t.state != State.DRAFT or self.rng.random() < 0.5 else ""
            )
            filings.append(f)
        with scenario_timestamps(Filing):
            created = Filing.objects.bulk_create(filings, batch_size=1000)
        files = self.sample_files()
        attachments = []
        for f, t in zip(created, tracks, strict=True):
            if not t.versions:
                continue  # drafts have no files: nothing can delete a shared sample
            filer = self.filer.get(t.est.pk)
            for item in self.items[t.template.pk]:
                if item.code in files:
                    stored, size, digest = files[item.code]
                    attachments.append(
                        FilingAttachment(
                            filing=f,
                            item_code=item.code,
                            file=stored,
                            name=f"{item.label}.pdf",
                            content_type="application/pdf",
                            size=size,
                            sha256=digest,
                            uploaded_by_id=filer,
                            uploaded_at=t.versions[0]["at"] - timedelta(hours=1),
                        )
                    )
        with scenario_timestamps(FilingAttachment):
            created_attachments = FilingAttachment.objects.bulk_create(attachments, batch_size=2000)
        # every version lists the same files: the demo's enterprises changed answers, not files, between versions
        files_of: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for a in created_attachments:
            files_of[a.filing_id][a.item_code].append(a.pk)
        versions, events = [], []
        for f, t in zip(created, tracks, strict=True):
            reviewer = self.reviewer_user.get(f.reviewer_unit_id) if f.reviewer_unit_id else None
            filer = self.filer.get(t.est.pk)
            listed = {k: list(v) for k, v in files_of.get(f.pk, {}).items()}
            for n, v in enumerate(t.versions, start=1):
                rulings = {}
                if v["outcome"]:
                    stamp = v["decided"].isoformat()
                    for item in self.items[t.template.pk]:
                        comment = v["returned"].get(item.code, "")
                        rulings[item.code] = {
                            "decision": "return" if comment else "accept",
                            "comment": comment,
                            "by": reviewer,
                            "by_name": "",
                            "at": stamp,
                        }
                versions.append(
                    FilingVersion(
                        filing=f,
                        number=n,
                        answers_data=self.answers_text(t.est, t.template, n),
                        attachments=listed,
                        planned_date=t.planned,
                        submitted_at=v["at"],
                        submitted_by_id=filer,
                        rulings=rulings,
                        outcome=v["outcome"],
                        decided_at=v["decided"],
                        decided_by_id=reviewer if v["outcome"] else None,
                    )
                )
            for at, kind, number, note, data in t.events:
                actor = (
                    reviewer
                    if kind in (E.RETURNED, E.APPROVED)
                    else (filer if kind in (E.CREATED, E.SUBMITTED, E.WITHDRAWN) else None)
                )
                events.append(FilingEvent(filing=f, at=at, kind=kind, version=number, actor_id=actor, note=note[:500], data=data))
        FilingVersion.objects.bulk_create(versions, batch_size=1000)
        FilingEvent.objects.bulk_create(events, batch_size=2000)
        audit_bulk(action=Action.BULK_CREATE, actor=None, model=Filing, ids=[f.pk for f in created], detail={"source": "demo"})
        return created

    # --- logins -------------------------------------------------------------------------------------
    def pinned(self) -> dict[int, str]:
        """Establishments in 官园社区 kept for the enterprise logins: one returned filing, one not yet filed."""
        community = (
            Region.objects.filter(level=Level.COMMUNITY, short_name="官园社区").first()
            or Region.objects.filter(level=Level.COMMUNITY, name__startswith="官园社区").first()
        )
        taken = set(EnterpriseAccount.objects.values_list("establishment_id", flat=True))
        prefix = community.path if community else "/"
        candidates = [e for e in self.establishments if e.credit_code and not e.kind.is_school_like and e.pk not in taken]
        # 官园社区 first (the article's community); anywhere else when a small build has none there
        pool = sorted(candidates, key=lambda e: (not e.region.path.startswith(prefix), e.pk))
        out: dict[int, str] = {}
        returned = next((e for e in pool if e.status == Status.FILING), None)
        fresh = next((e for e in pool if e.status == Status.NOT_RESUMED), None)
        if returned:
            out[returned.pk] = "returned"
        if fresh:
            out[fresh.pk] = "none"
        return out

    def logins(self, pinned: dict[int, str], password: str) -> None:
        hashed = password_hash(self.ctx, password)
        names = {"returned": ("qy_fanhui", "备案被退回，待修改后重新提交"), "none": ("qy_xinban", "尚未备案")}
        for est in (e for e in self.establishments if e.pk in pinned):
            username, note = names[pinned[est.pk]]
            user = User.objects.create(username=username, display_name=est.contact_name or "企业联系人", password=hashed)
            unit, _ = OrgUnit.objects.get_or_create(
                code=f"QY{est.pk}", defaults={"name": est.name[:100], "kind": OrgUnit.Kind.ENTERPRISE, "region": est.region}
            )
            Post.objects.create(
                user=user,
                unit=unit,
                region=est.region,
                role=Role.ENTERPRISE,
                title="联系人",
                valid_from=self.ctx.today - timedelta(days=30),
            )
            EnterpriseAccount.objects.create(user=user, establishment=est, confirmed=True)
            self.ctx.add_login(
                Role.ENTERPRISE,
                {"username": username, "password": password, "scope": f"{est.name}（{note}）", "name": user.display_name},
            )


def counts(filings: Iterable[Filing]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for f in filings:
        out[f.state] += 1
    return dict(out)


def build_filings(ctx: DemoContext, *, password: str, seed: int = 2020) -> None:
    """Run after the establishments step. Keeps the counts in ctx.extra["filings"]."""
    builder = Builder(ctx, seed)
    builder.load()
    pinned = builder.pinned()
    tracks = builder.plan(pinned)
    created = builder.write(tracks)
    builder.logins(pinned, password)
    summary = counts(created)
    summary["overdue"] = sum(1 for t in tracks if t.overdue_at)
    ctx.extra["filings"] = summary
