"""`{% load filings %}`: state badges and small formatting helpers of the filing pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from taizhang.establishments.models import Status

from ..models import Decision, State

register = template.Library()

STATE_TONES: dict[str, str] = {
    State.DRAFT: "",
    State.SUBMITTED: "info",
    State.RETURNED: "warn",
    State.APPROVED: "ok",
    State.WITHDRAWN: "",
}
STATUS_TONES: dict[str, str] = {
    Status.NOT_RESUMED: "",
    Status.FILING: "info",
    Status.APPROVED: "warn",
    Status.RESUMED: "ok",
    Status.SUSPENDED: "bad",
    Status.CLOSED: "",
}


def _badge(label: str, tone: str, testid: str = "") -> SafeString:
    cls = f"badge badge-{tone}" if tone else "badge"
    if testid:
        return format_html('<span class="{}" data-testid="{}">{}</span>', cls, testid, label)
    return format_html('<span class="{}">{}</span>', cls, label)


@register.filter
def state_badge(state: Any) -> SafeString:
    value = str(state)
    return _badge(State(value).label if value in State.values else value, STATE_TONES.get(value, ""), "filing-state")


@register.filter
def status_badge(status: Any) -> SafeString:
    value = str(status)
    return _badge(Status(value).label if value in Status.values else value, STATUS_TONES.get(value, ""), "establishment-status")


@register.filter
def ruling_badge(ruling: Any) -> SafeString:
    decision = (ruling or {}).get("decision") if isinstance(ruling, dict) else None
    if decision == Decision.ACCEPT:
        return _badge("通过", "ok", "ruling")
    if decision == Decision.RETURN:
        return _badge("退回", "bad", "ruling")
    return _badge("待审", "", "ruling")


@register.filter
def filesize(size: Any) -> str:
    n = int(size or 0)
    if n >= 1048576:
        return f"{n / 1048576:.1f} MB"
    return f"{max(n // 1024, 1)} KB"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
