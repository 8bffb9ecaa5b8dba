"""Pages of the dashboards (数据看板, 大屏) and the daily report (信息日报)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.permissions import permission
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.regions.models import Level, Region
from taizhang.rollups import selectors as rollup_selectors

from . import page as page_builder
from . import reports, selectors
from .forms import CommunityReportForm, ReportTemplateForm
from .models import CommunityReport, DailyReport, ReportTemplate
from .scope import DASHBOARD_ROLES, REPORT_ADMIN_ROLES, REPORT_FILER_ROLES, resolve


def _day(request: HttpRequest, default: date) -> date:
    try:
        return date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return default


def _page(request: HttpRequest) -> page_builder.Page:
    view = resolve(request.user, request.GET.get("region"))
    today = timezone.localdate()
    default_on = rollup_selectors.data_day(today)
    on = min(_day(request, default_on), today)
    numbers = selectors.numbers(view, on=on, today=today)
    return page_builder.build(view, numbers, on=on, default_on=default_on)


@permission(roles=DASHBOARD_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    page = _page(request)
    state = rollup_selectors.state()
    return render(
        request,
        "dashboards/home.html",
        {"page": page, "state": state, "screen_url": page_builder.dashboard_url(page.view.region, page.on, "dashboards:screen")},
    )


@permission(roles=DASHBOARD_ROLES)
def screen(request: HttpRequest) -> HttpResponse:
    """大屏: full screen, dark, refreshed every 60 seconds by the browser."""
    page = _page(request)
    return render(request, "dashboards/screen.html", {"page": page, "now": timezone.localtime()})


# --- the daily report ------------------------------------------------------------------------------------


def _templates_for(user: Any) -> list[ReportTemplate]:
    """The templates whose region overlaps the user's area (a sub-district sees its part of a district's report)."""
    scope = scope_of(user)
    paths = [p.region.path for p in scope.posts if p.role in DASHBOARD_ROLES]
    out = []
    for t in ReportTemplate.objects.filter(is_active=True).select_related("region"):
        if any(t.region.path.startswith(p) or p.startswith(t.region.path) for p in paths):
            out.append(t)
    return out


def _covers(user: Any, template: ReportTemplate) -> bool:
    scope = scope_of(user)
    return any(template.region.path.startswith(p.region.path) for p in scope.posts if p.role in DASHBOARD_ROLES)


def _own_paths(user: Any, template: ReportTemplate) -> list[str]:
    """The part of the template's region the user may see."""
    scope = scope_of(user)
    paths = [p.region.path for p in scope.posts if p.role in DASHBOARD_ROLES]
    if any(template.region.path.startswith(p) for p in paths):
        return [template.region.path]
    return [p for p in paths if p.startswith(template.region.path)]


