"""Pages: the inspector's task list and phone checklist, campaigns with their progress, visit records and photos,
checklist templates and their versions, and the dispatch figures (出动人次/帮扶企业).

Thin views: parse, call one service or selector, render. Every view declares who may call it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from taizhang.accounts.models import OrgUnit
from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.core.permissions import permission
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment
from taizhang.problems.models import Problem

from . import checklist, selectors, services, storage
from .forms import (
    GENERAL_PHOTOS,
    CampaignForm,
    CampaignVersionForm,
    FiguresForm,
    ItemFormSet,
    TargetFilterForm,
    TemplateMetaForm,
    VisitFilterForm,
    item_fields,
    item_initial,
    local_input,
    new_key,
    parse_local_datetime,
    posted_photos,
    raw_answers,
)
from .models import Campaign, CampaignState, CampaignTarget, ChecklistTemplate, TemplateVersion, Visit, VisitResult
from .scoping import ACTING_ROLES, EDITOR_ROLES, MANAGER_ROLES, READER_ROLES, TEMPLATE_READER_ROLES, acting_unit_ids, acting_units

RESULT_TONES = {VisitResult.PASSED: "ok", VisitResult.FINDINGS: "bad", VisitResult.ABSENT: ""}
STATE_TONES = {CampaignState.DRAFT: "", CampaignState.ACTIVE: "info", CampaignState.CLOSED: "ok"}
PAGE_SIZE = 20


def _page(request: HttpRequest, qs: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _can_manage(user: Any, campaign: Campaign) -> bool:
    return scope_of(user).has_role(*MANAGER_ROLES) and campaign.unit_id in acting_unit_ids(user)


def _can_inspect(user: Any, target: CampaignTarget) -> bool:
    mine = acting_unit_ids(user)
    return (
        target.campaign.state == CampaignState.ACTIVE
        and target.active
        and (target.team_id in mine or target.campaign.unit_id in mine)
    )


# --- the inspector's start page ------------------------------------------------------------------


@permission(roles=ACTING_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    """检查任务: the campaigns the user's units take part in, and the targets still to be checked."""
    mine = selectors.my_campaigns(user=request.user)
    campaign_id = request.GET.get("campaign")
    current = next((m for m in mine if str(m["campaign"].pk) == campaign_id), mine[0] if mine else None)
    page = None
    status = request.GET.get("status") or ""
    q = request.GET.get("q", "").strip()
    if current is not None:
        campaign = current["campaign"]
        status = status or ("not_today" if campaign.standing else "todo")
        filters = {"team": current["team"].pk, "status": status if status != "all" else "", "q": q}
        page = _page(request, selectors.target_list(user=request.user, campaign=campaign, filters=filters))
    context = {
        "mine": mine,
        "current": current,
        "page": page,
        "status": status,
        "q": q,
        "query": _query_without_page(request),
        "can_visit": bool(acting_unit_ids(request.user)),
    }
    return render(request, "inspections/home.html", context)


# --- campaigns ------------------------------------------------------------------------------------


@permission(roles=READER_ROLES)
def campaign_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    campaigns = list(selectors.campaign_list(user=request.user, state=state if state in CampaignState.values else ""))
    context = {
        "campaigns": [(c, STATE_TONES.get(CampaignState(c.state), "")) for c in campaigns],
        "state": state,
        "states": CampaignState.choices,
        "can_create": scope_of(request.user).has_role(*MANAGER_ROLES),
    }
    return render(request, "inspections/campaign_list.html", context)


@permission(roles=MANAGER_ROLES)
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, user=request.user)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                actor=request.user, data=form.service_data(), teams=list(form.cleaned_data["teams"])
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已创建“{campaign.name}”，核对检查对象后点击“启动”")
            return redirect("inspections:campaign", campaign.pk)
    return render(
        request, "inspections/campaign_form.html", {"form": form, "error": error}, status=400 if error or form.errors else 200
    )


