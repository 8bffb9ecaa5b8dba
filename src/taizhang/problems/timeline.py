"""The problems of an establishment on its timeline (establishments.timeline): the steps that matter to the
establishment's story — reported, resolved, verified, closed, escalated, rectification."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from taizhang.establishments.timeline import Entry

from .models import EventKind, Problem, ProblemEvent

SHOWN = {
    EventKind.REPORTED: "info",
    EventKind.RESOLVED: "ok",
    EventKind.VERIFIED: "ok",
    EventKind.CLOSED: "ok",
    EventKind.REJECTED: "warn",
    EventKind.REOPENED: "warn",
    EventKind.ESCALATED: "bad",
    EventKind.RECTIFICATION_REQUIRED: "warn",
    EventKind.RECTIFICATION_REPORTED: "info",
    EventKind.RECTIFICATION_ACCEPTED: "ok",
    EventKind.MERGED: "",
}
LIMIT = 200


def problem_entries(establishment: Any, user: Any) -> list[Entry]:
    visible = Problem.objects.visible_to(user).filter(establishment=establishment).values("pk")
    events = (
        ProblemEvent.objects.filter(problem_id__in=visible, kind__in=list(SHOWN))
        .select_related("problem", "problem__category")
        .only("at", "kind", "note", "actor_name", "problem__id", "problem__code", "problem__category__name")
        .order_by("-at", "-id")[:LIMIT]
    )
    return [
        Entry(
            at=e.at,
            source="问题",
            title=f"{e.problem.code} {e.problem.category.name}：{EventKind(e.kind).label}",
            detail=e.note[:120],
            actor=e.actor_name,
            url=reverse("problems:detail", args=[e.problem_id]),
            tone=SHOWN[EventKind(e.kind)],
        )
        for e in events
    ]
