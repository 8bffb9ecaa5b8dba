"""Starting, running, cancelling and purging import/export jobs. Pages, the API and tasks all come through here."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.protected import can_reveal
from taizhang.core.scoping import scope_of
from taizhang.establishments.selectors import FILTERS as ESTABLISHMENT_FILTERS

from . import engine
from .columns import text
from .engine import Cancelled, Ledger, Problem
from .ledgers import ledger_class
from .models import JobKind, JobMode, JobStatus, TransferJob
from .reading import FORMATS, FileRefused, limits, sniff_format
from .xlsx import XlsxWriter

log = logging.getLogger(__name__)
KEEP = timedelta(hours=24)
STAGES = {"queued": "排队中", "checking": "正在逐行检查", "writing": "正在检查并写入", "exporting": "正在导出", "done": "已完成"}


# --- files -----------------------------------------------------------------------------------------


def transfer_root() -> Path:
    configured = getattr(settings, "TAIZHANG_TRANSFER_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "private" / "transfer"


def job_dir(job: TransferJob) -> Path:
    path = transfer_root() / str(job.pk)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def input_path(job: TransferJob) -> Path:
    return job_dir(job) / f"input.{job.file_format or 'bin'}"


def result_path(job: TransferJob) -> Path | None:
    if not job.result_name or job.purged:
        return None
    path = transfer_root() / str(job.pk) / "result.xlsx"
    return path if path.exists() else None


def write_progress(job: TransferJob, done: int, total: int, stage: str) -> None:
    """Progress goes to a small file, not the database: the import's own transaction would hide it."""
    path = job_dir(job) / "progress.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"done": done, "total": total, "stage": stage}), encoding="utf-8")
    os.replace(tmp, path)


def read_progress(job: TransferJob) -> dict[str, Any]:
    path = transfer_root() / str(job.pk) / "progress.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"done": 0, "total": 0, "stage": "queued" if job.status == JobStatus.QUEUED else "checking"}
    total = max(int(data.get("total") or 0), int(data.get("done") or 0), 1)
    data["percent"] = 100 if job.finished else min(99, int(100 * int(data.get("done") or 0) / total))
    data["label"] = STAGES.get(str(data.get("stage")), "")
    return data


def _cancel_flag(job: TransferJob) -> Path:
    return transfer_root() / str(job.pk) / "cancel"


# --- starting jobs ---------------------------------------------------------------------------------


def _ledger_for(user: Any, code: str, *, importing: bool) -> type[Ledger]:
    cls = ledger_class(code)
    roles = cls.import_roles if importing else cls.export_roles
    if not (scope_of(user).roles & roles):
        raise PermissionDenied("无权" + ("导入" if importing else "导出") + cls.title)
    return cls


def _enqueue(job: TransferJob) -> None:
    from .tasks import run_transfer_job

    transaction.on_commit(lambda: run_transfer_job.enqueue(job.pk))


def import_start(*, user: Any, ledger: str, upload: IO[bytes], name: str, size: int | None = None) -> TransferJob:
    """Save the upload under the private directory and queue a check (nothing is written to the ledger)."""
    cls = _ledger_for(user, ledger, importing=True)
    lim = limits()
    if size is not None and size > lim.max_bytes:
        raise FileRefused(
            f"文件太大（{size / 1024 / 1024:.0f} MB），上限为 {lim.max_bytes / 1024 / 1024:.0f} MB：请拆分成几个文件分别导入"
        )
    name = text(os.path.basename(name or "upload"))[:200]
    with transaction.atomic():
        job = TransferJob.objects.create(owner=user, kind=JobKind.IMPORT, ledger=cls.code, mode=JobMode.CHECK, file_name=name)
        try:
            target = job_dir(job) / "upload"
            written = 0
            with target.open("wb") as out:
                for block in iter(lambda: upload.read(1024 * 1024), b""):
                    written += len(block)
                    if written > lim.max_bytes:
                        raise FileRefused(f"文件太大，上限为 {lim.max_bytes / 1024 / 1024:.0f} MB：请拆分成几个文件分别导入")
                    out.write(block)
            job.file_format = sniff_format(target, name)
            target.rename(input_path(job))
        except BaseException:
            shutil.rmtree(transfer_root() / str(job.pk), ignore_errors=True)
            raise
        job.save(update_fields=["file_format"])
        write_progress(job, 0, 0, "queued")
        _enqueue(job)
    return job


