"""Reads of filings, always from `Filing.objects.visible_to(user)`; the status figures of the registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from taizhang.core.errors import NotVisible
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import EnterpriseAccount, Establishment, Status
from taizhang.establishments.selectors import resumed_as_of
from taizhang.establishments.timeline import Entry
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level, Region

from . import checklist
from .models import Decision, Filing, FilingAttachment, FilingEvent, FilingItem, FilingTemplate, FilingVersion, State
from .scoping import can_review, can_write, review_unit_ids

FILTERS = ("state", "overdue", "q", "mine")


def filing_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Filing]:
    f = filters or {}
    qs = Filing.objects.visible_to(user).select_related("establishment", "establishment__region", "template", "reviewer_unit")
    if state := f.get("state"):
        qs = qs.filter(state=state)
    if f.get("overdue") in (True, "1", "true"):
        qs = qs.filter(state=State.SUBMITTED, due_at__lt=timezone.now())
    if f.get("mine") in (True, "1", "true"):
        qs = qs.filter(reviewer_unit_id__in=review_unit_ids(user))
    if text := str(f.get("q") or "").strip():
        qs = qs.filter(
            Q(establishment__name__icontains=text)
            | Q(establishment__credit_code=text.upper())
            | Q(establishment__name_initials__startswith=text.lower())
        )
    return qs.order_by("-updated_at", "-id")


def access_filing(user: Any, filing_id: Any) -> Filing:
    try:
        return (
            Filing.objects.visible_to(user)
            .select_related(
                "establishment",
                "establishment__kind",
                "establishment__region",
                "template",
                "reviewer_unit",
                "decided_by",
                "created_by",
            )
            .get(pk=int(filing_id))
        )
    except (Filing.DoesNotExist, ValueError, TypeError):
        raise NotVisible("备案") from None


def access_attachment(user: Any, filing_id: Any, attachment_id: Any) -> FilingAttachment:
    """The same 404 for a missing attachment, one of a filing the user may not see, and a mismatched pair."""
    filing = access_filing(user, filing_id)
    try:
        return filing.attachments.get(pk=int(attachment_id))
    except (FilingAttachment.DoesNotExist, ValueError, TypeError):
        raise NotVisible("附件") from None


def review_queue(*, user: Any) -> QuerySet[Filing]:
    """The filings waiting for the user's units, oldest first (overdue ones are the oldest)."""
    return (
        Filing.objects.filter(state=State.SUBMITTED, reviewer_unit_id__in=review_unit_ids(user))
        .select_related("establishment", "establishment__region", "template", "reviewer_unit")
        .order_by("submitted_at", "id")
    )


def overdue_reviews(*, user: Any, now: datetime | None = None) -> QuerySet[Filing]:
    """Submitted filings past their review deadline: a department sees its units', a leader the district's."""
    now = now or timezone.now()
    scope = scope_of(user)
    base = Filing.objects.filter(state=State.SUBMITTED, due_at__lt=now)
    qs = base.visible_to(user) if scope.has_role(Role.LEADER) else base.filter(reviewer_unit_id__in=review_unit_ids(user))
    return qs.select_related("establishment", "establishment__region", "template", "reviewer_unit").order_by("due_at", "id")


def queue_counts(*, user: Any, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    qs = Filing.objects.filter(state=State.SUBMITTED, reviewer_unit_id__in=review_unit_ids(user)).order_by()
    return qs.aggregate(waiting=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))


def age_of(filing: Filing, now: datetime | None = None) -> str:
    if filing.submitted_at is None:
        return ""
    seconds = int(((now or timezone.now()) - filing.submitted_at).total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 1)} 分钟"
    if seconds < 86400:
        return f"{seconds // 3600} 小时"
    return f"{seconds // 86400} 天"


# --- one filing in detail -------------------------------------------------------------------------


@dataclass
class ItemView:
    item: FilingItem
    rows: list[checklist.Row]
    attachments: list[FilingAttachment]
    changes: list[checklist.Change] = field(default_factory=list)
    changed: bool = False
    ruling: dict[str, Any] = field(default_factory=dict)
    previous_ruling: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def returned(self) -> bool:
        return self.ruling.get("decision") == Decision.RETURN

    @property
    def previously_returned(self) -> bool:
        return self.previous_ruling.get("decision") == Decision.RETURN


@dataclass
class FilingView:
    filing: Filing
    items: list[ItemView]
    version: FilingVersion | None  # the one shown (latest submitted, or None for a first draft)
    previous: FilingVersion | None
    versions: list[FilingVersion]
    events: list[FilingEvent]
    can_edit: bool
    can_review: bool
    can_withdraw: bool
    working_copy: bool  # showing the editable answers rather than a submitted version


