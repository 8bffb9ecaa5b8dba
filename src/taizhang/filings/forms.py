"""Forms of the filing pages. The filing form is built from the template's items (configuration)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from . import checklist
from .models import Decision, FilingItem
from .storage import ACCEPT


def date_widget() -> forms.DateInput:
    """<input type="date"> needs ISO dates whatever the locale's display format."""
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _form_field(f: checklist.Field) -> forms.Field:
    common: dict[str, Any] = {"label": f.label, "required": False, "help_text": f.help}
    if f.type == "int":
        return forms.IntegerField(
            min_value=0, max_value=checklist.MAX_NUMBER, widget=forms.NumberInput(attrs={"inputmode": "numeric"}), **common
        )
    if f.type == "bool":
        return forms.BooleanField(**common)
    if f.type == "date":
        return forms.DateField(widget=date_widget(), **common)
    if f.type == "textarea":
        return forms.CharField(max_length=checklist.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(max_length=200, **common)


class FilingForm(forms.Form):
    """The working copy: planned date and every item's fields, named "<item>-<field>". Nothing is required
    here (a draft may be incomplete); submit checks completeness."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    planned_date = forms.DateField(label="计划复工日期", required=False, widget=date_widget())

    def __init__(self, *args: Any, items: Sequence[FilingItem], answers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        answers = answers or {}
        for item in self.items:
            value = answers.get(item.code) or {}
            for f in checklist.fields_of(item):
                name = f"{item.code}-{f.name}"
                self.fields[name] = _form_field(f)
                if f.name in value:
                    self.initial.setdefault(name, value[f.name])

    def groups(self) -> list[tuple[FilingItem, list[forms.BoundField]]]:
        return [(item, [self[f"{item.code}-{f.name}"] for f in checklist.fields_of(item)]) for item in self.items]

    def answers(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for item in self.items:
            out[item.code] = {f.name: self.cleaned_data.get(f"{item.code}-{f.name}") for f in checklist.fields_of(item)}
        return out


class ReviewForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label="审核意见（可选）", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, items: Sequence[FilingItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"{item.code}-decision"] = forms.ChoiceField(
                label=item.label,
                choices=Decision.choices,
                widget=forms.RadioSelect,
                required=True,
                error_messages={"required": f"请选择“{item.label}”通过或退回"},
            )
            self.fields[f"{item.code}-comment"] = forms.CharField(
                label="意见",
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": "退回时写明需要修改的内容"}),
            )

    def rulings(self) -> dict[str, tuple[str, str]]:
        return {
            i.code: (self.cleaned_data[f"{i.code}-decision"], self.cleaned_data.get(f"{i.code}-comment") or "")
            for i in self.items
        }


class AttachmentForm(forms.Form):
    item = forms.CharField(widget=forms.HiddenInput)
    file = forms.FileField(
        label="选择文件",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "请选择要上传的文件"},
    )


class RegisterForm(forms.Form):
    credit_code = forms.CharField(label="统一社会信用代码", max_length=24)
    mobile = forms.CharField(
        label="单位登记的联系电话", max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    display_name = forms.CharField(label="联系人姓名", max_length=60)
    password = forms.CharField(
        label="设置密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少12位，含大写字母、小写字母、数字、符号中的三类",
    )
    password2 = forms.CharField(label="再次输入密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致")
        return data


class AccountCreateForm(forms.Form):
    display_name = forms.CharField(label="联系人姓名", max_length=60, required=False, help_text="留空则使用单位登记的联系人")
    username = forms.CharField(label="用户名", max_length=150, required=False, help_text="留空则使用统一社会信用代码")
