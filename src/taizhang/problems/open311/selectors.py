"""Reads of the Open311 interface. Unauthenticated by design (GeoReport v2): what they return is public.

Only problems reported by the public (`Source.PUBLIC`: Open311 and other public channels) are service
requests here; problems found on visits, inspections or from enterprises are internal ledger entries and are
never listed. Contact data is never loaded (the encrypted fields are deferred).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max, Prefetch, Q, QuerySet

from taizhang.problems.models import DONE_STATES, EventKind, Problem, ProblemCategory, ProblemEvent, Source
from taizhang.regions.models import Region

from .errors import NotFound
from .inputs import RequestQuery
from .models import Open311Service, Open311Submission, ServiceAttribute

# The steps of a track that a member of the public is told about (their text is generated, never the staff's
# note), plus comments that staff marked public (`data["public"]`), whose note is shown masked.
PUBLIC_EVENT_KINDS = (
    EventKind.REPORTED,
    EventKind.ROUTED,
    EventKind.TRIAGE,
    EventKind.ACCEPTED,
    EventKind.RESOLVED,
    EventKind.VERIFIED,
    EventKind.REJECTED,
    EventKind.CLOSED,
    EventKind.RETURNED,
    EventKind.REOPENED,
    EventKind.REASSIGNED,
    EventKind.MERGED,
    EventKind.ESCALATED,
)
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


def services() -> list[ProblemCategory]:
    """One service per active category, with its settings and whether it has attributes (two queries)."""
    with_attrs = set(ServiceAttribute.objects.filter(is_active=True).values_list("category_id", flat=True).distinct())
    cats = list(ProblemCategory.objects.filter(is_active=True).select_related("open311_service").order_by("sort", "code"))
    for c in cats:
        c.has_open311_attributes = c.pk in with_attrs  # type: ignore[attr-defined]
    return cats


def service_settings(category: ProblemCategory) -> Open311Service | None:
    try:
        return category.open311_service
    except Open311Service.DoesNotExist:
        return None


def service_definition(service_code: str) -> tuple[ProblemCategory, list[ServiceAttribute], dict[str, list[Region]]]:
    category = ProblemCategory.objects.filter(code=service_code, is_active=True).first()
    if category is None:
        raise NotFound(f"服务 {service_code} 不存在（service_code not found）")
    attrs = list(ServiceAttribute.objects.filter(category=category, is_active=True).order_by("order", "code"))
    levels = {a.region_level for a in attrs if a.region_level}
    regions: dict[str, list[Region]] = {level: [] for level in levels}
    if levels:
        for r in Region.objects.filter(level__in=levels).select_related("parent").order_by("path"):
            regions[r.level].append(r)
    return category, attrs, regions


def changeset() -> datetime | None:
    """When the service list last changed (attributes or settings), for discovery."""
    times = [
        ServiceAttribute.objects.aggregate(m=Max("updated_at"))["m"],
        Open311Service.objects.aggregate(m=Max("updated_at"))["m"],
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def public_problems() -> QuerySet[Problem]:
    return (
        Problem.objects.filter(source=Source.PUBLIC)
        .select_related("category", "unit", "region", "merged_into", "open311")
        .defer(*CONTACT_FIELDS)
    )


def with_public_events(qs: QuerySet[Problem]) -> QuerySet[Problem]:
    events = ProblemEvent.objects.filter(Q(kind__in=PUBLIC_EVENT_KINDS) | Q(kind=EventKind.COMMENT, data__public=True)).order_by(
        "at", "id"
    )
    return qs.prefetch_related(Prefetch("events", queryset=events, to_attr="public_events"))


def request_list(query: RequestQuery) -> list[Problem]:
    qs = public_problems()
    if query.ids:
        qs = qs.filter(code__in=[i.upper() for i in query.ids])
    else:
        if query.service_codes:
            qs = qs.filter(category__code__in=query.service_codes)
        if query.start is not None:
            qs = qs.filter(created_at__gte=query.start)
        if query.end is not None:
            qs = qs.filter(created_at__lte=query.end)
        if query.statuses == {"closed"}:
            qs = qs.filter(state__in=DONE_STATES)
        elif query.statuses == {"open"}:
            qs = qs.exclude(state__in=DONE_STATES)
    qs = qs.order_by("-created_at", "-id")
    if query.extensions:
        qs = with_public_events(qs)
    offset = (query.page - 1) * query.page_size
    return list(qs[offset : offset + query.page_size])


def request_get(service_request_id: str, *, extensions: bool = False) -> Problem:
    qs = public_problems()
    if extensions:
        qs = with_public_events(qs)
    problem = qs.filter(code=service_request_id.strip().upper()).first()
    if problem is None:
        raise NotFound(f"服务请求 {service_request_id} 不存在")
    return problem


def token_get(token: str) -> Open311Submission:
    sub = (
        Open311Submission.objects.filter(token=token.strip().lower())
        .select_related("problem")
        .only("token", "problem__code")
        .first()
    )
    if sub is None:
        raise NotFound(f"令牌 {token} 不存在")
    return sub


def submission_of(problem: Problem) -> Any:
    try:
        return problem.open311
    except Open311Submission.DoesNotExist:
        return None
