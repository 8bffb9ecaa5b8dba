"""Sending and reading notifications. Every capability calls `notify()` explicitly (no signals)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Notification


def _recipients(users: Iterable[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for u in users:
        if u is None or not getattr(u, "is_active", True) or u.pk is None:
            continue
        seen.setdefault(u.pk, u)
    return list(seen.values())


def notify(*, users: Iterable[Any], title: str, body: str = "", url: str = "", kind: str = "") -> list[Notification]:
    """Write one in-app notification per (distinct, active) user and queue delivery through the configured
    backends once the surrounding transaction commits (nothing is sent for a rolled-back change)."""
    recipients = _recipients(users)
    if not recipients:
        return []
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [Notification(user=u, title=title[:120], body=body, url=url[:300], kind=kind[:40], created_at=now) for u in recipients]
    )
    ids = [n.pk for n in rows if n.pk is not None]
    if ids:
        from .tasks import deliver_notifications

        transaction.on_commit(lambda: deliver_notifications.enqueue(ids))
    return rows


def mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.unread().filter(user_id=user.pk)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
