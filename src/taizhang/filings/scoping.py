"""Who sees, edits and reviews which filing.

- **See**: everyone who sees the establishment (establishments.scoping: the enterprise its own, the
  territorial chain, the departments of its category and sub-district, the staff assigned to it), plus the
  members of the unit the filing was sent to for review.
- **Edit** a draft or returned filing (fill in, upload, submit, withdraw): the enterprise's own confirmed
  contact, or community/sub-district staff of its area or assigned to it (who file for small shops without
  an account: 代为填报).
- **Review**: members (department or sub-district posts) of the filing's reviewer unit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from taizhang.core.paths import subtree_q
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.duties.selectors import subject_ids_assigned_to
from taizhang.establishments.models import EnterpriseAccount, Establishment
from taizhang.establishments.scoping import SUBJECT_TYPE, establishment_scope_q

NOTHING = Q(pk__in=[])
REVIEW_ROLES = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT})
EDIT_ROLES = frozenset({Role.ENTERPRISE, Role.COMMUNITY, Role.SUBDISTRICT})
READ_ROLES = frozenset({Role.ENTERPRISE, Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
STAFF_WRITERS = frozenset({Role.COMMUNITY, Role.SUBDISTRICT})


def review_unit_ids(user: Any) -> list[int]:
    scope = scope_of(user)
    return sorted({p.unit_id for p in scope.posts if p.role in REVIEW_ROLES})


def own_establishment_ids(user: Any) -> Any:
    """A subquery of the establishments an enterprise user's confirmed accounts open."""
    return EnterpriseAccount.objects.filter(user_id=scope_of(user).user_id or 0, is_active=True, confirmed=True).values(
        "establishment_id"
    )


def filing_scope_q(user: Any) -> Q:
    scope = scope_of(user)
    if not scope.reads_personal_data:
        return NOTHING
    q = Q(establishment__in=Establishment.objects.filter(establishment_scope_q(user)).values("pk"))
    units = review_unit_ids(user)
    if units:
        q |= Q(reviewer_unit_id__in=units)
    return q


def editable_establishment_q(user: Any) -> Q:
    """Establishments whose filings the user may write (on Establishment)."""
    scope = scope_of(user)
    if not scope.reads_personal_data:
        return NOTHING
    q = NOTHING
    if scope.has_role(Role.ENTERPRISE):
        q |= Q(pk__in=own_establishment_ids(user))
    paths = [p.region.path for p in scope.posts if p.role in STAFF_WRITERS]
    if paths:
        q |= subtree_q(paths, "region_path")
    if scope.has_role(*STAFF_WRITERS):
        q |= Q(pk__in=subject_ids_assigned_to(user_id=scope.user_id or 0, subject_type=SUBJECT_TYPE))
    return q


def can_write(user: Any, establishment_id: int) -> bool:
    return Establishment.objects.filter(editable_establishment_q(user), pk=establishment_id).exists()


def can_review(user: Any, reviewer_unit_id: int | None) -> bool:
    return reviewer_unit_id is not None and reviewer_unit_id in review_unit_ids(user)
