"""Who is responsible for a subject, on both axes, as of a date.

`responsible_for(subject, on=D)` answers for one subject; `responsible_for_many(subjects, on=D)` answers
for thousands in a fixed number of queries (it loads each kind of assignment once). Routing, pages and
the coverage check all use these two functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.regions.models import Level, Region

from .models import Assignment, Kind


class Subject(Protocol):
    """What responsibility is computed from: a place, optionally a road section and a category."""

    pk: Any
    region: Region
    road_section_id: int | None
    category_id: int | None


@dataclass(frozen=True)
class Link:
    label: str  # e.g. 包联人员, 社区, 路段, 街道/镇, 包镇办部门, 行业主管部门
    unit: OrgUnit | None
    people: tuple[User, ...] = ()
    since: date | None = None
    assignment_id: int | None = None


@dataclass(frozen=True)
class Responsibility:
    on: date
    territorial: tuple[Link, ...] = ()
    sectoral: tuple[Link, ...] = ()
    gaps: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not self.gaps

    def units(self, axis: str) -> list[OrgUnit]:
        links = self.sectoral if axis == "sectoral" else self.territorial
        return [link.unit for link in links if link.unit is not None]

    def people(self) -> list[User]:
        seen: dict[int, User] = {}
        for link in (*self.territorial, *self.sectoral):
            for p in link.people:
                seen.setdefault(p.pk, p)
        return list(seen.values())


def subject_type_of(subject: Any) -> str:
    return str(subject._meta.label_lower)


def _region_paths(region: Region) -> list[str]:
    return [*region.ancestors_paths(), region.path]


class _Index:
    """Everything needed to answer for a set of subjects, loaded in a fixed number of queries."""

    def __init__(self, subjects: Sequence[Any], on: date) -> None:
        self.on = on
        paths = {p for s in subjects for p in _region_paths(s.region)}
        regions = {r.path: r for r in Region.objects.filter(path__in=paths)}
        self.region_by_path = regions
        units = OrgUnit.objects.filter(
            region__path__in=paths, is_active=True, kind__in=[OrgUnit.Kind.COMMUNITY_COMMITTEE, OrgUnit.Kind.SUBDISTRICT_OFFICE]
        )
        self.unit_by_region: dict[int, OrgUnit] = {u.region_id: u for u in units.select_related("region")}
        active = Assignment.objects.active(on).select_related("unit", "user")
        types = {subject_type_of(s) for s in subjects}
        self.by_subject: dict[tuple[str, int], Assignment] = {}
        ids = [s.pk for s in subjects]
        for a in active.filter(kind=Kind.STAFF_SUBJECT, subject_type__in=types, subject_id__in=ids):
            self.by_subject[(a.subject_type, a.subject_id or 0)] = a
        roads = {s.road_section_id for s in subjects if s.road_section_id}
        self.by_road = {a.road_section_id: a for a in active.filter(kind=Kind.STAFF_ROAD, road_section_id__in=roads)}
        self.by_subdistrict = {a.region_id: a for a in active.filter(kind=Kind.DEPARTMENT_SUBDISTRICT)}
        self.by_category = {a.category_id: a for a in active.filter(kind=Kind.CATEGORY_DEPARTMENT)}
        from taizhang.industries.models import ServiceCategory

        cats = {s.category_id for s in subjects if s.category_id}
        self.category_parent = dict(ServiceCategory.objects.filter(pk__in=cats).values_list("pk", "parent_id"))
        unit_ids = (
            {u.pk for u in self.unit_by_region.values()}
            | {a.unit_id for a in self.by_subdistrict.values()}
            | {a.unit_id for a in self.by_category.values()}
        )
        self.people_by_unit: dict[int, list[User]] = defaultdict(list)
        posts = (
            Post.objects.active(on)
            .filter(unit_id__in=unit_ids, role__in=[Role.COMMUNITY, Role.SUBDISTRICT, Role.DEPARTMENT])
            .select_related("user")
        )
        for post in posts.order_by("user__username"):
            if post.user.is_active and post.user not in self.people_by_unit[post.unit_id]:
                self.people_by_unit[post.unit_id].append(post.user)

    def answer(self, subject: Any) -> Responsibility:
        territorial: list[Link] = []
        sectoral: list[Link] = []
        gaps: list[str] = []
        ancestors = [self.region_by_path[p] for p in _region_paths(subject.region) if p in self.region_by_path]
        community = next((r for r in reversed(ancestors) if r.level == Level.COMMUNITY), None)
        subdistrict = next((r for r in reversed(ancestors) if r.level == Level.SUBDISTRICT), None)

        staff = self.by_subject.get((subject_type_of(subject), subject.pk))
        if staff is not None:
            territorial.append(Link("包联人员", staff.unit, (staff.user,) if staff.user else (), staff.valid_from, staff.pk))
        else:
            gaps.append("包联人员")
        unit = self.unit_by_region.get(community.pk) if community else None
        if unit is not None:
            territorial.append(Link("社区/村", unit, tuple(self.people_by_unit.get(unit.pk, ()))))
        else:
            gaps.append("社区/村")
        if subject.road_section_id:
            road = self.by_road.get(subject.road_section_id)
            if road is not None:
                territorial.append(Link("路段负责人", road.unit, (road.user,) if road.user else (), road.valid_from, road.pk))
            else:
                gaps.append("路段负责人")
        office = self.unit_by_region.get(subdistrict.pk) if subdistrict else None
        if office is not None:
            territorial.append(Link("街道/镇", office, tuple(self.people_by_unit.get(office.pk, ()))))
        else:
            gaps.append("街道/镇")
        cover = self.by_subdistrict.get(subdistrict.pk) if subdistrict else None
        if cover is not None:
            territorial.append(
                Link("包镇办部门", cover.unit, tuple(self.people_by_unit.get(cover.unit_id, ())), cover.valid_from, cover.pk)
            )
        else:
            gaps.append("包镇办部门")

        category_id = subject.category_id
        duty = self.by_category.get(category_id) if category_id else None
        if duty is None and category_id:
            duty = self.by_category.get(self.category_parent.get(category_id))
        if duty is not None:
            sectoral.append(
                Link("行业主管部门", duty.unit, tuple(self.people_by_unit.get(duty.unit_id, ())), duty.valid_from, duty.pk)
            )
        else:
            gaps.append("行业主管部门")
        return Responsibility(on=self.on, territorial=tuple(territorial), sectoral=tuple(sectoral), gaps=tuple(gaps))


def responsible_for(subject: Subject, on: date | None = None) -> Responsibility:
    on = on or timezone.localdate()
    return _Index([subject], on).answer(subject)


def responsible_for_many(subjects: Iterable[Subject], on: date | None = None, batch: int = 2000) -> dict[Any, Responsibility]:
    on = on or timezone.localdate()
    result: dict[Any, Responsibility] = {}
    items = list(subjects)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        index = _Index(chunk, on)
        for s in chunk:
            result[s.pk] = index.answer(s)
    return result


def assignments_of_user(*, user: Any, on: date | None = None) -> list[Assignment]:
    return list(Assignment.objects.active(on).filter(user=user).select_related("road_section", "region", "category"))


def subject_ids_assigned_to(*, user_id: int, subject_type: str, on: date | None = None) -> Any:
    """A subquery of the subjects a staff member covers (for visible_to)."""
    return (
        Assignment.objects.active(on)
        .filter(kind=Kind.STAFF_SUBJECT, user_id=user_id, subject_type=subject_type)
        .values("subject_id")
    )


def coverage_of_units(*, unit_ids: Iterable[int], on: date | None = None) -> tuple[list[int], list[str]]:
    """For department scope: the categories (major and minor ids) and sub-district paths the units cover."""
    from taizhang.industries.models import ServiceCategory

    active = Assignment.objects.active(on).filter(unit_id__in=list(unit_ids))
    cats = set(active.filter(kind=Kind.CATEGORY_DEPARTMENT).values_list("category_id", flat=True))
    cats |= set(ServiceCategory.objects.filter(parent_id__in=cats).values_list("pk", flat=True))
    paths = list(active.filter(kind=Kind.DEPARTMENT_SUBDISTRICT).values_list("region__path", flat=True))
    return sorted(c for c in cats if c is not None), paths
