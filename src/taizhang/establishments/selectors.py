"""Reads of the registry, always from `Establishment.objects.visible_to(user)`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet

from taizhang.core.errors import NotVisible
from taizhang.core.paths import subtree_q
from taizhang.core.protected import blind_index
from taizhang.duties.models import Assignment, Kind
from taizhang.regions.models import Region

from .models import Establishment, EstablishmentEvent, Status
from .scoping import SUBJECT_TYPE
from .validators import normalize_credit_code

FILTERS = ("region", "kind", "category", "status", "above_size", "key_target", "responsible", "q")


def _search_q(text: str) -> Q:
    text = text.strip()
    if not text:
        return Q()
    q = Q(name__icontains=text)
    compact = normalize_credit_code(text)
    if len(compact) == 18:
        q |= Q(credit_code=compact)
    if text.isascii() and text.replace(" ", "").isalpha():
        q |= Q(name_initials__contains=text.replace(" ", "").lower())
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 11:
        q |= Q(contact_mobile_bidx=blind_index("mobile", text))
    return q


def establishment_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Establishment]:
    """The user's establishments with the list page's filters (all optional)."""
    f = filters or {}
    qs = Establishment.objects.visible_to(user).select_related("kind", "category", "category__parent", "region", "road_section")
    if region := f.get("region"):
        qs = qs.filter(subtree_q([region.path if isinstance(region, Region) else str(region)], "region_path"))
    if kind := f.get("kind"):
        qs = qs.filter(kind=kind)
    if category := f.get("category"):
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if status := f.get("status"):
        qs = qs.filter(status=status)
    if f.get("above_size") in (True, "1", "true"):
        qs = qs.filter(above_size=True)
    if f.get("key_target") in (True, "1", "true"):
        qs = qs.filter(key_target=True)
    if responsible := f.get("responsible"):
        qs = qs.filter(
            pk__in=Assignment.objects.active()
            .filter(kind=Kind.STAFF_SUBJECT, subject_type=SUBJECT_TYPE, user=responsible)
            .values("subject_id")
        )
    if text := f.get("q"):
        qs = qs.filter(_search_q(str(text)))
    return qs.order_by("region_path", "name", "id")


def access_establishment(user: Any, establishment_id: Any) -> Establishment:
    try:
        return (
            Establishment.objects.visible_to(user)
            .select_related("kind", "category", "category__parent", "industry", "region", "road_section")
            .get(pk=int(establishment_id))
        )
    except (Establishment.DoesNotExist, ValueError, TypeError):
        raise NotVisible("单位") from None


def holders_for(establishment_ids: list[int], on: date | None = None) -> dict[int, Any]:
    """The 包联 staff member of each establishment on a page (one query for the whole page)."""
    rows = (
        Assignment.objects.active(on)
        .filter(kind=Kind.STAFF_SUBJECT, subject_type=SUBJECT_TYPE, subject_id__in=establishment_ids)
        .select_related("user")
    )
    return {int(a.subject_id): a.user for a in rows if a.subject_id is not None}


def status_counts(*, user: Any, filters: dict[str, Any] | None = None) -> dict[str, int]:
    qs = establishment_list(user=user, filters={k: v for k, v in (filters or {}).items() if k != "status"}).order_by()
    counts = {s.value: 0 for s in Status}
    for row in qs.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def resumed_as_of(*, user: Any, on: date) -> dict[str, int]:
    """截至某日复工复产的单位数及其中的限上企业数 (status resumed and resumed on or before the date)."""
    qs = Establishment.objects.visible_to(user).filter(status=Status.RESUMED, resumed_on__lte=on).order_by()
    return {"resumed": qs.count(), "resumed_above_size": qs.filter(above_size=True).count()}


def establishment_events(*, establishment: Establishment) -> QuerySet[EstablishmentEvent]:
    return establishment.events.select_related("actor").order_by("-at", "-id")
