"""Writes to the registry. Pages, API, imports and the demo all come through here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from taizhang.audit.services import Action, audit_change, audit_record
from taizhang.core.errors import ApplicationError, ConflictError
from taizhang.regions.models import Level
from taizhang.rollups import facts as rollup_facts
from taizhang.rollups import services as rollups

from .models import TRANSITIONS, Establishment, EstablishmentEvent, Status
from .validators import normalize_mobile, validate_credit_code

# The fields an establishment's rollup facts are computed from (taizhang.rollups.facts.establishment).
ROLLUP_FIELDS = ("pk", "region_path", "category_id", "status", "above_size", "resumed_on")
EDITABLE_FIELDS = [
    "credit_code",
    "name",
    "kind",
    "category",
    "industry",
    "region",
    "road_section",
    "address",
    "latitude",
    "longitude",
    "legal_representative",
    "contact_name",
    "contact_mobile",
    "employees",
    "above_size",
    "key_target",
]


def name_initials(name: str) -> str:
    """光华路超市 → ghlcs (letters and digits of the name kept as they are)."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()


def clean_data(data: dict[str, Any], current: Establishment | None = None) -> dict[str, Any]:
    """Normalise and validate `data` (all of a new record, or the changed fields of `current`);
    raise ValidationError with field-keyed Chinese messages."""
    errors: dict[str, list[str]] = {}
    out = dict(data)
    if out.get("credit_code"):
        try:
            out["credit_code"] = validate_credit_code(out["credit_code"])
        except ValidationError as exc:
            errors["credit_code"] = exc.messages
    elif "credit_code" in out or current is None:
        out["credit_code"] = None
    if out.get("contact_mobile"):
        try:
            out["contact_mobile"] = normalize_mobile(out["contact_mobile"])
        except ValidationError as exc:
            errors["contact_mobile"] = exc.messages
    if "name" in out:
        out["name"] = " ".join(str(out["name"] or "").split())
        if not out["name"]:
            errors["name"] = ["名称不能为空"]
    region = out["region"] if "region" in out else getattr(current, "region", None)
    if "region" in out and region is not None and region.level not in (Level.COMMUNITY, Level.GRID, Level.COMPOUND, Level.UNIT):
        errors["region"] = ["所在区划须为社区/村或网格"]
    road = out["road_section"] if "road_section" in out else getattr(current, "road_section", None)
    if road is not None and region is not None and not region.path.startswith(road.subdistrict.path):
        errors["road_section"] = ["路段不在该单位所在的街道/镇"]
    if errors:
        raise ValidationError(errors)
    return out


def _check_duplicates(data: dict[str, Any], exclude_pk: int | None = None) -> None:
    qs = Establishment.objects.exclude(pk=exclude_pk) if exclude_pk else Establishment.objects.all()
    if data.get("credit_code"):
        other = qs.filter(credit_code=data["credit_code"]).only("pk", "name").first()
        if other is not None:
            raise ApplicationError(
                f"统一社会信用代码 {data['credit_code']} 已登记为“{other.name}”，请勿重复登记",
                code="duplicate",
                extra={"id": other.pk},
            )
    elif data.get("name") and data.get("region") is not None:
        other = qs.filter(name=data["name"], region=data["region"], address=data.get("address", "")).only("pk").first()
        if other is not None:
            raise ApplicationError(
                f"同一社区已有同名同地址的“{data['name']}”，请勿重复登记", code="duplicate", extra={"id": other.pk}
            )


def _event(
    establishment: Establishment, kind: str, actor: Any, *, at: Any = None, note: str = "", **extra: Any
) -> EstablishmentEvent:
    return EstablishmentEvent.objects.create(
        establishment=establishment,
        at=at or timezone.now(),
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note,
        **extra,
    )


