from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import Pagination, roles_permission
from taizhang.core.roles import REGION_READERS

from . import selectors
from .models import Region


class RegionSerializer(serializers.ModelSerializer[Region]):
    parent_id = serializers.IntegerField(allow_null=True, read_only=True)
    aliases = serializers.SerializerMethodField()
    children_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Region
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "level",
            "parent_id",
            "path",
            "depth",
            "is_local",
            "aliases",
            "children_count",
        ]

    def get_aliases(self, obj: Region) -> list[str]:
        return [a.alias for a in obj.aliases.all()]


class RegionListApi(APIView):
    permission_classes = [roles_permission(REGION_READERS)]

    @extend_schema(
        summary="可见区划列表",
        parameters=[
            OpenApiParameter("parent", int, description="上级区划 ID"),
            OpenApiParameter("level", str, description="层级"),
            OpenApiParameter("q", str, description="名称、别名或代码"),
        ],
        responses=RegionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        parent = request.query_params.get("parent")
        qs = selectors.region_list(
            user=request.user,
            parent_id=int(parent) if parent and parent.isdigit() else None,
            level=request.query_params.get("level") or None,
            q=request.query_params.get("q", "").strip(),
        ).prefetch_related("aliases")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RegionSerializer(page, many=True).data)


class RegionDetailApi(APIView):
    permission_classes = [roles_permission(REGION_READERS)]

    @extend_schema(summary="区划详情", responses=RegionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        region: Any = selectors.access_region(request.user, pk)
        return Response(RegionSerializer(region).data)
