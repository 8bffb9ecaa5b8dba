"""Deny by default: every view declares who may call it.

A view is callable only when it carries a permission declaration made by `permission()` (function
views), `PermissionMixin` (class views) or the API's permission classes. `tests/test_architecture.py`
walks the URL configuration and fails on any view without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

ATTR = "taizhang_permission"
DenialHook = Callable[..., None]
_denial_hooks: list[DenialHook] = []


def on_denied(hook: DenialHook) -> None:
    """Register a hook called with (actor, target, reason) whenever access is refused (audit registers one)."""
    if hook not in _denial_hooks:
        _denial_hooks.append(hook)


def notify_denied(*, actor: Any, target: str, reason: str) -> None:
    for hook in _denial_hooks:
        hook(actor=actor, target=target, reason=reason)


@dataclass(frozen=True)
class Rule:
    public: bool = False
    roles: frozenset[str] | None = None  # None: any signed-in user with a verified session
    before_otp: bool = False  # only the second sign-in step itself may be used before it is passed

    def describe(self) -> str:
        if self.public:
            return "public"
        return "authenticated" if self.roles is None else "roles:" + ",".join(sorted(self.roles))


def check(request: HttpRequest, rule: Rule) -> HttpResponse | None:
    """Return a response that refuses the request, or None when it may go on."""
    if rule.public:
        return None
    user = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    from taizhang.core.scoping import scope_of

    scope = scope_of(user)
    if scope.needs_otp and not rule.before_otp and not getattr(user, "is_verified", lambda: False)():
        return redirect("accounts:otp")
    if rule.roles is not None and not (scope.roles & rule.roles):
        notify_denied(actor=user, target=request.path, reason="role")
        return render(request, "errors/403.html", status=403)
    return None


def permission(
    *, public: bool = False, roles: Iterable[str] | None = None, before_otp: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    rule = Rule(public=public, roles=frozenset(roles) if roles is not None else None, before_otp=before_otp)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = check(request, rule)
            if refused is not None:
                return refused
            return view(request, *args, **kwargs)

        setattr(wrapped, ATTR, rule)
        return wrapped

    return decorate


def declared_rule(callback: Any) -> Rule | str | None:
    """The declaration of a resolved URL callback, or None when it has none."""
    rule = getattr(callback, ATTR, None)
    if rule is not None:
        return rule
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        rule = getattr(view_class, ATTR, None)
        if rule is not None:
            return rule
        api_perms = getattr(view_class, "permission_classes", None)
        if api_perms and all(getattr(p, ATTR, None) for p in api_perms):
            return ",".join(getattr(p, ATTR) for p in api_perms)
    return None
