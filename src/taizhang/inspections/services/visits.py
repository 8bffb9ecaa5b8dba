"""Visits and inspections: idempotent submission, photos, problems opened from failed items, bulk writes (see docs/adr/0009)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, User
from taizhang.audit.services import Action, audit_bulk, audit_record
from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.establishments.models import Establishment
from taizhang.problems.models import Source
from taizhang.problems.services import problem_report
from taizhang.rollups import facts as rollup_facts
from taizhang.rollups import services as rollups

from .. import checklist, storage
from ..models import (
    Answer,
    Campaign,
    CampaignState,
    CampaignTarget,
    SubjectType,
    TemplateVersion,
    Visit,
    VisitKind,
    VisitPhoto,
    VisitResult,
    VisitStaff,
)
from ..scoping import acting_unit_ids, acting_units, is_read_only

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_EXTRA_PEOPLE = 50
MAX_VISIT_AGE_DAYS = 31


def _name(user: Any) -> str:
    return str(getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""


# --- visits ---------------------------------------------------------------------------------------


def _decimal(value: Any, what: str, lo: int, hi: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ApplicationError(f"{what}无效", code="invalid") from None
    if not (lo <= d <= hi):
        raise ApplicationError(f"{what}无效", code="invalid")
    return d


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise ApplicationError("提交标识无效，请刷新页面后重新提交（已填内容保留在草稿中）", code="invalid_key")
    return key


def _existing(key: str, actor: Any) -> Visit | None:
    found = Visit.objects.filter(key=key).first()
    if found is not None and found.created_by_id != actor.pk:
        raise ConflictError("该提交标识已被使用", code="idempotency_conflict")
    return found


@dataclass(frozen=True)
class Submitted:
    visit: Visit
    created: bool


def _subject_for(
    actor: Any,
    *,
    target: CampaignTarget | None,
    establishment: Establishment | None,
    unit: OrgUnit | None,
    version: TemplateVersion | None,
) -> tuple[Establishment, OrgUnit, TemplateVersion, Campaign | None]:
    mine = acting_unit_ids(actor)
    if target is not None:
        # fresh from the database: the campaign may have moved to a new version since the caller loaded it
        target = CampaignTarget.objects.select_related(
            "campaign__version__template", "campaign__unit", "team", "establishment__kind"
        ).get(pk=target.pk)
        campaign = target.campaign
        if campaign.state != CampaignState.ACTIVE:
            raise ApplicationError(f"“{campaign.name}”{CampaignState(campaign.state).label}，不能再填报", code="invalid_state")
        if not target.active:
            raise ApplicationError("该单位已不在本次行动的检查范围内", code="invalid_state")
        if target.establishment is None:  # pragma: no cover - households and checkpoints come with the people ledger
            raise ApplicationError("暂不支持该类检查对象", code="not_supported")
        if target.team_id in mine:
            team = target.team
        elif campaign.unit_id in mine:
            team = campaign.unit
        else:
            raise ApplicationError(f"只有{target.team}或{campaign.unit}的工作人员可以填报该对象", code="not_allowed")
        if version is not None and version.pk != campaign.version_id:
            raise ConflictError("本次行动的检查表已更新，请刷新页面后重新填写（已填内容保留在草稿中）", code="version_changed")
        return target.establishment, team, campaign.version, campaign
    if establishment is None:
        raise ApplicationError("请选择要检查的单位", code="required")
    from ..selectors import establishments_for_visit

    if not establishments_for_visit(actor).filter(pk=establishment.pk).exists():
        raise NotVisible("单位")
    if version is None:
        raise ApplicationError("请选择检查表", code="required")
    if version.published_at is None or not version.template.is_active:
        raise ApplicationError("请选择已发布的检查表", code="invalid")
    if version.template.subject_type != SubjectType.ESTABLISHMENT or not version.template.applies_to_kind(
        establishment.kind.code
    ):
        raise ApplicationError(f"“{version.template}”不适用于{establishment.kind.name}", code="invalid")
    units = acting_units(actor)
    if unit is None:
        unit = units[0] if units else None
    if unit is None or unit.pk not in mine:
        raise ApplicationError("请选择您代表的单位", code="not_allowed")
    return establishment, unit, version, None


def _clean_staff(actor: Any, unit: OrgUnit, staff: Sequence[User], on: date) -> list[User]:
    from ..selectors import team_members

    members = {u.pk: u for u in team_members([unit.pk], on).get(unit.pk, [])}
    people = [actor, *[u for u in staff if u.pk != actor.pk]]
    for u in people[1:]:
        if u.pk not in members:
            raise ApplicationError(f"{_name(u)} 不是{unit}的在岗人员", code="invalid")
    return list({u.pk: u for u in people}.values())


def _problem_description(visit: Visit, answer: checklist.CleanAnswer, reporter_known: bool, staff: Sequence[User]) -> str:
    text = f"{visit.version.template.name}发现问题：{answer.item.label}。检查结果：{checklist.display(answer.item, answer.value)}"
    if answer.note:
        text += f"；情况说明：{answer.note}"
    text += "。"
    if visit.campaign_id and visit.campaign:
        text += f"（{visit.campaign.name}）"
    if not reporter_known:
        text += f"检查人员：{'、'.join(_name(u) for u in staff)}（{visit.unit}）。"
    return text


@transaction.atomic
def visit_submit(
    *,
    actor: Any,
    key: str,
    target: CampaignTarget | None = None,
    establishment: Establishment | None = None,
    version: TemplateVersion | None = None,
    unit: OrgUnit | None = None,
    answers: Mapping[str, Any],
    notes: Mapping[str, str] | None = None,
    photos: Mapping[str, Sequence[Any]] | None = None,
    staff: Sequence[User] = (),
    extra_people: int | str = 0,
    visited_at: datetime | None = None,
    latitude: Any = None,
    longitude: Any = None,
    accuracy: Any = None,
    absent: bool = False,
    helped: bool = False,
    help_note: str = "",
    note: str = "",
    max_age_days: int | None = MAX_VISIT_AGE_DAYS,
) -> Submitted:
    """Record a visit or inspection, once per `key` (a client-generated submission key: a double tap or a retry
    after a dropped connection returns the first record).

    With a campaign `target` the checklist is the campaign's version and the unit is the target's team (or the
    organising unit); without one, the establishment must be one the actor may visit and `version` one that
    applies to it. `answers` maps item codes to raw values, `photos` item codes ("" for the scene) to uploaded
    files, `notes` item codes to a remark. Failed items that name a problem category are reported to the problem
    ledger at once (routed to the responsible unit), with the answer and the item's photos as evidence.
    `absent` (未营业/无人) records the attempt without answers."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ApplicationError("请先登录", code="not_authenticated")
    key = _clean_key(key)
    found = _existing(key, actor)
    if found is not None:
        return Submitted(found, False)
    if is_read_only(actor):
        raise ApplicationError("您的岗位只能查看，不能填报走访巡查", code="read_only")

    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + timedelta(minutes=10):
        raise ApplicationError("检查时间不能晚于现在", code="invalid")
    if max_age_days is not None and visited_at < now - timedelta(days=max_age_days):
        raise ApplicationError(f"只能补录 {max_age_days} 天以内的记录；更早的记录请用台账导入", code="invalid")
    est, team, version, campaign = _subject_for(actor, target=target, establishment=establishment, unit=unit, version=version)
    people = _clean_staff(actor, team, staff, timezone.localtime(visited_at).date())
    try:
        extra = int(extra_people or 0)
    except (TypeError, ValueError):
        raise ApplicationError("其他同行人员人数无效", code="invalid") from None
    if not 0 <= extra <= MAX_EXTRA_PEOPLE:
        raise ApplicationError(f"其他同行人员人数应在 0 到 {MAX_EXTRA_PEOPLE} 之间", code="invalid")
    lat = _decimal(latitude, "纬度", -90, 90)
    lng = _decimal(longitude, "经度", -180, 180)
    try:
        acc = max(0, min(int(float(accuracy)), 100_000)) if accuracy not in (None, "") else None
    except (TypeError, ValueError):
        acc = None

    items = list(version.items.select_related("problem_category").order_by("position"))
    by_code = {i.code: i for i in items}
    photos = photos or {}
    unknown = [code for code in photos if code and code not in by_code]
    if unknown:
        raise ApplicationError("照片对应的检查项不存在", code="invalid")
    checked = {
        code: storage.check_photos(list(files), what=by_code[code].label if code else "")
        for code, files in photos.items()
        if files
    }
    if storage.total_checked(checked.values()) > storage.MAX_PER_VISIT:
        raise ApplicationError(f"每次最多上传 {storage.MAX_PER_VISIT} 张照片", code="too_many_files")
    if absent:
        clean = checklist.CleanAnswers()
    else:
        clean = checklist.clean_answers(
            items, answers, notes=notes, photo_counts={code: len(files) for code, files in checked.items()}, require=True
        )
        if clean.errors:
            raise ValidationError({code: [message] for code, message in clean.errors.items()})
    failed = clean.failed

    visit = Visit(
        key=key,
        kind=version.template.visit_kind,
        version=version,
        campaign=campaign,
        target=target,
        subject_type=SubjectType.ESTABLISHMENT,
        establishment=est,
        region_id=est.region_id,
        region_path=est.region_path,
        place=est.address[:200],
        unit=team,
        created_by=actor,
        extra_people=extra,
        staff_count=len(people) + extra,
        visited_at=visited_at,
        created_at=now,
        latitude=lat,
        longitude=lng,
        accuracy_m=acc,
        result=VisitResult.ABSENT if absent else (VisitResult.FINDINGS if failed else VisitResult.PASSED),
        failed_count=len(failed),
        helped=bool(helped),
        help_note=str(help_note or "").strip()[:500],
        note=str(note or "").strip()[:2000],
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        found = _existing(key, actor)
        if found is not None:
            return Submitted(found, False)
        raise
    VisitStaff.objects.bulk_create([VisitStaff(visit=visit, user=u) for u in people])
    rows = Answer.objects.bulk_create(
        [Answer(visit=visit, item=a.item, value=a.value, failed=a.failed, note=a.note) for a in clean.answers]
    )
    answer_by_code = {a.item.code: a for a in rows}
    for code, files in checked.items():
        for p in files:
            shot = VisitPhoto(
                visit=visit,
                answer=answer_by_code.get(code),
                name=p.name,
                content_type=p.content_type,
                size=p.size,
                sha256=p.sha256,
            )
            p.file.seek(0)
            shot.file.save(f"photo{p.ext}", p.file if isinstance(p.file, File) else File(p.file), save=False)
            shot.save()

    reporter_known = Establishment.objects.visible_to(actor).filter(pk=est.pk).exists()
    source = Source.VISIT if visit.kind == VisitKind.VISIT else Source.INSPECTION
    opened = 0
    for a in failed:
        if a.item.problem_category is None:
            continue
        files = checked.get(a.item.code) or checked.get("") or []
        problem = problem_report(
            reporter=actor if reporter_known else None,
            source=source,
            category=a.item.problem_category,
            description=_problem_description(visit, a, reporter_known, people),
            establishment=est,
            latitude=lat,
            longitude=lng,
            photos=[p.file for p in files],
            idempotency_key=f"visit:{key}:{a.item.code}"[:80],
            at=visited_at,
        )
        row = answer_by_code[a.item.code]
        row.problem = problem
        row.save(update_fields=["problem"])
        opened += 1

    rollups.visit_recorded(visit=visit, helped=visit.helped or opened > 0)
    if target is not None:
        t = CampaignTarget.objects.select_for_update().get(pk=target.pk)
        before = rollup_facts.campaign_target(t)
        t.visits_count += 1
        t.findings_count += len(failed)
        if t.covered_at is None or visited_at < t.covered_at:
            t.covered_at = visited_at
        if t.last_visit_at is None or visited_at >= t.last_visit_at:
            t.last_visit_at, t.last_result = visited_at, visit.result
        t.save(update_fields=["visits_count", "findings_count", "covered_at", "last_visit_at", "last_result"])
        rollups.targets_changed(before=[before], after=[t])
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=visit,
        detail={
            "establishment": est.pk,
            "campaign": campaign.pk if campaign else None,
            "failed": len(failed),
            "problems": opened,
        },
    )
    return Submitted(visit, True)