def import_commit(*, user: Any, source: TransferJob, valid_only: bool = False) -> TransferJob:
    """Import the checked file: all rows or nothing, or — when the user explicitly chose so — only the valid rows."""
    if source.owner_id != user.pk or source.kind != JobKind.IMPORT or source.mode != JobMode.CHECK:
        raise PermissionDenied("只能导入自己检查过的文件")
    if source.status != JobStatus.DONE or source.purged:
        raise ApplicationError("该文件的检查尚未完成或已过期，请重新上传")
    if source.valid_rows == 0:
        raise ApplicationError("文件中没有可以导入的行：请按报告修正后重新上传")
    if TransferJob.objects.filter(source=source).exclude(status__in=[JobStatus.FAILED, JobStatus.CANCELLED]).exists():
        raise ApplicationError("该文件已经提交导入，请勿重复提交：可在“我的任务”中查看结果")
    if source.invalid_rows and not valid_only:
        raise ApplicationError(f"文件中有 {source.invalid_rows} 行有误：请修正后重新上传，或明确选择“仅导入无误的行”")
    _ledger_for(user, source.ledger, importing=True)
    with transaction.atomic():
        job = TransferJob.objects.create(
            owner=user,
            kind=JobKind.IMPORT,
            ledger=source.ledger,
            mode=JobMode.VALID if valid_only else JobMode.ALL,
            source=source,
            file_name=source.file_name,
            file_format=source.file_format,
        )
        shutil.copyfile(input_path(source), input_path(job))
        write_progress(job, 0, source.total_rows, "queued")
        _enqueue(job)
    return job


def _clean_filters(user: Any, ledger: str, raw: dict[str, Any]) -> dict[str, Any]:
    if ledger != "establishments":
        return {}
    return {k: str(v)[:100] for k, v in raw.items() if k in ESTABLISHMENT_FILTERS and v not in (None, "")}


def export_start(*, user: Any, ledger: str, filters: dict[str, Any] | None = None, unmasked: bool = False) -> TransferJob:
    """Queue an export of what the user may see with the list page's filters; masked unless asked and allowed."""
    cls = _ledger_for(user, ledger, importing=False)
    if unmasked and not can_reveal(user):
        raise PermissionDenied("无权导出完整的个人信息")
    with transaction.atomic():
        job = TransferJob.objects.create(
            owner=user,
            kind=JobKind.EXPORT,
            ledger=cls.code,
            mode=JobMode.EXPORT,
            filters=_clean_filters(user, ledger, filters or {}),
            unmasked=unmasked,
            file_format="xlsx",
        )
        write_progress(job, 0, 0, "queued")
        _enqueue(job)
    return job


def job_cancel(*, user: Any, job: TransferJob) -> TransferJob:
    """Ask a running job to stop (it rolls back whatever it had written); a queued job stops at once."""
    if job.owner_id != user.pk:
        raise PermissionDenied("只能取消自己的任务")
    if job.finished:
        return job
    job_dir(job)
    _cancel_flag(job).touch()
    updated = TransferJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), message="已取消，未写入任何数据"
    )
    job.refresh_from_db()
    if updated:
        write_progress(job, 0, 0, "done")
    return job


# --- running jobs ----------------------------------------------------------------------------------


def _establishment_filters(user: Any, filters: dict[str, Any]) -> dict[str, Any]:
    """The list page's query string → establishment_list filters, through the list page's own form (so that an
    export holds exactly the rows of the page the user was looking at)."""
    from taizhang.establishments.forms import FilterForm

    return FilterForm(filters, user=user).selector_filters()


def _run_import(job: TransferJob, ledger: Ledger) -> None:
    report = job_dir(job) / "result.xlsx"
    with XlsxWriter(str(report)) as book:
        sheet = book.sheet("问题清单", header=["行号", "列", "内容", "问题"], widths=[8, 18, 28, 70])

        def sink(problem: Problem) -> None:
            sheet.row([problem.row or "", problem.column, problem.value, problem.reason])

        outcome = engine.run_import(
            ledger,
            input_path(job),
            mode=job.mode,
            name=job.file_name,
            fmt=job.file_format,
            job_id=job.pk,
            progress=lambda done, total, stage: write_progress(job, done, total, stage),
            cancelled=_cancel_flag(job).exists,
            sink=sink,
        )
    job.total_rows, job.valid_rows, job.invalid_rows = outcome.total, outcome.valid, outcome.invalid
    job.written_rows, job.problems_count = outcome.written, outcome.problems_count
    job.problems = [[p.row, p.column, p.value, p.reason] for p in outcome.preview]
    job.sheet, job.header_row, job.ignored_columns = outcome.sheet[:100], outcome.header_row, list(outcome.ignored_columns)[:50]
    job.result_name = "问题清单.xlsx" if outcome.problems_count else ""
    if job.mode == JobMode.CHECK:
        job.message = (
            f"检查完成：共 {outcome.total} 行，全部无误，可以导入"
            if outcome.ok
            else f"检查完成：共 {outcome.total} 行，其中 {outcome.invalid} 行有误（{outcome.problems_count} 个问题），请按问题清单修正后重新上传"
        )
    elif outcome.rolled_back:
        job.message = f"未导入：发现 {outcome.invalid} 行有误（数据可能已被他人修改），一行也没有写入，请按问题清单修正后重新上传"
    else:
        skipped = f"，跳过有误的 {outcome.invalid} 行" if outcome.invalid else ""
        job.message = f"导入完成：写入 {outcome.written} 条{skipped}"


