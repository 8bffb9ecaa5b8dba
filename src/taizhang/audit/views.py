from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.core.permissions import permission

from .forms import AuditFilterForm
from .selectors import audit_events


@permission(roles={"auditor"})
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events(user=request.user, filters=filters).select_related(None), 50).get_page(request.GET.get("page"))
    template = "audit/_rows.html" if request.htmx else "audit/log.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page})
