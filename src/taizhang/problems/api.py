"""The problem ledger's REST API: the same selectors and services as the pages, the same scope.

Errors go through the project's handler: ApplicationError → 400, ConflictError → 409 (optimistic locking:
send the `version` you read as `expected_version`), out of scope or missing → 404.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.accounts.models import OrgUnit, User
from taizhang.core.drf import Pagination, roles_permission
from taizhang.core.errors import NotVisible
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment
from taizhang.regions.models import Region

from . import selectors, services
from .models import Problem, ProblemCategory, ProblemEvent, ProblemTask, Severity, Source, State
from .scoping import ACTING_ROLES, READER_ROLES, REPORTING_ROLES

READ = roles_permission(READER_ROLES)
REPORT = roles_permission(REPORTING_ROLES)
ACT = roles_permission(ACTING_ROLES)


class CategorySerializer(serializers.ModelSerializer[ProblemCategory]):
    class Meta:
        model = ProblemCategory
        fields = ["code", "name", "description", "sla_days", "routing"]


class ProblemSerializer(serializers.ModelSerializer[Problem]):
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    establishment_name = serializers.CharField(read_only=True, default=None)
    region_name = serializers.CharField(source="region.display_name", read_only=True)
    unit_name = serializers.SerializerMethodField()
    assignee_name = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            "id",
            "code",
            "state",
            "state_label",
            "category",
            "category_name",
            "source",
            "severity",
            "establishment",
            "establishment_name",
            "region",
            "region_name",
            "address",
            "latitude",
            "longitude",
            "unit",
            "unit_name",
            "assignee",
            "assignee_name",
            "due_at",
            "overdue",
            "escalation_level",
            "rectification",
            "rectification_due",
            "created_at",
            "closed_at",
            "merged_into",
            "version",
        ]

    def get_unit_name(self, obj: Problem) -> str | None:
        return obj.unit.name if obj.unit else None

    def get_assignee_name(self, obj: Problem) -> str | None:
        return str(obj.assignee) if obj.assignee else None

    def get_overdue(self, obj: Problem) -> bool:
        return obj.is_overdue()


class EventSerializer(serializers.ModelSerializer[ProblemEvent]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    unit_name = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = ProblemEvent
        fields = [
            "id",
            "at",
            "kind",
            "kind_label",
            "actor_name",
            "unit",
            "unit_name",
            "from_state",
            "to_state",
            "note",
            "data",
            "attachments",
        ]

    def get_unit_name(self, obj: ProblemEvent) -> str | None:
        return obj.unit.name if obj.unit else None

    def get_attachments(self, obj: ProblemEvent) -> list[dict[str, Any]]:
        from django.urls import reverse

        known = self.context.get("attachments")  # by event id, for events just written (see _created)
        return [
            {
                "id": a.pk,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "url": reverse("problems:attachment", args=[a.pk]),
            }
            for a in (known[obj.pk] if known is not None else obj.attachments.all())
        ]


class TaskSerializer(serializers.ModelSerializer[ProblemTask]):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    replied_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ProblemTask
        fields = ["id", "unit", "unit_name", "text", "due_at", "state", "created_at", "reply", "replied_at", "replied_by_name"]

    def get_replied_by_name(self, obj: ProblemTask) -> str | None:
        return str(obj.replied_by) if obj.replied_by else None


class ProblemDetailSerializer(ProblemSerializer):
    events = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "description", "events", "tasks"]

    def get_events(self, obj: Problem) -> list[dict[str, Any]]:
        track = self.context.get("track")
        events = track if track is not None else selectors.problem_track(problem=obj)
        return list(EventSerializer(events, many=True, context=self.context).data)

    def get_tasks(self, obj: Problem) -> list[dict[str, Any]]:
        tasks = self.context.get("tasks")
        return list(TaskSerializer(tasks if tasks is not None else selectors.problem_tasks(problem=obj), many=True).data)


class ReportInput(serializers.Serializer[Any]):
    category = serializers.SlugField(help_text="问题类别编号，见 /api/v1/problem-categories")
    description = serializers.CharField(max_length=5000)
    establishment = serializers.IntegerField(required=False, allow_null=True)
    region = serializers.IntegerField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.VISIT)  # type: ignore[assignment]
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.NORMAL)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    idempotency_key = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="重复提交返回同一问题；也可用 Idempotency-Key 请求头"
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class TransitionInput(serializers.Serializer[Any]):
    to = serializers.ChoiceField(choices=State.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="读取时的 version；他人已处理时返回 409"
    )


class CommentInput(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ReassignInput(serializers.Serializer[Any]):
    unit = serializers.IntegerField()
    assignee = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=2000)
    expected_version = serializers.IntegerField(required=False, allow_null=True)


class TaskInput(serializers.Serializer[Any]):
    unit = serializers.IntegerField()
    text = serializers.CharField(max_length=2000)
    due_at = serializers.DateTimeField(required=False, allow_null=True)


class ReplyInput(serializers.Serializer[Any]):
    reply = serializers.CharField(max_length=2000)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _files(request: Request, name: str = "photos") -> list[Any]:
    return list(request.FILES.getlist(name)) if request.FILES else []


def _detail(request: Request, problem: Problem, status_code: int = status.HTTP_200_OK) -> Response:
    fresh = selectors.access_problem(request.user, problem.pk)
    return Response(ProblemDetailSerializer(fresh).data, status=status_code)


def _created(request: Request, problem: Problem) -> Response:
    """201 with the document GET /problems/<id> answers, built from the rows problem_report has just written
    instead of read back (test_api pins that the two are the same JSON). Reading it back would check the scope:
    a reporter always sees their own problem when they see problems at all (problems/scoping.py), and a new
    problem has no coordination tasks. Anything else (a problem someone else created first) is read back."""
    written = services.written_track(problem)
    if written is None or problem.reporter_id != request.user.pk or not scope_of(request.user).reads_personal_data:
        return _detail(request, problem, status.HTTP_201_CREATED)
    context = {"track": [e for e, _ in written], "attachments": {e.pk: files for e, files in written}, "tasks": []}
    return Response(ProblemDetailSerializer(problem, context=context).data, status=status.HTTP_201_CREATED)


class CategoryListApi(APIView):
    permission_classes = [READ]

    @extend_schema(summary="问题类别", responses=CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(CategorySerializer(selectors.categories(), many=True).data)


class ProblemListApi(APIView):
    permission_classes = [READ]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_permissions(self) -> list[BasePermission]:
        return [REPORT()] if self.request.method == "POST" else [READ()]

    @extend_schema(
        summary="可见问题列表",
        parameters=[
            OpenApiParameter("queue", str, enum=list(selectors.QUEUES), description="队列：all/mine/unit/verify/overdue/watch"),
            OpenApiParameter("state", str, description="状态，或 open（未办结）、done（已办结）"),
            OpenApiParameter("category", str, description="问题类别编号"),
            OpenApiParameter("region", int, description="区划 ID（含下级）"),
            OpenApiParameter("q", str, description="编号、描述、地点或单位名称"),
        ],
        responses=ProblemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        queue = params.get("queue", "all")
        filters: dict[str, Any] = {"state": params.get("state") or None, "q": params.get("q", "")}
        if code := params.get("category"):
            filters["category"] = ProblemCategory.objects.filter(code=code).first() or -1
        if (region := params.get("region")) and region.isdigit():
            filters["region"] = Region.objects.visible_to(request.user).filter(pk=int(region)).first() or "/none/"
        qs = selectors.problem_list(user=request.user, queue=queue if queue in selectors.QUEUES else "all", filters=filters)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ProblemSerializer(page, many=True).data)

    @extend_schema(
        summary="上报问题（立即分派）",
        request=ReportInput,
        responses={201: ProblemDetailSerializer, 200: ProblemDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        d = _valid(ReportInput, request)
        category = ProblemCategory.objects.filter(code=d["category"]).first()
        if category is None:
            raise serializers.ValidationError({"category": ["问题类别不存在"]})
        establishment = Establishment.objects.filter(pk=d["establishment"]).first() if d.get("establishment") else None
        region = Region.objects.filter(pk=d["region"]).first() if d.get("region") else None
        if (d.get("establishment") and establishment is None) or (d.get("region") and region is None):
            raise NotVisible("单位或区划")
        key = d.get("idempotency_key") or request.headers.get("Idempotency-Key") or None
        before = Problem.objects.filter(idempotency_key=key).exists() if key else False
        problem = services.problem_report(
            reporter=request.user,
            source=d["source"],
            category=category,
            description=d["description"],
            establishment=establishment,
            region=region,
            address=d.get("address", ""),
            latitude=d.get("latitude"),
            longitude=d.get("longitude"),
            severity=d["severity"],
            photos=d.get("photos") or _files(request),
            idempotency_key=key,
        )
        return _detail(request, problem) if before else _created(request, problem)


class ProblemDetailApi(APIView):
    permission_classes = [READ]

    @extend_schema(summary="问题详情（含全程跟踪记录与协调事项）", responses=ProblemDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, selectors.access_problem(request.user, pk))


class ProblemTransitionApi(APIView):
    permission_classes = [ACT]

    @extend_schema(
        summary="办理：签收、办结、退回、核验、销号、重新办理", request=TransitionInput, responses=ProblemDetailSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        problem = selectors.access_problem(request.user, pk)
        d = _valid(TransitionInput, request)
        problem = services.problem_transition(
            problem=problem, to=d["to"], actor=request.user, note=d["note"], expected_version=d.get("expected_version")
        )
        return _detail(request, problem)


class ProblemReassignApi(APIView):
    permission_classes = [ACT]

    @extend_schema(summary="改派", request=ReassignInput, responses=ProblemDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        problem = selectors.access_problem(request.user, pk)
        d = _valid(ReassignInput, request)
        unit = get_object_or_404(OrgUnit, pk=d["unit"])
        assignee = get_object_or_404(User, pk=d["assignee"]) if d.get("assignee") else None
        problem = services.problem_reassign(
            problem=problem,
            unit=unit,
            assignee=assignee,
            actor=request.user,
            reason=d["reason"],
            expected_version=d.get("expected_version"),
        )
        return _detail(request, problem)


class ProblemCommentApi(APIView):
    permission_classes = [REPORT]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(summary="备注（可附照片）", request=CommentInput, responses={201: EventSerializer})
    def post(self, request: Request, pk: int) -> Response:
        problem = selectors.access_problem(request.user, pk)
        d = _valid(CommentInput, request)
        event = services.problem_comment(
            problem=problem, actor=request.user, note=d["note"], photos=d.get("photos") or _files(request)
        )
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)


class ProblemTaskApi(APIView):
    permission_classes = [READ]

    def get_permissions(self) -> list[BasePermission]:
        return [ACT()] if self.request.method == "POST" else [READ()]

    @extend_schema(summary="协调事项", responses=TaskSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        problem = selectors.access_problem(request.user, pk)
        return Response(TaskSerializer(selectors.problem_tasks(problem=problem), many=True).data)

    @extend_schema(summary="发起协调", request=TaskInput, responses={201: TaskSerializer})
    def post(self, request: Request, pk: int) -> Response:
        problem = selectors.access_problem(request.user, pk)
        d = _valid(TaskInput, request)
        unit = get_object_or_404(OrgUnit, pk=d["unit"])
        task = services.problem_add_task(problem=problem, unit=unit, text=d["text"], actor=request.user, due_at=d.get("due_at"))
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskReplyApi(APIView):
    permission_classes = [ACT]

    @extend_schema(summary="答复协调事项", request=ReplyInput, responses=TaskSerializer)
    def post(self, request: Request, pk: int, task_pk: int) -> Response:
        task = selectors.access_task(request.user, task_pk)
        if task.problem_id != pk:
            raise NotVisible("协调事项")
        d = _valid(ReplyInput, request)
        task = services.task_reply(task=task, actor=request.user, reply=d["reply"])
        return Response(TaskSerializer(task).data)
