from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request


class PasswordChangeRequired(exceptions.PermissionDenied):
    """403 `password_change_required`: the user's password was set by someone else and must be changed first
    (docs/adr/0012-must-change-password.md). The session middleware answers the same for browser sessions."""

    default_code = "password_change_required"

    def __init__(self) -> None:
        from django.urls import reverse

        from taizhang.accounts.middleware import CHANGE_REQUIRED_MESSAGE

        super().__init__(CHANGE_REQUIRED_MESSAGE, code=self.default_code)
        self.extra = {"change_url": reverse("accounts:password")}


def refuse_if_password_change_required(user: Any, request: Request) -> None:
    """Refuse a user who must change their password, except on the endpoints the session middleware lets through too
    (`accounts.middleware.CHANGE_REQUIRED_ALLOWED`: the password endpoint)."""
    from taizhang.accounts.middleware import allowed_while_change_required, password_change_required

    if password_change_required(user) and not allowed_while_change_required(request._request):
        raise PasswordChangeRequired


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session (with CSRF); administrators must also have passed their TOTP step."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        from taizhang.core.scoping import scope_of

        if scope_of(user).needs_otp and not getattr(request._request.user, "is_verified", lambda: False)():
            raise exceptions.AuthenticationFailed("管理员须先完成动态口令验证")
        refuse_if_password_change_required(user, request)
        return result


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token tz_…` with a personal token; only the token's digest is stored."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("令牌格式错误")
        from taizhang.accounts.models import ApiToken

        token = ApiToken.lookup(header[1].decode(errors="replace"))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("令牌无效或已过期")
        from taizhang.core.scoping import scope_of

        if scope_of(token.user).needs_otp:
            raise exceptions.AuthenticationFailed("管理员账户不能使用 API 令牌")
        refuse_if_password_change_required(token.user, request)
        if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "taizhang.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token tz_…"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "taizhang.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
