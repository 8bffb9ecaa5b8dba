from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from taizhang.core.permissions import permission

from . import selectors, services


@permission()
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.notifications_of(user=request.user, unread_only=unread_only), 30).get_page(request.GET.get("page"))
    template = "notifications/_rows.html" if request.htmx else "notifications/list.html"  # type: ignore[attr-defined]
    return render(
        request, template, {"page": page, "unread_only": unread_only, "unread_total": selectors.unread_count(user=request.user)}
    )


@permission()
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The count badge alone, for `hx-get` polling from the top bar."""
    return render(request, "notifications/_badge.html", {"count": selectors.unread_count(user=request.user)})


@require_POST
@permission()
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my notifications read and follow its link (a local path only)."""
    n = selectors.notifications_of(user=request.user).filter(pk=pk).first()
    if n is None:
        return redirect("notifications:list")
    services.mark_read(user=request.user, ids=[n.pk])
    if n.url and url_has_allowed_host_and_scheme(n.url, allowed_hosts=None):
        return redirect(n.url)
    return redirect("notifications:list")


@require_POST
@permission()
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_read(user=request.user)
    return redirect("notifications:list")
