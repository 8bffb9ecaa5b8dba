"""The append-only audit log.

Rows are only ever inserted. The model refuses to update or delete them, the QuerySet refuses bulk
update and delete, and on PostgreSQL a trigger refuses UPDATE and DELETE from any client
(migration 0002); all three come from taizhang.core.append_only. Retention is at least 180 days; older
rows are archived by an operator (see docs/operations.md), never by the application.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from taizhang.core import append_only


class AppendOnlyError(append_only.AppendOnlyError):
    pass


class AuditEvent(append_only.AppendOnlyModel):
    append_only_label = "审计日志"
    append_only_error = AppendOnlyError

    class Action(models.TextChoices):
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOCKED_OUT = "locked_out", "账户锁定"
        LOGOUT = "logout", "退出"
        OTP = "otp", "动态口令"
        DENIED = "denied", "拒绝访问"
        CREATE = "create", "新增"
        UPDATE = "update", "修改"
        DELETE = "delete", "删除"
        BULK_CREATE = "bulk_create", "批量新增"
        BULK_UPDATE = "bulk_update", "批量修改"
        BULK_DELETE = "bulk_delete", "批量删除"
        REVEAL = "reveal", "查看敏感信息"
        READ = "read", "查阅个人信息"
        EXPORT = "export", "导出"
        IMPORT = "import", "导入"

    class Outcome(models.TextChoices):
        OK = "ok", "成功"
        FAILED = "failed", "失败"
        DENIED = "denied", "拒绝"

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    username = models.CharField("用户名", max_length=150, blank=True, db_index=True)
    action = models.CharField("操作", max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=80, blank=True, db_index=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.OK)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_repr}"
