from __future__ import annotations

from django_tasks import task


@task()
def generate_due_reports() -> dict[str, int]:
    """The periodic job (every 10 minutes): each active daily-report template whose cut-off has passed today gets
    today's report, once."""
    from .reports import generate_due

    return {"generated": len(generate_due())}


@task()
def verify_rollups() -> dict[str, int]:
    """The daily check of the rollups against the base rows (differences are logged; repair with rebuild_rollups)."""
    from taizhang.rollups.services import verify

    return {"differences": len(verify())}
