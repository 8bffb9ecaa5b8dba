"""Pages of imports and exports: thin — parse, one service or selector call, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from taizhang.core.errors import ApplicationError
from taizhang.core.permissions import permission
from taizhang.core.protected import can_reveal
from taizhang.core.scoping import scope_of
from taizhang.establishments.forms import FilterForm

from . import selectors, services
from .forms import CommitForm, ExportForm, UploadForm
from .ledgers import LEDGERS, ledger_class
from .models import JobKind, JobMode, JobStatus
from .workbooks import template_bytes

TRANSFER_ROLES = frozenset().union(*(c.import_roles | c.export_roles for c in LEDGERS.values()))
FILTER_LABELS = {
    "region": "区划",
    "kind": "类型",
    "category": "行业类别",
    "status": "状态",
    "above_size": "限上企业",
    "key_target": "重点帮扶",
    "responsible": "包联人员",
    "q": "关键词",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ledgers_for(user: Any) -> list[dict[str, Any]]:
    roles = scope_of(user).roles
    return [
        {"code": c.code, "title": c.title, "can_import": bool(roles & c.import_roles), "can_export": bool(roles & c.export_roles)}
        for c in LEDGERS.values()
        if roles & (c.import_roles | c.export_roles)
    ]


@permission(roles=TRANSFER_ROLES)
def index(request: HttpRequest) -> HttpResponse:
    jobs = selectors.jobs_of(user=request.user)[:20]
    return render(request, "transfer/index.html", {"ledgers": _ledgers_for(request.user), "jobs": jobs, "form": UploadForm()})


@permission(roles=TRANSFER_ROLES)
def template(request: HttpRequest, ledger: str) -> HttpResponse:
    cls = ledger_class(ledger)
    if not (scope_of(request.user).roles & cls.import_roles):
        raise PermissionDenied("无权导入" + cls.title)
    response = HttpResponse(template_bytes(cls(user=request.user)), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(cls.title + '导入模板.xlsx')}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@require_POST
@permission(roles=TRANSFER_ROLES)
def upload(request: HttpRequest, ledger: str) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的文件")
        return redirect("transfer:index")
    f = form.cleaned_data["file"]
    try:
        job = services.import_start(user=request.user, ledger=ledger, upload=f, name=f.name, size=f.size)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("transfer:index")
    return redirect("transfer:job", pk=job.pk)


@permission(roles=TRANSFER_ROLES)
def export(request: HttpRequest, ledger: str) -> HttpResponse:
    """GET: confirm what will be exported (the list page's filters come in the query string); POST: start."""
    cls = ledger_class(ledger)
    if not (scope_of(request.user).roles & cls.export_roles):
        raise PermissionDenied("无权导出" + cls.title)
    filters = {k: v for k, v in request.GET.items() if v}
    shown = _shown_filters(request.user, cls.code, filters)
    if request.method == "POST":
        form = ExportForm(request.POST)
        unmasked = form.is_valid() and form.cleaned_data["unmasked"]
        try:
            job = services.export_start(user=request.user, ledger=ledger, filters=filters, unmasked=unmasked)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("transfer:index")
        return redirect("transfer:job", pk=job.pk)
    return render(
        request,
        "transfer/export.html",
        {
            "ledger": cls,
            "filters": shown,
            "form": ExportForm(),
            "can_reveal": can_reveal(request.user),
            "query": request.GET.urlencode(),
            "back": _back_url(cls.code, filters),
        },
    )


def _shown_filters(user: Any, ledger: str, filters: dict[str, Any]) -> dict[str, str]:
    """The filters the export will apply, named as on the list page (状态=已复工, not status=resumed). They are read
    through the list page's own form, as the export reads them, so that a value the form refuses is not shown."""
    if ledger != "establishments":
        return {}
    form = FilterForm(filters, user=user)
    form.is_valid()
    shown: dict[str, str] = {}
    for key, label in FILTER_LABELS.items():
        field, value = form.fields.get(key), form.cleaned_data.get(key)
        if field is None or not value:
            continue
        if isinstance(field, forms.BooleanField):
            shown[label] = "是"
        elif isinstance(field, forms.ChoiceField):
            choices: Any = field.choices  # flat (value, label) pairs; region and category labels are indented
            shown[label] = str(dict(choices).get(filters[key], filters[key])).strip("\u3000")
        else:
            shown[label] = str(value)
    return shown


def _back_url(ledger: str, filters: dict[str, Any]) -> str:
    """Back to the list the export was started from, with its filters; other ledgers to the import/export page."""
    if ledger == "establishments":
        return reverse("establishments:list") + (f"?{urlencode(filters)}" if filters else "")
    return reverse("transfer:index")


def _job_context(request: HttpRequest, job: Any) -> dict[str, Any]:
    return {
        "job": job,
        "ledger": ledger_class(job.ledger),
        "progress": services.read_progress(job),
        "result": services.result_path(job) is not None,
        "commit_form": CommitForm(),
        "is_check": job.kind == JobKind.IMPORT and job.mode == JobMode.CHECK,
        "can_commit": job.kind == JobKind.IMPORT
        and job.mode == JobMode.CHECK
        and job.status == JobStatus.DONE
        and job.valid_rows > 0
        and not job.purged,
    }


@permission(roles=TRANSFER_ROLES)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.access_job(request.user, pk)
    return render(request, "transfer/job.html", _job_context(request, job))


@permission(roles=TRANSFER_ROLES)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx-polled status card; once the job has finished it stops polling."""
    job = selectors.access_job(request.user, pk)
    return render(request, "transfer/_status.html", _job_context(request, job))


@require_POST
@permission(roles=TRANSFER_ROLES)
def job_commit(request: HttpRequest, pk: int) -> HttpResponse:
    source = selectors.access_job(request.user, pk)
    form = CommitForm(request.POST)
    valid_only = form.is_valid() and form.cleaned_data["valid_only"]
    try:
        job = services.import_commit(user=request.user, source=source, valid_only=valid_only)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("transfer:job", pk=source.pk)
    return redirect("transfer:job", pk=job.pk)


@require_POST
@permission(roles=TRANSFER_ROLES)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = services.job_cancel(user=request.user, job=selectors.access_job(request.user, pk))
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "transfer/_status.html", _job_context(request, job))
    return redirect("transfer:job", pk=job.pk)


@permission(roles=TRANSFER_ROLES)
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = selectors.access_job(request.user, pk)
    path = services.result_path(job)
    if path is None:
        messages.error(request, "文件已过期（保留24小时）或不存在：请重新导出或重新上传")
        return redirect("transfer:job", pk=job.pk)
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.result_name, content_type=XLSX)
