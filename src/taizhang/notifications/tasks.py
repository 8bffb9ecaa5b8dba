from __future__ import annotations

from django_tasks import task

from .backends import get_backends
from .models import Notification


@task()
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Hand the notifications to every configured backend; record per backend how many it sent."""
    rows = list(Notification.objects.filter(pk__in=notification_ids).select_related("user"))
    if not rows:
        return {}
    result: dict[str, int] = {}
    for backend in get_backends(fail_silently=True):
        result[backend.name] = backend.send_messages(rows)
    for n in rows:
        n.delivered = {**n.delivered, **{k: v > 0 for k, v in result.items()}}
    Notification.objects.bulk_update(rows, ["delivered"])
    return result