@transaction.atomic
def establishment_create(*, actor: Any, data: dict[str, Any], status: str = Status.NOT_RESUMED) -> Establishment:
    data = clean_data(data)
    _check_duplicates(data)
    est = Establishment(**{k: v for k, v in data.items() if k in EDITABLE_FIELDS}, status=status)
    est.name_initials = name_initials(est.name)
    est.region_path = est.region.path
    est.status_since = timezone.localdate()
    est.created_by = actor if getattr(actor, "is_authenticated", False) else None
    est.full_clean(exclude=["contact_mobile_bidx", "region_path", "name_initials"])
    est.save()
    rollups.establishment_changed(before=None, after=est)
    _event(est, EstablishmentEvent.Kind.CREATED, actor, to_status=status)
    audit_record(action=Action.CREATE, actor=actor, target=est)
    return est


@transaction.atomic
def establishment_update(
    *, establishment: Establishment, actor: Any, data: dict[str, Any], expected_version: int
) -> Establishment:
    """Update with optimistic locking: if someone saved since `expected_version`, nothing is written."""
    data = clean_data({k: v for k, v in data.items() if k in EDITABLE_FIELDS}, current=establishment)
    _check_duplicates(
        {**{f: getattr(establishment, f) for f in ("credit_code", "name", "region", "address")}, **data},
        exclude_pk=establishment.pk,
    )
    changes = {k: (getattr(establishment, k), v) for k, v in data.items() if getattr(establishment, k) != v}
    if not changes:
        return establishment
    updated = Establishment.objects.filter(pk=establishment.pk, version=expected_version).update(version=F("version") + 1)
    if not updated:
        raise ConflictError("该单位已被他人修改，请刷新后重新填写（您填写的内容已保留）", extra={"id": establishment.pk})
    # The row as it is now (locked by the UPDATE above): what it counted in the rollups before this change.
    before = rollup_facts.establishment(Establishment.objects.filter(pk=establishment.pk).values(*ROLLUP_FIELDS).get())
    for k, (_old, new) in changes.items():
        setattr(establishment, k, new)
    establishment.name_initials = name_initials(establishment.name)
    establishment.region_path = establishment.region.path
    establishment.version = expected_version + 1
    establishment.full_clean(exclude=["contact_mobile_bidx", "region_path", "name_initials"])
    establishment.save()
    rollups.establishment_changed(before=before, after=establishment)
    sensitive = set(Establishment.SENSITIVE_FIELDS)
    _event(
        establishment,
        EstablishmentEvent.Kind.UPDATED,
        actor,
        data={"fields": sorted(changes)},
        note="、".join(str(getattr(Establishment._meta.get_field(k), "verbose_name", k)) for k in sorted(changes)),
    )
    audit_change(actor=actor, target=establishment, changes=changes, sensitive=sensitive)
    return establishment


@transaction.atomic
def establishment_transition(
    *, establishment: Establishment, to: str, actor: Any, on: date | None = None, note: str = "", at: Any = None
) -> Establishment:
    """Move along the status lifecycle (TRANSITIONS); every change is an event."""
    if to not in Status.values:
        raise ApplicationError(f"未知状态：{to}", code="invalid_transition")
    current = Establishment.objects.select_for_update().get(pk=establishment.pk)
    if to == current.status:
        return current
    if to not in TRANSITIONS[current.status]:
        raise ApplicationError(f"不能从“{Status(current.status).label}”变为“{Status(to).label}”", code="invalid_transition")
    on = on or timezone.localdate()
    before_status = current.status
    fields = {"status": to, "status_since": on, "version": current.version + 1}
    if to == Status.RESUMED:
        fields["resumed_on"] = on
    Establishment.objects.filter(pk=current.pk).update(**fields)
    before = rollup_facts.establishment(current)
    for k, v in fields.items():
        setattr(current, k, v)
    rollups.establishment_changed(before=before, after=current)
    _event(current, EstablishmentEvent.Kind.STATUS, actor, at=at, from_status=before_status, to_status=to, note=note)
    audit_record(action=Action.UPDATE, actor=actor, target=current, detail={"status": [before_status, to]})
    for k, v in fields.items():
        setattr(establishment, k, v)
    return establishment
