"""Checklist templates: versions, drafts, publishing (see docs/adr/0009)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import EstablishmentKind
from taizhang.problems.models import ProblemCategory

from .. import checklist
from ..models import (
    ChecklistItem,
    ChecklistTemplate,
    SubjectType,
    TemplateVersion,
    VisitKind,
)
from ..scoping import EDITOR_ROLES

# --- checklists -----------------------------------------------------------------------------------


def _require_editor(actor: Any) -> None:
    if not scope_of(actor).has_role(*EDITOR_ROLES):
        raise ApplicationError("只有职能部门工作人员或系统管理员可以编辑检查表", code="not_allowed")


def _clean_items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise ApplicationError("检查表至少要有一个检查项", code="required")
    cleaned = []
    errors: dict[str, list[str]] = {}
    for i, d in enumerate(items, start=1):
        try:
            cleaned.append(checklist.check_definition(d))
        except ValueError as exc:
            errors.setdefault(f"items[{i}]", []).append(str(exc))
    codes = Counter(d["code"] for d in cleaned)
    for code, n in codes.items():
        if n > 1:
            errors.setdefault("items", []).append(f"检查项编号“{code}”重复")
    category_codes = {d["problem_category"] for d in cleaned if d["problem_category"]}
    known = {c.code: c for c in ProblemCategory.objects.filter(code__in=category_codes, is_active=True)}
    for d in cleaned:
        if d["problem_category"] and d["problem_category"] not in known:
            errors.setdefault("items", []).append(f"问题类别“{d['problem_category']}”不存在或已停用")
        d["problem_category"] = known.get(d["problem_category"]) if d["problem_category"] else None
    if errors:
        raise ValidationError(errors)
    return cleaned


def _write_items(version: TemplateVersion, items: list[dict[str, Any]]) -> None:
    version.items.all().delete()
    ChecklistItem.objects.bulk_create([ChecklistItem(version=version, position=i, **d) for i, d in enumerate(items, start=1)])


def _clean_template_meta(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = str(data["name"] or "").strip()
        if not out["name"]:
            raise ApplicationError("请填写检查表名称", code="required")
    if "subject_type" in data:
        if data["subject_type"] not in SubjectType.values:
            raise ApplicationError("检查对象类型无效", code="invalid")
        out["subject_type"] = data["subject_type"]
    if "subject_kinds" in data:
        kinds = [str(k) for k in (data["subject_kinds"] or [])]
        unknown = set(kinds) - set(EstablishmentKind.objects.filter(code__in=kinds).values_list("code", flat=True))
        if unknown:
            raise ApplicationError(f"单位类型不存在：{'、'.join(sorted(unknown))}", code="invalid")
        out["subject_kinds"] = kinds
    if "visit_kind" in data:
        if data["visit_kind"] not in VisitKind.values:
            raise ApplicationError("记录类型无效", code="invalid")
        out["visit_kind"] = data["visit_kind"]
    for name, limit in (("description", 300),):
        if name in data:
            out[name] = str(data[name] or "").strip()[:limit]
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


@transaction.atomic
def template_create(
    *, actor: Any, code: str, data: Mapping[str, Any], items: Sequence[Mapping[str, Any]], publish: bool = True, note: str = ""
) -> TemplateVersion:
    """A new checklist with its first version (published at once unless `publish` is False)."""
    _require_editor(actor)
    code = (code or "").strip()
    if not re.fullmatch(r"[a-z0-9-]{2,40}", code):
        raise ApplicationError("检查表编号只能用小写英文字母、数字和 -，2 至 40 个字符", code="invalid")
    if ChecklistTemplate.objects.filter(code=code).exists():
        raise ApplicationError(f"检查表编号“{code}”已存在", code="duplicate")
    meta = _clean_template_meta({"name": "", **data})
    cleaned = _clean_items(items)
    template = ChecklistTemplate.objects.create(code=code, created_by=actor, **meta)
    version = TemplateVersion.objects.create(template=template, number=1, note=note.strip()[:200] or "新建", created_by=actor)
    _write_items(version, cleaned)
    audit_record(action=Action.CREATE, actor=actor, target=template, detail={"version": 1, "items": len(cleaned)})
    if publish:
        version = template_publish(actor=actor, version=version)
    return version


@transaction.atomic
def template_save_draft(
    *,
    actor: Any,
    template: ChecklistTemplate,
    items: Sequence[Mapping[str, Any]],
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> TemplateVersion:
    """编辑: write the items into the template's draft (created as the next version number if there is none).
    Published versions are never touched: records filled in them keep their items."""
    _require_editor(actor)
    locked = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    cleaned = _clean_items(items)
    meta = _clean_template_meta(data or {})
    if meta:
        for k, v in meta.items():
            setattr(locked, k, v)
        locked.save(update_fields=[*meta, "updated_at"])
    draft = locked.versions.filter(published_at__isnull=True).first()
    if draft is None:
        last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
        draft = TemplateVersion.objects.create(template=locked, number=last + 1, note=note.strip()[:200], created_by=actor)
    else:
        draft.note = note.strip()[:200] or draft.note
        draft.created_by = actor
        draft.save(update_fields=["note", "created_by"])
    _write_items(draft, cleaned)
    audit_record(action=Action.UPDATE, actor=actor, target=locked, detail={"draft": draft.number, "items": len(cleaned), **meta})
    return draft


@transaction.atomic
def template_publish(*, actor: Any, version: TemplateVersion) -> TemplateVersion:
    """发布: freeze a draft. New visits and campaigns use it; existing records keep theirs."""
    _require_editor(actor)
    v = TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)
    if v.published_at is not None:
        raise ApplicationError(f"第{v.number}版已发布", code="invalid_state")
    if not v.items.exists():
        raise ApplicationError("检查表至少要有一个检查项", code="required")
    v.published_at = timezone.now()
    v.published_by = actor if getattr(actor, "is_authenticated", False) else None
    v.save(update_fields=["published_at", "published_by"])
    audit_record(action=Action.UPDATE, actor=actor, target=v.template, detail={"published": v.number})
    return v


def template_revise(
    *,
    actor: Any,
    template: ChecklistTemplate,
    items: Sequence[Mapping[str, Any]],
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> TemplateVersion:
    """Edit and publish in one step: the next version."""
    with transaction.atomic():
        draft = template_save_draft(actor=actor, template=template, items=items, note=note, data=data)
        return template_publish(actor=actor, version=draft)


@transaction.atomic
def template_discard_draft(*, actor: Any, template: ChecklistTemplate) -> None:
    _require_editor(actor)
    draft = template.versions.filter(published_at__isnull=True).first()
    if draft is None:
        return
    draft.items.all().delete()
    draft.delete()
    audit_record(action=Action.UPDATE, actor=actor, target=template, detail={"discarded_draft": draft.number})
