"""Import and export jobs. Files live under VAR_DIR/private/transfer/<job id>/ (never under the web root),
are served only to the job's owner, and are purged with their job 24 hours after it finished."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobKind(models.TextChoices):
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"


class JobMode(models.TextChoices):
    CHECK = "check", "检查"
    ALL = "all", "全部导入（有错则不导入）"
    VALID = "valid", "仅导入无误的行"
    EXPORT = "export", "导出"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class TransferJob(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("类型", max_length=8, choices=JobKind.choices)
    ledger = models.CharField("台账", max_length=32)
    mode = models.CharField("方式", max_length=8, choices=JobMode.choices)
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    source = models.ForeignKey(
        "self", verbose_name="依据的检查", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField("文件名", max_length=200, blank=True)
    file_format = models.CharField("格式", max_length=8, blank=True)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    unmasked = models.BooleanField("含完整个人信息", default=False)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    valid_rows = models.PositiveIntegerField("无误行数", default=0)
    invalid_rows = models.PositiveIntegerField("有误行数", default=0)
    written_rows = models.PositiveIntegerField("写入行数", default=0)
    problems_count = models.PositiveIntegerField("问题数", default=0)
    problems = models.JSONField("问题（前500条）", default=list, blank=True)
    sheet = models.CharField("工作表", max_length=100, blank=True)
    header_row = models.PositiveIntegerField("标题行", default=0)
    ignored_columns = models.JSONField("忽略的列", default=list, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    result_name = models.CharField("结果文件", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True, db_index=True)
    purged = models.BooleanField("文件已清除", default=False)

    class Meta:
        verbose_name = "导入导出任务"
        verbose_name_plural = "导入导出任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "created_at"], name="transfer_job_owner_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.ledger}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
