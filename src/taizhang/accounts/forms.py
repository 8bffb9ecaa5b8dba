from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from taizhang.core.roles import Role
from taizhang.regions.models import Region

from . import services
from .models import OrgUnit, User
from .selectors import PASSWORD_FAILURE_LIMIT, PASSWORD_FAILURE_WINDOW


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


WINDOW_MINUTES = int(PASSWORD_FAILURE_WINDOW.total_seconds() // 60)


def _clock(moment: datetime) -> str:
    """The minute from which a lock is over, in local time (rounded up)."""
    return (timezone.localtime(moment) + timedelta(seconds=59)).strftime("%H:%M")


def password_wrong_message(attempts_left: int) -> str:
    return f"当前密码不正确，请重新输入。再输错{attempts_left}次将退出登录，且{WINDOW_MINUTES}分钟内不能修改密码。"


def password_limit_reached_message(until: datetime) -> str:
    return f"当前密码已连续输错{PASSWORD_FAILURE_LIMIT}次，为保护账户已退出登录；{_clock(until)}前不能修改密码。"


def password_locked_message(until: datetime) -> str:
    return f"当前密码输错次数过多，修改密码已暂停，请于{_clock(until)}后再试。如非本人操作，请联系安全管理员。"


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (old password, the configured validators, confirmation) plus: the new password must differ, and
    the current password is checked by `services.user_password_check`, which allows 5 wrong ones in 30 minutes per user
    (docs/adr/0012-must-change-password.md). The page and the API both validate with this form."""

    password_check: services.PasswordCheckResult | None = None

    @property
    def locked(self) -> bool:
        """The limit of wrong current passwords is reached (by this attempt or before it)."""
        return self.password_check is not None and self.password_check.outcome in {
            services.PasswordCheck.LIMIT_REACHED,
            services.PasswordCheck.LOCKED,
        }

    @sensitive_variables("old_password")
    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        check = self.password_check = services.user_password_check(user=self.user, password=old_password)
        if check.outcome == services.PasswordCheck.WRONG:
            raise forms.ValidationError(password_wrong_message(check.attempts_left), code="password_incorrect")
        until = check.locked_until or timezone.now()
        if check.outcome == services.PasswordCheck.LIMIT_REACHED:
            raise forms.ValidationError(password_limit_reached_message(until), code="password_change_locked")
        if check.outcome == services.PasswordCheck.LOCKED:
            raise forms.ValidationError(password_locked_message(until), code="password_change_locked")
        return old_password

    def clean(self) -> dict[str, Any] | None:
        if self.locked:  # refused as a whole: nothing else to say about the new password
            return self.cleaned_data
        cleaned = super().clean()
        old, new = self.cleaned_data.get("old_password"), self.cleaned_data.get("new_password1")
        if old and new and old == new and "new_password1" not in self.errors:
            self.add_error("new_password1", forms.ValidationError("新密码不能与原密码相同", code="password_unchanged"))
        return cleaned