@permission(roles=READER_ROLES)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.access_campaign(request.user, pk)
    day = None
    if campaign.standing and request.GET.get("day"):
        parsed = parse_local_datetime(request.GET["day"] + "T00:00")
        day = parsed.date() if parsed else None
    progress = selectors.campaign_progress(campaign=campaign, user=request.user, day=day)
    manage = _can_manage(request.user, campaign)
    context = {
        "c": campaign,
        "tone": STATE_TONES.get(CampaignState(campaign.state), ""),
        "progress": progress,
        "rule": services.describe_rule(campaign),
        "teams": selectors.campaign_teams(campaign),
        "can_manage": manage,
        "preview": selectors.preview_target_count(campaign) if campaign.state == CampaignState.DRAFT else None,
        "version_form": CampaignVersionForm(campaign=campaign) if manage and campaign.state != CampaignState.CLOSED else None,
        "newer": campaign.version.template.versions.filter(
            published_at__isnull=False, number__gt=campaign.version.number
        ).exists(),
    }
    return render(request, "inspections/campaign_detail.html", context)


def _campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = selectors.access_campaign(request.user, pk)
    try:
        if action == "start":
            campaign = services.campaign_start(actor=request.user, campaign=campaign)
            messages.success(request, f"已启动，共 {campaign.targets.count()} 个检查对象已分配给各检查组")
        elif action == "close":
            services.campaign_close(actor=request.user, campaign=campaign)
            messages.success(request, "行动已结束")
        elif action == "refresh":
            r = services.campaign_refresh_targets(campaign=campaign, actor=request.user)
            messages.success(request, f"已更新检查对象：新增 {r.added}，移出 {r.removed}，恢复 {r.restored}")
        elif action == "version":
            form = CampaignVersionForm(request.POST, campaign=campaign)
            if form.is_valid():
                services.campaign_set_version(actor=request.user, campaign=campaign, version=form.cleaned_data["version"])
                messages.success(request, "此后的检查使用新版本；已填的记录保留原版本")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("inspections:campaign", pk)


@permission(roles=MANAGER_ROLES)
@require_POST
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "start")


@permission(roles=MANAGER_ROLES)
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "close")


@permission(roles=MANAGER_ROLES)
@require_POST
def campaign_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "refresh")


@permission(roles=MANAGER_ROLES)
@require_POST
def campaign_version(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "version")


