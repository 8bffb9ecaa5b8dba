"""One scoping mechanism for everything.

A user's Scope is computed once per request from their posts (by accounts, which registers the
resolver). `visible_to(user)` on every scoped QuerySet filters by `scope_of(user)`, and
`access_<thing>(user, id)` fetches through it, so "missing" and "outside your scope" raise the same 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from taizhang.core.roles import ADMIN_ROLES

from .paths import in_subtrees, subtree_q

ATTR = "_taizhang_scope"


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    roles: frozenset[str] = frozenset()
    region_paths: tuple[str, ...] = ()  # roots of the region subtrees the user's posts open
    unit_ids: frozenset[int] = frozenset()
    posts: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def needs_otp(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)

    @property
    def reads_personal_data(self) -> bool:
        """三员分立: the administrators never read personal data, whatever else they hold."""
        return bool(self.roles) and not (self.roles & ADMIN_ROLES)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def region_q(self, field_path: str) -> Q:
        """Rows whose region-path field lies in one of the user's subtrees."""
        return subtree_q(self.region_paths, field_path)

    def covers(self, path: str) -> bool:
        """Whether a region path lies in one of the user's subtrees: `region_q` for a row already in memory."""
        return in_subtrees(path, self.region_paths)


EMPTY = Scope(user_id=None)
_resolver: Callable[[Any], Scope] | None = None


def set_resolver(resolver: Callable[[Any], Scope]) -> None:
    global _resolver
    _resolver = resolver


def scope_of(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return EMPTY
    cached = getattr(user, ATTR, None)
    if cached is not None:
        return cached
    if _resolver is None:  # pragma: no cover - accounts registers it at start-up
        raise RuntimeError("scope resolver not registered")
    scope = _resolver(user)
    setattr(user, ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, ATTR):
        delattr(user, ATTR)
