"""`{% load problem_tags %}`: state and event tones for badges and the timeline."""

from __future__ import annotations

from typing import Any

from django import template

from taizhang.problems.models import EventKind, State

register = template.Library()

STATE_TONES = {
    State.REPORTED: "warn",
    State.ASSIGNED: "info",
    State.IN_PROGRESS: "info",
    State.RESOLVED: "warn",
    State.VERIFIED: "ok",
    State.CLOSED: "ok",
    State.RETURNED: "warn",
    State.REOPENED: "bad",
    State.MERGED: "",
}
EVENT_TONES = {
    EventKind.REPORTED: "info",
    EventKind.RESOLVED: "ok",
    EventKind.VERIFIED: "ok",
    EventKind.CLOSED: "ok",
    EventKind.RECTIFICATION_ACCEPTED: "ok",
    EventKind.TASK_REPLIED: "ok",
    EventKind.REJECTED: "warn",
    EventKind.RETURNED: "warn",
    EventKind.REOPENED: "warn",
    EventKind.RECTIFICATION_REQUIRED: "warn",
    EventKind.RECTIFICATION_REJECTED: "warn",
    EventKind.OVERDUE: "bad",
    EventKind.ESCALATED: "bad",
    EventKind.RECTIFICATION_OVERDUE: "bad",
}


@register.filter
def state_tone(state: str) -> str:
    return STATE_TONES.get(state, "")  # type: ignore[call-overload]


@register.filter
def event_tone(kind: str) -> str:
    return EVENT_TONES.get(kind, "")  # type: ignore[call-overload]


@register.filter
def event_label(kind: str) -> str:
    try:
        return str(EventKind(kind).label)
    except ValueError:
        return kind


@register.filter
def state_label(state: Any) -> str:
    try:
        return str(State(state).label)
    except ValueError:
        return str(state or "")
