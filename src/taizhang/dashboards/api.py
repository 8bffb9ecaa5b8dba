"""The dashboard's figures as JSON (the same selector as the page: rollups, the user's scope)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import roles_permission
from taizhang.rollups import selectors as rollup_selectors

from . import page as page_builder
from . import selectors
from .scope import DASHBOARD_ROLES, resolve


class DashboardApi(APIView):
    permission_classes = [roles_permission(DASHBOARD_ROLES)]

    @extend_schema(
        summary="数据看板数字",
        parameters=[
            OpenApiParameter("region", int, description="区划 id（须在本人辖区内，否则 404）"),
            OpenApiParameter("on", str, description="统计日期 YYYY-MM-DD"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        from datetime import date

        view = resolve(request.user, request.query_params.get("region"))
        today = timezone.localdate()
        default_on = rollup_selectors.data_day(today)
        try:
            on = min(date.fromisoformat(request.query_params.get("on", "")), today)
        except ValueError:
            on = default_on
        page = page_builder.build(view, selectors.numbers(view, on=on, today=today), on=on, default_on=default_on)
        body: dict[str, Any] = {
            "region": {"id": view.region.pk, "name": view.region.display_name} if view.region else None,
            "title": view.title,
            "on": on.isoformat(),
            "cards": [{"label": c.label, "value": c.value, "url": c.url, "note": c.note} for c in page.cards],
            "categories": [
                {"label": r["label"], "total": r["total"], "resumed_rate": r["rate"], "above_size_resumed": r["above"]}
                for r in page.categories
            ],
            "children": [
                {
                    "id": c["region"].pk,
                    "name": c["region"].display_name,
                    "total": c["total"],
                    "resumed": c["resumed"],
                    "problems_open": c["open"],
                    "problems_overdue": c["overdue"],
                    "filings_overdue": c["filing_overdue"],
                    "coverage": c["coverage"],
                }
                for c in page.children
            ],
            "charts": page.charts,
        }
        return Response(body)