def filing_view(*, filing: Filing, user: Any, number: int | None = None, working_copy: bool | None = None) -> FilingView:
    """Everything the detail and review pages show, in a fixed number of queries.

    By default the enterprise (and whoever may edit) sees the working copy while it is editable; reviewers see
    the latest submitted version with, per item, what changed since the one before.
    """
    items = list(filing.template.items.all())
    versions = list(filing.versions.select_related("submitted_by", "decided_by").order_by("number"))
    by_number = {v.number: v for v in versions}
    writer = filing.state in (State.DRAFT, State.SUBMITTED, State.RETURNED) and can_write(user, filing.establishment_id)
    editable = filing.is_editable and writer
    reviewing = filing.state == State.SUBMITTED and can_review(user, filing.reviewer_unit_id)
    if working_copy is None:
        working_copy = number is None and (editable or not versions)
    shown = None if working_copy else by_number.get(number or filing.version)
    if not working_copy and shown is None and versions:
        shown = versions[-1]
    previous = by_number.get(shown.number - 1) if shown is not None else (versions[-1] if versions else None)
    all_files = {a.pk: a for a in filing.attachments.all()}

    def files_of(version: FilingVersion | None, code: str) -> list[FilingAttachment]:
        if version is None:
            return [a for a in all_files.values() if a.item_code == code and not a.removed]
        return [all_files[i] for i in version.attachments.get(code, []) if i in all_files]

    answers = shown.answers if shown is not None else filing.answers
    old_answers = previous.answers if previous is not None else {}
    counts = {i.code: len(files_of(shown, i.code)) for i in items}
    missing = checklist.missing_for_submit(items, answers, counts) if shown is None else {}
    views = []
    for item in items:
        current_files = files_of(shown, item.code)
        view = ItemView(
            item=item,
            rows=checklist.display_rows(item, answers.get(item.code)),
            attachments=current_files,
            missing=missing.get(item.code, []),
        )
        if previous is not None:
            view.changes = checklist.diff_item(
                item,
                old_answers.get(item.code),
                answers.get(item.code),
                [a.name for a in files_of(previous, item.code)],
                [a.name for a in current_files],
            )
            view.changed = bool(view.changes)
            view.previous_ruling = previous.rulings.get(item.code) or {}
        if shown is not None:
            view.ruling = shown.rulings.get(item.code) or {}
        views.append(view)
    events = list(filing.events.select_related("actor").order_by("-at", "-id"))
    return FilingView(
        filing=filing,
        items=views,
        version=shown,
        previous=previous,
        versions=versions,
        events=events,
        can_edit=editable,
        can_review=reviewing,
        working_copy=shown is None,
        can_withdraw=writer,
    )


# --- enterprise portal ----------------------------------------------------------------------------


def my_enterprise_accounts(*, user: Any) -> list[EnterpriseAccount]:
    """An enterprise user's own accounts (confirmed or waiting for the community)."""
    return list(
        EnterpriseAccount.objects.filter(user_id=getattr(user, "pk", None) or 0, is_active=True)
        .select_related("establishment", "establishment__kind", "establishment__region", "establishment__category")
        .order_by("establishment__name")
    )


def latest_filing(*, user: Any, establishment: Establishment) -> Filing | None:
    return Filing.objects.visible_to(user).filter(establishment=establishment).order_by("-created_at", "-id").first()


def filings_of(*, user: Any, establishment: Establishment) -> QuerySet[Filing]:
    return (
        Filing.objects.visible_to(user)
        .filter(establishment=establishment)
        .select_related("template")
        .order_by("-created_at", "-id")
    )


def templates() -> QuerySet[FilingTemplate]:
    return FilingTemplate.objects.filter(is_active=True).prefetch_related("items", "kinds")


# --- the establishment timeline -------------------------------------------------------------------

TONES: dict[str, str] = {
    FilingEvent.Kind.SUBMITTED: "info",
    FilingEvent.Kind.RETURNED: "warn",
    FilingEvent.Kind.APPROVED: "ok",
    FilingEvent.Kind.RESUMED: "ok",
    FilingEvent.Kind.OVERDUE: "bad",
    FilingEvent.Kind.WITHDRAWN: "warn",
}


