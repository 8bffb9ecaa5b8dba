from __future__ import annotations

import re
from typing import Any

from django import forms

from taizhang.regions.models import Level, Region

from .models import SYSTEM_FIGURES, CommunityReport, ReportTemplate

ITEM_LINE = re.compile(r"^\s*([a-z][a-z0-9_]{0,31})\s+(\S.{0,29})\s*$")


class CommunityReportForm(forms.Form):
    zero = forms.BooleanField(label="零报告（今日没有需要报告的情况）", required=False)
    note = forms.CharField(label="备注", required=False, max_length=300, widget=forms.TextInput(attrs={"placeholder": "可不填"}))

    def __init__(self, data: Any, *, template: ReportTemplate, instance: CommunityReport | None = None) -> None:
        initial: dict[str, Any] = {}
        if instance is not None:
            initial = {
                "zero": instance.is_zero,
                "note": instance.note,
                **{f"item_{k}": v for k, v in (instance.values or {}).items()},
            }
        super().__init__(data, initial=initial)
        self.codes = []
        for code, label in template.item_columns():
            self.fields[f"item_{code}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                max_value=1_000_000,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.codes.append(code)

    def item_fields(self) -> list[Any]:
        return [self[f"item_{c}"] for c in self.codes]

    def item_values(self) -> dict[str, Any]:
        return {c: self.cleaned_data.get(f"item_{c}") for c in self.codes}


class ReportTemplateForm(forms.ModelForm):
    figures = forms.MultipleChoiceField(
        label="系统统计项", choices=list(SYSTEM_FIGURES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    items_text = forms.CharField(
        label="社区填报项",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一项：英文编号 空格 名称，如 returnees 新增返乡人员。编号保存后不要再改（历史日报按编号对应）。",
    )

    class Meta:
        model = ReportTemplate
        fields = ["name", "region", "cutoff", "figures", "scheduled", "is_active"]
        widgets = {"cutoff": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region: Any = self.fields["region"]
        region.queryset = Region.objects.filter(level__in=[Level.CITY, Level.DISTRICT, Level.SUBDISTRICT]).order_by("path")
        if self.instance.pk:
            self.fields["items_text"].initial = "\n".join(f"{c} {label}" for c, label in self.instance.item_columns())
            self.fields["figures"].initial = list(self.instance.figures)

    def clean_items_text(self) -> list[dict[str, str]]:
        items: list[dict[str, str]] = []
        for n, line in enumerate(str(self.cleaned_data.get("items_text") or "").splitlines(), start=1):
            if not line.strip():
                continue
            m = ITEM_LINE.match(line)
            if m is None:
                raise forms.ValidationError(f"第{n}行格式不对：应为“英文编号 名称”，如 returnees 新增返乡人员")
            if any(i["code"] == m.group(1) for i in items):
                raise forms.ValidationError(f"编号 {m.group(1)} 重复")
            items.append({"code": m.group(1), "label": m.group(2).strip()})
        return items

    def save(self, commit: bool = True) -> ReportTemplate:
        template = super().save(commit=False)
        template.items = self.cleaned_data["items_text"]
        template.figures = [c for c in SYSTEM_FIGURES if c in self.cleaned_data.get("figures", [])]
        if commit:
            template.save()
        return template
