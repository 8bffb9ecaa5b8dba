"""Reads of the problem ledger, always from `Problem.objects.visible_to(user)`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from taizhang.core.errors import NotVisible
from taizhang.core.paths import subtree_q
from taizhang.core.scoping import scope_of
from taizhang.regions.models import Region

from .models import ACTIVE_STATES, OPEN_STATES, Attachment, Follow, Problem, ProblemCategory, ProblemEvent, ProblemTask, State
from .scoping import acting_unit_ids

QUEUES = {
    "all": "全部问题",
    "mine": "我的待办",
    "unit": "本单位待办",
    "verify": "待我核验",
    "overdue": "超期督办",
    "watch": "我的关注",
}
AGES = {"1": "超过1天", "3": "超过3天", "7": "超过7天", "30": "超过30天"}
STATE_GROUPS = {"open": "未办结", "done": "已办结"}
# Columns a list needs; the establishment's encrypted contact fields are never loaded for a list.
LIST_RELATED = ("category", "region", "unit", "assignee")


def categories() -> QuerySet[ProblemCategory]:
    return ProblemCategory.objects.filter(is_active=True).order_by("sort", "code")


def _queue(qs: QuerySet[Problem], user: Any, queue: str, now: Any) -> QuerySet[Problem]:
    uid = scope_of(user).user_id or 0
    if queue == "mine":
        return qs.filter(assignee_id=uid, state__in=ACTIVE_STATES - {State.RESOLVED})
    if queue == "unit":
        return qs.filter(unit_id__in=sorted(acting_unit_ids(user)), state__in=OPEN_STATES)
    if queue == "verify":
        return qs.filter(verifier_unit_id__in=sorted(acting_unit_ids(user)), state=State.RESOLVED).exclude(
            resolved_by_unit_id__in=sorted(acting_unit_ids(user))
        )
    if queue == "overdue":
        return qs.filter(state__in=OPEN_STATES, due_at__lt=now)
    if queue == "watch":
        return qs.filter(Q(reporter_id=uid) | Q(pk__in=Follow.objects.filter(user_id=uid).values("problem_id")))
    return qs


def problem_list(*, user: Any, queue: str = "all", filters: dict[str, Any] | None = None, now: Any = None) -> QuerySet[Problem]:
    """The user's problems in a queue, with the list filters (region, category, state, age, source, severity, q)."""
    f = filters or {}
    now = now or timezone.now()
    qs = _queue(Problem.objects.visible_to(user), user, queue, now)
    if region := f.get("region"):
        qs = qs.filter(subtree_q([region.path if isinstance(region, Region) else str(region)], "region_path"))
    if category := f.get("category"):
        qs = qs.filter(category=category)
    if state := f.get("state"):
        if state == "open":
            qs = qs.filter(state__in=OPEN_STATES)
        elif state == "done":
            qs = qs.exclude(state__in=ACTIVE_STATES)
        else:
            qs = qs.filter(state=state)
    if age := f.get("age"):
        qs = qs.filter(created_at__lt=now - timedelta(days=int(age)))
    if source := f.get("source"):
        qs = qs.filter(source=source)
    if severity := f.get("severity"):
        qs = qs.filter(severity=severity)
    if establishment := f.get("establishment"):
        qs = qs.filter(establishment=establishment)
    if text := str(f.get("q") or "").strip():
        qs = qs.filter(
            Q(code__iexact=text)
            | Q(code__endswith=text)
            | Q(description__icontains=text)
            | Q(address__icontains=text)
            | Q(establishment__name__icontains=text)
        )
    return (
        qs.select_related(*LIST_RELATED)
        .annotate(establishment_name=F("establishment__name"))
        .defer("contact_name", "contact_phone", "contact_email", "description")
        .order_by("-created_at", "-id")
    )


COUNTED = ("mine", "unit", "verify", "overdue")


def queue_counts(*, user: Any, now: Any = None, queues: Any = COUNTED) -> dict[str, int]:
    """The numbers on the queue tabs, one COUNT query each over the visible set."""
    now = now or timezone.now()
    base = Problem.objects.visible_to(user).order_by()
    return {q: _queue(base, user, q, now).count() for q in queues}


def access_problem(user: Any, problem_id: Any) -> Problem:
    """A problem the user may see, by id or code; NotVisible (404) for missing and out-of-scope alike."""
    qs = Problem.objects.visible_to(user).select_related(
        "category", "region", "unit", "assignee", "reporter", "escalated_unit", "resolved_by_unit", "verifier_unit", "merged_into"
    )
    try:
        if isinstance(problem_id, str) and not problem_id.isdigit():
            return qs.get(code=problem_id.strip().upper())
        return qs.get(pk=int(problem_id))
    except (Problem.DoesNotExist, ValueError, TypeError):
        raise NotVisible("问题") from None


def problem_track(*, problem: Problem) -> list[ProblemEvent]:
    """The whole track in order, with each step's attachments (two queries)."""
    return list(
        problem.events.select_related("actor", "unit")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("at", "id")
    )


def problem_tasks(*, problem: Problem) -> list[ProblemTask]:
    return list(problem.tasks.select_related("unit", "replied_by", "created_by").order_by("created_at", "id"))


def access_task(user: Any, task_id: Any) -> ProblemTask:
    try:
        task = ProblemTask.objects.select_related("unit", "problem").get(pk=int(task_id))
    except (ProblemTask.DoesNotExist, ValueError, TypeError):
        raise NotVisible("协调事项") from None
    access_problem(user, task.problem_id)
    return task


def access_attachment(user: Any, attachment_id: Any) -> Attachment:
    """An attachment of a problem the user may see (same 404 otherwise)."""
    try:
        att = Attachment.objects.get(pk=int(attachment_id))
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotVisible("附件") from None
    if not Problem.objects.visible_to(user).filter(pk=att.problem_id).exists():
        raise NotVisible("附件")
    return att


def is_following(*, user: Any, problem: Problem) -> bool:
    return Follow.objects.filter(user_id=scope_of(user).user_id or 0, problem=problem).exists()


def find_open_duplicate(
    *, category: ProblemCategory, establishment: Any = None, region: Region | None = None, user: Any = None
) -> Problem | None:
    """An unfinished problem of the same category about the same establishment (or, without one, the same
    region), to offer to the reporter instead of a new one. With `user`, only one that user may see."""
    if establishment is None and region is None:
        return None
    qs = Problem.objects.visible_to(user) if user is not None else Problem.objects.all()
    qs = qs.filter(category=category, state__in=ACTIVE_STATES)
    qs = (
        qs.filter(establishment=establishment)
        if establishment is not None
        else qs.filter(region=region, establishment__isnull=True)
    )
    return qs.order_by("created_at", "id").first()


def establishment_problem_counts(*, user: Any, establishment: Any) -> dict[str, int]:
    qs = Problem.objects.visible_to(user).filter(establishment=establishment).order_by()
    rows = dict(qs.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {"open": sum(rows.get(s, 0) for s in OPEN_STATES), "total": sum(rows.values())}


def regions_for_filter(*, user: Any) -> QuerySet[Region]:
    """The district, sub-district and community levels the user can see, for the filter bar."""
    return Region.objects.visible_to(user).filter(level__in=["district", "subdistrict", "community"]).order_by("path")
