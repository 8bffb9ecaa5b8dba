"""Writes to filings. Pages, the API, the periodic jobs and the demo all come through here.

Every function is keyword-only and atomic, checks who may do it, validates before writing, appends one
FilingEvent per step and writes the audit log. Writes that depend on what the user saw name the `revision`
they saw (`expected_revision`): if the filing changed since, nothing is written and ConflictError says so
(docs/adr/0007-filing-review.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError, ConflictError
from taizhang.core.workdays import add_working_days
from taizhang.establishments.models import Establishment, Status
from taizhang.establishments.services import establishment_transition
from taizhang.rollups import facts as rollup_facts
from taizhang.rollups import services as rollups

from . import checklist
from .models import (
    EDITABLE_STATES,
    OPEN_STATES,
    Decision,
    Filing,
    FilingEvent,
    FilingItem,
    FilingTemplate,
    FilingVersion,
    State,
)
from .notify import notify_units
from .routing import reviewer_unit_for, template_for
from .scoping import can_review, can_write

UNSET: Any = object()


# --- helpers --------------------------------------------------------------------------------------


def actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(filing: Filing, kind: str, actor: Any, *, note: str = "", at: datetime | None = None, **data: Any) -> FilingEvent:
    return FilingEvent.objects.create(
        filing=filing,
        at=at or timezone.now(),
        kind=kind,
        version=filing.version,
        actor=actor_user(actor),
        note=note[:500],
        data=data,
    )


def state_label(state: str) -> str:
    return State(state).label


def _claim(filing: Filing, *, expected_revision: int | None, from_states: tuple[str, ...], what: str, **fields: Any) -> None:
    """Write `fields` only if the filing is still in `from_states` at `expected_revision` (one UPDATE).

    Exactly one of several concurrent callers that saw the same revision gets through; the others get a
    ConflictError and have written nothing.
    """
    # What the filing counts in the rollups now (locked until the transaction ends).
    locked = Filing.objects.select_for_update().select_related("establishment").filter(pk=filing.pk).first()
    before = rollup_facts.filing(locked) if locked is not None else None
    qs = Filing.objects.filter(pk=filing.pk, state__in=from_states)
    if expected_revision is not None:
        qs = qs.filter(revision=expected_revision)
    now = timezone.now()
    if not qs.update(revision=F("revision") + 1, updated_at=now, **fields):
        current = Filing.objects.filter(pk=filing.pk).select_related("decided_by").first()
        if current is None:
            raise ConflictError("该备案已不存在")
        by = f"（{current.decided_by}）" if current.decided_by and current.state in (State.APPROVED, State.RETURNED) else ""
        raise ConflictError(
            f"该备案已被他人处理或修改，当前状态为“{state_label(current.state)}”{by}，您的{what}没有生效。请刷新页面后再操作。",
            extra={"id": filing.pk, "state": current.state, "revision": current.revision},
        )
    filing.refresh_from_db()
    rollups.filing_changed(before=before, after=filing)


def _items(template: FilingTemplate) -> list[FilingItem]:
    return list(template.items.all())


def check_writer(actor: Any, filing: Filing) -> None:
    if not can_write(actor, filing.establishment_id):
        raise ApplicationError("只有本单位企业联系人或所在社区、街道工作人员可以填报", code="forbidden")


def check_reviewer(actor: Any, filing: Filing) -> None:
    if not can_review(actor, filing.reviewer_unit_id):
        raise ApplicationError("只有受理该备案的部门工作人员可以审核", code="forbidden")


# --- drafts ---------------------------------------------------------------------------------------


@transaction.atomic
def filing_create(
    *, establishment: Establishment, actor: Any, planned_date: date | None = None, answers: Mapping[str, Any] | None = None
) -> Filing:
    if not can_write(actor, establishment.pk):
        raise ApplicationError("只有本单位企业联系人或所在社区、街道工作人员可以为该单位备案", code="forbidden")
    if establishment.status in (Status.RESUMED, Status.APPROVED, Status.CLOSED):
        raise ApplicationError(f"该单位当前状态为“{Status(establishment.status).label}”，无需再备案", code="invalid_state")
    existing = Filing.objects.open().filter(establishment=establishment).first()
    if existing is not None:
        raise ApplicationError("该单位已有进行中的备案，请继续填报", code="duplicate", extra={"id": existing.pk})
    template = template_for(establishment)
    cleaned = checklist.clean_answers(_items(template), answers or {})
    filing = Filing(establishment=establishment, template=template, planned_date=planned_date, created_by=actor_user(actor))
    filing.answers = cleaned
    try:
        with transaction.atomic():
            filing.save()
    except IntegrityError:  # a concurrent create won
        raise ApplicationError("该单位已有进行中的备案，请刷新后继续填报", code="duplicate") from None
    rollups.filing_changed(before=None, after=filing)
    _event(filing, FilingEvent.Kind.CREATED, actor, note=template.name)
    audit_record(action=Action.CREATE, actor=actor, target=filing)
    return filing


@transaction.atomic
def filing_update(
    *, filing: Filing, actor: Any, expected_revision: int, answers: Mapping[str, Any] | None = None, planned_date: Any = UNSET
) -> Filing:
    """Save the working copy (a draft may be incomplete). Items given replace the stored item as a whole."""
    check_writer(actor, filing)
    if filing.state not in EDITABLE_STATES:
        raise ApplicationError(f"备案{state_label(filing.state)}，不能修改", code="invalid_state")
    merged = filing.answers
    if answers:
        merged.update(checklist.clean_answers(_items(filing.template), answers))
    probe = Filing()
    probe.answers = merged
    fields: dict[str, Any] = {"answers_data": probe.answers_data}
    if planned_date is not UNSET:
        fields["planned_date"] = planned_date
    _claim(filing, expected_revision=expected_revision, from_states=EDITABLE_STATES, what="保存", **fields)
    return filing


# --- submission -----------------------------------------------------------------------------------


@transaction.atomic
def filing_submit(*, filing: Filing, actor: Any, version: int | None = None, today: date | None = None) -> Filing:
    """Submit the working copy as the next version. Idempotent: submitting a version that is already
    submitted returns the filing as it is (no second version, no second event)."""
    locked = (
        Filing.objects.select_for_update().select_related("template", "establishment", "establishment__kind").get(pk=filing.pk)
    )
    if locked.state in (State.SUBMITTED, State.APPROVED) and (version is None or version <= locked.version):
        return locked
    check_writer(actor, locked)
    if locked.state not in EDITABLE_STATES:
        raise ApplicationError(f"备案{state_label(locked.state)}，不能提交", code="invalid_state")
    number = locked.version + 1
    if version is not None and version != number:
        raise ConflictError("备案内容已有更新，请刷新页面核对后再提交", extra={"id": locked.pk, "version": locked.version})
    today = today or timezone.localdate()
    items = _items(locked.template)
    answers = locked.answers
    live = list(locked.attachments.filter(removed=False).values_list("item_code", "pk"))
    counts: dict[str, int] = {}
    files: dict[str, list[int]] = {}
    for code, pk in live:
        counts[code] = counts.get(code, 0) + 1
        files.setdefault(code, []).append(pk)
    missing = checklist.missing_for_submit(items, answers, counts)
    errors: dict[str, list[str]] = {
        code: [f"{next(i.label for i in items if i.code == code)}：{p}" for p in problems] for code, problems in missing.items()
    }
    if locked.planned_date is None:
        errors["planned_date"] = ["请填写计划复工日期"]
    elif locked.planned_date < today and locked.version == 0:
        errors["planned_date"] = ["计划复工日期不能早于今天"]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    unit = reviewer_unit_for(locked.establishment, on=today)
    if unit is None:
        raise ApplicationError("未能确定该单位的审核部门（行业主管部门和包联部门均未配置），请联系所在街道", code="no_reviewer")
    FilingVersion.objects.create(
        filing=locked,
        number=number,
        answers_data=locked.answers_data,
        attachments=files,
        planned_date=locked.planned_date,
        submitted_at=now,
        submitted_by=actor_user(actor),
    )
    due = add_working_days(now, locked.template.review_days)
    _claim(
        locked,
        expected_revision=locked.revision,
        from_states=EDITABLE_STATES,
        what="提交",
        state=State.SUBMITTED,
        version=number,
        submitted_at=now,
        due_at=due,
        reviewer_unit=unit,
        overdue_flagged_at=None,
        decided_at=None,
        decided_by=None,
    )
    _event(locked, FilingEvent.Kind.SUBMITTED, actor, at=now, note=f"第{number}版，送{unit.name}审核", reviewer_unit=unit.pk)
    est = locked.establishment
    if est.status in (Status.NOT_RESUMED, Status.SUSPENDED):
        establishment_transition(establishment=est, to=Status.FILING, actor=actor, note=f"提交{locked.template.name}")
    audit_record(action=Action.UPDATE, actor=actor, target=locked, detail={"submitted": number, "reviewer_unit": unit.pk})
    notify_units(
        unit_ids=[unit.pk],
        title=f"待审核：{est.name}{locked.template.name}（第{number}版）",
        body=f"请在 {timezone.localtime(due):%m月%d日} 前完成审核",
        link=f"/filings/{locked.pk}/review/",
    )
    if filing is not locked:
        filing.refresh_from_db()
    return locked


@transaction.atomic
def filing_withdraw(*, filing: Filing, actor: Any, note: str = "") -> Filing:
    check_writer(actor, filing)
    before = filing.state
    _claim(filing, expected_revision=None, from_states=OPEN_STATES, what="撤回", state=State.WITHDRAWN)
    _event(filing, FilingEvent.Kind.WITHDRAWN, actor, note=note.strip())
    est = Establishment.objects.get(pk=filing.establishment_id)
    if est.status == Status.FILING:
        establishment_transition(establishment=est, to=Status.NOT_RESUMED, actor=actor, note="撤回备案")
    audit_record(action=Action.UPDATE, actor=actor, target=filing, detail={"state": [before, State.WITHDRAWN]})
    return filing


# --- review ---------------------------------------------------------------------------------------


def _clean_rulings(items: list[FilingItem], rulings: Mapping[str, Any], *, complete: bool) -> dict[str, tuple[str, str]]:
    """{code: (decision, comment)} from {code: (decision, comment) | {"decision", "comment"}}; checks every rule."""
    known = {i.code: i for i in items}
    out: dict[str, tuple[str, str]] = {}
    errors: dict[str, list[str]] = {}
    for code, ruling in rulings.items():
        if code not in known:
            errors[code] = [f"没有编号为 {code} 的备案事项"]
            continue
        if isinstance(ruling, Mapping):
            decision, comment = str(ruling.get("decision") or ""), str(ruling.get("comment") or "")
        else:
            decision, comment = str(ruling[0] or ""), str(ruling[1] or "")
        comment = comment.strip()[:500]
        if decision not in Decision.values:
            errors[code] = [f"{known[code].label}：请选择“通过”或“退回”"]
        elif decision == Decision.RETURN and not comment:
            errors[code] = [f"{known[code].label}：退回时请写明需要修改的内容"]
        else:
            out[code] = (decision, comment)
    if complete:
        for item in items:
            if item.code not in out and item.code not in errors:
                errors[item.code] = [f"{item.label}：请逐项给出审核意见"]
    if errors:
        raise ValidationError(errors)
    return out


def _ruling_record(decision: str, comment: str, actor: Any, at: datetime) -> dict[str, Any]:
    user = actor_user(actor)
    return {
        "decision": decision,
        "comment": comment,
        "by": getattr(user, "pk", None),
        "by_name": str(user or ""),
        "at": at.isoformat(),
    }


def _current_version(filing: Filing) -> FilingVersion:
    return FilingVersion.objects.select_for_update().get(filing=filing, number=filing.version)


@transaction.atomic
def filing_rule(*, filing: Filing, actor: Any, rulings: Mapping[str, Any], expected_revision: int) -> Filing:
    """Record rulings on some items of the submitted version (the decision comes with approve/return)."""
    check_reviewer(actor, filing)
    cleaned = _clean_rulings(_items(filing.template), rulings, complete=False)
    if not cleaned:
        raise ApplicationError("请至少对一个事项给出审核意见", code="invalid")
    _claim(filing, expected_revision=expected_revision, from_states=(State.SUBMITTED,), what="审核意见")
    now = timezone.now()
    version = _current_version(filing)
    version.rulings = {**version.rulings, **{c: _ruling_record(d, m, actor, now) for c, (d, m) in cleaned.items()}}
    version.save(update_fields=["rulings"])
    _event(
        filing,
        FilingEvent.Kind.RULED,
        actor,
        at=now,
        note=_summary(cleaned, filing),
        rulings={c: d for c, (d, _m) in cleaned.items()},
    )
    return filing


def _summary(rulings: Mapping[str, tuple[str, str]], filing: Filing) -> str:
    labels = {i.code: i.label for i in filing.template.items.all()}
    returned = [f"{labels.get(c, c)}：{m}" for c, (d, m) in rulings.items() if d == Decision.RETURN]
    accepted = sum(1 for d, _m in rulings.values() if d == Decision.ACCEPT)
    return "；".join(returned) if returned else f"{accepted} 项通过"


def _decide(
    filing: Filing,
    *,
    actor: Any,
    outcome: str,
    expected_revision: int,
    note: str,
    new_rulings: Mapping[str, tuple[str, str]] | None,
    today: date | None,
) -> Filing:
    now = timezone.now()
    _claim(
        filing,
        expected_revision=expected_revision,
        from_states=(State.SUBMITTED,),
        what="审核" if outcome == State.APPROVED else "退回",
        state=outcome,
        decided_at=now,
        decided_by=actor_user(actor),
    )
    version = _current_version(filing)
    rulings = dict(version.rulings)
    if new_rulings:
        rulings.update({c: _ruling_record(d, m, actor, now) for c, (d, m) in new_rulings.items()})
    version.rulings = rulings
    version.outcome = outcome
    version.note = note.strip()[:500]
    version.decided_at = now
    version.decided_by = actor_user(actor)
    version.save(update_fields=["rulings", "outcome", "note", "decided_at", "decided_by"])
    summary = {c: (r["decision"], r["comment"]) for c, r in rulings.items()}
    est = Establishment.objects.get(pk=filing.establishment_id)
    if outcome == State.APPROVED:
        _event(
            filing,
            FilingEvent.Kind.APPROVED,
            actor,
            at=now,
            note=note.strip() or f"第{filing.version}版全部事项通过",
            planned_date=str(filing.planned_date),
        )
        establishment_transition(establishment=est, to=Status.APPROVED, actor=actor, note=f"{filing.template.name}审核通过")
        today = today or timezone.localdate()
        if filing.planned_date is not None and filing.planned_date <= today:
            filing_resume(filing=filing, on=today, actor=actor)
    else:
        returned = {c: m for c, (d, m) in summary.items() if d == Decision.RETURN}
        _event(
            filing, FilingEvent.Kind.RETURNED, actor, at=now, note=note.strip() or _summary(summary, filing), returned=returned
        )
    audit_record(
        action=Action.UPDATE, actor=actor, target=filing, detail={"state": [State.SUBMITTED, outcome], "version": filing.version}
    )
    people = [filing.created_by_id] if filing.created_by_id else []
    notify_units(
        unit_ids=[],
        user_ids=people,
        title=f"{est.name}{filing.template.name}{'已通过' if outcome == State.APPROVED else '被退回，请修改后重新提交'}",
        body=note.strip(),
        link=f"/filings/{filing.pk}/",
    )
    return filing


@transaction.atomic
def filing_approve(*, filing: Filing, actor: Any, expected_revision: int, note: str = "", today: date | None = None) -> Filing:
    """Approve the submitted version: only when every item has been accepted."""
    check_reviewer(actor, filing)
    if filing.state != State.SUBMITTED:
        raise ConflictError(
            f"备案当前状态为“{state_label(filing.state)}”，不能审核", extra={"id": filing.pk, "state": filing.state}
        )
    rulings = FilingVersion.objects.get(filing=filing, number=filing.version).rulings
    pending = [i.label for i in _items(filing.template) if (rulings.get(i.code) or {}).get("decision") != Decision.ACCEPT]
    if pending:
        raise ApplicationError(f"以下事项尚未通过，不能批准：{'、'.join(pending)}", code="items_not_accepted")
    return _decide(
        filing, actor=actor, outcome=State.APPROVED, expected_revision=expected_revision, note=note, new_rulings=None, today=today
    )


@transaction.atomic
def filing_return(*, filing: Filing, actor: Any, expected_revision: int, note: str = "") -> Filing:
    """Return the submitted version for changes: at least one item must have been returned with a comment."""
    check_reviewer(actor, filing)
    if filing.state != State.SUBMITTED:
        raise ConflictError(
            f"备案当前状态为“{state_label(filing.state)}”，不能退回", extra={"id": filing.pk, "state": filing.state}
        )
    rulings = FilingVersion.objects.get(filing=filing, number=filing.version).rulings
    if not any(r.get("decision") == Decision.RETURN for r in rulings.values()):
        raise ApplicationError("请先选择需要退回修改的事项并写明意见", code="nothing_returned")
    return _decide(
        filing, actor=actor, outcome=State.RETURNED, expected_revision=expected_revision, note=note, new_rulings=None, today=None
    )


@transaction.atomic
def filing_review(
    *, filing: Filing, actor: Any, rulings: Mapping[str, Any], expected_revision: int, note: str = "", today: date | None = None
) -> Filing:
    """Rule on every item and decide in one step: approved if every item is accepted, else returned.

    One outcome and one event, however many reviewers press the button at the same time.
    """
    check_reviewer(actor, filing)
    cleaned = _clean_rulings(_items(filing.template), rulings, complete=True)
    outcome = State.APPROVED if all(d == Decision.ACCEPT for d, _m in cleaned.values()) else State.RETURNED
    return _decide(
        filing, actor=actor, outcome=outcome, expected_revision=expected_revision, note=note, new_rulings=cleaned, today=today
    )


# --- resumption and deadlines ---------------------------------------------------------------------


@transaction.atomic
def filing_resume(*, filing: Filing, on: date, actor: Any = None) -> Filing:
    """The approved establishment resumes (on its planned date, or on approval if that date has passed)."""
    est = Establishment.objects.select_for_update().get(pk=filing.establishment_id)  # one resumption, one event
    if filing.state != State.APPROVED or est.status != Status.APPROVED:
        return filing
    establishment_transition(establishment=est, to=Status.RESUMED, actor=actor, on=on, note=f"按{filing.template.name}计划复工")
    _event(filing, FilingEvent.Kind.RESUMED, actor, note=f"{on:%Y年%m月%d日}复工", on=on.isoformat())
    return filing


def filings_resume_due(*, today: date | None = None) -> int:
    """The periodic job: every approved establishment whose planned date has come resumes on that date."""
    today = today or timezone.localdate()
    due = Filing.objects.filter(state=State.APPROVED, planned_date__lte=today, establishment__status=Status.APPROVED).order_by(
        "planned_date", "pk"
    )
    done = 0
    for filing in due.iterator(chunk_size=500):
        decided = timezone.localtime(filing.decided_at).date() if filing.decided_at else today
        filing_resume(filing=filing, on=max(filing.planned_date or today, decided))
        done += 1
    return done


@transaction.atomic
def filings_flag_overdue(*, now: datetime | None = None) -> int:
    """The periodic job: flag each submitted filing past its review deadline once, and tell its unit."""
    now = now or timezone.now()
    due = list(
        Filing.objects.select_for_update()
        .filter(state=State.SUBMITTED, due_at__lt=now, overdue_flagged_at__isnull=True)
        .select_related("establishment")
    )
    if not due:
        return 0
    Filing.objects.filter(pk__in=[f.pk for f in due]).update(overdue_flagged_at=now)
    before = [rollup_facts.filing(f) for f in due]
    for f in due:
        f.overdue_flagged_at = now
    rollups.filings_changed(before=before, after=due)
    FilingEvent.objects.bulk_create(
        FilingEvent(
            filing=f,
            at=now,
            kind=FilingEvent.Kind.OVERDUE,
            version=f.version,
            note=f"超过审核期限 {timezone.localtime(f.due_at):%m月%d日 %H:%M}" if f.due_at else "超过审核期限",
        )
        for f in due
    )
    by_unit: dict[int, list[Filing]] = {}
    for f in due:
        if f.reviewer_unit_id:
            by_unit.setdefault(f.reviewer_unit_id, []).append(f)
    for unit_id, filings in by_unit.items():
        names = "、".join(f.establishment.name for f in filings[:5]) + ("等" if len(filings) > 5 else "")
        notify_units(unit_ids=[unit_id], title=f"{len(filings)} 件复工备案超过审核期限", body=names, link="/filings/overdue/")
    return len(due)
