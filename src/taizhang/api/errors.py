"""Every API error has one shape: {"error": {"code", "message", "detail"}} with a Chinese message."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from taizhang.accounts.middleware import CHANGE_REQUIRED_MESSAGE
from taizhang.core.errors import ApplicationError, ConflictError

MESSAGES = {
    "not_authenticated": "请先登录",
    "authentication_failed": "身份验证失败",
    "permission_denied": "无权访问",
    "not_found": "记录不存在",
    "method_not_allowed": "不支持该请求方法",
    "throttled": "请求过于频繁，请稍后再试",
    "parse_error": "请求内容无法解析",
    "invalid": "提交的数据有误",
    "unsupported_media_type": "不支持的内容类型",
    "password_change_required": CHANGE_REQUIRED_MESSAGE,
}


def _body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConflictError):
        return Response(_body(exc.code, exc.message, exc.extra), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ApplicationError):
        return Response(_body(exc.code, exc.message, exc.extra), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(_body("invalid", "提交的数据有误", errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:
        return None
    code = "error"
    detail: Any = {}
    if isinstance(exc, exceptions.ValidationError):
        code, detail = "invalid", response.data
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        detail = getattr(exc, "extra", None) or {}
    message = MESSAGES.get(code) or (str(exc.detail) if isinstance(exc, exceptions.APIException) else "请求失败")
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated) and isinstance(exc.detail, str):
        message = str(exc.detail) if code == "authentication_failed" else message
    response.data = _body(code, message, detail)
    return response
