"""Routing (分派): from a problem's category and place to a unit, then to a person in it.

- With an establishment, `duties.selectors.responsible_for()` answers on both axes as of the report date.
  The category's rule picks the axis:
  * ``sectoral``: the department the establishment's service category is assigned to (行业主管部门);
  * ``territorial``: the first link of the territorial chain that exists — the 包联 staff member, the
    community committee, the road-section holder, the sub-district office, the department covering the
    sub-district (区直部门包镇办);
  * ``sectoral_then_territorial``: the sectoral department if there is one, else the territorial chain.
- With only a region (a public report, a hotline call about a street): territorially, to the community
  committee or sub-district office of the region or its nearest ancestor that has one (the category's axis
  does not apply: a place has no service category).
- Nothing found: the district triage queue (the command unit, OrgUnit kind "command"), state "reported",
  where a dispatcher assigns it by hand. Nothing is ever lost.

The person: the named holder when the link names one (包联, road section), else the active member of the unit
with the fewest open problems (ties by user name) — a load-balancing round robin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.duties.selectors import Link, Responsibility, responsible_for
from taizhang.regions.models import Region

from .models import OPEN_STATES, Problem, ProblemCategory, Routing
from .scoping import ACTING_ROLES

TERRITORIAL_UNIT_KINDS = (OrgUnit.Kind.COMMUNITY_COMMITTEE, OrgUnit.Kind.SUBDISTRICT_OFFICE)
TERRITORIAL_ORDER = ("包联人员", "社区/村", "路段负责人", "街道/镇", "包镇办部门")


@dataclass(frozen=True)
class Route:
    unit: OrgUnit | None
    assignee: User | None
    axis: str  # "sectoral" | "territorial" | "triage"
    label: str  # which link: 包联人员, 行业主管部门, 社区/村, 指挥部分派 …

    @property
    def is_triage(self) -> bool:
        return self.axis == "triage"

    def describe(self) -> str:
        who = f"（{self.assignee}）" if self.assignee else ""
        return f"按{self.label}分派至{self.unit}{who}" if not self.is_triage else f"无法确定责任单位，转{self.unit}分派"


def triage_unit() -> OrgUnit | None:
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMAND, is_active=True).order_by("code").first()


def unit_members(unit_ids: list[int], on: date | None = None) -> dict[int, list[User]]:
    """Active users holding an acting post in each unit, ordered by user name."""
    members: dict[int, list[User]] = {u: [] for u in unit_ids}
    posts = (
        Post.objects.active(on).filter(unit_id__in=unit_ids, role__in=ACTING_ROLES, user__is_active=True).select_related("user")
    )
    for post in posts.order_by("user__username"):
        if post.user not in members[post.unit_id]:
            members[post.unit_id].append(post.user)
    return members


Pick = Callable[[OrgUnit, Sequence[User]], "User | None"]


def least_loaded(people: Sequence[User]) -> User | None:
    candidates = [p for p in people if p.is_active]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    load = dict(
        Problem.objects.filter(assignee__in=candidates, state__in=OPEN_STATES)
        .values("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    return min(candidates, key=lambda u: (load.get(u.pk, 0), u.username))


def _pick_least_loaded(unit: OrgUnit, people: Sequence[User]) -> User | None:
    return least_loaded(list(people) or unit_members([unit.pk]).get(unit.pk, []))


def _from_link(link: Link, axis: str, pick: Pick) -> Route | None:
    if link.unit is None or not link.unit.is_active:
        return None
    if link.label in ("包联人员", "路段负责人") and link.people:
        return Route(link.unit, link.people[0], axis, link.label)
    return Route(link.unit, pick(link.unit, link.people), axis, link.label)


def _territorial_chain(links: tuple[Link, ...], pick: Pick) -> Route | None:
    by_label = {link.label: link for link in links}
    for label in TERRITORIAL_ORDER:
        link = by_label.get(label)
        if link is not None:
            route = _from_link(link, "territorial", pick)
            if route is not None:
                return route
    return None


def choose(category: ProblemCategory, resp: Responsibility, pick: Pick = _pick_least_loaded) -> Route | None:
    """The unit and person for an establishment's problem from its Responsibility, by the category's axis.

    `pick(unit, people)` chooses the person when the link names no one (default: the least loaded member)."""
    found: Route | None = None
    if category.routing in (Routing.SECTORAL, Routing.SECTORAL_THEN_TERRITORIAL):
        for link in resp.sectoral:
            found = _from_link(link, "sectoral", pick)
            if found is not None:
                break
    if found is None and category.routing in (Routing.TERRITORIAL, Routing.SECTORAL_THEN_TERRITORIAL):
        found = _territorial_chain(resp.territorial, pick)
    return found


def route_for_region(region: Region, on: date | None = None) -> Route | None:
    paths = [*region.ancestors_paths(), region.path]
    units = {
        u.region.path: u
        for u in OrgUnit.objects.filter(region__path__in=paths, kind__in=TERRITORIAL_UNIT_KINDS, is_active=True)
        .select_related("region")
        .order_by("-code")
    }
    for path in reversed(paths):
        unit = units.get(path)
        if unit is not None:
            members = unit_members([unit.pk], on)[unit.pk]
            label = "社区/村" if unit.kind == OrgUnit.Kind.COMMUNITY_COMMITTEE else "街道/镇"
            return Route(unit, least_loaded(members), "territorial", label)
    return None


def route(*, category: ProblemCategory, establishment: Any = None, region: Region | None = None, on: date | None = None) -> Route:
    """Where a new problem goes. Always answers: the triage queue when nothing else fits."""
    found: Route | None = None
    if establishment is not None:
        found = choose(category, responsible_for(establishment, on))
    elif region is not None:
        found = route_for_region(region, on)
    if found is not None:
        return found
    return Route(triage_unit(), None, "triage", "指挥部分派")
