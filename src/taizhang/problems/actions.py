"""Which action forms the problem page offers a user. A hint for the page only: the services decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import OPEN_STATES, Problem, ProblemTask, Rectification, State
from .scoping import acting_unit_ids, is_enterprise_of, is_read_only


@dataclass
class Actions:
    read_only: bool = True
    accept: bool = False
    resolve: bool = False
    give_back: bool = False
    verify: bool = False
    close: bool = False
    reopen: bool = False
    reassign: bool = False
    add_task: bool = False
    comment: bool = False
    require_rectification: bool = False
    report_rectification: bool = False
    verify_rectification: bool = False
    merge: bool = False
    reply_tasks: set[int] = field(default_factory=set)

    @property
    def any_transition(self) -> bool:
        return self.accept or self.resolve or self.give_back or self.verify or self.close or self.reopen


def actions_for(user: Any, problem: Problem, tasks: list[ProblemTask]) -> Actions:
    if is_read_only(user):
        return Actions()
    from .services import _supervising_unit_ids

    mine = acting_unit_ids(user)
    handler = (problem.unit_id in mine) or problem.assignee_id == user.pk
    state = problem.state
    working = state in (State.IN_PROGRESS, State.REOPENED)
    enterprise = is_enterprise_of(user, problem.establishment_id)
    return Actions(
        read_only=False,
        accept=handler and state in (State.ASSIGNED, State.REOPENED),
        resolve=handler and working,
        give_back=handler and state in (State.ASSIGNED, State.IN_PROGRESS, State.REOPENED),
        verify=bool(mine) and state == State.RESOLVED and problem.resolved_by_unit_id not in mine,
        close=bool(mine) and state == State.VERIFIED,
        reopen=bool(mine) and state in (State.VERIFIED, State.CLOSED),
        reassign=bool(mine) and state in OPEN_STATES and bool(_supervising_unit_ids(problem) & mine),
        add_task=handler and working,
        comment=True,
        require_rectification=handler
        and working
        and problem.establishment_id is not None
        and problem.rectification in (Rectification.NONE, Rectification.ACCEPTED),
        report_rectification=problem.rectification == Rectification.REQUIRED and (enterprise or handler),
        verify_rectification=problem.rectification == Rectification.REPORTED and handler,
        merge=bool(mine) and state in OPEN_STATES,
        reply_tasks={t.pk for t in tasks if t.state == ProblemTask.State.OPEN and t.unit_id in mine},
    )
