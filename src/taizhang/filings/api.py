"""The filing API: the whole flow (draft, attachments, submit, rulings, decision, queue, figures), calling the
same selectors and services as the pages, in the same scope. Errors have the one shape of api/errors.py;
a lost race is a 409 with code "conflict"."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.drf import Pagination, roles_permission
from taizhang.core.errors import ApplicationError
from taizhang.establishments.selectors import access_establishment

from . import attachments, checklist, selectors, services
from .models import Decision, Filing, FilingAttachment, FilingEvent, FilingVersion
from .scoping import EDIT_ROLES, READ_ROLES, REVIEW_ROLES

STAFF_READERS = READ_ROLES - {"enterprise"}


# --- output ---------------------------------------------------------------------------------------


class FilingSerializer(serializers.ModelSerializer[Filing]):
    establishment = serializers.SerializerMethodField()
    template = serializers.SerializerMethodField()
    reviewer_unit = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Filing
        fields = [
            "id",
            "establishment",
            "template",
            "state",
            "version",
            "revision",
            "planned_date",
            "submitted_at",
            "due_at",
            "overdue",
            "reviewer_unit",
            "decided_at",
            "updated_at",
        ]

    def get_establishment(self, obj: Filing) -> dict[str, Any]:
        return {"id": obj.establishment_id, "name": obj.establishment.name}

    def get_template(self, obj: Filing) -> dict[str, Any]:
        return {"id": obj.template_id, "code": obj.template.code, "name": obj.template.name}

    def get_reviewer_unit(self, obj: Filing) -> dict[str, Any] | None:
        return {"id": obj.reviewer_unit_id, "name": obj.reviewer_unit.name} if obj.reviewer_unit else None

    def get_overdue(self, obj: Filing) -> bool:
        return bool(obj.state == "submitted" and obj.due_at and obj.due_at < timezone.now())


class FilingAttachmentSerializer(serializers.ModelSerializer[FilingAttachment]):
    item = serializers.CharField(source="item_code")
    url = serializers.SerializerMethodField()

    class Meta:
        model = FilingAttachment
        fields = ["id", "item", "name", "content_type", "size", "sha256", "uploaded_at", "removed", "url"]

    def get_url(self, obj: FilingAttachment) -> str:
        return f"/api/v1/filings/{obj.filing_id}/attachments/{obj.pk}"


class FilingVersionSerializer(serializers.ModelSerializer[FilingVersion]):
    answers = serializers.SerializerMethodField()

    class Meta:
        model = FilingVersion
        fields = ["number", "submitted_at", "planned_date", "answers", "attachments", "rulings", "outcome", "note", "decided_at"]

    def get_answers(self, obj: FilingVersion) -> dict[str, Any]:
        return obj.answers


class FilingEventSerializer(serializers.ModelSerializer[FilingEvent]):
    actor = serializers.CharField(source="actor.__str__", default="", read_only=True)

    class Meta:
        model = FilingEvent
        fields = ["at", "kind", "version", "actor", "note", "data"]


def _detail(filing: Filing, user: Any) -> dict[str, Any]:
    view = selectors.filing_view(filing=filing, user=user, working_copy=False)
    data = dict(FilingSerializer(filing).data)
    data["answers"] = filing.answers
    data["attachments"] = FilingAttachmentSerializer(filing.attachments.all(), many=True).data
    data["versions"] = FilingVersionSerializer(view.versions, many=True).data
    data["events"] = FilingEventSerializer(list(reversed(view.events)), many=True).data
    data["changes"] = {
        iv.item.code: [{"field": c.label, "old": c.old, "new": c.new} for c in iv.changes] for iv in view.items if iv.changed
    }
    data["can"] = {"edit": view.can_edit, "review": view.can_review, "withdraw": view.can_withdraw}
    return data


# Documentation of the figures and checklist responses (plain dicts; keys such as "label", "help", "required"
# and "fields" are attributes of DRF's Field, so these are declared with inline_serializer rather than classes).


def _figure_row_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    return {
        "key": serializers.JSONField(help_text="街道/镇的区划路径，或行业大类 ID；合计行为 null"),
        "label": serializers.CharField(),
        "counts": serializers.DictField(child=serializers.IntegerField(), help_text="{状态: 单位数}"),
        "total": serializers.IntegerField(),
        "resumed_by_date": serializers.IntegerField(help_text="已复工且复工日期不晚于 on 的单位数"),
        "resumed_above_size": serializers.IntegerField(help_text="其中限上企业"),
    }


FIGURES = inline_serializer(
    name="FilingFigures",
    fields={
        "on": serializers.DateField(),
        "by": serializers.ChoiceField(choices=["subdistrict", "category"]),
        "resumed": serializers.IntegerField(help_text="截至 on 复工复产的单位数"),
        "resumed_above_size": serializers.IntegerField(help_text="其中限上企业"),
        "rows": inline_serializer(name="FilingFigureRow", fields=_figure_row_fields(), many=True),
        "totals": inline_serializer(name="FilingFigureTotals", fields=_figure_row_fields()),
    },
)
FIELD_SPEC = inline_serializer(
    name="FilingFieldSpec",
    fields={
        "name": serializers.CharField(),
        "label": serializers.CharField(),
        "type": serializers.ChoiceField(choices=["text", "textarea", "int", "bool", "date"]),
        "required": serializers.BooleanField(),
    },
    many=True,
)
TEMPLATES = inline_serializer(
    name="FilingTemplate",
    fields={
        "id": serializers.IntegerField(),
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "audience": serializers.CharField(),
        "review_days": serializers.IntegerField(),
        "kinds": serializers.ListField(child=serializers.CharField()),
        "items": inline_serializer(
            name="FilingItemSpec",
            fields={
                "code": serializers.CharField(),
                "label": serializers.CharField(),
                "help": serializers.CharField(),
                "evidence": serializers.CharField(),
                "required": serializers.BooleanField(),
                "needs_attachment": serializers.BooleanField(),
                "fields": FIELD_SPEC,
            },
            many=True,
        ),
    },
    many=True,
)


# --- input ----------------------------------------------------------------------------------------


class FilingCreateInput(serializers.Serializer[Any]):
    establishment = serializers.IntegerField()
    planned_date = serializers.DateField(required=False, allow_null=True)
    answers = serializers.DictField(required=False, help_text="{事项编号: {字段: 值}}")


class FilingUpdateInput(serializers.Serializer[Any]):
    revision = serializers.IntegerField(help_text="读取时的 revision（乐观锁）")
    planned_date = serializers.DateField(required=False, allow_null=True)
    answers = serializers.DictField(required=False)


class FilingSubmitInput(serializers.Serializer[Any]):
    version = serializers.IntegerField(required=False, help_text="要提交的版本号；同一版本重复提交返回同一结果")


class FilingRulingInput(serializers.Serializer[Any]):
    item = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class FilingRulingsInput(serializers.Serializer[Any]):
    revision = serializers.IntegerField()
    rulings = FilingRulingInput(many=True)


class FilingDecideInput(serializers.Serializer[Any]):
    revision = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FilingReviewInput(FilingRulingsInput):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FilingAttachmentInput(serializers.Serializer[Any]):
    item = serializers.CharField()
    file = serializers.FileField()


class FilingWithdrawInput(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _rulings(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["item"]: (r["decision"], r.get("comment", "")) for r in data["rulings"]}


# --- views ----------------------------------------------------------------------------------------


class FilingListApi(APIView):
    permission_classes = [roles_permission(READ_ROLES)]

    @extend_schema(
        summary="可见的复工备案",
        parameters=[
            OpenApiParameter("state", str, description="draft / submitted / returned / approved / withdrawn"),
            OpenApiParameter("overdue", bool, description="仅超过审核期限的"),
            OpenApiParameter("mine", bool, description="仅本部门审核的"),
            OpenApiParameter("q", str, description="单位名称、信用代码或拼音首字母"),
        ],
        responses=FilingSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = selectors.filing_list(user=request.user, filters={k: request.query_params.get(k, "") for k in selectors.FILTERS})
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(FilingSerializer(page, many=True).data)

    @extend_schema(summary="新建备案草稿", request=FilingCreateInput, responses={201: FilingSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(FilingCreateInput, request)
        est = access_establishment(request.user, data["establishment"])
        filing = services.filing_create(
            establishment=est, actor=request.user, planned_date=data.get("planned_date"), answers=data.get("answers")
        )
        return Response(_detail(selectors.access_filing(request.user, filing.pk), request.user), status=status.HTTP_201_CREATED)


class FilingDetailApi(APIView):
    permission_classes = [roles_permission(READ_ROLES)]

    @extend_schema(summary="备案详情（含各版本、逐项意见、与上一版的差异、办理记录）", responses=FilingSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))

    @extend_schema(summary="保存草稿（乐观锁：须带 revision）", request=FilingUpdateInput, responses=FilingSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingUpdateInput, request)
        kwargs: dict[str, Any] = {"answers": data.get("answers")}
        if "planned_date" in data:
            kwargs["planned_date"] = data["planned_date"]
        services.filing_update(filing=filing, actor=request.user, expected_revision=data["revision"], **kwargs)
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingAttachmentListApi(APIView):
    permission_classes = [roles_permission(EDIT_ROLES)]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="上传附件（PDF、图片、Word .docx；按文件内容校验类型）",
        request={"multipart/form-data": FilingAttachmentInput},
        responses={201: FilingAttachmentSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingAttachmentInput, request)
        att = attachments.attachment_add(filing=filing, actor=request.user, item_code=data["item"], upload=data["file"])
        return Response(FilingAttachmentSerializer(att).data, status=status.HTTP_201_CREATED)


class FilingAttachmentApi(APIView):
    permission_classes = [roles_permission(READ_ROLES)]

    @extend_schema(summary="下载附件", responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, pk: int, aid: int) -> FileResponse:
        att = selectors.access_attachment(request.user, pk, aid)
        response = FileResponse(att.file.open("rb"), content_type=att.content_type, as_attachment=True, filename=att.name)
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(summary="从草稿中删除附件", responses={204: None})
    def delete(self, request: Request, pk: int, aid: int) -> Response:
        att = selectors.access_attachment(request.user, pk, aid)
        attachments.attachment_remove(filing=att.filing, attachment=att, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FilingSubmitApi(APIView):
    permission_classes = [roles_permission(EDIT_ROLES)]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        summary="提交审核（幂等：同一版本重复提交返回同一结果）", request=FilingSubmitInput, responses=FilingSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingSubmitInput, request)
        services.filing_submit(filing=filing, actor=request.user, version=data.get("version"))
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingWithdrawApi(APIView):
    permission_classes = [roles_permission(EDIT_ROLES)]

    @extend_schema(summary="撤回备案", request=FilingWithdrawInput, responses=FilingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingWithdrawInput, request)
        services.filing_withdraw(filing=filing, actor=request.user, note=data.get("note", ""))
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingRulingsApi(APIView):
    permission_classes = [roles_permission(REVIEW_ROLES)]

    @extend_schema(summary="逐项审核意见（不作最终决定）", request=FilingRulingsInput, responses=FilingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingRulingsInput, request)
        services.filing_rule(filing=filing, actor=request.user, rulings=_rulings(data), expected_revision=data["revision"])
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingApproveApi(APIView):
    permission_classes = [roles_permission(REVIEW_ROLES)]

    @extend_schema(
        summary="审核通过（须各事项均已通过；并发时仅一人成功，其他人得到 409）",
        request=FilingDecideInput,
        responses=FilingSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingDecideInput, request)
        services.filing_approve(filing=filing, actor=request.user, expected_revision=data["revision"], note=data.get("note", ""))
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingReturnApi(APIView):
    permission_classes = [roles_permission(REVIEW_ROLES)]

    @extend_schema(summary="退回修改（须至少一项已退回并写明意见）", request=FilingDecideInput, responses=FilingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingDecideInput, request)
        services.filing_return(filing=filing, actor=request.user, expected_revision=data["revision"], note=data.get("note", ""))
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class FilingReviewApi(APIView):
    permission_classes = [roles_permission(REVIEW_ROLES)]

    @extend_schema(summary="逐项审核并决定（全部通过则通过，否则退回）", request=FilingReviewInput, responses=FilingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        filing = selectors.access_filing(request.user, pk)
        data = _valid(FilingReviewInput, request)
        services.filing_review(
            filing=filing,
            actor=request.user,
            rulings=_rulings(data),
            expected_revision=data["revision"],
            note=data.get("note", ""),
        )
        return Response(_detail(selectors.access_filing(request.user, pk), request.user))


class ReviewQueueApi(APIView):
    permission_classes = [roles_permission(REVIEW_ROLES)]

    @extend_schema(summary="我的审核队列（最早提交的在前）", responses=FilingSerializer(many=True))
    def get(self, request: Request) -> Response:
        now = timezone.now()
        qs = selectors.review_queue(user=request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = []
        for filing, row in zip(page or [], FilingSerializer(page, many=True).data, strict=True):
            rows.append(
                {
                    **row,
                    "age": selectors.age_of(filing, now),
                    "waiting_seconds": int((now - filing.submitted_at).total_seconds()) if filing.submitted_at else None,
                }
            )
        return paginator.get_paginated_response(rows)


class FiguresApi(APIView):
    permission_classes = [roles_permission(STAFF_READERS)]

    @extend_schema(
        summary="单位按状态统计，及截至某日复工复产数（其中限上企业）",
        parameters=[
            OpenApiParameter("on", date, description="截至日期，默认今天"),
            OpenApiParameter("by", str, enum=["subdistrict", "category"]),
        ],
        responses=FIGURES,
    )
    def get(self, request: Request) -> Response:
        try:
            on = (
                date.fromisoformat(request.query_params.get("on", "")) if request.query_params.get("on") else timezone.localdate()
            )
        except ValueError:
            raise ApplicationError("日期格式应为 年-月-日，如 2020-03-19") from None
        by = request.query_params.get("by") or "subdistrict"
        if by not in ("subdistrict", "category"):
            raise ApplicationError("分组只能是 subdistrict（街道/镇）或 category（行业大类）")
        f = selectors.establishment_status_figures(user=request.user, on=on, by=by)

        def row(r: selectors.FigureRow) -> dict[str, Any]:
            return {
                "key": r.key,
                "label": r.label,
                "counts": r.counts,
                "total": r.total,
                "resumed_by_date": r.resumed_by_date,
                "resumed_above_size": r.resumed_above_size,
            }

        return Response(
            {
                "on": f.on,
                "by": f.by,
                "resumed": f.resumed,
                "resumed_above_size": f.resumed_above_size,
                "rows": [row(r) for r in f.rows],
                "totals": row(f.totals),
            }
        )


class TemplateListApi(APIView):
    permission_classes = [roles_permission(READ_ROLES)]

    @extend_schema(summary="备案清单及其事项、字段", responses=TEMPLATES)
    def get(self, request: Request) -> Response:
        out = []
        for t in selectors.templates():
            out.append(
                {
                    "id": t.pk,
                    "code": t.code,
                    "name": t.name,
                    "audience": t.audience,
                    "review_days": t.review_days,
                    "kinds": [k.code for k in t.kinds.all()],
                    "items": [
                        {
                            "code": i.code,
                            "label": i.label,
                            "help": i.help,
                            "evidence": i.evidence,
                            "required": i.required,
                            "needs_attachment": i.needs_attachment,
                            "fields": [
                                {"name": f.name, "label": f.label, "type": f.type, "required": f.required}
                                for f in checklist.fields_of(i)
                            ],
                        }
                        for i in t.items.all()
                    ],
                }
            )
        return Response(out)
