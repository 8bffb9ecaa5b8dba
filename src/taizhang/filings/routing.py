"""Which checklist an establishment files with, and which unit reviews its filing."""

from __future__ import annotations

from datetime import date

from taizhang.accounts.models import OrgUnit
from taizhang.core.errors import ApplicationError
from taizhang.duties.selectors import responsible_for
from taizhang.establishments.models import Establishment

from .models import Audience, FilingTemplate


def template_for(establishment: Establishment) -> FilingTemplate:
    """The checklist an establishment files with: one naming its kind, else the one for its audience."""
    active = FilingTemplate.objects.filter(is_active=True)
    explicit = active.filter(kinds=establishment.kind_id).order_by("code").first()
    if explicit is not None:
        return explicit
    audience = Audience.SCHOOL if establishment.kind.is_school_like else Audience.ENTERPRISE
    template = active.filter(audience=audience, kinds__isnull=True).order_by("code").first()
    if template is None:
        raise ApplicationError(f"没有适用于“{establishment.kind}”的备案清单，请联系系统管理员配置", code="no_template")
    return template


def reviewer_unit_for(establishment: Establishment, on: date | None = None) -> OrgUnit | None:
    """The department responsible on the sectoral axis; without one, the department covering the
    sub-district, then the sub-district office (so that no filing is left without a reviewer)."""
    answer = responsible_for(establishment, on=on)
    units = answer.units("sectoral")
    if units:
        return units[0]
    for label in ("包镇办部门", "街道/镇"):
        for link in answer.territorial:
            if link.label == label and link.unit is not None:
                return link.unit
    return None
