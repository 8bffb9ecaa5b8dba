"""Periodic jobs (SLA sweep, daily report, retention purge …) registered by each app.

`taizhang scheduler` enqueues each job as a background task when its interval has passed; the worker
(`taizhang db_worker`) runs it. Apps register in their AppConfig.ready().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    task: Any  # a django_tasks Task
    every: timedelta


_JOBS: dict[str, Job] = {}


def register(job: Job) -> None:
    _JOBS[job.name] = job


def jobs() -> list[Job]:
    return list(_JOBS.values())
