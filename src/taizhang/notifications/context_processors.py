"""`{{ unread_notifications }}` for the count badge in the top bar (evaluated only when a template uses it).

To enable: add "taizhang.notifications.context_processors.unread" to TEMPLATES' context processors.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user=user))}
