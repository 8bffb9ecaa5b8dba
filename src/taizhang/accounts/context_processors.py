from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from taizhang.core.nav import items_for

from .scope import scope_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_of(user)
    sections: dict[str, list[Any]] = {}
    for item in items_for(scope.roles):
        sections.setdefault(item.section, []).append(item)
    return {"nav_sections": sections, "scope": scope}