def bulk_record_visits(*, visits: Sequence[Visit], staff: Mapping[int, Sequence[int]], answers: Sequence[Answer]) -> None:
    """For the demo and imports of past ledgers: write visits that open no problems in bulk (the caller has built
    them from a published version), then bring the targets' counters up to date from the visits."""
    created = Visit.objects.bulk_create(list(visits), batch_size=1000)
    links = [VisitStaff(visit=v, user_id=u) for i, v in enumerate(created) for u in staff.get(i, ())]
    VisitStaff.objects.bulk_create(links, batch_size=2000)
    by_key = {v.key: v for v in created}
    for a in answers:
        a.visit = by_key[a.visit.key]
    Answer.objects.bulk_create(list(answers), batch_size=2000)
    with_problem = {a.visit.key for a in answers if a.problem_id}
    rollups.visits_recorded((v, v.helped or v.key in with_problem) for v in created)
    audit_bulk(action=Action.BULK_CREATE, actor=None, model=Visit, ids=[v.pk for v in created], detail={"source": "bulk"})
    target_ids = {v.target_id for v in created if v.target_id}
    if target_ids:
        recount_targets(CampaignTarget.objects.filter(pk__in=target_ids))


def recount_targets(targets: QuerySet[CampaignTarget]) -> int:
    """Recompute the visit counters of targets from their visits (repair, and after bulk writes): one UPDATE with
    correlated subqueries over the visit index (target, visited_at)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    fact_fields = ("pk", "campaign_id", "region_path", "active", "covered_at")
    chosen = CampaignTarget.objects.filter(pk__in=targets.values("pk"))
    before = [rollup_facts.campaign_target(r) for r in chosen.values(*fact_fields)]
    visits = Visit.objects.filter(target=OuterRef("pk")).order_by()
    per_target = visits.values("target")
    updated = chosen.update(
        visits_count=Coalesce(
            Subquery(per_target.annotate(n=Count("id")).values("n")[:1], output_field=IntegerField()), Value(0)
        ),
        findings_count=Coalesce(
            Subquery(per_target.annotate(n=Sum("failed_count")).values("n")[:1], output_field=IntegerField()), Value(0)
        ),
        covered_at=Subquery(visits.order_by("visited_at", "id").values("visited_at")[:1]),
        last_visit_at=Subquery(visits.order_by("-visited_at", "-id").values("visited_at")[:1]),
        last_result=Coalesce(Subquery(visits.order_by("-visited_at", "-id").values("result")[:1]), Value("")),
    )
    rollups.targets_changed(before=before, after=list(chosen.values(*fact_fields)))
    return updated
