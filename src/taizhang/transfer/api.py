"""REST API of imports and exports: the same services as the pages (upload → check → commit; export; poll; download)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import roles_permission
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.scoping import scope_of

from . import selectors, services
from .ledgers import ledger_class
from .models import TransferJob
from .views import TRANSFER_ROLES, XLSX
from .workbooks import template_bytes


class JobSerializer(serializers.ModelSerializer[TransferJob]):
    progress = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = TransferJob
        fields = [
            "id",
            "kind",
            "ledger",
            "mode",
            "status",
            "source",
            "file_name",
            "filters",
            "unmasked",
            "total_rows",
            "valid_rows",
            "invalid_rows",
            "written_rows",
            "problems_count",
            "problems",
            "sheet",
            "header_row",
            "ignored_columns",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
            "download",
        ]

    def get_progress(self, obj: TransferJob) -> dict[str, Any]:
        return services.read_progress(obj)

    def get_download(self, obj: TransferJob) -> str | None:
        return f"/api/v1/transfer/jobs/{obj.pk}/download" if services.result_path(obj) is not None else None


def _error(exc: ApplicationError) -> Response:
    return Response(
        {"error": {"code": exc.code, "message": exc.message, "detail": exc.extra}}, status=status.HTTP_400_BAD_REQUEST
    )


class TemplateApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(summary="下载台账导入模板（xlsx）", responses={(200, XLSX): bytes})
    def get(self, request: Request, ledger: str) -> HttpResponse:
        cls = ledger_class(ledger)
        if not (scope_of(request.user).roles & cls.import_roles):
            raise PermissionDenied("无权导入" + cls.title)
        response = HttpResponse(template_bytes(cls(user=request.user)), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{cls.code}-template.xlsx"'
        return response


class ImportApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="上传文件并检查（不写入）",
        request={"multipart/form-data": inline_serializer("ImportUpload", {"file": serializers.FileField()})},
        responses={202: JobSerializer},
    )
    def post(self, request: Request, ledger: str) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"error": {"code": "invalid", "message": "请上传文件（字段名 file）", "detail": {}}}, status=400)
        try:
            job = services.import_start(user=request.user, ledger=ledger, upload=upload, name=upload.name or "", size=upload.size)
        except ApplicationError as exc:
            return _error(exc)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class CommitApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(
        summary="导入已检查的文件：全部导入（有错则不导入），或明确选择仅导入无误的行",
        request=inline_serializer("ImportCommit", {"valid_only": serializers.BooleanField(default=False)}),
        responses={202: JobSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        source = selectors.access_job(request.user, pk)
        try:
            data: Any = request.data
            job = services.import_commit(user=request.user, source=source, valid_only=bool(data.get("valid_only", False)))
        except ApplicationError as exc:
            return _error(exc)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(
        summary="导出用户可见的台账（列表页的筛选条件；默认脱敏）",
        request=inline_serializer(
            "ExportRequest",
            {"filters": serializers.DictField(required=False), "unmasked": serializers.BooleanField(default=False)},
        ),
        responses={202: JobSerializer},
    )
    def post(self, request: Request, ledger: str) -> Response:
        data: Any = request.data
        filters = data.get("filters") or {}
        if not isinstance(filters, dict):
            return Response({"error": {"code": "invalid", "message": "filters 应为对象", "detail": {}}}, status=400)
        try:
            job = services.export_start(
                user=request.user, ledger=ledger, filters=filters, unmasked=bool(data.get("unmasked", False))
            )
        except ApplicationError as exc:
            return _error(exc)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(summary="任务状态、进度与问题清单", responses=JobSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(JobSerializer(selectors.access_job(request.user, pk)).data)


class CancelApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(summary="取消任务（已写入的内容全部撤销）", request=None, responses=JobSerializer)
    def post(self, request: Request, pk: int) -> Response:
        job = services.job_cancel(user=request.user, job=selectors.access_job(request.user, pk))
        return Response(JobSerializer(job).data)


class DownloadApi(APIView):
    permission_classes = [roles_permission(TRANSFER_ROLES)]

    @extend_schema(summary="下载导出文件或问题清单（仅任务发起人，保留24小时）", responses={(200, XLSX): bytes})
    def get(self, request: Request, pk: int) -> FileResponse:
        job = selectors.access_job(request.user, pk)
        path = services.result_path(job)
        if path is None:
            raise NotVisible("文件")
        return FileResponse(path.open("rb"), as_attachment=True, filename=job.result_name, content_type=XLSX)
