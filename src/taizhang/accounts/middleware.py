from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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
