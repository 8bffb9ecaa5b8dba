"""Writes to the problem ledger. Pages, API, Open311, imports, tasks and the demo all come through here.

Every service is keyword-only, atomic, validates before writing, appends at least one ProblemEvent (the track)
and writes the audit log. Services that change a problem lock its row (SELECT … FOR UPDATE; SQLite serialises
writers) and bump `version`; given `expected_version`, a stale caller gets ConflictError instead of
overwriting someone else's step. Each returns the fresh object: use the return value, not the argument.

The lifecycle and who may take which step: docs/adr/0006-problem-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post
from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.core.workdays import WorkCalendar
from taizhang.establishments.models import EnterpriseAccount, Establishment
from taizhang.notifications.services import notify
from taizhang.regions.models import Region
from taizhang.rollups import services as rollups

from . import attachments
from .models import (
    OPEN_STATES,
    TRANSITIONS,
    Attachment,
    EventKind,
    Follow,
    PartyRole,
    Problem,
    ProblemCategory,
    ProblemCounter,
    ProblemEvent,
    ProblemParty,
    ProblemTask,
    Rectification,
    Severity,
    Source,
    State,
)
from .routing import Route, least_loaded, route, triage_unit, unit_members
from .scoping import REPORTING_ROLES, acting_unit_ids, acting_units, is_enterprise_of, is_read_only

MAX_DESCRIPTION = 5000
MAX_NOTE = 2000


# --- helpers --------------------------------------------------------------------------------------


def code_prefix() -> str:
    return str(getattr(settings, "TAIZHANG_PROBLEM_CODE_PREFIX", "WF"))


def format_code(day: date, number: int) -> str:
    return f"{code_prefix()}-{day:%Y%m%d}-{number:04d}"


def next_code(at: datetime) -> str:
    """The next readable code of the local day of `at`, e.g. WF-20200319-0042.

    The day's counter row is incremented by an UPDATE, which locks it until the transaction commits, so
    concurrent reports on PostgreSQL take numbers one after the other; the first report of a day inserts the
    row, and a concurrent first insert that loses (IntegrityError in its savepoint) increments instead.
    SQLite serialises writers (IMMEDIATE transactions). Must run inside the report's transaction.
    """
    day = timezone.localtime(at).date()
    number = _increment_counter(day)
    if number is None:
        try:
            with transaction.atomic():
                ProblemCounter.objects.create(day=day, last=1)
            number = 1
        except IntegrityError:
            number = _increment_counter(day)
    if number is None:  # cannot happen: the row was there for the insert to fail
        raise ProblemCounter.DoesNotExist(f"no code counter for {day}")
    return format_code(day, number)


def _increment_counter(day: date) -> int | None:
    """Add one to the day's counter and return the new number; None when the day has no row yet. One
    `UPDATE … RETURNING` where the database has it (PostgreSQL; SQLite from 3.35, which added RETURNING to INSERT
    and UPDATE together), else the UPDATE and a SELECT of the row it locked."""
    if not connection.features.can_return_columns_from_insert:
        if not ProblemCounter.objects.filter(day=day).update(last=F("last") + 1):
            return None
        return ProblemCounter.objects.get(day=day).last
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {q(ProblemCounter._meta.db_table)} SET {q('last')} = {q('last')} + 1 "  # noqa: S608 - names from the model
            f"WHERE {q('day')} = %s RETURNING {q('last')}",
            [connection.ops.adapt_datefield_value(day)],
        )
        row = cur.fetchone()
    return int(row[0]) if row else None


def problem_url(problem: Problem) -> str:
    return reverse("problems:detail", args=[problem.pk])


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _name(actor: Any) -> str:
    user = _user_or_none(actor)
    return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""


def _acting_unit(actor: Any, problem: Problem | None = None, prefer: Iterable[int | None] = ()) -> OrgUnit | None:
    """The unit on whose behalf `actor` acts: a preferred unit they belong to, else their first acting unit."""
    units = acting_units(actor)
    by_id = {u.pk: u for u in units}
    for unit_id in (*prefer, problem.unit_id if problem else None):
        if unit_id in by_id:
            return by_id[unit_id]
    return units[0] if units else None


def _new_event(
    problem: Problem,
    kind: str,
    *,
    actor: Any,
    unit: OrgUnit | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> ProblemEvent:
    """A step of the problem's track, not saved yet: `_event` writes one, `problem_report` its two at once."""
    return ProblemEvent(
        problem=problem,
        at=at or timezone.now(),
        kind=kind,
        actor=_user_or_none(actor),
        actor_name=_name(actor)[:60],
        unit=unit,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )


def _event(problem: Problem, kind: str, **fields: Any) -> ProblemEvent:
    """Append a step to the problem's track (`_new_event`'s fields) and count it in the rollups."""
    return _record(_new_event(problem, kind, **fields))


def _record(event: ProblemEvent) -> ProblemEvent:
    event.save()
    rollups.problem_event(problem=event.problem, kind=event.kind, at=event.at)
    return event


def _insert_events(events: list[ProblemEvent]) -> list[ProblemEvent]:
    """Insert the events in one statement, in track order (the caller counts them in the rollups). Where a
    multi-row INSERT cannot return the new ids (SQLite before 3.35) one by one, for the ids."""
    if connection.features.can_return_rows_from_bulk_insert:
        return ProblemEvent.objects.bulk_create(events)
    for event in events:
        event.save()
    return events


