from __future__ import annotations

from django_tasks import task


@task()
def escalate_overdue_problems() -> dict[str, int]:
    """The periodic SLA sweep (registered in ProblemsConfig.ready(), every 15 minutes)."""
    from .escalation import escalate_overdue

    return escalate_overdue().counts()
