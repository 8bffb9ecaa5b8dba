"""Reads of the registry, always from `Establishment.objects.visible_to(user)`."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from taizhang.core.errors import NotVisible
from taizhang.core.paths import subtree_q
from taizhang.core.protected import blind_index, normalise
from taizhang.duties.models import Assignment, Kind
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Region

from .models import Establishment, EstablishmentEvent, Status
from .scoping import SUBJECT_TYPE
from .validators import validate_credit_code

FILTERS = ("region", "kind", "category", "status", "above_size", "key_target", "responsible", "q")


# What a typed phone number may hold besides its digits: spaces, dashes, "+86", brackets (after NFKC, so that
# full-width digits and punctuation count too).
_PHONE_TEXT = re.compile(r"[0-9\s+\-()]+")
# A mainland mobile inside other words ("电话13800000018", "张三 138-0000-0018"): 1[3-9] and nine more digits,
# which may be grouped by spaces or dashes, not part of a longer number.
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9](?:[\s\-]?[0-9]){9}(?![0-9])")


def _search_q(text: str) -> Q:
    """The search box: a complete credit code or a mobile number is looked up exactly, through its index; any
    other text is matched against names and their pinyin initials (which scans the scope: no B-tree serves it).

    The exact lookups are not ORed with the name match, which would make every search scan the scope. Nothing is
    lost: every stored code passed validate_credit_code and every stored mobile is an 11-digit mainland number, and
    a name (Chinese) is neither 18 letters and digits with two valid check characters nor a bare 11-digit number.
    Text that is more than a number but holds a mobile (电话13800000018) is matched against names and that mobile.
    """
    text = text.strip()
    if not text:
        return Q()
    try:
        return Q(credit_code=validate_credit_code(text))  # est_credit_code_unique
    except ValidationError:
        pass  # not a complete, valid code (an invalid one cannot be stored): a name
    if _PHONE_TEXT.fullmatch(unicodedata.normalize("NFKC", text)) and len(normalise("mobile", text)) == 11:
        return Q(contact_mobile_bidx=blind_index("mobile", text))  # est_mobile_bidx_idx
    q = Q(name__icontains=text)
    if text.isascii() and text.replace(" ", "").isalpha():
        q |= Q(name_initials__contains=text.replace(" ", "").lower())
    # Words with a mobile in them: the name match scans the scope anyway, so the mobile's blind index is ORed in
    # at no extra cost (a name-plus-number note copied from elsewhere still finds the establishment by its mobile).
    mobiles = {normalise("mobile", m) for m in _MOBILE_IN_TEXT.findall(unicodedata.normalize("NFKC", text))}
    for mobile in sorted(mobiles):
        q |= Q(contact_mobile_bidx=blind_index("mobile", mobile))
    return q


def _category_ids(category: Any) -> list[int]:
    """The category and, for a major one, its minor ones (categories have two levels): one small query, so that
    the list filters on `category_id IN (…)`, which est_category_status_idx serves, instead of joining the
    taxonomy to test `category = X OR category.parent = X` row by row."""
    pk = getattr(category, "pk", category)
    return list(ServiceCategory.objects.filter(Q(pk=pk) | Q(parent_id=pk)).order_by().values_list("pk", flat=True))


def establishment_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Establishment]:
    """The user's establishments with the list page's filters (all optional)."""
    f = filters or {}
    qs = Establishment.objects.visible_to(user).select_related("kind", "category", "category__parent", "region", "road_section")
    if region := f.get("region"):
        qs = qs.filter(subtree_q([region.path if isinstance(region, Region) else str(region)], "region_path"))
    if kind := f.get("kind"):
        qs = qs.filter(kind=kind)
    if category := f.get("category"):
        qs = qs.filter(category_id__in=_category_ids(category))
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
