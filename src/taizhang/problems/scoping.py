"""Who sees which problem, and who may act on it (SPEC §1, §3.4). The one rule for pages, API, counts and the
establishment timeline.

A problem is visible to:
- the members of every unit involved in it (ProblemParty: the unit it is assigned to, the units it was escalated
  through, the coordination task units, the verifying unit, the reporter's unit);
- the territorial staff (leader, sub-district, community posts) whose region subtree holds the problem's region;
- everyone who can see its establishment (`Establishment.objects.visible_to`: the 包联 staff member, the
  departments covering its category or sub-district, and the enterprise's own confirmed accounts);
- its reporter, and the reporter of a duplicate merged into it.

Administrators (三员) see nothing. Leaders see their whole district but never act (read-only).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from taizhang.core.paths import subtree_q
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment

TERRITORIAL_ROLES = frozenset({Role.LEADER, Role.SUBDISTRICT, Role.COMMUNITY})
# Roles whose holders handle problems. Leaders read; enterprises only report, comment and rectify.
ACTING_ROLES = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY, Role.INSPECTOR, Role.HOTLINE})
# Roles that may report a problem at all.
REPORTING_ROLES = ACTING_ROLES | {Role.ENTERPRISE}
# Roles that may open the problem pages.
READER_ROLES = ACTING_ROLES | {Role.LEADER, Role.ENTERPRISE}
NOTHING = Q(pk__in=[])


def problem_scope_q(user: Any) -> Q:
    scope = scope_of(user)
    if not scope.reads_personal_data or scope.user_id is None:
        return NOTHING
    from .models import Problem, ProblemParty

    q = Q(reporter_id=scope.user_id)
    q |= Q(pk__in=Problem.objects.filter(reporter_id=scope.user_id, merged_into__isnull=False).values("merged_into_id"))
    if scope.unit_ids:
        q |= Q(pk__in=ProblemParty.objects.filter(unit_id__in=sorted(scope.unit_ids)).values("problem_id"))
    paths = [p.region.path for p in scope.posts if p.role in TERRITORIAL_ROLES]
    if paths:
        q |= subtree_q(paths, "region_path")
    # Includes the 包联 establishments of a grid worker outside their grid, a department's sectoral coverage and
    # the enterprise's own establishment.
    q |= Q(establishment_id__in=Establishment.objects.visible_to(user).values("pk"))
    return q


def acting_unit_ids(user: Any) -> frozenset[int]:
    """The units on whose behalf `user` may handle problems (posts with an acting role)."""
    return frozenset(p.unit_id for p in scope_of(user).posts if p.role in ACTING_ROLES)


def acting_units(user: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    for p in scope_of(user).posts:
        if p.role in ACTING_ROLES:
            seen.setdefault(p.unit_id, p.unit)
    return list(seen.values())


def is_enterprise_of(user: Any, establishment_id: int | None) -> bool:
    """Whether `user` is a confirmed contact person of the establishment (the enterprise portal)."""
    scope = scope_of(user)
    if establishment_id is None or scope.user_id is None or Role.ENTERPRISE not in scope.roles:
        return False
    from taizhang.establishments.models import EnterpriseAccount

    return EnterpriseAccount.objects.filter(
        user_id=scope.user_id, establishment_id=establishment_id, is_active=True, confirmed=True
    ).exists()


def is_read_only(user: Any) -> bool:
    """Leaders (and anyone without an acting or enterprise post) can look but not touch."""
    roles = scope_of(user).roles
    return not (roles & REPORTING_ROLES)
