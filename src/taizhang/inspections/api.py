"""The REST API of checklists, visits and campaigns: the same selectors, services and scope as the pages.

POST /visits is idempotent by `key` (201 the first time, 200 with the same record afterwards). Answers come as a
JSON object {item code: value}; photos as multipart files named `photo.<item code>` (or `photo` for the scene),
with the other fields as form fields and `answers`/`notes` as JSON strings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.accounts.models import OrgUnit, User
from taizhang.core.drf import Pagination, roles_permission
from taizhang.core.errors import ApplicationError, NotVisible

from . import checklist, selectors, services
from .models import Campaign, CampaignState, CampaignTarget, ChecklistItem, ChecklistTemplate, ShareRule, TemplateVersion, Visit
from .scoping import ACTING_ROLES, EDITOR_ROLES, MANAGER_ROLES, READER_ROLES, TEMPLATE_READER_ROLES

ERROR = OpenApiResponse(description='{"error": {"code", "message", "detail"}}')

# --- serializers ----------------------------------------------------------------------------------


class ItemSerializer(serializers.ModelSerializer[ChecklistItem]):
    problem_category = serializers.CharField(source="problem_category.code", allow_null=True, default=None)
    rule = serializers.SerializerMethodField(help_text="不合格条件（文字）")

    class Meta:
        model = ChecklistItem
        fields = [
            "code", "position", "label", "type", "required", "help_text", "options", "min_value", "max_value", "unit",
            "fail_op", "fail_value", "problem_category", "rule",
        ]  # fmt: skip

    def get_rule(self, obj: ChecklistItem) -> str:
        return checklist.describe_rule(obj)


class VersionSerializer(serializers.ModelSerializer[TemplateVersion]):
    template = serializers.CharField(source="template.code")
    template_name = serializers.CharField(source="template.name")
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["id", "template", "template_name", "number", "note", "published_at", "created_at", "items"]


class VersionRowSerializer(serializers.ModelSerializer[TemplateVersion]):
    class Meta:
        model = TemplateVersion
        fields = ["id", "number", "note", "published_at", "created_at"]


class TemplateSerializer(serializers.ModelSerializer[ChecklistTemplate]):
    versions = VersionRowSerializer(many=True, read_only=True)
    visit_kind = serializers.CharField(help_text="记录类型：visit 走访 / inspection 巡查 / supervision 督导")

    class Meta:
        model = ChecklistTemplate
        fields = ["id", "code", "name", "subject_type", "subject_kinds", "visit_kind", "description", "is_active", "versions"]


class ItemDefinitionSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=32)
    label = serializers.CharField(max_length=200)  # type: ignore[assignment]  # a declared field, not Field.label
    type = serializers.CharField()
    required = serializers.BooleanField(default=True)  # type: ignore[assignment]
    help_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    options = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    min_value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True, default=None)
    max_value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True, default=None)
    unit = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    fail_op = serializers.CharField(required=False, allow_blank=True, default="")
    fail_value = serializers.JSONField(required=False, allow_null=True, default=None)
    problem_category = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="问题类别编号"
    )


class TemplateWriteSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=40, required=False, help_text="新建时必填")
    name = serializers.CharField(max_length=60, required=False)
    subject_type = serializers.CharField(required=False)
    subject_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    visit_kind = serializers.CharField(required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    publish = serializers.BooleanField(default=True, help_text="false：保存为草稿")
    items = ItemDefinitionSerializer(many=True)


class UnitRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class StaffRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, obj: User) -> str:
        return str(obj.display_name or obj.username)


class AnswerOutSerializer(serializers.Serializer[Any]):
    item = serializers.CharField(source="item.code")
    label = serializers.CharField(source="item.label")  # type: ignore[assignment]
    value = serializers.JSONField()
    shown = serializers.SerializerMethodField()
    failed = serializers.BooleanField()
    note = serializers.CharField()
    problem = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    def get_shown(self, obj: Any) -> str:
        return checklist.display(obj.item, obj.value)

    def get_problem(self, obj: Any) -> dict[str, Any] | None:
        p = obj.problem
        if p is None:
            return None
        return {"id": p.pk, "code": p.code, "state": p.state, "unit": p.unit.name if p.unit else None}

    def get_photos(self, obj: Any) -> list[str]:
        return [f"/inspections/photos/{p.pk}/" for p in obj.photos.all()]


class VisitSerializer(serializers.ModelSerializer[Visit]):
    template = serializers.CharField(source="version.template.code")
    version = serializers.IntegerField(source="version.number")
    establishment = serializers.IntegerField(source="establishment_id", allow_null=True)
    subject_name = serializers.CharField()
    unit = UnitRefSerializer()
    result_label = serializers.CharField(source="get_result_display")

    class Meta:
        model = Visit
        fields = [
            "id", "key", "kind", "template", "version", "campaign", "target", "subject_type", "establishment", "subject_name",
            "region", "unit", "staff_count", "extra_people", "visited_at", "created_at", "latitude", "longitude", "accuracy_m",
            "result", "result_label", "failed_count", "helped", "help_note", "note",
        ]  # fmt: skip


class VisitDetailSerializer(VisitSerializer):
    staff = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()

    class Meta(VisitSerializer.Meta):
        fields = [*VisitSerializer.Meta.fields, "staff", "answers"]

    def get_staff(self, obj: Visit) -> list[dict[str, Any]]:
        return list(StaffRefSerializer(selectors.visit_staff(obj), many=True).data)

    def get_answers(self, obj: Visit) -> list[dict[str, Any]]:
        return list(AnswerOutSerializer(selectors.visit_answers(obj), many=True).data)


class VisitWriteSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(max_length=64, help_text="客户端生成的提交标识（如 UUID）；重复提交同一标识只记一次")
    target = serializers.IntegerField(required=False, allow_null=True, help_text="专项行动的检查对象 ID")
    establishment = serializers.IntegerField(required=False, allow_null=True, help_text="无检查对象时：单位 ID")
    version = serializers.IntegerField(required=False, allow_null=True, help_text="检查表版本 ID")
    unit = serializers.IntegerField(required=False, allow_null=True, help_text="代表的单位（多个岗位时）")
    answers = serializers.JSONField(default=dict, help_text="{检查项编号: 回答}")
    notes = serializers.JSONField(default=dict, help_text="{检查项编号: 情况说明}")
    staff = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, help_text="同行人员用户 ID")
    extra_people = serializers.IntegerField(min_value=0, max_value=50, default=0)
    visited_at = serializers.DateTimeField(required=False, allow_null=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    accuracy = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    absent = serializers.BooleanField(default=False)
    helped = serializers.BooleanField(default=False)
    help_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_answers(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                raise serializers.ValidationError("answers 应为 JSON 对象") from None
        if not isinstance(value, dict):
            raise serializers.ValidationError("answers 应为 JSON 对象")
        return value

    validate_notes = validate_answers


class ProgressRowSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    total = serializers.IntegerField()
    covered = serializers.IntegerField()
    percent = serializers.IntegerField()
    findings = serializers.IntegerField()
    problems = serializers.IntegerField()
    problems_open = serializers.IntegerField()


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    template = serializers.CharField(source="version.template.code")
    version = serializers.IntegerField(source="version.number")
    version_id = serializers.IntegerField()
    unit = UnitRefSerializer()
    region = serializers.IntegerField(source="region_id")

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "description", "template", "version", "version_id", "unit", "region", "standing", "starts_on",
            "ends_on", "rule", "share", "state", "started_at", "closed_at",
        ]  # fmt: skip


class CampaignWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.PrimaryKeyRelatedField(queryset=TemplateVersion.objects.select_related("template"))
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    region = serializers.IntegerField(required=False, help_text="范围：一个区划 ID")
    regions = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="或多个区划 ID（如文峰区和高新区）"
    )
    standing = serializers.BooleanField(default=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    rule = serializers.JSONField(
        default=dict, help_text='{"kinds": [], "categories": [], "statuses": [], "above_size": null, "key_target": null}'
    )
    share = serializers.ChoiceField(choices=ShareRule.choices, default=ShareRule.REGION)
    teams = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.filter(is_active=True), many=True)


class TargetSerializer(serializers.ModelSerializer[CampaignTarget]):
    establishment = serializers.IntegerField(source="establishment_id")
    name = serializers.CharField(source="subject_name")
    kind = serializers.CharField(source="establishment.kind.code")
    team = UnitRefSerializer()
    region_name = serializers.CharField(source="region.display_name")

    class Meta:
        model = CampaignTarget
        fields = [
            "id", "campaign", "establishment", "name", "kind", "region", "region_name", "team", "active", "covered_at",
            "last_visit_at", "last_result", "visits_count", "findings_count",
        ]  # fmt: skip


FIGURE_ROW = inline_serializer(
    "FigureRow",
    {"key": serializers.CharField(), "label": serializers.CharField(), "visits": serializers.IntegerField(),
     "person_times": serializers.IntegerField(), "helped": serializers.IntegerField()},
)  # fmt: skip

# --- views ----------------------------------------------------------------------------------------


class _MethodRoles(APIView):
    """Reads for `permission_classes`; writes for the roles named per method (declared, so the architecture test sees them)."""

    permission_classes = [roles_permission(READER_ROLES)]
    write_permission: type[BasePermission] = roles_permission(ACTING_ROLES)

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method in ("POST", "PATCH", "PUT", "DELETE"):
            return [self.write_permission()]
        return super().get_permissions()


class TemplateListApi(_MethodRoles):
    permission_classes = [roles_permission(TEMPLATE_READER_ROLES)]
    write_permission = roles_permission(EDITOR_ROLES)

    @extend_schema(summary="检查表列表（含各版本）", responses=TemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(TemplateSerializer(selectors.template_list(include_inactive=True), many=True).data)

    @extend_schema(summary="新建检查表（第1版）", request=TemplateWriteSerializer, responses={201: VersionSerializer, 400: ERROR})
    def post(self, request: Request) -> Response:
        s = TemplateWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        meta = {k: d[k] for k in ("name", "subject_type", "subject_kinds", "visit_kind", "description") if k in d}
        version = services.template_create(
            actor=request.user, code=d.get("code", ""), data=meta, items=d["items"], publish=d["publish"], note=d["note"]
        )
        return Response(VersionSerializer(selectors.access_version(version.pk)).data, status=status.HTTP_201_CREATED)


class TemplateDetailApi(_MethodRoles):
    permission_classes = [roles_permission(TEMPLATE_READER_ROLES)]
    write_permission = roles_permission(EDITOR_ROLES)

    @extend_schema(summary="检查表详情", responses={200: TemplateSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        return Response(TemplateSerializer(selectors.access_template(pk)).data)

    @extend_schema(
        summary="修订检查表：生成下一版本（publish=false 时保存为草稿）",
        operation_id="checklists_revise",
        request=TemplateWriteSerializer,
        responses={201: VersionSerializer, 400: ERROR, 404: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        template = selectors.access_template(pk)
        s = TemplateWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        meta = {k: d[k] for k in ("name", "subject_type", "subject_kinds", "visit_kind", "description") if k in d}
        if d["publish"]:
            version = services.template_revise(actor=request.user, template=template, items=d["items"], note=d["note"], data=meta)
        else:
            version = services.template_save_draft(
                actor=request.user, template=template, items=d["items"], note=d["note"], data=meta
            )
        return Response(VersionSerializer(selectors.access_version(version.pk)).data, status=status.HTTP_201_CREATED)


class VersionDetailApi(_MethodRoles):
    permission_classes = [roles_permission(TEMPLATE_READER_ROLES)]

    @extend_schema(summary="检查表版本及其检查项", responses={200: VersionSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        return Response(VersionSerializer(selectors.access_version(pk)).data)


VISIT_PARAMETERS = [
    OpenApiParameter("campaign", int),
    OpenApiParameter("unit", int, description="出动单位 ID"),
    OpenApiParameter("establishment", int),
    OpenApiParameter("result", str),
    OpenApiParameter("kind", str),
    OpenApiParameter("start", date),
    OpenApiParameter("end", date),
    OpenApiParameter("page", int),
]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        raise ApplicationError(f"日期格式无效：{value}", code="invalid") from None


class VisitListApi(_MethodRoles):
    @extend_schema(summary="走访巡查记录", parameters=VISIT_PARAMETERS, responses=VisitSerializer(many=True))
    def get(self, request: Request) -> Response:
        p = request.query_params
        filters: dict[str, Any] = {k: p.get(k) for k in ("campaign", "unit", "establishment", "result", "kind") if p.get(k)}
        filters["start"], filters["end"] = _date(p.get("start")), _date(p.get("end"))
        qs = selectors.visit_list(user=request.user, filters=filters)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(VisitSerializer(page, many=True).data)

    @extend_schema(
        summary="提交走访巡查（按 key 幂等：首次 201，重复提交 200 返回同一记录）",
        request=VisitWriteSerializer,
        responses={201: VisitDetailSerializer, 200: VisitDetailSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        s = VisitWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        target = selectors.access_target(request.user, d["target"]) if d.get("target") else None
        establishment = None
        if target is None and d.get("establishment"):
            establishment = (
                selectors.establishments_for_visit(request.user).select_related("kind").filter(pk=d["establishment"]).first()
            )
            if establishment is None:
                raise NotVisible("单位")
        version = selectors.access_version(d["version"]) if d.get("version") else None
        unit = OrgUnit.objects.filter(pk=d["unit"]).first() if d.get("unit") else None
        staff = list(User.objects.filter(pk__in=d.get("staff") or []))
        photos: dict[str, list[Any]] = {}
        for name in request.FILES:
            if name == "photo" or name.startswith("photo."):
                photos[name[6:]] = request.FILES.getlist(name)
        submitted = services.visit_submit(
            actor=request.user,
            key=d["key"],
            target=target,
            establishment=establishment,
            version=version,
            unit=unit,
            answers=d["answers"],
            notes=d["notes"],
            photos=photos,
            staff=staff,
            extra_people=d["extra_people"],
            visited_at=d.get("visited_at"),
            latitude=d.get("latitude"),
            longitude=d.get("longitude"),
            accuracy=d.get("accuracy"),
            absent=d["absent"],
            helped=d["helped"],
            help_note=d["help_note"],
            note=d["note"],
        )
        visit = selectors.access_visit(request.user, submitted.visit.pk)
        return Response(
            VisitDetailSerializer(visit).data, status=status.HTTP_201_CREATED if submitted.created else status.HTTP_200_OK
        )


class VisitDetailApi(_MethodRoles):
    @extend_schema(summary="走访巡查记录详情（按填写时的检查表版本）", responses={200: VisitDetailSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        return Response(VisitDetailSerializer(selectors.access_visit(request.user, pk)).data)


class CampaignListApi(_MethodRoles):
    write_permission = roles_permission(MANAGER_ROLES)

    @extend_schema(
        summary="专项行动",
        parameters=[OpenApiParameter("state", str, enum=CampaignState.values)],
        responses=CampaignSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = selectors.campaign_list(user=request.user, state=request.query_params.get("state", ""))
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(CampaignSerializer(page, many=True).data)

    @extend_schema(
        summary="组织专项行动（筹备中；启动后生成检查对象）",
        request=CampaignWriteSerializer,
        responses={201: CampaignSerializer, 400: ERROR},
    )
    def post(self, request: Request) -> Response:
        from taizhang.regions.selectors import access_region

        s = CampaignWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        ids = d.pop("regions", None) or ([d["region"]] if d.get("region") else [])
        d["regions"] = [access_region(request.user, pk) for pk in ids]
        d.pop("region", None)
        teams = d.pop("teams")
        campaign = services.campaign_create(actor=request.user, data=d, teams=teams)
        return Response(
            CampaignSerializer(selectors.access_campaign(request.user, campaign.pk)).data, status=status.HTTP_201_CREATED
        )


class CampaignDetailApi(_MethodRoles):
    @extend_schema(
        summary="专项行动详情与进度（按检查组、按辖区；常态化行动按日）",
        parameters=[OpenApiParameter("day", date, description="常态化行动：统计哪一天，默认最近有巡查的一天")],
        responses={
            200: inline_serializer(
                "CampaignProgress",
                {
                    "campaign": CampaignSerializer(),
                    "day": serializers.DateField(allow_null=True),
                    "total": ProgressRowSerializer(),
                    "by_team": ProgressRowSerializer(many=True),
                    "by_region": ProgressRowSerializer(many=True),
                },
            ),
            404: ERROR,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = selectors.access_campaign(request.user, pk)
        progress = selectors.campaign_progress(campaign=campaign, user=request.user, day=_date(request.query_params.get("day")))
        return Response(
            {
                "campaign": CampaignSerializer(campaign).data,
                "day": progress.day,
                "total": ProgressRowSerializer(progress.total).data,
                "by_team": ProgressRowSerializer(progress.by_team, many=True).data,
                "by_region": ProgressRowSerializer(progress.by_region, many=True).data,
            }
        )


class CampaignActionApi(_MethodRoles):
    write_permission = roles_permission(MANAGER_ROLES)
    action = ""

    @extend_schema(request=None, responses={200: CampaignSerializer, 400: ERROR, 404: ERROR})
    def post(self, request: Request, pk: int) -> Response:
        campaign = selectors.access_campaign(request.user, pk)
        if self.action == "start":
            services.campaign_start(actor=request.user, campaign=campaign)
        elif self.action == "close":
            services.campaign_close(actor=request.user, campaign=campaign)
        else:
            services.campaign_refresh_targets(campaign=campaign, actor=request.user)
        return Response(CampaignSerializer(selectors.access_campaign(request.user, pk)).data)


class CampaignStartApi(CampaignActionApi):
    action = "start"


class CampaignCloseApi(CampaignActionApi):
    action = "close"


class CampaignRefreshApi(CampaignActionApi):
    action = "refresh"


class CampaignTargetsApi(_MethodRoles):
    @extend_schema(
        summary="专项行动的检查对象（本人可见范围）",
        parameters=[OpenApiParameter("team", int), OpenApiParameter("status", str, enum=["todo", "done", "today", "not_today"]),
                    OpenApiParameter("q", str), OpenApiParameter("page", int)],
        responses=TargetSerializer(many=True),
    )  # fmt: skip
    def get(self, request: Request, pk: int) -> Response:
        campaign = selectors.access_campaign(request.user, pk)
        p = request.query_params
        filters = {k: p.get(k) for k in ("team", "status", "q") if p.get(k)}
        qs = selectors.target_list(user=request.user, campaign=campaign, filters=filters)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(TargetSerializer(page, many=True).data)


class FiguresApi(_MethodRoles):
    @extend_schema(
        summary="出动人员人次与帮扶企业（按单位或按日）",
        parameters=[OpenApiParameter("start", date), OpenApiParameter("end", date), OpenApiParameter("unit", int),
                    OpenApiParameter("by", str, enum=["unit", "day"])],
        responses={200: inline_serializer("Figures", {"start": serializers.DateField(), "end": serializers.DateField(),
                                                      "total": FIGURE_ROW, "rows": serializers.ListField(child=FIGURE_ROW)})},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        p = request.query_params
        end = _date(p.get("end")) or timezone.localdate()
        start = _date(p.get("start")) or end
        unit = int(p["unit"]) if (p.get("unit") or "").isdigit() else None
        f = selectors.dispatch_figures(user=request.user, start=start, end=end, unit=unit, by=p.get("by") or "unit")

        def row(r: selectors.FigureRow) -> dict[str, Any]:
            return {"key": str(r.key), "label": r.label, "visits": r.visits, "person_times": r.person_times, "helped": r.helped}

        return Response({"start": f.start, "end": f.end, "total": row(f.total), "rows": [row(r) for r in f.rows]})
