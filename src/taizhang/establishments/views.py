"""Pages of the registry: list, detail (with the audited reveal), create, edit, status change.

Thin views: parse with a form, call one selector or service, render. htmx requests get partials.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from taizhang.audit.reveal import reveal
from taizhang.core.errors import ApplicationError, ConflictError
from taizhang.core.permissions import permission
from taizhang.core.protected import can_reveal, encrypted_field, mask_field
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.duties.selectors import responsible_for

from . import selectors, services
from .forms import (
    EXPORTERS,
    PLACE_LEVELS,
    READERS,
    WRITERS,
    ContactForm,
    EstablishmentForm,
    FilterForm,
    TransitionForm,
    allowed_targets,
    conflicting_fields,
    editable_fields_for,
    page_size_of,
    road_sections_for,
    visible_regions,
)
from .models import Establishment, Status
from .timeline import timeline_of

STATUS_TONES: dict[str, str] = {
    Status.NOT_RESUMED: "",
    Status.FILING: "info",
    Status.APPROVED: "info",
    Status.RESUMED: "ok",
    Status.SUSPENDED: "warn",
    Status.CLOSED: "bad",
}


PAGE_SIZES = (20, 50, 100, 200)


def scope_has(user: Any, roles: frozenset[str]) -> bool:
    return scope_of(user).has_role(*roles)


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "boosted", False)


@permission(roles=READERS)
def establishment_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET, user=request.user)
    filters = form.selector_filters()
    qs = (
        selectors.establishment_list(user=request.user, filters=filters)
        .select_related("region__parent")
        .defer("legal_representative", "contact_name")
    )
    page_size = page_size_of(request.GET.get("page_size"))
    page = Paginator(qs, page_size).get_page(request.GET.get("page"))
    items = list(page.object_list)
    holders = selectors.holders_for([e.pk for e in items])
    counts = selectors.status_counts(user=request.user, filters=filters)
    context = {
        "form": form,
        "page": page,
        "rows": [(e, holders.get(e.pk), STATUS_TONES.get(e.status, "")) for e in items],
        "stats": [(s.value, s.label, counts[s.value], STATUS_TONES[s]) for s in Status],
        "total": sum(counts.values()),
        "status": filters.get("status", ""),
        "page_size": page_size,
        "can_create": scope_has(request.user, WRITERS),
        "page_sizes": sorted({*PAGE_SIZES, page_size}),
    }
    partial = _is_htmx(request)
    context |= {
        # the export link carries the filters; a partial swaps it in the page head too (hx-swap-oob)
        "can_export": scope_has(request.user, EXPORTERS),
        "export_query": form.query_string(),
        "partial": partial,
    }
    template = "establishments/_results.html" if partial else "establishments/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))  # the same URL answers with a page or a partial
    return response


@permission(roles=READERS)
def establishment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    est = selectors.access_establishment(request.user, pk)
    editable = editable_fields_for(request.user)
    context = {
        "e": est,
        "tone": STATUS_TONES.get(est.status, ""),
        "sensitive": [
            (name, encrypted_field(Establishment, name).verbose_name, mask_field(est, name))
            for name in Establishment.SENSITIVE_FIELDS
        ],
        "can_reveal": can_reveal(request.user),
        "can_edit": editable is None or bool(editable),
        "can_transition": scope_has(request.user, WRITERS) and bool(allowed_targets(est.status)),
        "transition_form": TransitionForm(establishment=est),
        "chain": responsible_for(est),
        "timeline": timeline_of(establishment=est, user=request.user),
    }
    return render(request, "establishments/detail.html", context)


@permission(roles=READERS)
@require_POST
def establishment_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The full value of one personal field, as an htmx fragment; audited every time (granted or refused)."""
    est = selectors.access_establishment(request.user, pk)
    if field not in Establishment.SENSITIVE_FIELDS:
        raise Http404("字段不存在")
    try:
        value = reveal(user=request.user, obj=est, field_name=field, reason=request.POST.get("reason", ""))
    except PermissionDenied:
        response = HttpResponse('<span class="reveal-denied">无权查看完整信息</span>', status=403)
    else:
        response = render(request, "establishments/_revealed.html", {"value": value, "field": field})
    response["Cache-Control"] = "no-store"
    return response


def _visible(user: Any, est: Establishment) -> bool:
    return Establishment.objects.visible_to(user).filter(pk=est.pk).exists()


@permission(roles=WRITERS)
def establishment_create(request: HttpRequest) -> HttpResponse:
    form = EstablishmentForm(request.POST if request.method == "POST" else None, user=request.user)
    duplicate_id = None
    if request.method == "POST" and form.is_valid():
        try:
            est = services.establishment_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            duplicate_id = exc.extra.get("id") if exc.code == "duplicate" else None
        else:
            if _visible(request.user, est):
                messages.success(request, f"已登记“{est.name}”")
                return redirect("establishments:detail", est.pk)
            messages.success(request, f"已登记“{est.name}”；它不在您的查看范围内（由其所在社区和行业主管部门负责）")
            return redirect("establishments:list")
    return render(request, "establishments/form.html", {"form": form, "duplicate_id": duplicate_id, "title": "登记单位"})


@permission(roles=WRITERS | {Role.ENTERPRISE})
def establishment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    est = selectors.access_establishment(request.user, pk)
    allowed = editable_fields_for(request.user)
    if allowed == ():
        raise PermissionDenied
    form_class: Any = EstablishmentForm if allowed is None else ContactForm
    form = form_class(request.POST if request.method == "POST" else None, user=request.user, instance=est)
    duplicate_id = None
    conflict: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.establishment_update(
                establishment=est, actor=request.user, data=form.service_data(), expected_version=form.cleaned_data["version"]
            )
        except ConflictError as exc:
            # Keep everything typed; show what is saved now, and take the new version so that saving again is
            # a deliberate overwrite by someone who has seen the other change.
            current = selectors.access_establishment(request.user, pk)
            conflict = conflicting_fields(form, current)
            form.add_error(None, exc.message)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form.data = data
        except ValidationError as exc:
            form.add_service_errors(exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            duplicate_id = exc.extra.get("id") if exc.code == "duplicate" else None
        else:
            messages.success(request, "已保存")
            return redirect("establishments:detail", est.pk)
    context = {"form": form, "e": est, "duplicate_id": duplicate_id, "conflict": conflict, "title": f"修改：{est.name}"}
    return render(request, "establishments/form.html", context)


@permission(roles=WRITERS)
def establishment_transition(request: HttpRequest, pk: int) -> HttpResponse:
    est = selectors.access_establishment(request.user, pk)
    form = TransitionForm(request.POST if request.method == "POST" else None, establishment=est)
    if request.method == "POST" and form.is_valid():
        try:
            services.establishment_transition(
                establishment=est,
                to=form.cleaned_data["to"],
                actor=request.user,
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"状态已变更为“{Status(form.cleaned_data['to']).label}”")
            return redirect("establishments:detail", est.pk)
    return render(request, "establishments/transition.html", {"form": form, "e": est, "tone": STATUS_TONES.get(est.status, "")})


@permission(roles=WRITERS)
def road_section_options(request: HttpRequest) -> HttpResponse:
    """The road-section <option>s for the chosen community/grid (htmx, on the create/edit form)."""
    places = {str(r.pk): r for r in visible_regions(request.user, PLACE_LEVELS)}
    region = places.get(request.GET.get("region", ""))
    roads = road_sections_for([region]) if region is not None else []
    return render(request, "establishments/_road_options.html", {"roads": roads})
