from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.core.permissions import permission
from taizhang.core.roles import REGION_READERS

from . import selectors
from .models import Level


@permission(roles=REGION_READERS)
def region_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    regions = (
        selectors.region_list(user=request.user, q=q, level=level) if (q or level) else selectors.region_roots(user=request.user)
    )
    template = "regions/_table.html" if request.htmx else "regions/list.html"  # type: ignore[attr-defined]
    return render(request, template, {"regions": regions[:500], "q": q, "level": level, "levels": Level.choices})


@permission(roles=REGION_READERS)
def region_detail(request: HttpRequest, pk: int) -> HttpResponse:
    region = selectors.access_region(request.user, pk)
    children = selectors.region_list(user=request.user, parent_id=region.pk)
    return render(
        request,
        "regions/detail.html",
        {
            "region": region,
            "children": children,
            "breadcrumb": selectors.region_breadcrumb(region=region),
            "aliases": region.aliases.all(),
            "road_sections": selectors.road_sections_of(user=request.user, region=region),
        },
    )
