from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from taizhang.core.request_context import request_context


class AuditContextMiddleware:
    """Makes the client address available to services, which write it into the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = settings.TAIZHANG_CLIENT_IP_HEADER
        address = (request.META.get(header, "").split(",")[0].strip() if header else "") or request.META.get("REMOTE_ADDR")
        with request_context(address or None):
            return self.get_response(request)
