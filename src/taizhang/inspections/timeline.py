"""Visits and inspections of an establishment on its timeline (establishments.timeline)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from taizhang.establishments.timeline import Entry

from .models import Visit, VisitResult

TONES = {VisitResult.PASSED: "ok", VisitResult.FINDINGS: "warn", VisitResult.ABSENT: ""}
LIMIT = 100


def visit_entries(establishment: Any, user: Any) -> list[Entry]:
    visits = (
        Visit.objects.visible_to(user)
        .filter(establishment=establishment)
        .select_related("unit", "version__template", "campaign")
        .order_by("-visited_at", "-id")[:LIMIT]
    )
    entries = []
    for v in visits:
        result = VisitResult(v.result).label
        if v.result == VisitResult.FINDINGS:
            result = f"发现问题 {v.failed_count} 项"
        detail = f"{v.campaign.name} · " if v.campaign_id and v.campaign else ""
        detail += f"出动 {v.staff_count} 人"
        if v.helped:
            detail += " · 现场帮扶"
        entries.append(
            Entry(
                at=v.visited_at,
                source=v.get_kind_display(),
                title=f"{v.version.template.name}：{result}",
                detail=detail,
                actor=str(v.unit),
                url=reverse("inspections:visit", args=[v.pk]),
                tone=TONES.get(VisitResult(v.result), ""),
            )
        )
    return entries
