from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": "记录不存在", "detail": {}}}, status=404)
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": {"code": "permission_denied", "message": "无权访问", "detail": {}}}, status=403)
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"error": {"code": "server_error", "message": "服务器内部错误，请稍后重试", "detail": {}}}, status=500
        )
    return render(request, "errors/500.html", status=500)
