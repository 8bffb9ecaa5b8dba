"""Background tasks of filings (django-tasks), run by the periodic jobs registered in apps.py."""

from django_tasks import task

from . import services


@task()
def resume_due_filings() -> int:
    """Approved establishments whose planned date has come are set resumed (复工)."""
    return services.filings_resume_due()


@task()
def flag_overdue_reviews() -> int:
    """Submitted filings past their review deadline are flagged once and their reviewer unit is told."""
    return services.filings_flag_overdue()
