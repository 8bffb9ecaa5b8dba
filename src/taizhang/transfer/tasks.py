"""Background tasks of imports and exports (django-tasks; the test settings run them immediately)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_transfer_job(job_id: int) -> None:
    from .services import job_run

    job_run(job_id=job_id)


@task()
def purge_transfer_files() -> int:
    from .services import purge_expired

    return purge_expired()
