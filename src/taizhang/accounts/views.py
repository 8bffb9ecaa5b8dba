from __future__ import annotations

from typing import Any, cast

import axes.utils
import segno
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from taizhang.audit.services import Action, Outcome, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.permissions import permission
from taizhang.core.roles import ALL_ROLES, Role

from . import selectors, services
from .forms import LoginForm, OtpForm, PasswordChangeForm, PostGrantForm, TokenForm, UserCreateForm
from .middleware import CHANGE_REQUIRED_MESSAGE
from .models import ApiToken, Post, User
from .scope import scope_of

GENERIC_LOGIN_ERROR = "用户名或密码错误。连续失败5次后账户将被锁定30分钟。"


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The same page for a locked account whether or not the user exists."""
    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    audit_record(action=Action.LOCKED_OUT, username=username[:150], outcome=Outcome.DENIED)
    form = LoginForm(initial={"username": username})
    return render(request, "accounts/login.html", {"form": form, "locked": True}, status=429)


def _next_url(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return "/"


@permission(public=True)
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            audit_record(action=Action.LOGIN_FAILED, username=username[:150], outcome=Outcome.FAILED)
            error = GENERIC_LOGIN_ERROR
        else:
            login(request, user)
            audit_record(action=Action.LOGIN, actor=user, target=user)
            if scope_of(user).needs_otp:
                request.session["_otp_next"] = _next_url(request)
                return redirect("accounts:otp")
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "error": error,
            "timeout": request.GET.get("timeout"),
            "password_locked": request.GET.get("password_locked"),
            "idle_minutes": int(settings.TAIZHANG_IDLE_TIMEOUT.total_seconds() // 60),
            "next": request.GET.get("next", ""),
        },
        status=200 if error is None else 401,
    )


def _confirmed_devices(user: Any) -> list[Any]:
    return list(devices_for_user(user, confirmed=True))


@permission(before_otp=True)
def otp_view(request: HttpRequest) -> HttpResponse:
    """Second step for administrators: verify a TOTP code, or enrol a device on first sign-in."""
    user = cast(User, request.user)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect("home")
    devices = _confirmed_devices(user)
    enrolling = not devices
    device = None
    if enrolling:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="默认", confirmed=False
        )
        devices = [device]
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        for d in devices:
            if d.verify_token(token):
                if not d.confirmed:
                    d.confirmed = True
                    d.save(update_fields=["confirmed"])
                otp_login(request, d)
                audit_record(action=Action.OTP, actor=user, target=user, detail={"enrolled": enrolling})
                return redirect(request.session.pop("_otp_next", "/"))
        audit_record(action=Action.OTP, actor=user, target=user, outcome=Outcome.FAILED)
        form.add_error("token", "动态口令不正确或已过期")
    context: dict[str, Any] = {"form": form, "enrolling": enrolling}
    if enrolling and device is not None:
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
        import base64

        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/otp.html", context)


@require_POST
@permission(public=True)
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(action=Action.LOGOUT, actor=request.user, target=request.user)
    logout(request)  # flushes the session row on the server
    return redirect("accounts:login")


@permission()
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    from taizhang.regions.selectors import region_roots

    return render(
        request, "accounts/home.html", {"scope": scope, "roots": region_roots(user=request.user) if scope.region_paths else []}
    )


@permission(roles=ALL_ROLES)
def account_view(request: HttpRequest) -> HttpResponse:
    may_use_tokens = not scope_of(request.user).needs_otp  # administrators cannot use API tokens
    form = TokenForm(request.POST or None) if may_use_tokens else None
    new_key = None
    if request.method == "POST" and form is not None and form.is_valid():
        _, new_key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        form = TokenForm()
    tokens = ApiToken.objects.usable().filter(user_id=cast(User, request.user).pk).order_by("-created_at")
    return render(
        request,
        "accounts/account.html",
        {"form": form, "tokens": tokens, "new_key": new_key, "posts": scope_of(request.user).posts},
    )


def sign_out_after_password_attempts(request: HttpRequest) -> None:
    """End the session that has just used up the wrong current passwords allowed (docs/adr/0012-must-change-password.md):
    whoever holds it may not be the user."""
    user = cast(User, request.user)
    audit_record(action=Action.LOGOUT, actor=user, target=user, detail={"reason": "password_attempts"})
    logout(request)  # flushes the session row on the server


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@permission()
def password_change_view(request: HttpRequest) -> HttpResponse:
    """修改密码: any signed-in user (with or without a post). The only page, besides logout and the sign-in steps, that
    a user whose password someone else set can open (docs/adr/0012-must-change-password.md). The current password is
    checked by `services.user_password_check` (audited; 5 wrong ones in 30 minutes per user, shared with the API)."""
    user = cast(User, request.user)
    forced = user.must_change_password
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            services.user_password_change(user=user, password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)  # keep this session; the user's other sessions end
            messages.success(request, "密码已修改")
            return redirect(_next_url(request))
        if form.password_check is not None and form.password_check.outcome == services.PasswordCheck.LIMIT_REACHED:
            sign_out_after_password_attempts(request)
            return redirect(reverse(settings.LOGIN_URL) + "?password_locked=1")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "forced": forced,
            "forced_message": CHANGE_REQUIRED_MESSAGE,
            "next": request.GET.get("next", ""),
            "limit": selectors.PASSWORD_FAILURE_LIMIT,
            "window_minutes": int(selectors.PASSWORD_FAILURE_WINDOW.total_seconds() // 60),
        },
        status=429 if form.locked else 400 if form.errors else 200,
    )


@permission(roles={Role.SYSADMIN, Role.SECADMIN})
def users_view(request: HttpRequest) -> HttpResponse:
    is_sysadmin = Role.SYSADMIN in scope_of(request.user).roles
    form = UserCreateForm(request.POST or None) if is_sysadmin else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已创建用户 {user.username}；岗位由安全管理员分配。该用户首次登录时须修改初始密码。")
            return redirect("accounts:users")
    page = Paginator(selectors.users_for_admin(user=request.user, q=request.GET.get("q", "")), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/users.html", {"form": form, "page": page})


@permission(roles={Role.SECADMIN})
def posts_view(request: HttpRequest) -> HttpResponse:
    form = PostGrantForm(request.POST or None)
    if request.method == "POST":
        if "end" in request.POST:
            post = selectors.posts_for_admin(user=request.user).filter(pk=request.POST.get("end") or 0).first()
            if post is not None:
                services.post_end(post=post, actor=request.user)
                messages.success(request, "岗位已终止")
            return redirect("accounts:posts")
        if form.is_valid():
            try:
                services.post_grant(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "岗位已分配")
                return redirect("accounts:posts")
    page = Paginator(selectors.posts_for_admin(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/posts.html",
        {"form": form, "page": page, "today_active": set(Post.objects.active().values_list("pk", flat=True))},
    )


@permission(roles={Role.SECADMIN})
def lockouts_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (username := request.POST.get("username")):
        axes.utils.reset(username=username)
        audit_record(
            action=Action.UPDATE, actor=request.user, object_type="axes.accessattempt", object_repr=f"解除锁定 {username}"
        )
        messages.success(request, f"已解除 {username} 的锁定")
        return redirect("accounts:lockouts")
    attempts = AccessAttempt.objects.order_by("-attempt_time")[:200]
    return render(request, "accounts/lockouts.html", {"attempts": attempts})