def _party(problem: Problem, unit: OrgUnit | None, role: str, at: datetime | None = None) -> None:
    if unit is not None:
        ProblemParty.objects.bulk_create(
            [ProblemParty(problem=problem, unit=unit, role=role, since=at or timezone.now())], ignore_conflicts=True
        )


def _audit(actor: Any, problem: Problem, action: str, **detail: Any) -> None:
    audit_record(action=action, actor=actor, target=problem, detail=detail)


def _lock(problem: Problem | int, expected_version: int | None = None) -> Problem:
    pk = problem.pk if isinstance(problem, Problem) else problem
    current = Problem.objects.select_for_update(of=("self",)).select_related("category", "unit", "establishment").get(pk=pk)
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(
            f"问题 {current.code} 已被他人处理（当前状态：{State(current.state).label}），请刷新后再操作（您填写的内容已保留）",
            extra={"id": current.pk, "version": current.version, "state": current.state},
        )
    return rollups.problem_locked(current)


def _save(problem: Problem, fields: Iterable[str], *, bump: bool = True) -> None:
    """Save the named fields; `bump` (state, unit, person or rectification changed) increments the version that
    optimistic locking checks. Comments, coordination and escalation do not invalidate an open form."""
    names = {*fields, "updated_at"}
    if bump:
        problem.version += 1
        names.add("version")
    problem.save(update_fields=sorted(names))
    rollups.problem_saved(problem)


def _clean_text(text: str, what: str, *, required: bool = True, limit: int = MAX_NOTE) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ApplicationError(f"请填写{what}", code="required")
    if len(text) > limit:
        raise ApplicationError(f"{what}不能超过 {limit} 字", code="too_long")
    return text