@permission(roles=READER_ROLES)
def campaign_targets(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.access_campaign(request.user, pk)
    teams = selectors.campaign_teams(campaign)
    form = TargetFilterForm(request.GET, teams=teams)
    page = _page(request, selectors.target_list(user=request.user, campaign=campaign, filters=form.selector_filters()), 50)
    context = {"c": campaign, "form": form, "page": page, "query": _query_without_page(request)}
    return render(request, "inspections/campaign_targets.html", context)


@permission(roles=READER_ROLES)
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.access_target(request.user, pk)
    context = {
        "t": target,
        "visits": selectors.target_visits(target),
        "can_inspect": _can_inspect(request.user, target),
        "result_tones": RESULT_TONES,
    }
    return render(request, "inspections/target_detail.html", context)


# --- the checklist form ---------------------------------------------------------------------------


def _inspect(
    request: HttpRequest,
    *,
    version: TemplateVersion,
    establishment: Establishment,
    target: CampaignTarget | None,
    draft_id: str,
    units: list[OrgUnit],
) -> HttpResponse:
    items = selectors.version_items(version)
    chosen_unit = units[0] if units else None
    if request.method == "POST" and len(units) > 1:
        chosen_unit = next((u for u in units if str(u.pk) == request.POST.get("unit")), chosen_unit)
    members = selectors.team_members([chosen_unit.pk]).get(chosen_unit.pk, []) if chosen_unit else []
    errors: dict[str, list[str]] = {}
    error = ""
    status = 200
    if request.method == "POST":
        answers, notes = raw_answers(items, request.POST)
        picked = {int(x) for x in request.POST.getlist("staff") if x.isdigit()}
        staff = [u for u in members if u.pk in picked]
        try:
            posted_version = TemplateVersion.objects.get(pk=int(request.POST.get("version", "0") or 0))
        except (TemplateVersion.DoesNotExist, ValueError):
            posted_version = version
        try:
            submitted = services.visit_submit(
                actor=request.user,
                key=request.POST.get("key", ""),
                target=target,
                establishment=None if target else establishment,
                version=posted_version,
                unit=None if target else chosen_unit,
                answers=answers,
                notes=notes,
                photos=posted_photos(items, request),
                staff=staff,
                extra_people=request.POST.get("extra_people") or 0,
                visited_at=parse_local_datetime(request.POST.get("visited_at", "")),
                latitude=request.POST.get("latitude"),
                longitude=request.POST.get("longitude"),
                accuracy=request.POST.get("accuracy"),
                absent=request.POST.get("absent") == "1",
                helped=request.POST.get("helped") == "1",
                help_note=request.POST.get("help_note", ""),
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict
            error = f"有 {len(errors)} 项需要补充或改正（已标红）；照片需要重新选择"
            status = 400
        except ConflictError as exc:
            error, status = exc.message, 409
        except ApplicationError as exc:
            error, status = exc.message, 400
        else:
            visit = submitted.visit
            if submitted.created:
                opened = visit.answers.filter(problem__isnull=False).count()
                text = "已提交检查结果" + (f"，{opened} 个问题已上报并分派给责任单位" if opened else "")
                messages.success(request, text)
            else:
                messages.info(request, "这份检查结果之前已经提交过，没有重复记录")
            return redirect("inspections:visit", visit.pk)
    data = request.POST if request.method == "POST" else None
    context = {
        "version": version,
        "e": establishment,
        "t": target,
        "fields": item_fields(items, data, errors),
        "units": units,
        "chosen_unit": chosen_unit,
        "members": [u for u in members if u.pk != request.user.pk],
        "picked": {int(x) for x in request.POST.getlist("staff") if x.isdigit()} if data else set(),
        "key": (data.get("key") if data else "") or new_key(),
        "visited_at": (data.get("visited_at") if data else "") or local_input(timezone.now()),
        "post": data,
        "error": error,
        "draft_id": draft_id,
        "photo_accept": storage.ACCEPT,
        "general_photos": GENERAL_PHOTOS,
        "action": request.path,
    }
    return render(request, "inspections/inspect.html", context, status=status)


@permission(roles=ACTING_ROLES)
def target_inspect(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.access_target(request.user, pk)
    if not _can_inspect(request.user, target):
        messages.error(request, f"只有{target.team}的成员可以在行动进行中填报该对象")
        return redirect("inspections:target", pk)
    assert target.establishment is not None  # noqa: S101 - campaigns target establishments only (see services)
    mine = acting_unit_ids(request.user)
    unit = target.team if target.team_id in mine else target.campaign.unit
    return _inspect(
        request,
        version=target.campaign.version,
        establishment=target.establishment,
        target=target,
        draft_id=f"t{target.pk}",
        units=[unit],
    )


@permission(roles=ACTING_ROLES)
def visit_new(request: HttpRequest) -> HttpResponse:
    """临时走访: pick an establishment the user may visit, then a checklist that applies to it."""
    q = request.GET.get("q", "").strip()
    chosen = None
    versions: list[TemplateVersion] = []
    candidates: list[Establishment] = []
    if est_id := request.GET.get("establishment"):
        try:
            chosen = selectors.establishments_for_visit(request.user).select_related("kind", "region").get(pk=int(est_id))
        except (Establishment.DoesNotExist, ValueError):
            raise NotVisible("单位") from None
        versions = selectors.published_versions(subject_type="establishment", kind_code=chosen.kind.code)
    elif q:
        candidates = list(
            selectors.establishments_for_visit(request.user)
            .filter(name__icontains=q)
            .select_related("kind", "region")
            .order_by("name", "id")[:30]
        )
    return render(
        request, "inspections/visit_new.html", {"q": q, "chosen": chosen, "versions": versions, "candidates": candidates}
    )


@permission(roles=ACTING_ROLES)
def visit_form(request: HttpRequest, establishment: int, version: int) -> HttpResponse:
    try:
        est = selectors.establishments_for_visit(request.user).select_related("kind", "region").get(pk=int(establishment))
    except (Establishment.DoesNotExist, ValueError):
        raise NotVisible("单位") from None
    v = selectors.access_version(version)
    if not v.is_published or not v.template.applies_to_kind(est.kind.code):
        raise NotVisible("检查表")
    return _inspect(
        request, version=v, establishment=est, target=None, draft_id=f"e{est.pk}-v{v.pk}", units=acting_units(request.user)
    )


# --- visits ---------------------------------------------------------------------------------------


@permission(roles=READER_ROLES)
def visit_list(request: HttpRequest) -> HttpResponse:
    form = VisitFilterForm(request.GET)
    filters = form.selector_filters()
    campaign = None
    if filters.get("campaign"):
        campaign = selectors.access_campaign(request.user, filters["campaign"])
    page = _page(request, selectors.visit_list(user=request.user, filters=filters), 50)
    context = {
        "form": form,
        "page": page,
        "campaign": campaign,
        "query": _query_without_page(request),
        "tones": RESULT_TONES,
        "can_visit": bool(acting_unit_ids(request.user)),
    }
    return render(request, "inspections/visit_list.html", context)


def visit_draft_id(visit: Visit) -> str:
    return f"t{visit.target_id}" if visit.target_id else f"e{visit.establishment_id}-v{visit.version_id}"


@permission(roles=READER_ROLES)
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.access_visit(request.user, pk)
    answers = selectors.visit_answers(visit)
    rows = [(a, checklist.display(a.item, a.value)) for a in answers]
    problem_ids = [a.problem_id for a in answers if a.problem_id]
    openable = (
        set(Problem.objects.visible_to(request.user).filter(pk__in=problem_ids).values_list("pk", flat=True))
        if problem_ids
        else set()
    )
    context = {
        "v": visit,
        "tone": RESULT_TONES.get(VisitResult(visit.result), ""),
        "rows": rows,
        "staff": selectors.visit_staff(visit),
        "photos": selectors.general_photos(visit),
        "problems": [a.problem for a in answers if a.problem_id],
        "draft_id": visit_draft_id(visit),
        "mine": visit.created_by_id == request.user.pk,
        "openable": openable,
    }
    return render(request, "inspections/visit_detail.html", context)


@permission(roles=READER_ROLES)
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A visit photo, after the same access check as its visit (404 otherwise). Never cached by shared caches."""
    p = selectors.access_photo(request.user, pk)
    response = FileResponse(p.file.open("rb"), content_type=p.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- checklist templates --------------------------------------------------------------------------


@permission(roles=TEMPLATE_READER_ROLES)
def template_list(request: HttpRequest) -> HttpResponse:
    templates = list(selectors.template_list(include_inactive=True))
    rows = []
    for t in templates:
        versions = list(t.versions.all())
        published = next((v for v in versions if v.published_at), None)
        draft = next((v for v in versions if not v.published_at), None)
        rows.append((t, published, draft))
    can_edit = scope_of(request.user).has_role(*EDITOR_ROLES)
    return render(request, "inspections/template_list.html", {"rows": rows, "can_edit": can_edit})


@permission(roles=TEMPLATE_READER_ROLES)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.access_template(pk)
    versions = list(template.versions.order_by("-number"))
    chosen = next((v for v in versions if str(v.pk) == request.GET.get("version")), None)
    chosen = chosen or next((v for v in versions if v.published_at), None) or (versions[0] if versions else None)
    items = selectors.version_items(chosen) if chosen else []
    context = {
        "t": template,
        "versions": versions,
        "chosen": chosen,
        "items": [(i, checklist.describe_rule(i)) for i in items],
        "can_edit": scope_of(request.user).has_role(*EDITOR_ROLES),
        "used": chosen.visits.count() if chosen else 0,
    }
    return render(request, "inspections/template_detail.html", context)


def _template_form(request: HttpRequest, template: ChecklistTemplate | None) -> HttpResponse:
    creating = template is None
    if request.method == "POST":
        meta = TemplateMetaForm(request.POST, creating=creating)
        formset = ItemFormSet(request.POST, prefix="items")
    else:
        initial_meta: dict[str, Any] = {}
        definitions: list[dict[str, Any]] = []
        if template is not None:
            initial_meta = {
                "name": template.name,
                "subject_type": template.subject_type,
                "subject_kinds": template.subject_kinds,
                "visit_kind": template.visit_kind,
                "description": template.description,
            }
            base = selectors.draft_version(template) or selectors.latest_version(template)
            if base is not None:
                definitions = [checklist.definition_of(i) for i in selectors.version_items(base)]
        meta = TemplateMetaForm(initial=initial_meta, creating=creating)
        formset = ItemFormSet(prefix="items", initial=item_initial(definitions))
    error = ""
    service_errors: list[str] = []
    if request.method == "POST" and meta.is_valid() and formset.is_valid():
        items = [d for d in (f.definition() for f in formset.forms) if d is not None]
        data = {k: meta.cleaned_data[k] for k in ("name", "subject_type", "subject_kinds", "visit_kind", "description")}
        publish = request.POST.get("publish") == "1"
        try:
            if template is None:
                version = services.template_create(
                    actor=request.user,
                    code=meta.cleaned_data["code"],
                    data=data,
                    items=items,
                    publish=publish,
                    note=meta.cleaned_data["note"],
                )
            elif publish:
                version = services.template_revise(
                    actor=request.user, template=template, items=items, note=meta.cleaned_data["note"], data=data
                )
            else:
                version = services.template_save_draft(
                    actor=request.user, template=template, items=items, note=meta.cleaned_data["note"], data=data
                )
        except ValidationError as exc:
            service_errors = [m for messages_ in exc.message_dict.values() for m in messages_]
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"已发布第{version.number}版" if version.is_published else f"已保存为第{version.number}版草稿（尚未发布）",
            )
            return redirect(reverse("inspections:template", args=[version.template_id]) + f"?version={version.pk}")
    context = {"t": template, "meta": meta, "formset": formset, "error": error, "service_errors": service_errors}
    failed = request.method == "POST"
    return render(request, "inspections/template_form.html", context, status=400 if failed else 200)


@permission(roles=EDITOR_ROLES)
def template_create(request: HttpRequest) -> HttpResponse:
    return _template_form(request, None)


@permission(roles=EDITOR_ROLES)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_form(request, selectors.access_template(pk))


@permission(roles=EDITOR_ROLES)
@require_POST
def template_publish(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.access_template(pk)
    draft = selectors.draft_version(template)
    try:
        if draft is None:
            raise ApplicationError("没有待发布的草稿", code="invalid_state")
        services.template_publish(actor=request.user, version=draft)
        messages.success(request, f"已发布第{draft.number}版")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("inspections:template", pk)


@permission(roles=EDITOR_ROLES)
@require_POST
def template_discard(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.access_template(pk)
    services.template_discard_draft(actor=request.user, template=template)
    messages.success(request, "已放弃草稿")
    return redirect("inspections:template", pk)


# --- figures --------------------------------------------------------------------------------------


@permission(roles=READER_ROLES)
def figures(request: HttpRequest) -> HttpResponse:
    visible = Visit.objects.visible_to(request.user)
    unit_ids = visible.order_by().values("unit_id").distinct()
    units = list(OrgUnit.objects.filter(pk__in=unit_ids).order_by("kind", "code"))
    form = FiguresForm(request.GET or None, units=units)
    last = visible.order_by("-visited_at").values_list("visited_at", flat=True).first()
    start, end = form.period(timezone.localtime(last).date() if last else None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    unit = data.get("unit")
    by = data.get("by") or "unit"
    result = selectors.dispatch_figures(user=request.user, start=start, end=end, unit=unit, by=by)
    context = {"form": form, "f": result, "by": by, "start": start, "end": end}
    return render(request, "inspections/figures.html", context)
