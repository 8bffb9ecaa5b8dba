from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment
from taizhang.regions.models import Level, Region

from .attachments import ACCEPT
from .models import ProblemCategory, Severity, Source, State
from .selectors import AGES, STATE_GROUPS, categories, regions_for_filter

PHOTO_HELP = "可拍照或选择照片（JPEG/PNG/HEIC）、PDF，最多9个，每个不超过10MB"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files under one name. Templates render two inputs with that name (problems/_photo_inputs.html):
    the phone camera (accept="image/*" capture="environment") and a multiple choice from the album or disk.
    The content is checked by the service (problems.attachments), not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", PHOTO_HELP)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ProblemFilterForm(forms.Form):
    region = forms.ModelChoiceField(label="区域", queryset=Region.objects.none(), required=False, empty_label="全部")
    category = forms.ModelChoiceField(label="类别", queryset=ProblemCategory.objects.none(), required=False, empty_label="全部")
    state = forms.ChoiceField(label="状态", required=False)
    age = forms.ChoiceField(label="时长", required=False, choices=[("", "不限"), *AGES.items()])
    source = forms.ChoiceField(label="来源", required=False, choices=[("", "全部"), *Source.choices])
    q = forms.CharField(
        label="编号/内容/单位",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": "如：WF-20200319-0042"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: Any = self.fields["region"]
        region_field.queryset = regions_for_filter(user=user)
        region_field.label_from_instance = lambda r: ("　" * max(0, r.depth - 3)) + r.display_name
        category_field: Any = self.fields["category"]
        category_field.queryset = categories()
        state_field: Any = self.fields["state"]
        state_field.choices = [("", "全部"), *STATE_GROUPS.items(), *State.choices]


class ProblemReportForm(forms.Form):
    category = forms.ModelChoiceField(label="问题类别", queryset=ProblemCategory.objects.none(), empty_label="请选择")
    establishment = forms.ModelChoiceField(
        label="涉及单位", queryset=Establishment.objects.none(), required=False, widget=forms.HiddenInput
    )
    region = forms.ModelChoiceField(
        label="所在区域", queryset=Region.objects.none(), required=False, empty_label="请选择（未涉及具体单位时）"
    )
    source = forms.ChoiceField(label="发现途径", choices=Source.choices, initial=Source.VISIT)
    severity = forms.ChoiceField(label="严重程度", choices=Severity.choices, initial=Severity.NORMAL)
    description = forms.CharField(
        label="问题描述",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "写清现场情况、涉及人数、企业诉求"}),
    )
    address = forms.CharField(label="地点", max_length=200, required=False)
    latitude = forms.DecimalField(label="纬度", max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(label="经度", max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput)
    photos = PhotosField(label="现场照片")
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        self.enterprise_only = scope.roles == frozenset({"enterprise"})
        category_field: Any = self.fields["category"]
        category_field.queryset = categories()
        est_field: Any = self.fields["establishment"]
        est_field.queryset = Establishment.objects.visible_to(user)
        region_field: Any = self.fields["region"]
        region_field.queryset = (
            Region.objects.visible_to(user).filter(level__in=[Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID]).order_by("path")
        )
        region_field.label_from_instance = lambda r: ("　" * max(0, r.depth - 4)) + r.display_name
        source_field: Any = self.fields["source"]
        if self.enterprise_only:
            source_field.choices = [(Source.SELF_REPORT, Source.SELF_REPORT.label)]
            self.fields["source"].initial = Source.SELF_REPORT
            del self.fields["region"]
        else:
            allowed = [Source.VISIT, Source.INSPECTION] + ([Source.HOTLINE] if "hotline" in scope.roles else [])
            source_field.choices = [(s.value, s.label) for s in allowed]
            if "hotline" in scope.roles:
                self.fields["source"].initial = Source.HOTLINE

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("establishment") and not data.get("region"):
            raise forms.ValidationError("请选择涉及的单位，或问题所在的区域")
        return data


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    note = forms.CharField(label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    photos = PhotosField(label="照片")


class CommentForm(forms.Form):
    note = forms.CharField(
        label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "进展、现场情况……"})
    )
    photos = PhotosField(label="照片")


class ReassignForm(forms.Form):
    unit = forms.ModelChoiceField(label="改派给", queryset=OrgUnit.objects.none(), empty_label="选择承办单位")
    reason = forms.CharField(label="改派理由", max_length=2000, widget=forms.TextInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field: Any = self.fields["unit"]
        unit_field.queryset = OrgUnit.objects.filter(
            is_active=True,
            kind__in=[
                OrgUnit.Kind.DEPARTMENT,
                OrgUnit.Kind.SUBDISTRICT_OFFICE,
                OrgUnit.Kind.COMMUNITY_COMMITTEE,
                OrgUnit.Kind.COMMAND,
            ],
        ).order_by("kind", "code")


class TaskForm(forms.Form):
    unit = forms.ModelChoiceField(label="协调单位", queryset=OrgUnit.objects.none(), empty_label="选择单位")
    text = forms.CharField(label="协调事项", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    due = forms.DateField(
        label="答复期限",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="不填则按问题类别时限（工作日）",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field: Any = self.fields["unit"]
        unit_field.queryset = OrgUnit.objects.filter(
            is_active=True, kind__in=[OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.SUBDISTRICT_OFFICE, OrgUnit.Kind.COMMUNITY_COMMITTEE]
        ).order_by("kind", "code")


class TaskReplyForm(forms.Form):
    reply = forms.CharField(label="答复", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    photos = PhotosField(label="照片")


class RectificationRequireForm(forms.Form):
    due = forms.DateField(label="整改期限", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="整改要求", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_due(self) -> Any:
        due = self.cleaned_data["due"]
        if due < timezone.localdate():
            raise forms.ValidationError("整改期限不能早于今天")
        return due


class RectificationReportForm(forms.Form):
    note = forms.CharField(label="整改情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = PhotosField(label="整改照片")


class RectificationVerifyForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label="核验结论",
        choices=[("1", "整改到位"), ("0", "整改不到位，退回重改")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="核验意见", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due = forms.DateField(
        label="新的整改期限", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="退回重改时填写"
    )


class MergeForm(forms.Form):
    into = forms.CharField(
        label="与之重复的问题编号", max_length=24, widget=forms.TextInput(attrs={"placeholder": "WF-20200319-0042"})
    )
    note = forms.CharField(label="说明", max_length=2000, required=False)


class CalendarOverrideForm(forms.Form):
    day = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label="安排", choices=[("1", "上班（调休）"), ("0", "放假")], coerce=lambda v: v == "1"
    )
    note = forms.CharField(
        label="说明", max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": "如：春节调休上班"})
    )
