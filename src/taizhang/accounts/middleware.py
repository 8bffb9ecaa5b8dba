from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

KEY = "_taizhang_last_seen"
STARTED = "_taizhang_started"
WRITE_EVERY = 30  # seconds: don't write the session on every request


class IdleTimeoutMiddleware:
    """Ends a session on the server after TAIZHANG_IDLE_TIMEOUT without a request, or TAIZHANG_SESSION_MAX_AGE after sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(KEY)
            started = request.session.setdefault(STARTED, now)
            idle = last is not None and now - float(last) > settings.TAIZHANG_IDLE_TIMEOUT.total_seconds()
            expired = now - float(started) > settings.TAIZHANG_SESSION_MAX_AGE.total_seconds()
            if idle or expired:
                from taizhang.audit.services import Action, audit_record

                audit_record(
                    action=Action.LOGOUT, actor=user, target=user, detail={"reason": "idle_timeout" if idle else "max_age"}
                )
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "session_expired", "message": "会话已超时，请重新登录", "detail": {}}}, status=401
                    )
                return redirect(reverse(settings.LOGIN_URL) + "?timeout=1")
            if last is None or now - float(last) > WRITE_EVERY:
                request.session[KEY] = now
        return self.get_response(request)


CHANGE_REQUIRED_CODE = "password_change_required"
CHANGE_REQUIRED_MESSAGE = "您的密码由他人设置，请先修改密码后再继续使用"
# What a user whose password someone else set may still open: the change page and its API endpoint, logout and the
# sign-in steps. `api.authentication` uses the same list for API tokens.
CHANGE_REQUIRED_ALLOWED = frozenset({"accounts:password", "api:password", "accounts:logout", "accounts:login", "accounts:otp"})


def password_change_required(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "must_change_password", False))


def allowed_while_change_required(request: HttpRequest) -> bool:
    """Whether the request goes to one of CHANGE_REQUIRED_ALLOWED (or is for a static file)."""
    if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
        return True
    try:
        return resolve(request.path_info).view_name in CHANGE_REQUIRED_ALLOWED
    except Resolver404:
        return False


class PasswordChangeRequiredMiddleware:
    """While `user.must_change_password` is set (docs/adr/0012-must-change-password.md), every request of the session
    except those in CHANGE_REQUIRED_ALLOWED and static files is refused: pages redirect to the change page, htmx
    requests get HX-Redirect to it, the API answers 403 `password_change_required` (except its password endpoint).
    API tokens are refused in `api.authentication` (they do not go through the session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if password_change_required(getattr(request, "user", None)) and not allowed_while_change_required(request):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        change_url = reverse("accounts:password")
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "code": CHANGE_REQUIRED_CODE,
                        "message": CHANGE_REQUIRED_MESSAGE,
                        "detail": {"change_url": change_url},
                    }
                },
                status=403,
            )
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(change_url)
        if request.method in {"GET", "HEAD"} and request.path_info != "/":
            change_url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(change_url)
