"""Forms: the phone checklist (built from a version's frozen items), campaigns, template editing, filters."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.establishments.models import EstablishmentKind, Status
from taizhang.industries.models import ServiceCategory
from taizhang.problems.models import ProblemCategory
from taizhang.regions.models import Level, Region

from . import checklist
from .models import (
    Campaign,
    ChecklistItem,
    FailOp,
    ItemType,
    ShareRule,
    SubjectType,
    TemplateVersion,
    VisitKind,
    VisitResult,
)
from .scoping import acting_units
from .services import TEAM_UNIT_KINDS

GENERAL_PHOTOS = "photos"  # the form field of the scene photos (items use p-<code>)


def new_key() -> str:
    return uuid.uuid4().hex


# --- the checklist form (phone) -------------------------------------------------------------------


@dataclass
class ItemField:
    """One item as the phone form shows it, with what the user posted (nothing typed is lost on an error)."""

    item: ChecklistItem
    value: str = ""
    values: list[str] = field(default_factory=list)
    note: str = ""
    error: str = ""
    fails_on: list[str] = field(default_factory=list)
    rule: str = ""

    @property
    def name(self) -> str:
        return f"a-{self.item.code}"

    @property
    def photo_name(self) -> str:
        return f"p-{self.item.code}"

    @property
    def note_name(self) -> str:
        return f"n-{self.item.code}"

    @property
    def evidence_open(self) -> bool:
        return bool(self.note) or (self.value in self.fails_on) or bool(self.error)

    @property
    def choices(self) -> list[tuple[str, str]]:
        if self.item.type == ItemType.YES_NO:
            return [("yes", "是"), ("no", "否")]
        return [(o, o) for o in self.item.options]


def item_fields(items: list[ChecklistItem], data: Any = None, errors: dict[str, list[str]] | None = None) -> list[ItemField]:
    errors = errors or {}
    rows = []
    for item in items:
        row = ItemField(item, fails_on=sorted(checklist.failing_choices(item)), rule=checklist.describe_rule(item))
        if data is not None:
            if item.type == ItemType.MULTIPLE:
                row.values = data.getlist(row.name)
            else:
                row.value = str(data.get(row.name, "") or "")
            row.note = str(data.get(row.note_name, "") or "")
        row.error = "；".join(errors.get(item.code, []))
        rows.append(row)
    return rows


def raw_answers(items: list[ChecklistItem], data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    answers: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for item in items:
        name = f"a-{item.code}"
        answers[item.code] = data.getlist(name) if item.type == ItemType.MULTIPLE else data.get(name)
        notes[item.code] = data.get(f"n-{item.code}", "")
    return answers, notes


def posted_photos(items: list[ChecklistItem], request: HttpRequest) -> dict[str, list[Any]]:
    photos: dict[str, list[Any]] = {"": [f for f in request.FILES.getlist(GENERAL_PHOTOS) if f]}
    for item in items:
        files = [f for f in request.FILES.getlist(f"p-{item.code}") if f]
        if files:
            photos[item.code] = files
    return {k: v for k, v in photos.items() if v}


def parse_local_datetime(text: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def local_input(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- filters --------------------------------------------------------------------------------------


class TargetFilterForm(forms.Form):
    team = forms.TypedChoiceField(label="检查组", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label="进度",
        required=False,
        choices=[("", "全部"), ("todo", "未检查"), ("done", "已检查"), ("today", "今天已查"), ("not_today", "今天未查")],
    )
    q = forms.CharField(label="名称/地址", required=False, max_length=60)

    def __init__(self, *args: Any, teams: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field: Any = self.fields["team"]
        team_field.choices = [("", "全部"), *[(t.pk, t.name) for t in teams]]

    def selector_filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class VisitFilterForm(forms.Form):
    result = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *VisitResult.choices])
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部"), *VisitKind.choices])
    start = forms.DateField(label="从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="到", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label="单位名称", required=False, max_length=60)
    campaign = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def selector_filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class FiguresForm(forms.Form):
    start = forms.DateField(label="从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="到", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.TypedChoiceField(label="单位", required=False, coerce=int, empty_value=None)
    by = forms.ChoiceField(label="分组", required=False, choices=[("unit", "按单位"), ("day", "按日")])

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field: Any = self.fields["unit"]
        unit_field.choices = [("", "全部"), *[(u.pk, u.name) for u in units]]

    def period(self, latest: date | None) -> tuple[date, date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or latest or timezone.localdate()
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        return start, end


# --- campaigns ------------------------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(
        label="行动名称", max_length=100, widget=forms.TextInput(attrs={"placeholder": "如：学校复学疫情防控督导"})
    )
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.ModelChoiceField(label="检查表", queryset=TemplateVersion.objects.none(), empty_label=None)
    unit = forms.ModelChoiceField(label="组织单位", queryset=OrgUnit.objects.none(), empty_label=None)
    regions = forms.ModelMultipleChoiceField(
        label="范围（可多选，如文峰区和高新区）", queryset=Region.objects.none(), widget=forms.SelectMultiple(attrs={"size": 6})
    )
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    standing = forms.BooleanField(label="常态化（日常巡查，每天一遍，对象随单位状态增减）", required=False)
    kinds = forms.MultipleChoiceField(label="单位类型", required=False, widget=forms.CheckboxSelectMultiple)
    categories = forms.MultipleChoiceField(
        label="行业类别（大类含小类）", required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    statuses = forms.MultipleChoiceField(
        label="单位状态", required=False, choices=Status.choices, widget=forms.CheckboxSelectMultiple
    )
    above_size = forms.BooleanField(label="仅限上企业", required=False)
    key_target = forms.BooleanField(label="仅重点帮扶对象", required=False)
    teams = forms.ModelMultipleChoiceField(label="检查组", queryset=OrgUnit.objects.none(), widget=forms.CheckboxSelectMultiple)
    share = forms.ChoiceField(label="分配方式", choices=ShareRule.choices, initial=ShareRule.REGION, widget=forms.RadioSelect)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .selectors import published_versions

        versions = published_versions(subject_type=SubjectType.ESTABLISHMENT)
        version_field: Any = self.fields["version"]
        version_field.queryset = TemplateVersion.objects.filter(pk__in=[v.pk for v in versions]).select_related("template")
        version_field.label_from_instance = lambda v: f"{v.template.name}（第{v.number}版）"
        unit_field: Any = self.fields["unit"]
        unit_field.queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in acting_units(user)])
        region_field: Any = self.fields["regions"]
        region_field.queryset = Region.objects.visible_to(user).filter(
            level__in=[Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY]
        )
        region_field.label_from_instance = lambda r: ("　" * max(0, r.depth - 3)) + r.display_name
        self.fields["kinds"].choices = [(k.code, k.name) for k in EstablishmentKind.objects.order_by("sort", "code")]  # type: ignore[attr-defined]
        self.fields["categories"].choices = [  # type: ignore[attr-defined]
            (c.code, c.name)
            for c in ServiceCategory.objects.filter(level=ServiceCategory.Level.MAJOR, is_active=True).order_by("sort", "code")
        ]
        teams_field: Any = self.fields["teams"]
        teams_field.queryset = (
            OrgUnit.objects.filter(is_active=True, kind__in=TEAM_UNIT_KINDS)
            .exclude(kind=OrgUnit.Kind.COMMUNITY_COMMITTEE)
            .order_by("kind", "code")
        )
        if not self.is_bound:
            self.initial.setdefault("starts_on", timezone.localdate())

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "description": d["description"],
            "version": d["version"],
            "unit": d["unit"],
            "regions": list(d["regions"]),
            "starts_on": d["starts_on"],
            "ends_on": d.get("ends_on"),
            "standing": d.get("standing", False),
            "share": d["share"],
            "rule": {
                "kinds": d.get("kinds") or [],
                "categories": d.get("categories") or [],
                "statuses": d.get("statuses") or [],
                "above_size": d.get("above_size") or None,
                "key_target": d.get("key_target") or None,
            },
        }


class CampaignVersionForm(forms.Form):
    version = forms.ModelChoiceField(label="检查表版本", queryset=TemplateVersion.objects.none(), empty_label=None)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version_field: Any = self.fields["version"]
        version_field.queryset = campaign.version.template.versions.filter(published_at__isnull=False).order_by("-number")
        version_field.label_from_instance = lambda v: f"第{v.number}版（{timezone.localtime(v.published_at):%Y-%m-%d}）"
        version_field.initial = campaign.version_id


# --- template editing -----------------------------------------------------------------------------

SPLIT = re.compile(r"[\n\r、,，;；]+")


class TemplateMetaForm(forms.Form):
    code = forms.SlugField(label="编号", max_length=40, help_text="小写英文字母、数字和 -，创建后不能修改")
    name = forms.CharField(label="名称", max_length=60)
    subject_type = forms.ChoiceField(label="检查对象", choices=SubjectType.choices)
    subject_kinds = forms.MultipleChoiceField(
        label="适用单位类型（不选为全部）", required=False, widget=forms.CheckboxSelectMultiple
    )
    visit_kind = forms.ChoiceField(label="记录类型", choices=VisitKind.choices)
    description = forms.CharField(label="说明", max_length=300, required=False)
    note = forms.CharField(label="修订说明", max_length=200, required=False, help_text="如：增加“员工健康台账”检查项")

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject_kinds"].choices = [(k.code, k.name) for k in EstablishmentKind.objects.order_by("sort", "code")]  # type: ignore[attr-defined]
        if not creating:
            del self.fields["code"]


class ItemForm(forms.Form):
    code = forms.CharField(label="编号", max_length=32, required=False, widget=forms.TextInput(attrs={"size": 10}))
    label = forms.CharField(label="检查内容", max_length=200, required=False)
    type = forms.ChoiceField(label="类型", choices=ItemType.choices, initial=ItemType.YES_NO)
    required = forms.BooleanField(label="必填", required=False, initial=True)
    help_text = forms.CharField(label="填写说明", max_length=300, required=False)
    options = forms.CharField(label="选项（每行一个）", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    min_value = forms.DecimalField(label="最小值", required=False, max_digits=12, decimal_places=2)
    max_value = forms.DecimalField(label="最大值", required=False, max_digits=12, decimal_places=2)
    unit = forms.CharField(label="单位", max_length=12, required=False, widget=forms.TextInput(attrs={"size": 4}))
    fail_op = forms.ChoiceField(label="不合格条件", choices=FailOp.choices, required=False)
    fail_value = forms.CharField(
        label="不合格取值", max_length=300, required=False, help_text="是/否、数值，或选项（用顿号分隔）"
    )
    problem_category = forms.ChoiceField(label="不合格时上报", required=False)
    DELETE = forms.BooleanField(label="删除", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["problem_category"].choices = [  # type: ignore[attr-defined]
            ("", "不上报（只记为发现问题）"),
            *[(c.code, c.name) for c in ProblemCategory.objects.filter(is_active=True).order_by("sort", "code")],
        ]

    def definition(self) -> dict[str, Any] | None:
        """The item definition for the service, or None for an empty or deleted row."""
        d = self.cleaned_data
        if d.get("DELETE") or not (d.get("code") or d.get("label")):
            return None
        kind = d.get("type")
        raw = (d.get("fail_value") or "").strip()
        value: Any = raw
        if kind in (ItemType.SINGLE, ItemType.MULTIPLE):
            value = [v.strip() for v in SPLIT.split(raw) if v.strip()]
        return {
            "code": d.get("code"),
            "label": d.get("label"),
            "type": kind,
            "required": d.get("required", False),
            "help_text": d.get("help_text", ""),
            "options": [o.strip() for o in (d.get("options") or "").splitlines() if o.strip()],
            "min_value": d.get("min_value"),
            "max_value": d.get("max_value"),
            "unit": d.get("unit", ""),
            "fail_op": d.get("fail_op", ""),
            "fail_value": value,
            "problem_category": d.get("problem_category") or None,
        }


ItemFormSet = forms.formset_factory(ItemForm, extra=2, can_delete=False, max_num=60, absolute_max=60)


def item_initial(definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for d in definitions:
        ref = d.get("fail_value")
        if isinstance(ref, bool):
            shown = "是" if ref else "否"
        elif isinstance(ref, list):
            shown = "、".join(str(r) for r in ref)
        else:
            shown = "" if ref is None else str(ref)
        rows.append(
            {
                **d,
                "options": "\n".join(d.get("options") or []),
                "fail_value": shown,
                "problem_category": d.get("problem_category") or "",
            }
        )
    return rows