def _refuse_read_only(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ApplicationError("请先登录", code="not_authenticated")
    if is_read_only(actor):
        raise ApplicationError("您的账号只能查看，不能办理问题", code="read_only")


def _require_visible(actor: Any, problem: Problem) -> None:
    if not Problem.objects.visible_to(actor).filter(pk=problem.pk).exists():
        raise NotVisible("问题")


def _require_acting(actor: Any, problem: Problem) -> None:
    _refuse_read_only(actor)
    if not acting_unit_ids(actor):
        raise ApplicationError("只有承办、协调或核验单位的工作人员可以办理问题", code="not_allowed")
    _require_visible(actor, problem)


def _is_handler(actor: Any, problem: Problem) -> bool:
    return (problem.unit_id is not None and problem.unit_id in acting_unit_ids(actor)) or problem.assignee_id == getattr(
        actor, "pk", None
    )


def _require_handler(actor: Any, problem: Problem, what: str) -> None:
    _refuse_read_only(actor)
    if not _is_handler(actor, problem):
        raise ApplicationError(f"只有承办单位（{problem.unit or '未分派'}）的工作人员可以{what}", code="not_handler")


def _unit_users(unit_ids: Iterable[int | None]) -> list[Any]:
    ids = sorted({u for u in unit_ids if u})
    if not ids:
        return []
    return [u for people in unit_members(ids).values() for u in people]


def _notify_handler(problem: Problem, title: str, body: str = "", kind: str = "problem") -> None:
    users = [problem.assignee] if problem.assignee_id else _unit_users([problem.unit_id])
    notify(users=users, title=title, body=body or problem.summary, url=problem_url(problem), kind=kind)


def _enterprise_users(problem: Problem) -> list[Any]:
    if not problem.establishment_id:
        return []
    return [
        a.user
        for a in EnterpriseAccount.objects.filter(
            establishment_id=problem.establishment_id, is_active=True, confirmed=True
        ).select_related("user")
    ]


def _deadline(start: datetime, days: int, calendar: WorkCalendar | None = None) -> datetime:
    return (calendar or WorkCalendar.load()).add_working_days(start, days)


# --- reporting and routing -----------------------------------------------------------------------


def _check_reporter(reporter: Any, establishment: Establishment | None, region: Region | None) -> None:
    if reporter is None:
        return  # a member of the public (Open311) or the system: the adapter has placed the request
    _refuse_read_only(reporter)
    from taizhang.core.scoping import scope_of

    scope = scope_of(reporter)
    if not scope.roles & REPORTING_ROLES:
        raise ApplicationError("您的岗位不能上报问题", code="not_allowed")
    if establishment is not None:
        if not Establishment.objects.visible_to(reporter).filter(pk=establishment.pk).exists():
            raise NotVisible("单位")
    elif region is not None:
        # The region row is in hand: the test Region.objects.visible_to(reporter) makes in SQL, without the query.
        if not scope.covers(region.path):
            raise NotVisible("区划")
    else:
        raise ApplicationError("请选择问题所在的单位或区划", code="required")


def _apply_route(problem: Problem, r: Route, *, actor: Any, at: datetime, note: str = "", kind: str | None = None) -> None:
    """Set the unit and person of `r` on a locked problem and write the event (the caller saves)."""
    event = _route_event(problem, r, actor=actor, at=at, note=note, kind=kind)
    _party(problem, r.unit, PartyRole.ASSIGNED, at)
    _record(event)


def _route_event(
    problem: Problem, r: Route, *, actor: Any, at: datetime, note: str = "", kind: str | None = None
) -> ProblemEvent:
    """Set the unit, person and state of `r` on the problem; return its event, not saved yet (the caller saves
    both and records the unit as the assigned party)."""
    before = problem.state
    problem.unit = r.unit
    problem.assignee = r.assignee
    problem.state = State.REPORTED if r.is_triage else State.ASSIGNED
    problem.state_changed_at = at
    data = {
        "axis": r.axis,
        "via": r.label,
        "unit": r.unit.pk if r.unit else None,
        "unit_name": str(r.unit or ""),
        "assignee": r.assignee.pk if r.assignee else None,
        "assignee_name": str(r.assignee or ""),
    }
    event_kind = kind or (EventKind.TRIAGE if r.is_triage else EventKind.ROUTED)
    return _new_event(
        problem,
        event_kind,
        actor=actor,
        unit=r.unit if actor is None else _acting_unit(actor),
        from_state=before,
        to_state=problem.state,
        note=note or r.describe(),
        data=data,
        at=at,
    )


def _notify_assigned(problem: Problem, prefix: str = "新问题待办") -> None:
    title = f"{prefix}：{problem.code} {problem.category.name}"
    body = f"{problem.subject_name}｜{problem.summary}" if problem.subject_name else problem.summary
    _notify_handler(problem, title, body, kind="problem_assigned")


def problem_report(
    *,
    reporter: Any,
    source: str,
    category: ProblemCategory,
    description: str,
    establishment: Establishment | None = None,
    region: Region | None = None,
    address: str = "",
    latitude: Decimal | float | str | None = None,
    longitude: Decimal | float | str | None = None,
    severity: str = Severity.NORMAL,
    photos: Sequence[Any] = (),
    idempotency_key: str | None = None,
    external_ref: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    at: datetime | None = None,
) -> Problem:
    """Record a problem and route it at once (to a person, a unit, or the district triage queue).

    `reporter` is None for a member of the public (the Open311 adapter passes contact_* instead). With an
    `establishment` the place is the establishment's; with only a `region` it is that region; with neither,
    the problem goes to the triage queue placed at the district. Repeating a call with the same
    `idempotency_key` returns the problem created by the first call.

    Everything is checked before the transaction starts, so a refusal leaves a caller's transaction usable. The
    writes are one atomic block without a savepoint of its own: a caller that opened a transaction (Open311,
    visits) has no use for one, as any failure there fails the caller too. `written_track(problem)` gives the
    events this call wrote.
    """
    reporter = _user_or_none(reporter)
    key = (idempotency_key or "").strip()[:80] or None
    if key:
        existing = Problem.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.reporter_id != (reporter.pk if reporter else None):
                raise ConflictError("该提交标识已被使用", code="idempotency_conflict")
            return existing
    if source not in Source.values:
        raise ApplicationError("问题来源无效", code="invalid")
    if severity not in Severity.values:
        raise ApplicationError("严重程度无效", code="invalid")
    if not category.is_active:
        raise ApplicationError(f"问题类别“{category.name}”已停用", code="invalid")
    description = _clean_text(description, "问题描述", limit=MAX_DESCRIPTION)
    _check_reporter(reporter, establishment, region)
    checked = attachments.validate(list(photos))

    at = at or timezone.now()
    if establishment is not None:
        region = establishment.region
    place = region
    if place is None:
        triage = triage_unit()
        if triage is None:
            raise ApplicationError("系统未配置指挥部（分派中心），无法受理无法定位的问题", code="no_triage")
        place = triage.region
    problem = Problem(
        source=source,
        category=category,
        establishment=establishment,
        region=place,
        region_path=place.path,
        description=description,
        severity=severity,
        reporter=reporter,
        address=(address or (establishment.address if establishment else "")).strip()[:200],
        latitude=latitude if latitude not in ("", None) else (establishment.latitude if establishment else None),
        longitude=longitude if longitude not in ("", None) else (establishment.longitude if establishment else None),
        contact_name=contact_name.strip()[:60],
        contact_phone=contact_phone.strip()[:30],
        contact_email=contact_email.strip()[:120],
        idempotency_key=key,
        external_ref=external_ref[:64],
        created_at=at,
        state_changed_at=at,
        due_at=_deadline(at, category.sla_days),
    )
    # Scalar fields only: the foreign keys were passed as objects, and uniqueness is the database's job.
    problem.clean_fields(
        exclude=[
            "category",
            "establishment",
            "region",
            "reporter",
            "region_path",
            "code",
            "idempotency_key",
            "unit",
            "assignee",
            "escalated_unit",
            "resolved_by_unit",
            "verifier_unit",
            "merged_into",
        ]
    )
    with transaction.atomic(savepoint=False):
        return _report(problem, reporter=reporter, establishment=establishment, region=region, files=checked)


def _report(
    problem: Problem,
    *,
    reporter: Any,
    establishment: Establishment | None,
    region: Region | None,
    files: list[tuple[Any, str, str]],
) -> Problem:
    """problem_report's writes: the row goes in already routed (no UPDATE after it), then its parties, its two
    events and their rollup counts each in one statement, the notification and the audit row."""
    at, key = problem.created_at, problem.idempotency_key
    # Routing reads who is in charge and how loaded they are; the new problem counts for nobody yet either way.
    r = route(category=problem.category, establishment=establishment, region=region, on=timezone.localtime(at).date())
    reporter_unit = _acting_unit(reporter) if reporter else None
    reported = _new_event(
        problem,
        EventKind.REPORTED,
        actor=reporter,
        unit=reporter_unit,
        to_state=State.REPORTED,
        note=problem.description,
        data={"source": problem.source, "severity": problem.severity},
        at=at,
    )
    if r.unit is None:  # no command unit configured at all: stays reported, visible to its reporter
        routed = _new_event(
            problem,
            EventKind.TRIAGE,
            actor=None,
            from_state=State.REPORTED,
            to_state=State.REPORTED,
            note="未配置分派中心，等待人工分派",
            at=at,
        )
    else:
        routed = _route_event(problem, r, actor=None, at=at)
    problem.code = next_code(at)
    try:
        # Only a repeated idempotency key can lose the insert and go on (to the winner's problem): the savepoint
        # is for that case; without a key an IntegrityError fails the report.
        with transaction.atomic(savepoint=key is not None):
            problem.save()
    except IntegrityError:
        if key and (existing := Problem.objects.filter(idempotency_key=key).first()) is not None:
            if existing.reporter_id != (reporter.pk if reporter else None):
                raise ConflictError("该提交标识已被使用", code="idempotency_conflict") from None
            return existing
        raise
    parties = [(reporter_unit, PartyRole.REPORTING), (r.unit, PartyRole.ASSIGNED)]
    ProblemParty.objects.bulk_create(
        [ProblemParty(problem=problem, unit=unit, role=role, since=at) for unit, role in parties if unit is not None],
        ignore_conflicts=True,
    )
    track = _insert_events([reported, routed])
    stored = attachments.store(problem=problem, event=reported, files=files, actor=reporter)
    setattr(problem, _WRITTEN_TRACK, [(reported, stored), (routed, [])])
    rollups.problem_saved(problem, new=True, events=track)
    if r.unit is not None:
        _notify_assigned(problem)
    _audit(
        reporter,
        problem,
        Action.CREATE,
        source=problem.source,
        category=problem.category.code,
        route=r.describe() if r.unit else "",
    )
    return problem


_WRITTEN_TRACK = "_written_track"


def written_track(problem: Problem) -> list[tuple[ProblemEvent, list[Attachment]]] | None:
    """The events problem_report wrote for this very object, in track order, each with its attachments: the rows
    selectors.problem_track would read back. None for any other object (e.g. the problem a repeated idempotency
    key returns), which must be read."""
    track: list[tuple[ProblemEvent, list[Attachment]]] | None = getattr(problem, _WRITTEN_TRACK, None)
    return track


@transaction.atomic
def problem_reassign(
    *, problem: Problem, unit: OrgUnit, actor: Any, reason: str, assignee: Any = None, expected_version: int | None = None
) -> Problem:
    """改派/分派: hand the problem to another unit (and person). Allowed to the handling unit, the units above it
    and the units it was escalated to; also dispatches a problem waiting in triage or returned."""
    _refuse_read_only(actor)
    reason = _clean_text(reason, "改派理由")
    p = _lock(problem, expected_version)
    if p.state not in OPEN_STATES:
        raise ApplicationError(f"问题{State(p.state).label}，不能改派", code="invalid_transition")
    allowed = _supervising_unit_ids(p)
    mine = acting_unit_ids(actor)
    if not allowed & mine:
        raise ApplicationError("只有承办单位、其上级单位或督办单位可以改派", code="not_allowed")
    if not unit.is_active:
        raise ApplicationError(f"“{unit}”已停用", code="invalid")
    if assignee is not None:
        if not Post.objects.active().filter(user=assignee, unit=unit).exists():
            raise ApplicationError(f"{assignee} 不在“{unit}”任职", code="invalid")
    else:
        assignee = least_loaded(unit_members([unit.pk]).get(unit.pk, []))
    if p.unit_id == unit.pk and p.assignee_id == (assignee.pk if assignee else None) and p.state == State.ASSIGNED:
        raise ApplicationError("问题已由该单位和人员承办", code="unchanged")
    now = timezone.now()
    old_unit, old_assignee = p.unit, p.assignee
    r = Route(unit, assignee, "manual", "人工改派")
    _apply_route(p, r, actor=actor, at=now, note=reason, kind=EventKind.REASSIGNED)
    _save(p, ["unit", "assignee", "state", "state_changed_at"])
    _audit(
        actor,
        p,
        Action.UPDATE,
        reassigned={
            "from": [old_unit.pk if old_unit else None, old_assignee.pk if old_assignee else None],
            "to": [unit.pk, assignee.pk if assignee else None],
        },
        reason=reason,
    )
    _notify_assigned(p, "改派给您的问题")
    return p


def _supervising_unit_ids(problem: Problem) -> set[int]:
    """The handling unit, its ancestors and the units the problem was escalated to."""
    ids: set[int] = set()
    unit = problem.unit
    seen = 0
    while unit is not None and seen < 10:
        ids.add(unit.pk)
        unit = unit.parent
        seen += 1
    ids |= set(ProblemParty.objects.filter(problem=problem, role=PartyRole.ESCALATED).values_list("unit_id", flat=True))
    if problem.state in (State.REPORTED, State.RETURNED):
        triage = triage_unit()
        if triage is not None:
            ids.add(triage.pk)
    return ids


# --- the lifecycle --------------------------------------------------------------------------------


def _verifier_for(problem: Problem, resolving_unit: OrgUnit | None) -> OrgUnit | None:
    """Who checks the work: the reporter's unit if it is another unit, else the unit above the resolver,
    else the command unit (separation of duties)."""
    reporting = ProblemParty.objects.filter(problem=problem, role=PartyRole.REPORTING).select_related("unit").first()
    if reporting is not None and (resolving_unit is None or reporting.unit_id != resolving_unit.pk) and reporting.unit.is_active:
        return reporting.unit
    if resolving_unit is not None and resolving_unit.parent is not None and resolving_unit.parent.is_active:
        return resolving_unit.parent
    triage = triage_unit()
    return triage if triage is None or resolving_unit is None or triage.pk != resolving_unit.pk else None


@transaction.atomic
def problem_transition(
    *, problem: Problem, to: str, actor: Any, note: str = "", expected_version: int | None = None, photos: Sequence[Any] = ()
) -> Problem:
    """Take one step of the lifecycle (TRANSITIONS). Assignment and merging have their own services."""
    _refuse_read_only(actor)
    if to not in State.values:
        raise ApplicationError("目标状态无效", code="invalid_transition")
    if to in (State.ASSIGNED, State.REPORTED):
        raise ApplicationError("分派请使用“改派”，并选择承办单位", code="use_reassign")
    if to == State.MERGED:
        raise ApplicationError("合并请使用“合并重复问题”", code="use_merge")
    p = _lock(problem, expected_version)
    before = p.state
    if to not in TRANSITIONS[before]:
        raise ApplicationError(f"问题{State(before).label}，不能变为“{State(to).label}”", code="invalid_transition")
    checked = attachments.validate(list(photos))
    now = timezone.now()
    fields = ["state", "state_changed_at"]
    kind: str
    notify_after: list[tuple[list[Any], str]] = []
    unit = _acting_unit(actor, p)

    if to == State.IN_PROGRESS:
        _require_handler(actor, p, "签收办理")
        kind = EventKind.ACCEPTED
        note = _clean_text(note, "说明", required=False)
        if p.assignee_id is None:
            p.assignee = actor
            fields.append("assignee")
    elif to == State.RESOLVED:
        _require_handler(actor, p, "办结")
        note = _clean_text(note, "办理结果")
        open_tasks = list(p.tasks.filter(state=ProblemTask.State.OPEN).select_related("unit"))
        if open_tasks:
            names = "、".join(str(t.unit) for t in open_tasks)
            raise ApplicationError(f"还有 {len(open_tasks)} 个协调事项未答复（{names}），全部答复后才能办结", code="open_tasks")
        if p.rectification in (Rectification.REQUIRED, Rectification.REPORTED):
            raise ApplicationError("企业整改尚未核验通过，不能办结", code="rectification_pending")
        kind = EventKind.RESOLVED
        resolving = p.unit if p.unit_id in acting_unit_ids(actor) else unit
        p.resolved_at, p.resolved_by_unit = now, resolving
        p.verifier_unit = _verifier_for(p, resolving)
        fields += ["resolved_at", "resolved_by_unit", "verifier_unit"]
        _party(p, p.verifier_unit, PartyRole.VERIFYING, now)
        verifiers = _unit_users([p.verifier_unit.pk if p.verifier_unit else None])
        notify_after.append((verifiers, f"待核验：{p.code} 已办结，请核验"))
        if p.reporter_id:
            notify_after.append(([p.reporter], f"您上报的问题 {p.code} 已办结"))
    elif to == State.RETURNED:
        _require_handler(actor, p, "退回")
        note = _clean_text(note, "退回理由")
        kind = EventKind.RETURNED
        returning = p.unit
        target = (
            returning.parent
            if returning is not None and returning.parent is not None and returning.parent.is_active
            else triage_unit()
        )
        if target is None:
            raise ApplicationError("没有可退回的上级单位", code="no_parent")
        p.unit, p.assignee = target, None
        fields += ["unit", "assignee"]
        _party(p, target, PartyRole.ASSIGNED, now)
        notify_after.append((_unit_users([target.pk]), f"问题被退回，请重新分派：{p.code}"))
    elif to in (State.VERIFIED, State.REOPENED) and before == State.RESOLVED:
        _require_acting(actor, p)
        mine = acting_unit_ids(actor)
        resolver = p.events.filter(kind=EventKind.RESOLVED).order_by("-at", "-id").values_list("actor_id", flat=True).first()
        if p.resolved_by_unit_id in mine or (resolver is not None and resolver == actor.pk):
            raise ApplicationError(
                f"办结单位（{p.resolved_by_unit}）不能核验自己办结的问题，须由其他单位核验", code="separation_of_duties"
            )
        if to == State.VERIFIED:
            kind = EventKind.VERIFIED
            note = _clean_text(note, "核验意见", required=False)
            p.verified_at = now
            fields.append("verified_at")
            unit = _acting_unit(actor, prefer=[p.verifier_unit_id])
        else:
            kind = EventKind.REJECTED
            note = _clean_text(note, "核验不通过的理由")
            unit = _acting_unit(actor, prefer=[p.verifier_unit_id])
            _reopen(p, now, fields)
            notify_after.append(
                ([p.assignee] if p.assignee_id else _unit_users([p.unit_id]), f"核验未通过，请重新办理：{p.code}")
            )
    elif to == State.REOPENED:
        _require_acting(actor, p)
        note = _clean_text(note, "重新办理的理由")
        kind = EventKind.REOPENED
        _reopen(p, now, fields)
        notify_after.append(([p.assignee] if p.assignee_id else _unit_users([p.unit_id]), f"问题重新办理：{p.code}"))
    elif to == State.CLOSED:
        _require_acting(actor, p)
        note = _clean_text(note, "说明", required=False)
        kind = EventKind.CLOSED
        p.closed_at = now
        fields.append("closed_at")
        if p.reporter_id:
            notify_after.append(([p.reporter], f"您上报的问题 {p.code} 已销号"))
    else:  # pragma: no cover - the table and the branches above cover every target
        raise ApplicationError("不支持的操作", code="invalid_transition")

    p.state, p.state_changed_at = to, now
    _save(p, fields)
    event = _event(
        p,
        kind,
        actor=actor,
        unit=unit,
        from_state=before,
        to_state=to,
        note=note,
        at=now,
        data={"unit": p.unit_id} if to == State.RETURNED else {},
    )
    attachments.store(problem=p, event=event, files=checked, actor=actor)
    _audit(actor, p, Action.UPDATE, state=[before, to], event=kind)
    for users, title in notify_after:
        notify(users=users, title=title, body=note or p.summary, url=problem_url(p), kind=f"problem_{kind}")
    return p


def _reopen(p: Problem, now: datetime, fields: list[str]) -> None:
    """A fresh SLA period from now; the escalation level stays (the history shows it)."""
    p.due_at = _deadline(now, p.category.sla_days)
    p.overdue_since = None
    p.next_escalation_at = None
    p.resolved_at = p.verified_at = p.closed_at = None
    fields += ["due_at", "overdue_since", "next_escalation_at", "resolved_at", "verified_at", "closed_at"]


@transaction.atomic
def problem_comment(*, problem: Problem, actor: Any, note: str, photos: Sequence[Any] = ()) -> ProblemEvent:
    """备注 with optional photos, by anyone who may see the problem and is not read-only."""
    _refuse_read_only(actor)
    _require_visible(actor, problem)
    note = _clean_text(note, "备注", required=not photos)
    checked = attachments.validate(list(photos))
    p = _lock(problem)
    _save(p, [], bump=False)
    event = _event(
        p,
        EventKind.COMMENT,
        actor=actor,
        unit=_acting_unit(actor, p),
        from_state=p.state,
        to_state=p.state,
        note=note,
        data={"photos": len(checked)} if checked else {},
    )
    attachments.store(problem=p, event=event, files=checked, actor=actor)
    _audit(actor, p, Action.UPDATE, event=EventKind.COMMENT)
    if actor.pk != p.assignee_id and p.state in OPEN_STATES:
        _notify_handler(p, f"{_name(actor)} 在 {p.code} 留言", note, kind="problem_comment")
    return event


# --- coordination (协调) ---------------------------------------------------------------------------


@transaction.atomic
def problem_add_task(
    *, problem: Problem, unit: OrgUnit, text: str, actor: Any, due_at: datetime | None = None, expected_version: int | None = None
) -> ProblemTask:
    """Ask another unit for its part. The problem cannot be resolved until every task is answered."""
    _require_handler(actor, problem, "发起协调")
    text = _clean_text(text, "协调事项")
    p = _lock(problem, expected_version)
    if p.state not in (State.IN_PROGRESS, State.REOPENED):
        raise ApplicationError("请先签收，再发起协调", code="invalid_state")
    if unit.pk == p.unit_id:
        raise ApplicationError("不能向承办单位自己发起协调", code="invalid")
    if not unit.is_active:
        raise ApplicationError(f"“{unit}”已停用", code="invalid")
    if p.tasks.filter(unit=unit, state=ProblemTask.State.OPEN).exists():
        raise ApplicationError(f"已向“{unit}”发起协调，尚未答复", code="duplicate")
    now = timezone.now()
    if due_at is None:
        due_at = _deadline(now, p.category.sla_days)
    elif due_at <= now:
        raise ApplicationError("答复期限须晚于现在", code="invalid")
    task = ProblemTask.objects.create(problem=p, unit=unit, text=text, due_at=due_at, created_by=actor, created_at=now)
    _party(p, unit, PartyRole.COORDINATING, now)
    _save(p, [], bump=False)
    _event(
        p,
        EventKind.TASK_ADDED,
        actor=actor,
        unit=_acting_unit(actor, p),
        from_state=p.state,
        to_state=p.state,
        note=text,
        at=now,
        data={"task": task.pk, "unit": unit.pk, "unit_name": unit.name, "due_at": due_at.isoformat()},
    )
    _audit(actor, p, Action.UPDATE, event=EventKind.TASK_ADDED, task=task.pk, unit=unit.pk)
    notify(
        users=_unit_users([unit.pk]), title=f"协调事项：{p.code} 请{unit}答复", body=text, url=problem_url(p), kind="problem_task"
    )
    return task


@transaction.atomic
def task_reply(*, task: ProblemTask, actor: Any, reply: str, photos: Sequence[Any] = ()) -> ProblemTask:
    """The coordination unit's answer. When the last open task is answered, the handler is told it may resolve."""
    _refuse_read_only(actor)
    if task.unit_id not in acting_unit_ids(actor):
        raise ApplicationError(f"只有“{task.unit}”的工作人员可以答复该协调事项", code="not_allowed")
    reply = _clean_text(reply, "答复内容")
    checked = attachments.validate(list(photos))
    p = _lock(task.problem_id)
    t = ProblemTask.objects.select_for_update(of=("self",)).select_related("unit").get(pk=task.pk)
    if t.state != ProblemTask.State.OPEN:
        raise ConflictError("该协调事项已答复或已撤销", code="task_closed")
    now = timezone.now()
    t.state, t.reply, t.replied_at, t.replied_by = ProblemTask.State.REPLIED, reply, now, actor
    t.save(update_fields=["state", "reply", "replied_at", "replied_by"])
    _save(p, [], bump=False)
    event = _event(
        p,
        EventKind.TASK_REPLIED,
        actor=actor,
        unit=t.unit,
        from_state=p.state,
        to_state=p.state,
        note=reply,
        at=now,
        data={"task": t.pk, "unit": t.unit_id, "unit_name": t.unit.name},
    )
    attachments.store(problem=p, event=event, files=checked, actor=actor)
    _audit(actor, p, Action.UPDATE, event=EventKind.TASK_REPLIED, task=t.pk)
    remaining = p.tasks.filter(state=ProblemTask.State.OPEN).count()
    title = f"{t.unit} 已答复协调事项：{p.code}" + (
        "（协调单位已全部答复，可以办结）" if remaining == 0 else f"（还有 {remaining} 个未答复）"
    )
    _notify_handler(p, title, reply, kind="problem_task_reply")
    return t


@transaction.atomic
def task_cancel(*, task: ProblemTask, actor: Any, reason: str) -> ProblemTask:
    p = _lock(task.problem_id)
    _require_handler(actor, p, "撤销协调")
    reason = _clean_text(reason, "撤销理由")
    t = ProblemTask.objects.select_for_update(of=("self",)).select_related("unit").get(pk=task.pk)
    if t.state != ProblemTask.State.OPEN:
        raise ConflictError("该协调事项已答复或已撤销", code="task_closed")
    t.state = ProblemTask.State.CANCELLED
    t.save(update_fields=["state"])
    _save(p, [], bump=False)
    _event(
        p,
        EventKind.TASK_CANCELLED,
        actor=actor,
        unit=_acting_unit(actor, p),
        from_state=p.state,
        to_state=p.state,
        note=reason,
        data={"task": t.pk, "unit": t.unit_id, "unit_name": t.unit.name},
    )
    _audit(actor, p, Action.UPDATE, event=EventKind.TASK_CANCELLED, task=t.pk)
    return t


# --- rectification (整改) --------------------------------------------------------------------------


@transaction.atomic
def require_rectification(
    *, problem: Problem, due: date, actor: Any, note: str = "", expected_version: int | None = None
) -> Problem:
    """责令整改: the establishment must rectify by `due`; the note defaults to the category's template."""
    _require_handler(actor, problem, "责令整改")
    p = _lock(problem, expected_version)
    if p.establishment_id is None:
        raise ApplicationError("该问题没有关联单位，不能责令整改", code="invalid")
    if p.state not in (State.IN_PROGRESS, State.REOPENED):
        raise ApplicationError("请先签收，再责令整改", code="invalid_state")
    if p.rectification in (Rectification.REQUIRED, Rectification.REPORTED):
        raise ApplicationError("已在整改中", code="duplicate")
    if due < timezone.localdate():
        raise ApplicationError("整改期限不能早于今天", code="invalid")
    note = _clean_text(note or p.category.rectification_template, "整改要求")
    p.rectification, p.rectification_due, p.rectification_overdue_notified = Rectification.REQUIRED, due, False
    _save(p, ["rectification", "rectification_due", "rectification_overdue_notified"])
    _event(
        p,
        EventKind.RECTIFICATION_REQUIRED,
        actor=actor,
        unit=_acting_unit(actor, p),
        from_state=p.state,
        to_state=p.state,
        note=note,
        data={"due": due.isoformat()},
    )
    _audit(actor, p, Action.UPDATE, event=EventKind.RECTIFICATION_REQUIRED, due=due.isoformat())
    notify(
        users=_enterprise_users(p),
        title=f"整改通知：请于 {due:%Y-%m-%d} 前完成整改（{p.code}）",
        body=note,
        url=problem_url(p),
        kind="problem_rectification",
    )
    return p


@transaction.atomic
def rectification_report(*, problem: Problem, actor: Any, note: str, evidence: Sequence[Any] = ()) -> Problem:
    """The enterprise (or the handler on its behalf) reports the rectification done, with evidence photos."""
    _refuse_read_only(actor)
    p = _lock(problem)
    if not (is_enterprise_of(actor, p.establishment_id) or _is_handler(actor, p)):
        raise ApplicationError("只有该单位的企业联系人或承办人员可以报告整改", code="not_allowed")
    if p.rectification != Rectification.REQUIRED:
        raise ApplicationError("该问题当前不需要报告整改", code="invalid_state")
    note = _clean_text(note, "整改情况")
    checked = attachments.validate(list(evidence))
    p.rectification = Rectification.REPORTED
    _save(p, ["rectification"])
    on_behalf = not is_enterprise_of(actor, p.establishment_id)
    event = _event(
        p,
        EventKind.RECTIFICATION_REPORTED,
        actor=actor,
        unit=_acting_unit(actor, p) if on_behalf else None,
        from_state=p.state,
        to_state=p.state,
        note=note,
        data={"on_behalf": on_behalf, "evidence": len(checked)},
    )
    attachments.store(problem=p, event=event, files=checked, actor=actor)
    _audit(actor, p, Action.UPDATE, event=EventKind.RECTIFICATION_REPORTED)
    _notify_handler(p, f"企业已报告整改，请核验：{p.code}", note, kind="problem_rectification")
    return p


@transaction.atomic
def rectification_verify(*, problem: Problem, actor: Any, accepted: bool, note: str = "", due: date | None = None) -> Problem:
    """The handling unit checks the rectification: accepted, or rejected with a reason (and a new due date)."""
    _require_handler(actor, problem, "核验整改")
    p = _lock(problem)
    if p.rectification != Rectification.REPORTED:
        raise ApplicationError("企业尚未报告整改", code="invalid_state")
    last = p.events.filter(kind=EventKind.RECTIFICATION_REPORTED).order_by("-at", "-id").first()
    if last is not None and last.actor_id == actor.pk:
        raise ApplicationError("整改报告人不能核验自己报告的整改", code="separation_of_duties")
    data: dict[str, Any] = {}
    if accepted:
        note = _clean_text(note, "核验意见", required=False)
        p.rectification = Rectification.ACCEPTED
        kind = EventKind.RECTIFICATION_ACCEPTED
        fields = ["rectification"]
    else:
        note = _clean_text(note, "不通过的理由")
        new_due = due or p.rectification_due
        if new_due is None or new_due < timezone.localdate():
            raise ApplicationError("请给出新的整改期限（不早于今天）", code="invalid")
        p.rectification, p.rectification_due, p.rectification_overdue_notified = Rectification.REQUIRED, new_due, False
        kind = EventKind.RECTIFICATION_REJECTED
        fields = ["rectification", "rectification_due", "rectification_overdue_notified"]
        data["due"] = new_due.isoformat()
    _save(p, fields)
    _event(p, kind, actor=actor, unit=_acting_unit(actor, p), from_state=p.state, to_state=p.state, note=note, data=data)
    _audit(actor, p, Action.UPDATE, event=kind)
    title = (
        f"整改核验通过：{p.code}" if accepted else f"整改核验未通过，请于 {p.rectification_due:%Y-%m-%d} 前重新整改（{p.code}）"
    )
    notify(users=_enterprise_users(p), title=title, body=note, url=problem_url(p), kind="problem_rectification")
    return p


# --- duplicates, following ------------------------------------------------------------------------


@transaction.atomic
def problem_merge(*, problem: Problem, into: Problem, actor: Any, note: str = "") -> Problem:
    """合并重复: `problem` becomes a duplicate of `into`. Both tracks are kept, each with an event pointing at the
    other; the duplicate's reporter and followers follow the surviving problem."""
    _refuse_read_only(actor)
    if problem.pk == into.pk:
        raise ApplicationError("不能与自身合并", code="invalid")
    _require_acting(actor, problem)
    _require_visible(actor, into)
    first, second = sorted([problem.pk, into.pk])
    locked = {first: _lock(first), second: _lock(second)}
    dup, target = locked[problem.pk], locked[into.pk]
    if dup.state not in OPEN_STATES:
        raise ApplicationError(f"问题 {dup.code} {State(dup.state).label}，不能合并", code="invalid_transition")
    if target.state == State.MERGED:
        raise ApplicationError(f"问题 {target.code} 本身已合并到其他问题", code="invalid")
    if dup.tasks.filter(state=ProblemTask.State.OPEN).exists():
        raise ApplicationError("请先撤销该问题的协调事项，再合并", code="open_tasks")
    note = _clean_text(note, "说明", required=False)
    now = timezone.now()
    before = dup.state
    dup.state, dup.state_changed_at, dup.merged_into = State.MERGED, now, target
    _save(dup, ["state", "state_changed_at", "merged_into"])
    _save(target, [], bump=False)
    unit = _acting_unit(actor, dup)
    _event(
        dup,
        EventKind.MERGED,
        actor=actor,
        unit=unit,
        from_state=before,
        to_state=State.MERGED,
        note=note or f"与 {target.code} 重复",
        data={"into": target.pk, "into_code": target.code},
        at=now,
    )
    _event(
        target,
        EventKind.MERGED_FROM,
        actor=actor,
        unit=unit,
        from_state=target.state,
        to_state=target.state,
        note=note or f"{dup.code} 与本问题重复，已并入",
        data={"from": dup.pk, "from_code": dup.code},
        at=now,
    )
    followers = set(Follow.objects.filter(problem=dup).values_list("user_id", flat=True))
    if dup.reporter_id:
        followers.add(dup.reporter_id)
    Follow.objects.bulk_create([Follow(user_id=u, problem=target) for u in sorted(followers)], ignore_conflicts=True)
    _audit(actor, dup, Action.UPDATE, state=[before, State.MERGED], merged_into=target.pk)
    if dup.reporter_id:
        notify(
            users=[dup.reporter],
            title=f"您上报的问题 {dup.code} 与 {target.code} 重复，已合并跟踪",
            url=problem_url(target),
            kind="problem_merged",
        )
    return dup


def problem_follow(*, problem: Problem, user: Any) -> bool:
    """关注 (watch list). The caller has fetched `problem` through access_problem()."""
    _, created = Follow.objects.get_or_create(user=user, problem=problem)
    return created


def problem_unfollow(*, problem: Problem, user: Any) -> bool:
    deleted, _ = Follow.objects.filter(user=user, problem=problem).delete()
    return bool(deleted)
