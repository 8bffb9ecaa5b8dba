"""Whose figures a dashboard shows (SPEC §1), in terms the rollups can answer.

The rollups count rows by region and by one more dimension (a service category, a unit, a campaign), so a
user's dashboard is a sum of a few *parts*, each "the counts of region P, only (or except) these dims":

- leader, sub-district and community staff: the region subtrees of their posts (a leader with two districts sees
  both, together and each on its own); a grid worker sees the grid;
- department staff: the establishments and filings of the categories their department is assigned, in the region
  of their post, plus every category in the sub-districts the department covers (区直部门包镇办) — counted as
  "P, only our categories" + "each covered sub-district, except our categories", so nothing is counted twice; the
  problems their units handle; the visits their units made; the campaigns they may see.

What the dashboards do not count: the establishments a user holds personally (包联) outside their region — they
are on the user's own lists, not in an area's figures — and an enterprise's own establishment (enterprises have
no dashboard).

Drill-down: `?region=<id>` must lie inside the user's regions, else 404 (the same answer as a region that does
not exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from taizhang.core.errors import NotVisible
from taizhang.core.paths import minimal_paths
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.duties.selectors import coverage_of_units
from taizhang.regions.models import Region

TERRITORIAL = frozenset({Role.LEADER, Role.SUBDISTRICT, Role.COMMUNITY})
DASHBOARD_ROLES = frozenset({Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
REPORT_FILER_ROLES = frozenset({Role.COMMUNITY})
REPORT_ADMIN_ROLES = frozenset({Role.SYSADMIN})


@dataclass(frozen=True)
class Part:
    """The counts of the region at `path` restricted to `dims` (None: all) minus `exclude` (None: none)."""

    path: str
    depth: int
    dims: frozenset[int] | None = None
    exclude: frozenset[int] | None = None


@dataclass(frozen=True)
class View:
    """What one dashboard page shows: `region` (None: all of the user's regions together), and the parts per
    family of metrics."""

    region: Region | None
    roots: tuple[Region, ...]
    establishments: tuple[Part, ...]  # est, est_above, resumed, filing
    problems: tuple[Part, ...]  # prob, prob_overdue, prob_sla, prob_event (by problem category: territorial only)
    units: tuple[Part, ...]  # prob_unit
    visits: tuple[Part, ...]  # visit, visit_people
    targets: tuple[Part, ...]  # target
    helped: tuple[Part, ...]
    department: bool = False
    unit_ids: frozenset[int] = field(default=frozenset())

    @property
    def title(self) -> str:
        if self.region is not None:
            return self.region.display_name
        return "、".join(r.display_name for r in self.roots) or "—"

    @property
    def path(self) -> str | None:
        return self.region.path if self.region is not None else None

    @property
    def depth(self) -> int:
        return self.region.depth if self.region is not None else -1


def _territorial_roots(scope: Any) -> list[Region]:
    posts = [p for p in scope.posts if p.role in TERRITORIAL]
    paths = minimal_paths(p.region.path for p in posts)
    by_path = {p.region.path: p.region for p in posts}
    return [by_path[p] for p in paths]


def _department(scope: Any) -> tuple[list[Region], frozenset[int], list[str], frozenset[int]]:
    posts = [p for p in scope.posts if p.role == Role.DEPARTMENT]
    units = frozenset(p.unit_id for p in posts)
    categories, subdistricts = coverage_of_units(unit_ids=sorted(units))
    paths = minimal_paths(p.region.path for p in posts)
    by_path = {p.region.path: p.region for p in posts}
    return [by_path[p] for p in paths], frozenset(categories), subdistricts, units


def _inside(path: str, roots: Sequence[Region]) -> bool:
    return any(path.startswith(r.path) for r in roots)


def resolve(user: Any, region_id: Any = None) -> View:
    """The view of `user` at `region_id` (None: their whole area). Raises NotVisible outside their area."""
    scope = scope_of(user)
    if not scope.has_role(*DASHBOARD_ROLES) or not scope.reads_personal_data:
        raise NotVisible("区划")
    territorial = _territorial_roots(scope)
    if territorial:
        roots = territorial
        region = _pick(region_id, roots)
        parts = tuple(Part(r.path, r.depth) for r in ([region] if region else roots))
        return View(region, tuple(roots), parts, parts, parts, parts, parts, parts)
    roots, categories, covered, units = _department(scope)
    region = _pick(region_id, roots)
    top = [region] if region else roots
    est: list[Part] = []
    for r in top:
        est.append(Part(r.path, r.depth, dims=categories))
        for s in covered:
            if s.startswith(r.path):  # a covered sub-district inside the region: its other categories
                est.append(Part(s, s.count("/") - 2, exclude=categories))
            elif r.path.startswith(s):  # the region lies in a covered sub-district: every category
                est.append(Part(r.path, r.depth, exclude=categories))
    whole = tuple(Part(r.path, r.depth) for r in top)
    from taizhang.inspections.models import Campaign

    campaigns = frozenset(Campaign.objects.visible_to(user).values_list("pk", flat=True))
    return View(
        region,
        tuple(roots),
        establishments=tuple(est),
        problems=(),
        units=tuple(Part(r.path, r.depth, dims=units) for r in top),
        visits=tuple(Part(r.path, r.depth, dims=units) for r in top),
        targets=tuple(Part(p.path, p.depth, dims=campaigns) for p in whole),
        helped=(),
        department=True,
        unit_ids=units,
    )


def _pick(region_id: Any, roots: Sequence[Region]) -> Region | None:
    if region_id in (None, ""):
        return roots[0] if len(roots) == 1 else None
    try:
        region = Region.objects.get(pk=int(region_id))
    except (Region.DoesNotExist, TypeError, ValueError):
        raise NotVisible("区划") from None
    if not _inside(region.path, roots):
        raise NotVisible("区划")
    return region
