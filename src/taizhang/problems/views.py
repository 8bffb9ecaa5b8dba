"""Problem pages: queues and lists with filters in the URL, the problem page with its track, action forms.

Thin views: parse a form, call one service, redirect (POST/redirect/GET). A refused action re-renders the
problem page with the error and the user's input kept (status 400, or 409 when someone else acted first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from taizhang.audit.services import Action, audit_record
from taizhang.core import workdays
from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.core.permissions import permission
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment
from taizhang.establishments.selectors import establishment_list

from . import forms as f
from . import selectors, services
from .actions import actions_for
from .models import OPEN_STATES, Problem, State
from .scoping import ACTING_ROLES, READER_ROLES, REPORTING_ROLES, acting_unit_ids, is_read_only

PAGE_SIZES = (20, 50, 100)
QUEUE_URLS = {
    "all": "problems:list",
    "mine": "problems:mine",
    "unit": "problems:unit",
    "verify": "problems:verify",
    "overdue": "problems:overdue",
    "watch": "problems:watch",
}


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", 20))
    except ValueError:
        return 20
    return size if size in PAGE_SIZES else 20


def _list(request: HttpRequest, queue: str) -> HttpResponse:
    form = f.ProblemFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    qs = selectors.problem_list(user=request.user, queue=queue, filters=filters, now=now)
    page = Paginator(qs, _page_size(request)).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "queue": queue,
        "queue_title": selectors.QUEUES[queue],
        "now": now,
        "open_states": OPEN_STATES,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "problems/_rows.html", context)
    acting = bool(acting_unit_ids(request.user))
    shown = ["mine", "unit", "verify", "overdue", "all", "watch"] if acting else ["overdue", "all", "watch"]
    if scope_of(request.user).roles == {Role.ENTERPRISE}:
        shown = ["all", "watch"]
    counts = selectors.queue_counts(user=request.user, now=now, queues=[k for k in shown if k in selectors.COUNTED])
    context["tabs"] = [(k, selectors.QUEUES[k], reverse(QUEUE_URLS[k]), counts.get(k)) for k in shown]
    context["filtered"] = bool(filters and any(filters.values()))
    context["can_report"] = not is_read_only(request.user)
    return render(request, "problems/list.html", context)


@permission(roles=READER_ROLES)
def problem_list(request: HttpRequest) -> HttpResponse:
    return _list(request, "all")


@permission(roles=ACTING_ROLES)
def my_queue(request: HttpRequest) -> HttpResponse:
    return _list(request, "mine")


@permission(roles=ACTING_ROLES)
def unit_queue(request: HttpRequest) -> HttpResponse:
    return _list(request, "unit")


@permission(roles=ACTING_ROLES)
def verify_queue(request: HttpRequest) -> HttpResponse:
    return _list(request, "verify")


@permission(roles=READER_ROLES)
def overdue_list(request: HttpRequest) -> HttpResponse:
    return _list(request, "overdue")


@permission(roles=READER_ROLES)
def watch_list(request: HttpRequest) -> HttpResponse:
    return _list(request, "watch")


# --- the problem page ------------------------------------------------------------------------------


def _detail(
    request: HttpRequest, problem: Problem, *, bound: dict[str, forms.Form] | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    tasks = selectors.problem_tasks(problem=problem)
    actions = actions_for(request.user, problem, tasks)
    version = {"expected_version": problem.version}
    forms_: dict[str, forms.Form] = {
        "transition": f.TransitionForm(initial=version),
        "comment": f.CommentForm(),
        "reassign": f.ReassignForm(initial=version),
        "task": f.TaskForm(),
        "reply": f.TaskReplyForm(),
        "rect_require": f.RectificationRequireForm(initial={"note": problem.category.rectification_template}),
        "rect_report": f.RectificationReportForm(),
        "rect_verify": f.RectificationVerifyForm(),
        "merge": f.MergeForm(),
    }
    forms_.update(bound or {})
    context = {
        "p": problem,
        "track": selectors.problem_track(problem=problem),
        "tasks": tasks,
        "actions": actions,
        "forms": forms_,
        "error": error,
        "following": selectors.is_following(user=request.user, problem=problem),
        "overdue": problem.is_overdue(),
        "duplicates": list(problem.duplicates.only("pk", "code")),
        "establishment_visible": problem.establishment_id is not None
        and Establishment.objects.visible_to(request.user).filter(pk=problem.establishment_id or 0).exists(),
        "State": State,
    }
    return render(request, "problems/detail.html", context, status=status)


@permission(roles=READER_ROLES)
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.access_problem(request.user, pk))


def _act(
    request: HttpRequest, pk: int, name: str, form_class: Callable[..., forms.Form], run: Callable[[Problem, dict[str, Any]], str]
) -> HttpResponse:
    """Validate `form_class`, run the service through `run` (returns the success message), redirect or re-render."""
    problem = selectors.access_problem(request.user, pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, problem, bound={name: form}, error="请检查填写的内容", status=400)
    try:
        message = run(problem, form.cleaned_data)
    except ConflictError as exc:
        return _detail(request, selectors.access_problem(request.user, pk), bound={name: form}, error=exc.message, status=409)
    except ApplicationError as exc:
        return _detail(request, problem, bound={name: form}, error=exc.message, status=400)
    messages.success(request, message)
    return redirect("problems:detail", pk=problem.pk)


TRANSITION_MESSAGES = {
    State.IN_PROGRESS: "已签收，请及时办理",
    State.RESOLVED: "已办结，等待其他单位核验",
    State.RETURNED: "已退回上级单位重新分派",
    State.VERIFIED: "核验通过",
    State.REOPENED: "已退回重新办理",
    State.CLOSED: "已销号",
}


@require_POST
@permission(roles=ACTING_ROLES)
def problem_transition(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        services.problem_transition(
            problem=p, to=d["to"], actor=request.user, note=d["note"], expected_version=d["expected_version"], photos=d["photos"]
        )
        return TRANSITION_MESSAGES.get(d["to"], "已保存")

    return _act(request, pk, "transition", f.TransitionForm, run)


@require_POST
@permission(roles=REPORTING_ROLES)
def problem_comment(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        services.problem_comment(problem=p, actor=request.user, note=d["note"], photos=d["photos"])
        return "备注已添加"

    return _act(request, pk, "comment", f.CommentForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def problem_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        p = services.problem_reassign(
            problem=p, unit=d["unit"], actor=request.user, reason=d["reason"], expected_version=d["expected_version"]
        )
        return f"已改派至{p.unit}" + (f"（{p.assignee}）" if p.assignee else "")

    return _act(request, pk, "reassign", f.ReassignForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        due = workdays.end_of_day(d["due"]) if d.get("due") else None
        task = services.problem_add_task(problem=p, unit=d["unit"], text=d["text"], actor=request.user, due_at=due)
        return f"已向{task.unit}发起协调"

    return _act(request, pk, "task", f.TaskForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def task_reply(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    task = selectors.access_task(request.user, task_pk)
    if task.problem_id != pk:
        raise NotVisible("协调事项")

    def run(p: Problem, d: dict[str, Any]) -> str:
        services.task_reply(task=task, actor=request.user, reply=d["reply"], photos=d["photos"])
        return "已答复协调事项"

    return _act(request, pk, "reply", f.TaskReplyForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def rectification_require(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        services.require_rectification(problem=p, due=d["due"], actor=request.user, note=d["note"])
        return f"已责令整改，期限 {d['due']:%Y-%m-%d}"

    return _act(request, pk, "rect_require", f.RectificationRequireForm, run)


@require_POST
@permission(roles=REPORTING_ROLES)
def rectification_report(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        services.rectification_report(problem=p, actor=request.user, note=d["note"], evidence=d["evidence"])
        return "整改情况已报告，等待核验"

    return _act(request, pk, "rect_report", f.RectificationReportForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def rectification_verify(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        services.rectification_verify(problem=p, actor=request.user, accepted=d["accepted"], note=d["note"], due=d.get("due"))
        return "整改核验通过" if d["accepted"] else "已退回企业重新整改"

    return _act(request, pk, "rect_verify", f.RectificationVerifyForm, run)


@require_POST
@permission(roles=ACTING_ROLES)
def problem_merge(request: HttpRequest, pk: int) -> HttpResponse:
    def run(p: Problem, d: dict[str, Any]) -> str:
        into = selectors.access_problem(request.user, d["into"])
        services.problem_merge(problem=p, into=into, actor=request.user, note=d["note"])
        return f"已合并到 {into.code}"

    return _act(request, pk, "merge", f.MergeForm, run)


@require_POST
@permission(roles=READER_ROLES)
def problem_follow(request: HttpRequest, pk: int) -> HttpResponse:
    problem = selectors.access_problem(request.user, pk)
    if request.POST.get("follow") == "0":
        services.problem_unfollow(problem=problem, user=request.user)
        messages.success(request, "已取消关注")
    else:
        services.problem_follow(problem=problem, user=request.user)
        messages.success(request, "已关注，可在“我的关注”中查看")
    return redirect("problems:detail", pk=problem.pk)


@permission(roles=READER_ROLES)
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    att = selectors.access_attachment(request.user, pk)
    response = FileResponse(
        att.file.open("rb"),
        content_type=att.content_type,
        as_attachment=not (att.is_image or att.content_type == "application/pdf"),
        filename=att.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


# --- reporting -------------------------------------------------------------------------------------


@permission(roles=REPORTING_ROLES)
def problem_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    preset: Establishment | None = None
    if est_id := request.GET.get("establishment"):
        preset = Establishment.objects.visible_to(request.user).filter(pk=est_id if est_id.isdigit() else 0).first()
        if preset is not None:
            initial["establishment"] = preset
    form = f.ProblemReportForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    duplicate = None
    error = ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        duplicate = selectors.find_open_duplicate(
            category=d["category"], establishment=d.get("establishment"), region=d.get("region"), user=request.user
        )
        if duplicate is None or d.get("confirm_duplicate"):
            try:
                problem = services.problem_report(
                    reporter=request.user,
                    source=d["source"],
                    category=d["category"],
                    description=d["description"],
                    establishment=d.get("establishment"),
                    region=d.get("region"),
                    address=d.get("address", ""),
                    latitude=d.get("latitude"),
                    longitude=d.get("longitude"),
                    severity=d["severity"],
                    photos=d["photos"],
                    idempotency_key=d["idempotency_key"],
                )
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    f"问题 {problem.code} 已上报，"
                    + (f"已分派至{problem.unit}" if problem.state == State.ASSIGNED else "等待指挥部分派"),
                )
                return redirect("problems:detail", pk=problem.pk)
        else:
            confirmed = request.POST.copy()
            confirmed["confirm_duplicate"] = "True"
            form.data = confirmed
    chosen = form.cleaned_data.get("establishment") if form.is_bound and hasattr(form, "cleaned_data") else preset
    status = 400 if request.method == "POST" else 200
    return render(
        request, "problems/new.html", {"form": form, "duplicate": duplicate, "error": error, "chosen": chosen}, status=status
    )


@permission(roles=REPORTING_ROLES)
def establishment_options(request: HttpRequest) -> HttpResponse:
    """htmx: the establishments matching the search box of the report form (at most 20)."""
    q = request.GET.get("q", "").strip()
    qs = establishment_list(user=request.user, filters={"q": q}).select_related(None).select_related("region")
    rows = list(qs.only("pk", "name", "address", "region__name", "region__short_name")[:20]) if q else []
    return render(request, "problems/_establishment_options.html", {"rows": rows, "q": q})


# --- the working-day calendar (system administrator) -----------------------------------------------


@permission(roles={Role.SYSADMIN})
def calendar_view(request: HttpRequest) -> HttpResponse:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    form = f.CalendarOverrideForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("clear"):
            try:
                day = date.fromisoformat(request.POST["clear"])
            except ValueError:
                day = None
            if day is not None and workdays.override_clear(day=day):
                audit_record(
                    action=Action.DELETE,
                    actor=request.user,
                    object_type="core.workdayoverride",
                    object_id=day.isoformat(),
                    object_repr=f"工作日历 {day}",
                )
                messages.success(request, f"已删除 {day:%Y-%m-%d} 的调整")
            return redirect(f"{reverse('problems:calendar')}?year={year}")
        if form.is_valid():
            d = form.cleaned_data
            obj = workdays.override_set(day=d["day"], is_working_day=d["is_working_day"], note=d["note"])
            audit_record(
                action=Action.UPDATE,
                actor=request.user,
                target=obj,
                detail={"is_working_day": d["is_working_day"], "note": d["note"]},
            )
            messages.success(request, f"已保存：{obj}")
            return redirect(f"{reverse('problems:calendar')}?year={d['day'].year}")
    calendar = workdays.WorkCalendar.load()
    context = {
        "year": year,
        "days": calendar.exceptions(year),
        "known": calendar.known(year),
        "form": form,
        "years": [year - 1, year, year + 1],
    }
    return render(request, "problems/calendar.html", context, status=400 if request.method == "POST" else 200)
