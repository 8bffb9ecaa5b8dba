"""Writing responsibility assignments. Each link has one holder at a time: assigning a new holder ends the
previous one the day before, so "who was responsible on D" always has one answer and history is kept."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, User
from taizhang.audit.services import Action, audit_bulk, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level, Region, RoadSection

from .models import Assignment, Kind
from .selectors import subject_type_of


def _end_current(qs: Any, start: date, actor: Any) -> None:
    for old in qs.active(start).select_for_update():
        if old.valid_from >= start:
            raise ApplicationError(f"{old} 自 {old.valid_from:%Y-%m-%d} 起生效，不能在同一天或更早再次分配")
        old.valid_to = start - timedelta(days=1)
        old.save(update_fields=["valid_to", "updated_at"])
        audit_record(action=Action.UPDATE, actor=actor, target=old, detail={"valid_to": old.valid_to})


def _create(actor: Any, **fields: Any) -> Assignment:
    a = Assignment(**fields)
    a.full_clean()
    a.save()
    audit_record(action=Action.CREATE, actor=actor, target=a)
    return a


@transaction.atomic
def assign_department_subdistrict(
    *, department: OrgUnit, subdistrict: Region, valid_from: date | None = None, actor: Any = None
) -> Assignment:
    if department.kind != OrgUnit.Kind.DEPARTMENT:
        raise ApplicationError("包镇办的责任单位必须是区直职能部门")
    if subdistrict.level != Level.SUBDISTRICT:
        raise ApplicationError("区直部门包联的对象必须是街道或镇")
    start = valid_from or timezone.localdate()
    _end_current(Assignment.objects.filter(kind=Kind.DEPARTMENT_SUBDISTRICT, region=subdistrict), start, actor)
    return _create(actor, kind=Kind.DEPARTMENT_SUBDISTRICT, unit=department, region=subdistrict, valid_from=start)


@transaction.atomic
def assign_road_section(
    *, user: User, unit: OrgUnit, road_section: RoadSection, valid_from: date | None = None, actor: Any = None
) -> Assignment:
    if unit.kind != OrgUnit.Kind.SUBDISTRICT_OFFICE or unit.region_id != road_section.subdistrict_id:
        raise ApplicationError("路段只能由所在街道/镇办的人员包联")
    start = valid_from or timezone.localdate()
    _end_current(Assignment.objects.filter(kind=Kind.STAFF_ROAD, road_section=road_section), start, actor)
    return _create(actor, kind=Kind.STAFF_ROAD, unit=unit, user=user, road_section=road_section, valid_from=start)


@transaction.atomic
def assign_subject(*, user: User, unit: OrgUnit, subject: Any, valid_from: date | None = None, actor: Any = None) -> Assignment:
    """社区人员包企业: the staff member who covers one establishment (or another subject)."""
    if not subject.region.is_within(unit.region):
        raise ApplicationError(f"“{subject}”不在“{unit}”的辖区内，不能由其人员包联")
    start = valid_from or timezone.localdate()
    stype = subject_type_of(subject)
    _end_current(Assignment.objects.filter(kind=Kind.STAFF_SUBJECT, subject_type=stype, subject_id=subject.pk), start, actor)
    return _create(
        actor, kind=Kind.STAFF_SUBJECT, unit=unit, user=user, subject_type=stype, subject_id=subject.pk, valid_from=start
    )


@transaction.atomic
def assign_category(
    *, category: ServiceCategory, department: OrgUnit, valid_from: date | None = None, actor: Any = None
) -> Assignment:
    if department.kind not in (OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.SUBDISTRICT_OFFICE):
        raise ApplicationError("行业类别只能分配给职能部门或镇办")
    start = valid_from or timezone.localdate()
    _end_current(Assignment.objects.filter(kind=Kind.CATEGORY_DEPARTMENT, category=category), start, actor)
    return _create(actor, kind=Kind.CATEGORY_DEPARTMENT, unit=department, category=category, valid_from=start)


@transaction.atomic
def assignment_end(*, assignment: Assignment, on: date | None = None, actor: Any = None) -> Assignment:
    on = on or timezone.localdate()
    if assignment.valid_to is not None and assignment.valid_to <= on:
        return assignment
    assignment.valid_to = max(on, assignment.valid_from)
    assignment.save(update_fields=["valid_to", "updated_at"])
    audit_record(action=Action.UPDATE, actor=actor, target=assignment, detail={"valid_to": assignment.valid_to})
    return assignment


@transaction.atomic
def reassign_all(*, from_user: User, to_user: User, on: date | None = None, actor: Any = None) -> int:
    """Hand everything a departing staff member holds to a successor, from `on` (one call, one transaction).

    Each active assignment of `from_user` ends the day before `on` and an identical one starts for
    `to_user` on `on`. Returns how many assignments were handed over.
    """
    if from_user.pk == to_user.pk:
        raise ApplicationError("交接双方不能是同一人")
    if not to_user.is_active:
        raise ApplicationError("接手人员账户已停用")
    start = on or timezone.localdate()
    current = list(Assignment.objects.active(start).filter(user=from_user).select_for_update())
    if any(a.valid_from >= start for a in current):
        raise ApplicationError("有包联责任自交接日起才生效，请选择更晚的交接日期")
    new: list[Assignment] = []
    for a in current:
        a.valid_to = start - timedelta(days=1)
        new.append(
            Assignment(
                kind=a.kind,
                unit=a.unit,
                user=to_user,
                region=a.region,
                road_section=a.road_section,
                category=a.category,
                subject_type=a.subject_type,
                subject_id=a.subject_id,
                valid_from=start,
                note=f"由 {from_user} 交接",
            )
        )
    Assignment.objects.bulk_update(current, ["valid_to"], batch_size=500)
    created = Assignment.objects.bulk_create(new, batch_size=500)
    audit_bulk(
        action=Action.BULK_UPDATE,
        actor=actor,
        model=Assignment,
        ids=[a.pk for a in current],
        detail={"ended_for": from_user.username},
    )
    audit_bulk(
        action=Action.BULK_CREATE,
        actor=actor,
        model=Assignment,
        ids=[a.pk for a in created],
        detail={"handed_to": to_user.username},
    )
    return len(created)


def bulk_assign_subjects(*, rows: list[tuple[User, OrgUnit, Any]], valid_from: date, actor: Any = None) -> int:
    """Assign many subjects that have no current holder (demo and imports). Audited as one bulk event."""
    if not rows:
        return 0
    stype = subject_type_of(rows[0][2])
    taken = set(
        Assignment.objects.active(valid_from)
        .filter(kind=Kind.STAFF_SUBJECT, subject_type=stype, subject_id__in=[s.pk for _, _, s in rows])
        .values_list("subject_id", flat=True)
    )
    if taken:
        raise ApplicationError(f"{len(taken)} 个对象已有包联人员，请逐个调整")
    objs = [
        Assignment(kind=Kind.STAFF_SUBJECT, user=u, unit=unit, subject_type=stype, subject_id=s.pk, valid_from=valid_from)
        for u, unit, s in rows
    ]
    with transaction.atomic():
        created = Assignment.objects.bulk_create(objs, batch_size=2000)
        audit_bulk(action=Action.BULK_CREATE, actor=actor, model=Assignment, ids=[a.pk for a in created])
    return len(created)
