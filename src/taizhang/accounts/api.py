from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import roles_permission
from taizhang.core.roles import ALL_ROLES

from .models import Post
from .scope import scope_of


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
