from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notifications_of(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """A user's own notifications only: nobody reads another user's messages."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(user_id=user.pk)
    return qs.unread() if unread_only else qs


def unread_count(*, user: Any) -> int:
    return notifications_of(user=user, unread_only=True).count()
