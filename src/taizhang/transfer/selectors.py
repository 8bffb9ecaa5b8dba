"""Reads of jobs: a job is visible to its owner only (its files hold what the owner may see, nobody else)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from taizhang.core.errors import NotVisible

from .models import TransferJob


def jobs_of(*, user: Any) -> QuerySet[TransferJob]:
    return TransferJob.objects.filter(owner_id=user.pk).defer("problems")


def access_job(user: Any, job_id: Any) -> TransferJob:
    try:
        return TransferJob.objects.get(pk=int(job_id), owner_id=user.pk)
    except (TransferJob.DoesNotExist, ValueError, TypeError):
        raise NotVisible("任务") from None
