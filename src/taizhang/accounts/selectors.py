from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from taizhang.core.errors import NotVisible

from .models import OrgUnit, Post, User
from .scope import scope_of


def my_posts(*, user: Any) -> list[Post]:
    return list(scope_of(user).posts)


def users_for_admin(*, user: Any, q: str = "") -> QuerySet[User]:
    """Accounts, for the system and security administrators only."""
    if not scope_of(user).has_role("sysadmin", "secadmin"):
        return User.objects.none()
    qs = User.objects.order_by("username")
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(display_name__icontains=q)
    return qs


def access_user_for_admin(user: Any, user_id: int | str) -> User:
    try:
        return users_for_admin(user=user).get(pk=int(user_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotVisible("用户") from None


def posts_for_admin(*, user: Any) -> QuerySet[Post]:
    if not scope_of(user).has_role("secadmin"):
        return Post.objects.none()
    return Post.objects.select_related("user", "unit", "region").order_by("user__username", "role")


def units_all() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(is_active=True).select_related("region")
