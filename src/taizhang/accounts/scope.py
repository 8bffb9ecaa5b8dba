"""Computes a user's Scope from their active posts (registered with core.scoping at start-up)."""

from __future__ import annotations

from typing import Any

from taizhang.core.roles import REGION_SCOPED_ROLES, Role
from taizhang.core.scoping import Scope, forget_scope, scope_of

__all__ = ["compute_scope", "forget_scope", "scope_of"]


def compute_scope(user: Any) -> Scope:
    from .models import Post

    posts = tuple(Post.objects.active().filter(user=user).select_related("region", "unit"))
    roles = frozenset(p.role for p in posts)
    paths = {p.region.path for p in posts if p.role in REGION_SCOPED_ROLES}
    if Role.SYSADMIN in roles:  # maintains the region tree (not personal data)
        paths |= {"/"}
    return Scope(
        user_id=user.pk,
        roles=roles,
        region_paths=tuple(sorted(paths)),
        unit_ids=frozenset(p.unit_id for p in posts),
        posts=posts,
    )
