"""Who sees and does what with checklists, campaigns and visits (SPEC §1). The one rule for pages, API, counts,
figures and the establishment timeline.

- Checklist templates are configuration (no personal data): every staff role reads them; department staff and the
  system administrator edit them.
- A campaign target is visible to the members of the team it was given to (督导组: "the targets of the campaigns
  their team is assigned"), to the members of the organising unit, and to territorial staff (leader,
  sub-district, community) whose region subtree holds it.
- A campaign is visible to whoever may see its organising unit's or its teams' work, and to territorial staff
  for whom it has a target (a leader also sees drafts inside their district).
- A visit is visible to the people on it, the members of the unit it was made for, the organising unit of its
  campaign, territorial staff whose subtree holds it and everyone who can see its establishment in the registry
  (the 包联 staff member, the departments covering its category or sub-district).
Administrators (三员), the hotline and enterprise contacts see none of these records. Leaders read, never act.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from taizhang.core.paths import subtree_q
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of

TERRITORIAL_ROLES = frozenset({Role.LEADER, Role.SUBDISTRICT, Role.COMMUNITY})
# Who fills in visits and inspections.
ACTING_ROLES = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY, Role.INSPECTOR})
# Who opens the pages at all.
READER_ROLES = ACTING_ROLES | {Role.LEADER}
# Who organises campaigns (a department runs 督导 and 日常巡查 through its teams).
MANAGER_ROLES = frozenset({Role.DEPARTMENT})
# Who edits checklists (configuration).
EDITOR_ROLES = frozenset({Role.DEPARTMENT, Role.SYSADMIN})
TEMPLATE_READER_ROLES = READER_ROLES | {Role.SYSADMIN}
NOTHING = Q(pk__in=[])


def acting_unit_ids(user: Any) -> frozenset[int]:
    """The units on whose behalf `user` may visit and inspect (posts with an acting role)."""
    return frozenset(p.unit_id for p in scope_of(user).posts if p.role in ACTING_ROLES)


def acting_units(user: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    for p in scope_of(user).posts:
        if p.role in ACTING_ROLES:
            seen.setdefault(p.unit_id, p.unit)
    return list(seen.values())


def inspector_unit_ids(user: Any) -> frozenset[int]:
    return frozenset(p.unit_id for p in scope_of(user).posts if p.role == Role.INSPECTOR)


def territorial_paths(user: Any) -> list[str]:
    return [p.region.path for p in scope_of(user).posts if p.role in TERRITORIAL_ROLES]


def _reads(user: Any) -> bool:
    scope = scope_of(user)
    return scope.user_id is not None and bool(scope.roles & READER_ROLES)


def target_scope_q(user: Any) -> Q:
    if not _reads(user):
        return NOTHING
    units = sorted(acting_unit_ids(user))
    q = NOTHING
    if units:
        q |= Q(team_id__in=units) | Q(campaign__unit_id__in=units)
    paths = territorial_paths(user)
    if paths:
        q |= subtree_q(paths, "region_path")
    return q


def campaign_scope_q(user: Any) -> Q:
    if not _reads(user):
        return NOTHING
    from .models import CampaignTarget, CampaignTeam

    units = sorted(acting_unit_ids(user))
    q = NOTHING
    if units:
        q |= Q(unit_id__in=units) | Q(pk__in=CampaignTeam.objects.filter(unit_id__in=units).values("campaign_id"))
    paths = territorial_paths(user)
    if paths:
        q |= Q(pk__in=CampaignTarget.objects.filter(subtree_q(paths, "region_path")).values("campaign_id"))
        leader_paths = [p.region.path for p in scope_of(user).posts if p.role == Role.LEADER]
        if leader_paths:
            q |= subtree_q(leader_paths, "region__path")
    return q


def visit_scope_q(user: Any) -> Q:
    if not _reads(user):
        return NOTHING
    from taizhang.establishments.models import Establishment

    from .models import VisitStaff

    scope = scope_of(user)
    uid = scope.user_id or 0
    q = Q(created_by_id=uid) | Q(pk__in=VisitStaff.objects.filter(user_id=uid).values("visit_id"))
    units = sorted(acting_unit_ids(user))
    if units:
        q |= Q(unit_id__in=units) | Q(campaign__unit_id__in=units)
    paths = territorial_paths(user)
    if paths:
        q |= subtree_q(paths, "region_path")
    if scope.has_role(Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY):
        q |= Q(establishment_id__in=Establishment.objects.visible_to(user).values("pk"))
    return q


def is_read_only(user: Any) -> bool:
    return not (scope_of(user).roles & ACTING_ROLES)
