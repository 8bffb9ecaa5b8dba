"""Shared pieces of the REST API that each app's api.py uses: permissions and pagination.

The default permission class denies everything: each API view names who may call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .permissions import ATTR, notify_denied
from .scoping import scope_of


class DenyAll(BasePermission):
    """The default permission class: a view that declares nothing serves nobody."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return False


def roles_permission(roles: Iterable[str] | None) -> type[BasePermission]:
    """Signed-in users holding one of `roles` (None: any signed-in user with a role)."""
    allowed = frozenset(roles) if roles is not None else None

    class HasRole(BasePermission):
        message = "无权访问"

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            if not user or not user.is_authenticated:
                return False
            scope = scope_of(user)
            ok = bool(scope.roles) if allowed is None else bool(scope.roles & allowed)
            if not ok:
                notify_denied(actor=user, target=request.path, reason="role")
            return ok

    setattr(HasRole, ATTR, "roles:" + (",".join(sorted(allowed)) if allowed is not None else "any"))
    return HasRole


class PublicPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return True


setattr(PublicPermission, ATTR, "public")


class SignedInPermission(BasePermission):
    """Any signed-in user, with or without a post: the API counterpart of a page's `permission()` without roles (the
    password endpoint). Administrators have passed their TOTP step (session authentication) and cannot use tokens."""

    message = "请先登录"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


setattr(SignedInPermission, ATTR, "authenticated")


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
