from __future__ import annotations

import math
from datetime import datetime
from typing import NoReturn, cast

from django.contrib.auth import update_session_auth_hash
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import SignedInPermission, roles_permission
from taizhang.core.errors import ApplicationError
from taizhang.core.roles import ALL_ROLES

from . import services
from .forms import PasswordChangeForm
from .models import ApiToken, Post, User
from .scope import scope_of
from .views import sign_out_after_password_attempts

ERROR = OpenApiResponse(description='{"error": {"code", "message", "detail"}}')


class PostSerializer(serializers.ModelSerializer[Post]):
    unit = serializers.CharField(source="unit.name")
    unit_kind = serializers.CharField(source="unit.kind")
    region = serializers.CharField(source="region.display_name")
    region_id = serializers.IntegerField()
    region_code = serializers.CharField(source="region.code")

    class Meta:
        model = Post
        fields = ["id", "role", "title", "unit", "unit_kind", "region", "region_id", "region_code", "valid_from", "valid_to"]


class MeSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    posts = PostSerializer(many=True)


class MeApi(APIView):
    permission_classes = [roles_permission(ALL_ROLES)]

    @extend_schema(summary="当前用户及其岗位", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        scope = scope_of(request.user)
        user = request.user
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "display_name": getattr(user, "display_name", ""),
                    "roles": sorted(scope.roles),
                    "posts": scope.posts,
                }
            ).data
        )


class PasswordChangeLocked(exceptions.APIException):
    """429 `password_change_locked`: too many wrong current passwords (docs/adr/0012-must-change-password.md)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "password_change_locked"

    def __init__(self, message: str, *, until: datetime, signed_out: bool) -> None:
        super().__init__(message, code=self.default_code)
        self.wait = max(1, math.ceil((until - timezone.now()).total_seconds()))  # Retry-After
        self.extra = {"locked_until": until.isoformat(), "signed_out": signed_out}


class PasswordChangeInput(serializers.Serializer[object]):
    old_password = serializers.CharField(label="当前密码", trim_whitespace=False, write_only=True)
    new_password = serializers.CharField(
        label="新密码",
        trim_whitespace=False,
        write_only=True,
        help_text="至少12位，须包含小写字母、大写字母、数字、符号中的至少3类，不能是常见密码，不能与用户名相近，也不能与当前密码相同",
    )


# the page's form fields → this endpoint's fields
FORM_FIELDS = {"old_password": "old_password", "new_password1": "new_password", "new_password2": "new_password"}


@method_decorator(sensitive_post_parameters("old_password", "new_password"), name="dispatch")
class PasswordChangeApi(APIView):
    """The password page as an endpoint (docs/adr/0012-must-change-password.md): same form, same service, same audit,
    the same limit of wrong current passwords; open to a user who must change their password."""

    permission_classes = [SignedInPermission]

    @extend_schema(
        summary="修改本人密码",
        description=(
            "校验规则、审计记录与修改密码页面相同；须修改密码的用户也可调用。成功后清除“须修改密码”标记，本人的其他会话"
            "失效（经会话调用时保留当前会话），API 令牌继续有效。当前密码30分钟内输错5次（与页面合计）后，不再校验密码，"
            "一律拒绝（429 `password_change_locked`），直到其中最早一次满30分钟；输错第5次的请求所用的会话随即退出、"
            "令牌随即作废。"
        ),
        request=PasswordChangeInput,
        responses={204: None, 400: ERROR, 401: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
        s = PasswordChangeInput(data=request.data)
        s.is_valid(raise_exception=True)
        user = cast(User, request.user)
        new = s.validated_data["new_password"]
        form = PasswordChangeForm(
            user, data={"old_password": s.validated_data["old_password"], "new_password1": new, "new_password2": new}
        )
        if not form.is_valid():
            self._refuse(request, form)
        services.user_password_change(user=user, password=new)
        if request.auth is None:  # the browser session: keep it; the user's other sessions end
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _refuse(request: Request, form: PasswordChangeForm) -> NoReturn:
        check = form.password_check
        if form.locked and check is not None:
            limit_reached = check.outcome == services.PasswordCheck.LIMIT_REACHED
            if limit_reached:  # the credential that used up the attempts ends, as the page ends its session
                if isinstance(request.auth, ApiToken):
                    services.api_token_revoke(token=request.auth, actor=request.user)
                else:
                    sign_out_after_password_attempts(request._request)
            raise PasswordChangeLocked(
                str(form.errors["old_password"][0]), until=check.locked_until or timezone.now(), signed_out=limit_reached
            )
        errors: dict[str, list[str]] = {}
        for field, messages in form.errors.items():
            errors.setdefault(FORM_FIELDS.get(field, "non_field_errors"), []).extend(str(m) for m in messages)
        if form.has_error("old_password", "password_incorrect"):
            raise ApplicationError(errors["old_password"][0], code="password_incorrect", extra=errors)
        raise exceptions.ValidationError(errors)
