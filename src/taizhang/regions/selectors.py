"""Reads of the region tree, always starting from what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from taizhang.core.errors import NotVisible
from taizhang.core.paths import subtree_q

from .models import Region, RoadSection


def region_list(*, user: Any, parent_id: int | None = None, level: str | None = None, q: str = "") -> QuerySet[Region]:
    qs = Region.objects.visible_to(user)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(aliases__alias__icontains=q) | Q(code=q)).distinct()
    return qs.annotate(children_count=Count("children")).order_by("path")


def region_roots(*, user: Any) -> QuerySet[Region]:
    """The topmost regions the user may see (their posts' regions)."""
    visible = Region.objects.visible_to(user)
    return visible.exclude(parent__in=visible).annotate(children_count=Count("children")).order_by("path")


def access_region(user: Any, region_id: int | str) -> Region:
    try:
        return Region.objects.visible_to(user).get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise NotVisible("区划") from None


def region_breadcrumb(*, region: Region) -> list[Region]:
    """The region's ancestors (names only; showing a name does not open the ancestor)."""
    return list(Region.objects.filter(path__in=region.ancestors_paths()).order_by("depth"))


def road_sections_of(*, user: Any, region: Region) -> QuerySet[RoadSection]:
    """Road sections of the sub-districts in or above `region`'s subtree that the user may see."""
    return RoadSection.objects.visible_to(user).filter(subtree_q([region.path], "subdistrict__path"))


def find_region_by_name(name: str) -> QuerySet[Region]:
    """Regions whose official name, short name or alias is exactly `name` (not scoped: used for lookups)."""
    name = name.strip()
    return Region.objects.filter(Q(name=name) | Q(short_name=name) | Q(aliases__alias=name)).distinct()
