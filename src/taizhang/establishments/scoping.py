"""Who sees which establishment (SPEC §1): the one rule used by pages, API, search, export and counts.

- leader, subdistrict, community: the establishments in their posts' region subtrees;
- community (and any staff) also: the establishments assigned to them personally (包联);
- department: the establishments of the categories its units are assigned (sectoral axis) and of the
  sub-districts they cover (区直部门包镇办);
- enterprise: its own establishment only, once the account is confirmed;
- inspectors: the targets given to their teams in active campaigns (the inspections app registers that rule
  through register_scope(): the registry does not import the apps built on it);
- the three administrators and the hotline: none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

from taizhang.core.paths import subtree_q
from taizhang.core.request_context import per_request
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.duties.selectors import coverage_of_units, subject_ids_assigned_to

TERRITORIAL_ROLES = {Role.LEADER, Role.SUBDISTRICT, Role.COMMUNITY}
SUBJECT_TYPE = "establishments.establishment"
NOTHING = Q(pk__in=[])

# Rules of apps built on the registry that open establishments to more users (inspections: campaign targets).
_EXTENSIONS: list[Callable[[Any], Q]] = []


def register_scope(rule: Callable[[Any], Q]) -> None:
    """Add a rule `rule(user) -> Q` whose establishments `user` may also see (ORed into the scope). Called from an
    app's ready(); registering the same rule twice has no effect."""
    if rule not in _EXTENSIONS:
        _EXTENSIONS.append(rule)


def establishment_scope_q(user: Any) -> Q:
    """The filter for `user`, computed once per request."""
    return per_request(("establishment_scope", getattr(user, "pk", None)), lambda: _compute(user))


# Up to this many personally assigned establishments outside the user's regions are ORed in as ids; more (never
# seen: 包联 lists are tens of rows) as a subquery, which stays correct but slower.
ASSIGNED_IDS_INLINE = 2000


def _assigned_outside(user_id: int, paths: list[str]) -> Q:
    """The establishments assigned to the user personally (包联) that their own regions do not already include —
    usually none — as a list of ids. ORing the assignment subquery itself kept PostgreSQL from bounding the list's
    index scan by the region range: a community worker's page read 88,000 index entries of a 200,000-row registry
    (71 ms); with the ids, 0.2 ms (EXPLAIN ANALYZE, stop 10)."""
    from .models import Establishment

    assigned = subject_ids_assigned_to(user_id=user_id, subject_type=SUBJECT_TYPE)
    outside = Establishment.objects.filter(pk__in=assigned)
    if paths:
        outside = outside.exclude(subtree_q(paths, "region_path"))
    ids = list(outside.order_by().values_list("pk", flat=True)[: ASSIGNED_IDS_INLINE + 1])
    if len(ids) > ASSIGNED_IDS_INLINE:
        return Q(pk__in=assigned)
    return Q(pk__in=ids) if ids else NOTHING


def _compute(user: Any) -> Q:
    scope = scope_of(user)
    if not scope.reads_personal_data:
        return NOTHING
    q = NOTHING
    paths = [p.region.path for p in scope.posts if p.role in TERRITORIAL_ROLES]
    if paths:
        q |= subtree_q(paths, "region_path")
    if scope.has_role(Role.COMMUNITY, Role.SUBDISTRICT, Role.DEPARTMENT):
        q |= _assigned_outside(scope.user_id or 0, paths)
    if scope.has_role(Role.DEPARTMENT):
        units = [p.unit_id for p in scope.posts if p.role == Role.DEPARTMENT]
        categories, subdistricts = coverage_of_units(unit_ids=units)
        if categories:
            q |= Q(category_id__in=categories)
        if subdistricts:
            q |= subtree_q(subdistricts, "region_path")
    if scope.has_role(Role.ENTERPRISE):
        from .models import EnterpriseAccount

        q |= Q(
            pk__in=EnterpriseAccount.objects.filter(user_id=scope.user_id or 0, is_active=True, confirmed=True).values(
                "establishment_id"
            )
        )
    for rule in _EXTENSIONS:
        q |= rule(user)
    return q
