from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from taizhang.core.scoping import scope_of

from .models import AuditEvent


def audit_events(*, user: Any, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The audit log, readable only by the auditor role (三员分立: the other administrators cannot)."""
    if "auditor" not in scope_of(user).roles:
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all()
    if username := filters.get("username"):
        qs = qs.filter(username__icontains=username)
    if action := filters.get("action"):
        qs = qs.filter(action=action)
    if outcome := filters.get("outcome"):
        qs = qs.filter(outcome=outcome)
    if object_type := filters.get("object_type"):
        qs = qs.filter(object_type=object_type)
    since: date | None = filters.get("since")
    until: date | None = filters.get("until")
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs
