"""The registry's REST API: the same selectors, services and scope as the pages.

Personal fields are always masked; the full value comes only from POST …/reveal, which is audited.
Errors take the project's shape (taizhang.api.errors): ApplicationError 400, ConflictError 409, NotVisible 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.audit.reveal import reveal
from taizhang.core.drf import Pagination, roles_permission
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.protected import mask_field
from taizhang.core.roles import Role
from taizhang.duties.selectors import Link, responsible_for
from taizhang.industries.models import IndustryCode, ServiceCategory
from taizhang.regions.models import Region, RoadSection

from . import selectors, services
from .forms import PLACE_LEVELS, READERS, WRITERS, FilterForm, editable_fields_for
from .models import Establishment, EstablishmentKind, Status
from .services import EDITABLE_FIELDS

EDITORS = WRITERS | {Role.ENTERPRISE}

# --- serializers ----------------------------------------------------------------------------------


class _Named(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EstablishmentSerializer(serializers.ModelSerializer[Establishment]):
    """An establishment as the API shows it: personal fields masked (138****0018)."""

    kind = serializers.CharField(source="kind.code")
    kind_name = serializers.CharField(source="kind.name")
    category = serializers.IntegerField(source="category_id", allow_null=True)
    category_name = serializers.CharField(source="category.name", allow_null=True, default=None)
    industry = serializers.CharField(source="industry.code", allow_null=True, default=None)
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.display_name")
    region_code = serializers.CharField(source="region.code")
    road_section = serializers.IntegerField(source="road_section_id", allow_null=True)
    road_section_name = serializers.CharField(source="road_section.name", allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display")
    legal_representative = serializers.SerializerMethodField(help_text="脱敏显示")
    contact_name = serializers.SerializerMethodField(help_text="脱敏显示")
    contact_mobile = serializers.SerializerMethodField(help_text="脱敏显示，如 138****0018")

    class Meta:
        model = Establishment
        fields = [
            "id",
            "credit_code",
            "name",
            "kind",
            "kind_name",
            "category",
            "category_name",
            "industry",
            "region",
            "region_name",
            "region_code",
            "road_section",
            "road_section_name",
            "address",
            "latitude",
            "longitude",
            "legal_representative",
            "contact_name",
            "contact_mobile",
            "employees",
            "above_size",
            "key_target",
            "status",
            "status_label",
            "status_since",
            "resumed_on",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_legal_representative(self, obj: Establishment) -> str:
        return mask_field(obj, "legal_representative")

    def get_contact_name(self, obj: Establishment) -> str:
        return mask_field(obj, "contact_name")

    def get_contact_mobile(self, obj: Establishment) -> str:
        return mask_field(obj, "contact_mobile")


class EstablishmentRowSerializer(EstablishmentSerializer):
    holder = serializers.SerializerMethodField(help_text="包联人员")

    class Meta(EstablishmentSerializer.Meta):
        fields = [*EstablishmentSerializer.Meta.fields, "holder"]

    def get_holder(self, obj: Establishment) -> dict[str, Any] | None:
        user = self.context.get("holders", {}).get(obj.pk)
        return {"id": user.pk, "name": user.display_name or user.username} if user is not None else None


class PersonSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, obj: Any) -> str:
        return str(obj.display_name or obj.username)


class LinkSerializer(serializers.Serializer[Link]):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    unit = _Named(allow_null=True)
    people = PersonSerializer(many=True)
    since = serializers.DateField(allow_null=True)


class ResponsibilitySerializer(serializers.Serializer[Any]):
    on = serializers.DateField()
    territorial = LinkSerializer(many=True, help_text="属地责任")
    sectoral = LinkSerializer(many=True, help_text="行业责任")
    gaps = serializers.ListField(child=serializers.CharField(), help_text="尚未落实的环节")


class EstablishmentDetailSerializer(EstablishmentSerializer):
    responsibility = serializers.SerializerMethodField()

    class Meta(EstablishmentSerializer.Meta):
        fields = [*EstablishmentSerializer.Meta.fields, "responsibility"]

    @extend_schema_field(ResponsibilitySerializer)
    def get_responsibility(self, obj: Establishment) -> dict[str, Any]:
        return dict(ResponsibilitySerializer(responsible_for(obj)).data)


class EstablishmentWriteSerializer(serializers.Serializer[Any]):
    """Create (all required fields) or PATCH (any subset, plus `version`)."""

    name = serializers.CharField(max_length=120)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True)
    kind = serializers.SlugRelatedField(
        slug_field="code", queryset=EstablishmentKind.objects.all(), help_text="类型编号，如 shop"
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), required=False, allow_null=True
    )
    industry = serializers.SlugRelatedField(
        slug_field="code", queryset=IndustryCode.objects.all(), required=False, allow_null=True, help_text="GB/T 4754-2017 代码"
    )
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.none(), help_text="社区/村或网格的区划 ID")
    road_section = serializers.PrimaryKeyRelatedField(queryset=RoadSection.objects.all(), required=False, allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    legal_representative = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_mobile = serializers.CharField(max_length=20, required=False, allow_blank=True)
    employees = serializers.IntegerField(min_value=0, required=False)
    above_size = serializers.BooleanField(required=False)
    key_target = serializers.BooleanField(required=False)
    version = serializers.IntegerField(required=False, help_text="修改时必填：读取时的版本号（乐观锁）")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.context.get("user")
        region_field: Any = self.fields["region"]
        region_field.queryset = (
            Region.objects.visible_to(user).filter(level__in=list(PLACE_LEVELS)) if user else Region.objects.none()
        )


class TransitionSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(choices=Status.choices, help_text="目标状态")
    on = serializers.DateField(required=False, allow_null=True, help_text="状态日期，默认今天")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RevealSerializer(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=list(Establishment.SENSITIVE_FIELDS))
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


REVEALED = inline_serializer("Revealed", {"field": serializers.CharField(), "value": serializers.CharField()})
ERROR = OpenApiResponse(description='{"error": {"code", "message", "detail"}}')

# --- views ----------------------------------------------------------------------------------------


class _MethodRoles(APIView):
    """Read for READERS; writes for the roles named per method (declared, so the architecture test sees them)."""

    permission_classes = [roles_permission(READERS)]
    write_permission: type[BasePermission] = roles_permission(WRITERS)

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method in ("POST", "PATCH", "PUT", "DELETE"):
            return [self.write_permission()]
        return super().get_permissions()


LIST_PARAMETERS = [
    OpenApiParameter("q", str, description="名称、统一社会信用代码、拼音首字母（如 ghl）或手机号"),
    OpenApiParameter("region", int, description="区划 ID（含下级）"),
    OpenApiParameter("kind", str, description="类型编号"),
    OpenApiParameter("category", int, description="行业类别 ID（大类含其小类）"),
    OpenApiParameter("status", str, enum=Status.values, description="状态"),
    OpenApiParameter("above_size", bool, description="仅限上企业"),
    OpenApiParameter("key_target", bool, description="仅重点帮扶"),
    OpenApiParameter("responsible", int, description="包联人员（用户 ID）"),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="每页条数，最多 200"),
]


class ListPagination(Pagination):
    max_page_size = 200


class EstablishmentListApi(_MethodRoles):
    @extend_schema(summary="单位台账列表", parameters=LIST_PARAMETERS, responses=EstablishmentRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = request.query_params.copy()
        for flag in ("above_size", "key_target"):
            if params.get(flag) in ("true", "True", "1"):
                params[flag] = "on"
            else:
                params.pop(flag, None)
        filters = FilterForm(params, user=request.user).selector_filters()
        qs = selectors.establishment_list(user=request.user, filters=filters).select_related("industry")
        paginator = ListPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        holders = selectors.holders_for([e.pk for e in page])
        return paginator.get_paginated_response(EstablishmentRowSerializer(page, many=True, context={"holders": holders}).data)

    @extend_schema(
        summary="登记单位",
        request=EstablishmentWriteSerializer,
        responses={201: EstablishmentDetailSerializer, 400: ERROR},
    )
    def post(self, request: Request) -> Response:
        s = EstablishmentWriteSerializer(data=request.data, context={"user": request.user})
        s.is_valid(raise_exception=True)
        data = {k: v for k, v in s.validated_data.items() if k != "version"}
        est = services.establishment_create(actor=request.user, data=data)
        try:
            est = selectors.access_establishment(request.user, est.pk)
        except NotVisible:  # registered outside the caller's own scope: answer with the id only
            return Response({"id": est.pk}, status=status.HTTP_201_CREATED)
        return Response(EstablishmentDetailSerializer(est).data, status=status.HTTP_201_CREATED)


class EstablishmentDetailApi(_MethodRoles):
    write_permission = roles_permission(EDITORS)

    @extend_schema(summary="单位详情（含包联责任）", responses={200: EstablishmentDetailSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        est = selectors.access_establishment(request.user, pk)
        return Response(EstablishmentDetailSerializer(est).data)

    @extend_schema(
        summary="修改单位（乐观锁：须带 version）",
        request=EstablishmentWriteSerializer,
        responses={200: EstablishmentDetailSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, pk: int) -> Response:
        est = selectors.access_establishment(request.user, pk)
        s = EstablishmentWriteSerializer(data=request.data, partial=True, context={"user": request.user})
        s.is_valid(raise_exception=True)
        patch = dict(s.validated_data)
        version = patch.pop("version", None)
        if version is None:
            raise ApplicationError("请提供读取时的版本号 version", code="invalid", extra={"version": ["必填"]})
        allowed = editable_fields_for(request.user)
        if allowed is not None and set(patch) - set(allowed):
            raise PermissionDenied("只能修改联系人和联系电话")
        # The whole record is validated together (e.g. a road section must lie in the region's sub-district).
        data = {f: getattr(est, f) for f in EDITABLE_FIELDS}
        data.update(patch)
        est = services.establishment_update(establishment=est, actor=request.user, data=data, expected_version=version)
        return Response(EstablishmentDetailSerializer(selectors.access_establishment(request.user, est.pk)).data)


class EstablishmentTransitionApi(_MethodRoles):
    @extend_schema(
        summary="状态变更", request=TransitionSerializer, responses={200: EstablishmentDetailSerializer, 400: ERROR, 404: ERROR}
    )
    def post(self, request: Request, pk: int) -> Response:
        est = selectors.access_establishment(request.user, pk)
        s = TransitionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.establishment_transition(
            establishment=est,
            to=s.validated_data["to"],
            actor=request.user,
            on=s.validated_data.get("on"),
            note=s.validated_data["note"],
        )
        return Response(EstablishmentDetailSerializer(selectors.access_establishment(request.user, pk)).data)


class EstablishmentRevealApi(_MethodRoles):
    write_permission = roles_permission(READERS)

    @extend_schema(
        summary="查看完整个人信息（每次记入审计日志）",
        request=RevealSerializer,
        responses={200: REVEALED, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        est = selectors.access_establishment(request.user, pk)
        s = RevealSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        value = reveal(user=request.user, obj=est, field_name=s.validated_data["field"], reason=s.validated_data["reason"])
        return Response({"field": s.validated_data["field"], "value": value}, headers={"Cache-Control": "no-store"})