def timeline_entries(establishment: Any, user: Any) -> list[Entry]:
    """The filing steps of one establishment that the user may see (registered with establishments.timeline)."""
    events = (
        FilingEvent.objects.filter(
            filing__in=Filing.objects.visible_to(user).filter(establishment_id=establishment.pk).values("pk")
        )
        .select_related("actor", "filing__template")
        .order_by("-at", "-id")[:200]
    )
    out = []
    for e in events:
        title = f"{e.filing.template.name}：{e.get_kind_display()}"
        if e.version and e.kind in (
            FilingEvent.Kind.SUBMITTED,
            FilingEvent.Kind.RETURNED,
            FilingEvent.Kind.APPROVED,
            FilingEvent.Kind.RULED,
        ):
            title += f"（第{e.version}版）"
        out.append(
            Entry(
                at=e.at,
                source="备案",
                title=title,
                detail=e.note,
                actor=str(e.actor or ""),
                url=f"/filings/{e.filing_id}/",
                tone=TONES.get(e.kind, "info"),
            )
        )
    return out


# --- figures --------------------------------------------------------------------------------------

STATUSES: Sequence[str] = [s.value for s in Status]


@dataclass
class FigureRow:
    key: Any
    label: str
    counts: dict[str, int]
    total: int
    resumed_by_date: int
    resumed_above_size: int


@dataclass
class Figures:
    on: date
    by: str
    rows: list[FigureRow]
    totals: FigureRow
    resumed: int  # 截至 on 全区复工复产（单位数）
    resumed_above_size: int  # 其中限上企业
    statuses: list[tuple[str, str]] = field(default_factory=lambda: [(s.value, s.label) for s in Status])


def _subdistrict_prefix_length() -> int:
    sample = Region.objects.filter(level=Level.SUBDISTRICT).values_list("path", flat=True).first()
    return len(sample) if sample else 0


def establishment_status_figures(*, user: Any, on: date, by: str = "subdistrict") -> Figures:
    """Establishments the user may see, by status and by sub-district or major category, and the resumed
    count as of `on` ("截至3月19日,全区复工复产企业13400家,其中限上企业51家").

    Status counts are the registry's current statuses; "resumed by the date" counts establishments that are
    resumed and resumed on or before `on` (establishments.selectors.resumed_as_of), per group and in total.
    One grouped query, whatever the number of establishments.
    """
    if by not in ("subdistrict", "category"):
        raise ValueError("by must be 'subdistrict' or 'category'")
    base = Establishment.objects.visible_to(user).order_by()
    resumed_q = Q(status=Status.RESUMED, resumed_on__lte=on)
    aggregates = {s: Count("id", filter=Q(status=s)) for s in STATUSES}
    aggregates["resumed_by_date"] = Count("id", filter=resumed_q)
    aggregates["resumed_above_size"] = Count("id", filter=resumed_q & Q(above_size=True))
    labels: dict[Any, str]
    grouped: Any
    if by == "subdistrict":
        length = _subdistrict_prefix_length()
        grouped = base.annotate(group=Substr("region_path", 1, length)).values("group").annotate(**aggregates)
        labels = {r.path: r.display_name for r in Region.objects.filter(level=Level.SUBDISTRICT)}
        order = sorted(labels)
    else:
        grouped = base.annotate(group=Coalesce(F("category__parent_id"), F("category_id"))).values("group").annotate(**aggregates)
        majors = ServiceCategory.objects.filter(level=ServiceCategory.Level.MAJOR).order_by("sort", "code")
        labels = {c.pk: c.name for c in majors}
        order = [c.pk for c in majors]
    found = {row["group"]: row for row in grouped}
    rows: list[FigureRow] = []
    for key in [*order, *(k for k in found if k not in labels)]:
        row = found.get(key)
        if row is None:
            continue
        counts = {s: row[s] for s in STATUSES}
        rows.append(
            FigureRow(
                key=key,
                label=labels.get(key, "未分类" if by == "category" else "其他"),
                counts=counts,
                total=sum(counts.values()),
                resumed_by_date=row["resumed_by_date"],
                resumed_above_size=row["resumed_above_size"],
            )
        )
    total_counts = {s: sum(r.counts[s] for r in rows) for s in STATUSES}
    totals = FigureRow(
        key=None,
        label="合计",
        counts=total_counts,
        total=sum(total_counts.values()),
        resumed_by_date=sum(r.resumed_by_date for r in rows),
        resumed_above_size=sum(r.resumed_above_size for r in rows),
    )
    headline = resumed_as_of(user=user, on=on)
    return Figures(
        on=on, by=by, rows=rows, totals=totals, resumed=headline["resumed"], resumed_above_size=headline["resumed_above_size"]
    )