def export_to_path(
    ledger: Ledger, path: Path, *, filters: dict[str, Any], reveal: bool, limit: int | None = None, on_rows: Any = None
) -> int:
    """Stream the ledger's rows the user may see into an xlsx at `path`; returns the number of rows written."""
    export_rows: Any = getattr(ledger, "export_rows", None)
    if export_rows is None:
        raise ApplicationError(f"{ledger.title}暂不支持导出")
    rows = 0
    with XlsxWriter(str(path)) as book:
        sheet = book.sheet(ledger.sheet_title, header=ledger.export_header(), widths=[c.width for c in ledger.columns()])
        iterator: Iterator[list[Any]] = export_rows(filters=filters, reveal=reveal)
        for values in iterator:
            sheet.row(values)
            rows += 1
            if rows % 5000 == 0 and on_rows is not None:
                on_rows(rows)
            if limit is not None and rows >= limit:
                break
    return rows


def _run_export(job: TransferJob, ledger: Ledger) -> None:
    filters = _establishment_filters(job.owner, job.filters) if job.ledger == "establishments" else {}
    flag = _cancel_flag(job)

    def on_rows(n: int) -> None:
        write_progress(job, n, n, "exporting")
        if flag.exists():
            raise Cancelled()

    rows = export_to_path(ledger, job_dir(job) / "result.xlsx", filters=filters, reveal=job.unmasked, on_rows=on_rows)
    job.total_rows = job.written_rows = rows
    job.result_name = f"{ledger.title}_{timezone.localdate():%Y%m%d}.xlsx"
    job.message = f"导出完成：共 {rows} 行" + ("（含完整个人信息，已记录审计）" if job.unmasked else "（个人信息已脱敏）")
    model_label = "establishments.establishment" if job.ledger == "establishments" else job.ledger
    audit_record(
        action=Action.EXPORT,
        actor=job.owner,
        object_type=model_label,
        object_id=f"{rows} rows",
        object_repr=f"{ledger.title}导出 #{job.pk}",
        detail={
            "job": job.pk,
            "ledger": job.ledger,
            "rows": rows,
            "filters": job.filters,
            "unmasked": job.unmasked,
            "fields": [c.header for c in ledger.columns() if c.sensitive] if job.unmasked else [],
        },
    )


def job_run(*, job_id: int) -> TransferJob:
    """Run a queued job to its end (called by the background task). Never leaves a half-written import."""
    started = TransferJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = TransferJob.objects.select_related("owner").get(pk=job_id)
    if not started:
        return job
    ledger = ledger_class(job.ledger)(user=job.owner)
    try:
        if job.kind == JobKind.EXPORT:
            _run_export(job, ledger)
        else:
            _run_import(job, ledger)
        job.status = JobStatus.DONE
    except Cancelled:
        job.status = JobStatus.CANCELLED
        job.message = "已取消" + ("，未写入任何数据" if job.kind == JobKind.IMPORT else "")
        job.result_name = ""
    except ApplicationError as exc:
        job.status, job.message, job.result_name = JobStatus.FAILED, exc.message[:500], ""
    except IntegrityError:
        log.warning("transfer job %s: integrity error, rolled back", job_id, exc_info=True)
        job.status, job.result_name = JobStatus.FAILED, ""
        job.message = "导入期间有人同时登记了相同的单位（如相同的统一社会信用代码），已全部撤销、未写入任何数据：请重新上传检查"
    except Exception:
        log.exception("transfer job %s failed", job_id)
        job.status, job.result_name = JobStatus.FAILED, ""
        job.message = "处理时发生内部错误，未写入任何数据：请稍后重试；如仍失败，请把文件交给系统管理员"
    job.finished_at = timezone.now()
    job.save()
    write_progress(job, job.total_rows, job.total_rows, "done")
    return job


# --- purge -----------------------------------------------------------------------------------------


def purge_expired(*, now: Any = None) -> int:
    """Delete the files of jobs finished more than 24 hours ago (and of jobs stuck for as long)."""
    now = now or timezone.now()
    cutoff = now - KEEP
    stuck = TransferJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__lt=cutoff)
    stuck.update(status=JobStatus.FAILED, finished_at=now, message="任务超时未完成，已终止：请重新上传")
    count = 0
    for job in TransferJob.objects.filter(purged=False, finished_at__lt=cutoff).only("pk"):
        shutil.rmtree(transfer_root() / str(job.pk), ignore_errors=True)
        TransferJob.objects.filter(pk=job.pk).update(purged=True, result_name="")
        count += 1
    return count


ACCEPTED_FORMATS = FORMATS
