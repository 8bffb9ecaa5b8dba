"""The GeoReport v2 endpoint at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Every view is public by declaration (any Open311 client may read); POST requests checks the client's api_key
itself. Errors are the spec's list of {code, description} with the HTTP status as code: 400 for missing or
invalid parameters, 403 for a bad api_key, 404 for an unknown service, request or token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from taizhang.core.permissions import permission

from . import render, selectors, services
from .errors import NotFound, Open311Error
from .inputs import api_key_of, category_for, merged, parse_query, parse_request, service_code_of

log = logging.getLogger(__name__)


def _jurisdiction_ok(request: HttpRequest) -> bool:
    """A jurisdiction_id, when the deployment configures one, must match it (unconfigured: any is accepted)."""
    expected = str(getattr(settings, "TAIZHANG_OPEN311_JURISDICTION", "") or "")
    given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    return not expected or not given or given == expected


def open311_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn Open311Error into the spec's error document in the requested format."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
        try:
            if not _jurisdiction_ok(request):
                raise NotFound("jurisdiction_id 不存在（jurisdiction_id not found）")
            response = view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            response = render.error_response(fmt, exc.status, exc.description)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


@permission(public=True)
@require_safe
@open311_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changed = render.w3c(selectors.changeset())
    base = request.build_absolute_uri(reverse("open311:root"))
    doc = {
        "changeset": changed,
        "contact": str(getattr(settings, "TAIZHANG_OPEN311_CONTACT", "") or "文峰区（高新区）指挥部 问题台账"),
        "key_service": "接入应用由系统管理员登记（taizhang open311_client --name …），api_key 只显示一次",
        "endpoints": [
            {
                "specification": render.SPEC_URL,
                "url": base.rstrip("/"),
                "changeset": changed,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.respond(fmt, doc, root="discovery")


@permission(public=True)
@require_safe
@open311_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render.respond(fmt, [render.service_doc(c) for c in selectors.services()], root="services", item="service")


@permission(public=True)
@require_safe
@open311_view
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    category, attrs, regions = selectors.service_definition(service_code)
    return render.respond(fmt, render.definition_doc(category, attrs, regions), root="service_definition")


@permission(public=True)
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@open311_view
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    query = parse_query(request.GET)
    docs = [render.request_doc(p, extensions=query.extensions) for p in selectors.request_list(query)]
    return render.respond(fmt, docs, root="service_requests", item="request")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    raw = merged(request.GET, request.POST)
    client = services.authenticate(api_key_of(raw))  # before anything else is looked at
    category = category_for(service_code_of(raw))
    data = parse_request(raw, request.FILES)
    sub = services.request_create(client=client, data=data, category=category)
    log.info("open311 request %s from client %s", sub.problem.code, client.prefix)
    body = [
        {
            "service_request_id": sub.problem.code,
            "token": sub.token,
            "service_notice": render.service_notice(sub.problem.category),
            "account_id": None,
        }
    ]
    return render.respond(fmt, body, root="service_requests", item="request")


@permission(public=True)
@require_safe
@open311_view
def request_detail(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    extensions = request.GET.get("extensions", "").strip().lower() in {"true", "1", "yes"}
    problem = selectors.request_get(service_request_id, extensions=extensions)
    return render.respond(fmt, [render.request_doc(problem, extensions=extensions)], root="service_requests", item="request")


@permission(public=True)
@require_safe
@open311_view
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    sub = selectors.token_get(token)
    return render.respond(
        fmt, [{"service_request_id": sub.problem.code, "token": sub.token}], root="service_requests", item="request"
    )


@permission(public=True)
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /open311/v2/: the spec's 404 document (JSON unless the path ends in .xml)."""
    fmt = "xml" if rest.endswith(".xml") else "json"
    supported = "discovery、services、services/{service_code}、requests、requests/{service_request_id}、tokens/{token}，格式 .json 或 .xml"
    return render.error_response(fmt, 404, f"没有这个接口（支持：{supported}）")