def _restrict(data: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    if paths and all(p == data.get("region_path") for p in paths):
        return data
    groups = []
    for g in data["groups"]:
        rows = [r for r in g["rows"] if any(r["path"].startswith(p) for p in paths)]
        if rows:
            groups.append({**g, "rows": rows})
    return {**data, "groups": groups}


@permission(roles=DASHBOARD_ROLES)
def report_list(request: HttpRequest) -> HttpResponse:
    templates = _templates_for(request.user)
    history = (
        DailyReport.objects.filter(template__in=templates)
        .select_related("template", "template__region", "generated_by")
        .defer("xlsx", "pdf", "data")[:60]
    )
    today = timezone.localdate()
    default_day = rollup_selectors.data_day(today)
    return render(
        request,
        "dashboards/reports.html",
        {
            "templates": [(t, _covers(request.user, t)) for t in templates],
            "history": history,
            "default_day": default_day,
            "can_configure": scope_of(request.user).has_role(*REPORT_ADMIN_ROLES),
        },
    )


@permission(roles=DASHBOARD_ROLES)
@require_http_methods(["POST"])
def report_generate(request: HttpRequest, pk: int) -> HttpResponse:
    template = next((t for t in _templates_for(request.user) if t.pk == pk), None)
    if template is None or not _covers(request.user, template):
        raise NotVisible("日报模板")
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        day = rollup_selectors.data_day(timezone.localdate())
    report = reports.generate(template=template, day=day, actor=request.user)
    messages.success(request, f"已生成{report}")
    return redirect("dashboards:report", pk=report.pk)


def _access_report(user: Any, pk: int) -> DailyReport:
    templates = _templates_for(user)
    report = DailyReport.objects.filter(pk=pk, template__in=templates).select_related("template", "template__region").first()
    if report is None:
        raise NotVisible("日报")
    return report


@permission(roles=DASHBOARD_ROLES)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _access_report(request.user, pk)
    data = _restrict(report.data, _own_paths(request.user, report.template))
    return render(
        request,
        "dashboards/report.html",
        {"report": report, "data": data, "can_download": _covers(request.user, report.template)},
    )


@permission(roles=DASHBOARD_ROLES)
def report_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    report = _access_report(request.user, pk)
    if not _covers(request.user, report.template):
        raise NotVisible("日报")
    if fmt == "xlsx":
        body, content_type = bytes(report.xlsx), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, content_type = bytes(report.pdf), "application/pdf"
    audit_record(action=Action.EXPORT, actor=request.user, target=report, detail={"format": fmt})
    response = HttpResponse(body, content_type=content_type)
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.filename)}.{fmt}"
    return response


@permission(roles=REPORT_FILER_ROLES)
def report_file(request: HttpRequest) -> HttpResponse:
    """A community files today's report (or a zero report)."""
    scope = scope_of(request.user)
    communities = {}
    for post in scope.posts:
        if post.role == Role.COMMUNITY:
            region = post.region
            while region is not None and region.level != Level.COMMUNITY:
                region = region.parent
            if region is not None:
                communities[region.pk] = region
    templates = [
        t
        for t in ReportTemplate.objects.filter(is_active=True).select_related("region")
        if any(c.path.startswith(t.region.path) for c in communities.values())
    ]
    if not templates or not communities:
        return render(request, "dashboards/file.html", {"empty": True})
    template = next((t for t in templates if str(t.pk) == request.GET.get("template")), templates[0])
    options = [c for c in communities.values() if c.path.startswith(template.region.path)]
    community = next(
        (c for c in options if str(c.pk) == (request.POST.get("community") or request.GET.get("community"))), options[0]
    )
    today = rollup_selectors.data_day(timezone.localdate())
    existing = CommunityReport.objects.filter(template=template, day=today, community=community).first()
    form = CommunityReportForm(request.POST or None, template=template, instance=existing)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            reports.community_report_file(
                template=template,
                community=community,
                day=today,
                actor=request.user,
                values=form.item_values(),
                zero=form.cleaned_data["zero"],
                note=form.cleaned_data.get("note", ""),
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"{community.display_name}{today.month}月{today.day}日日报已报送")
            return redirect(f"{request.path}?template={template.pk}&community={community.pk}")
    return render(
        request,
        "dashboards/file.html",
        {
            "template": template,
            "templates": templates,
            "community": community,
            "communities": options,
            "form": form,
            "day": today,
            "existing": existing,
            "error": error,
            "cutoff": reports.cutoff_at(template, today),
            "now": timezone.now(),
        },
    )


@permission(roles=REPORT_ADMIN_ROLES)
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/templates.html", {"templates": ReportTemplate.objects.select_related("region")})


@permission(roles=REPORT_ADMIN_ROLES)
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = ReportTemplate.objects.filter(pk=pk).first() if pk else None
    if pk and instance is None:
        raise NotVisible("日报模板")
    form = ReportTemplateForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        template = form.save()
        audit_record(action=Action.UPDATE if instance else Action.CREATE, actor=request.user, target=template)
        messages.success(request, f"已保存“{template}”")
        return redirect("dashboards:templates")
    return render(
        request,
        "dashboards/template_form.html",
        {
            "form": form,
            "instance": instance,
            "regions": Region.objects.filter(level__in=[Level.CITY, Level.DISTRICT, Level.SUBDISTRICT]),
        },
    )
