from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm

from taizhang.core.roles import Role
from taizhang.regions.models import Region

from .models import OrgUnit, User


class LoginForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OtpForm(forms.Form):
    token = forms.RegexField(
        label="动态口令",
        regex=r"^\d{6}$",
        error_messages={"invalid": "请输入6位数字动态口令"},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "maxlength": 6}
        ),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    display_name = forms.CharField(label="姓名", max_length=60)
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class PostGrantForm(forms.Form):
    user = forms.ModelChoiceField(label="用户", queryset=User.objects.filter(is_active=True).order_by("username"))
    unit = forms.ModelChoiceField(label="单位", queryset=OrgUnit.objects.filter(is_active=True).order_by("kind", "code"))
    region = forms.ModelChoiceField(
        label="区划", queryset=Region.objects.filter(level__in=["district", "subdistrict", "community", "grid"])
    )
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    title = forms.CharField(label="职务", max_length=60, required=False)


class TokenForm(forms.Form):
    name = forms.CharField(label="用途", max_length=60)


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (old password, the configured validators, confirmation) plus: the new password must differ."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        old, new = self.cleaned_data.get("old_password"), self.cleaned_data.get("new_password1")
        if old and new and old == new and "new_password1" not in self.errors:
            self.add_error("new_password1", forms.ValidationError("新密码不能与原密码相同", code="password_unchanged"))
        return cleaned
