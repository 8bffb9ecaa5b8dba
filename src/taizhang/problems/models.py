"""The problem ledger (问题台账): every problem found, routed to the unit responsible and tracked until it is
verified as solved by someone other than who fixed it. The track of a problem is its event list
(ProblemEvent, append-only). See docs/adr/0006-problem-lifecycle.md.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import models
from django.db.models import Q
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.core import append_only
from taizhang.core.models import BinaryCollationCharField
from taizhang.core.protected import EncryptedTextField
from taizhang.establishments.models import Establishment
from taizhang.regions.models import Region


class AppendOnlyError(append_only.AppendOnlyError):
    pass


class Routing(models.TextChoices):
    SECTORAL = "sectoral", "行业主管部门（条）"
    TERRITORIAL = "territorial", "属地（块）"
    SECTORAL_THEN_TERRITORIAL = "sectoral_then_territorial", "先行业部门，无则属地"


class ProblemCategory(models.Model):
    """Configuration: what kind of problem, how fast it must be handled and who handles it."""

    code = models.SlugField("编号", max_length=32, unique=True)
    name = models.CharField("名称", max_length=30)
    description = models.CharField("说明", max_length=200, blank=True)
    sla_days = models.PositiveSmallIntegerField("办理时限（工作日）", default=3)
    routing = models.CharField("分派规则", max_length=32, choices=Routing.choices, default=Routing.TERRITORIAL)
    rectification_template = models.TextField("整改要求模板", blank=True)
    sort = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "问题类别"
        verbose_name_plural = "问题类别"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class State(models.TextChoices):
    REPORTED = "reported", "待分派"
    ASSIGNED = "assigned", "已分派"
    IN_PROGRESS = "in_progress", "办理中"
    RESOLVED = "resolved", "已办结待核验"
    VERIFIED = "verified", "已核验"
    CLOSED = "closed", "已销号"
    RETURNED = "returned", "已退回"
    REOPENED = "reopened", "已重办"
    MERGED = "merged", "已合并"


# The explicit transition table. Who may take each step is decided by services.problem_transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.REPORTED: frozenset({State.ASSIGNED, State.MERGED}),
    State.ASSIGNED: frozenset({State.IN_PROGRESS, State.RETURNED, State.MERGED}),
    State.IN_PROGRESS: frozenset({State.RESOLVED, State.RETURNED, State.MERGED}),
    State.RETURNED: frozenset({State.ASSIGNED, State.MERGED}),
    State.REOPENED: frozenset({State.IN_PROGRESS, State.RESOLVED, State.RETURNED, State.MERGED}),
    State.RESOLVED: frozenset({State.VERIFIED, State.REOPENED}),
    State.VERIFIED: frozenset({State.CLOSED, State.REOPENED}),
    State.CLOSED: frozenset({State.REOPENED}),
    State.MERGED: frozenset(),
}
# Still someone's work: the SLA clock runs, duplicates are looked for, escalation applies.
OPEN_STATES = frozenset({State.REPORTED, State.ASSIGNED, State.IN_PROGRESS, State.RETURNED, State.REOPENED})
# Not finished (the open states plus waiting for verification).
ACTIVE_STATES = OPEN_STATES | {State.RESOLVED}
DONE_STATES = frozenset({State.VERIFIED, State.CLOSED, State.MERGED})


class Source(models.TextChoices):
    VISIT = "visit", "走访"
    INSPECTION = "inspection", "巡查督导"
    HOTLINE = "hotline", "热线"
    SELF_REPORT = "self_report", "企业自报"
    PUBLIC = "public", "群众反映"
    IMPORT = "import", "导入"


class Severity(models.TextChoices):
    LOW = "low", "轻微"
    NORMAL = "normal", "一般"
    HIGH = "high", "严重"
    URGENT = "urgent", "紧急"


class Rectification(models.TextChoices):
    NONE = "", "无需整改"
    REQUIRED = "required", "待整改"
    REPORTED = "reported", "已报整改待核验"
    ACCEPTED = "accepted", "整改通过"


class ProblemQuerySet(models.QuerySet["Problem"]):
    def visible_to(self, user: Any) -> ProblemQuerySet:
        from .scoping import problem_scope_q

        return self.filter(problem_scope_q(user))

    def open(self) -> ProblemQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now: Any = None) -> ProblemQuerySet:
        return self.filter(state__in=OPEN_STATES, due_at__lt=now or timezone.now())


class Problem(models.Model):
    code = models.CharField("编号", max_length=24, unique=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, db_index=True)
    category = models.ForeignKey(ProblemCategory, verbose_name="类别", on_delete=models.PROTECT, related_name="problems")
    establishment = models.ForeignKey(
        Establishment, verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="problems"
    )
    region = models.ForeignKey(Region, verbose_name="所在区划", on_delete=models.PROTECT, related_name="problems")
    # Copied from the region (codes never change) so that territorial scope is one index range scan.
    region_path = BinaryCollationCharField("区划路径", max_length=255, db_index=True, editable=False)
    description = models.TextField("问题描述")
    severity = models.CharField("严重程度", max_length=8, choices=Severity.choices, default=Severity.NORMAL)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_problems",
    )
    # A member of the public (hotline caller, Open311): personal data, encrypted at rest and shown masked.
    contact_name = EncryptedTextField("联系人", kind="name", blank=True)
    contact_phone = EncryptedTextField("联系电话", kind="mobile", blank=True)
    contact_email = EncryptedTextField("电子邮箱", kind="text", blank=True)
    address = models.CharField("地点", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)

    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.REPORTED, db_index=True)
    state_changed_at = models.DateTimeField("状态时间", default=timezone.now)
    unit = models.ForeignKey(
        OrgUnit, verbose_name="承办单位", null=True, blank=True, on_delete=models.PROTECT, related_name="problems"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_problems",
    )
    due_at = models.DateTimeField("办理期限", null=True, blank=True, db_index=True)
    overdue_since = models.DateTimeField("超期时间", null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField("督办层级", default=0)
    escalated_unit = models.ForeignKey(
        OrgUnit, verbose_name="督办单位", null=True, blank=True, on_delete=models.PROTECT, related_name="escalated_problems"
    )
    next_escalation_at = models.DateTimeField("下次督办时间", null=True, blank=True)

    rectification = models.CharField("整改", max_length=10, choices=Rectification.choices, default=Rectification.NONE, blank=True)
    rectification_due = models.DateField("整改期限", null=True, blank=True)
    rectification_overdue_notified = models.BooleanField("整改超期已提醒", default=False)

    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    resolved_by_unit = models.ForeignKey(
        OrgUnit, verbose_name="办结单位", null=True, blank=True, on_delete=models.PROTECT, related_name="resolved_problems"
    )
    verifier_unit = models.ForeignKey(
        OrgUnit, verbose_name="核验单位", null=True, blank=True, on_delete=models.PROTECT, related_name="problems_to_verify"
    )
    verified_at = models.DateTimeField("核验时间", null=True, blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name="合并到", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )

    version = models.PositiveIntegerField("版本", default=1)
    idempotency_key = models.CharField("提交标识", max_length=80, null=True, blank=True, unique=True)
    external_ref = models.CharField("外部编号", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField("报告时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题台账"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="problem_state_due_idx"),
            models.Index(fields=["unit", "state"], name="problem_unit_state_idx"),
            models.Index(fields=["assignee", "state"], name="problem_assignee_state_idx"),
            models.Index(fields=["establishment", "category", "state"], name="problem_subject_idx"),
            models.Index(fields=["region", "category", "state"], name="problem_region_cat_idx"),
            models.Index(fields=["reporter", "-created_at"], name="problem_reporter_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(escalation_level__lte=20), name="problem_escalation_level_bounded"),
            models.CheckConstraint(
                condition=Q(state="merged", merged_into__isnull=False) | (~Q(state="merged") & Q(merged_into__isnull=True)),
                name="problem_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def is_overdue(self, now: Any = None) -> bool:
        return self.state in OPEN_STATES and self.due_at is not None and self.due_at < (now or timezone.now())

    @property
    def subject_name(self) -> str:
        name = getattr(self, "establishment_name", None)
        if name is None and self.establishment_id:
            name = self.establishment.name if self.establishment else ""
        return name or self.address or ""

    @property
    def summary(self) -> str:
        text = " ".join(self.description.split())
        return text if len(text) <= 60 else text[:58] + "……"


class ProblemCounter(models.Model):
    """The last sequence number handed out for a day: codes are WF-YYYYMMDD-NNNN, gap-free under concurrency
    except for rolled-back reports."""

    day = models.DateField("日期", primary_key=True)
    last = models.PositiveIntegerField("末号", default=0)

    class Meta:
        verbose_name = "问题编号计数"
        verbose_name_plural = "问题编号计数"

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class EventKind(models.TextChoices):
    REPORTED = "reported", "上报"
    ROUTED = "routed", "分派"
    TRIAGE = "triage", "转指挥部分派"
    ACCEPTED = "accepted", "签收"
    RESOLVED = "resolved", "办结"
    VERIFIED = "verified", "核验通过"
    REJECTED = "rejected", "核验不通过"
    CLOSED = "closed", "销号"
    RETURNED = "returned", "退回"
    REOPENED = "reopened", "重新办理"
    REASSIGNED = "reassigned", "改派"
    MERGED = "merged", "合并为重复"
    MERGED_FROM = "merged_from", "并入重复问题"
    COMMENT = "comment", "备注"
    TASK_ADDED = "task_added", "发起协调"
    TASK_REPLIED = "task_replied", "协调答复"
    TASK_CANCELLED = "task_cancelled", "撤销协调"
    RECTIFICATION_REQUIRED = "rect_required", "责令整改"
    RECTIFICATION_REPORTED = "rect_reported", "报告整改"
    RECTIFICATION_ACCEPTED = "rect_accepted", "整改核验通过"
    RECTIFICATION_REJECTED = "rect_rejected", "整改核验不通过"
    RECTIFICATION_OVERDUE = "rect_overdue", "整改超期"
    OVERDUE = "overdue", "超期"
    ESCALATED = "escalated", "向上反映（督办）"


class ProblemEvent(append_only.AppendOnlyModel):
    """One step of a problem's track. Rows are only ever inserted (model, QuerySet and, on PostgreSQL, a
    trigger refuse UPDATE and DELETE: taizhang.core.append_only, migration 0003)."""

    append_only_label = "问题处理记录"
    append_only_error = AppendOnlyError

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField("时间", default=timezone.now)
    kind = models.CharField("类型", max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField("操作人姓名", max_length=60, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name="操作单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_state = models.CharField("原状态", max_length=16, blank=True)
    to_state = models.CharField("新状态", max_length=16, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "问题处理记录"
        verbose_name_plural = "问题处理记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["problem", "at"], name="problem_event_idx")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class PartyRole(models.TextChoices):
    ASSIGNED = "assigned", "承办"
    ESCALATED = "escalated", "督办"
    COORDINATING = "coordinating", "协调"
    VERIFYING = "verifying", "核验"
    REPORTING = "reporting", "上报"


class ProblemParty(models.Model):
    """A unit involved in a problem, and how: its members may see the problem (kept after the unit's part ends,
    so that a unit can always read what it worked on)."""

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.CASCADE, related_name="parties")
    unit = models.ForeignKey(OrgUnit, verbose_name="单位", on_delete=models.PROTECT, related_name="problem_parties")
    role = models.CharField("角色", max_length=16, choices=PartyRole.choices)
    since = models.DateTimeField("起始时间", default=timezone.now)

    class Meta:
        verbose_name = "问题相关单位"
        verbose_name_plural = "问题相关单位"
        constraints = [models.UniqueConstraint(fields=["problem", "unit", "role"], name="problem_party_unique")]
        indexes = [models.Index(fields=["unit", "problem"], name="problem_party_unit_idx")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.unit_id} {self.role}"


class ProblemTask(models.Model):
    """协调: one unit's part in a problem, with its own due date and reply."""

    class State(models.TextChoices):
        OPEN = "open", "待答复"
        REPLIED = "replied", "已答复"
        CANCELLED = "cancelled", "已撤销"

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.PROTECT, related_name="tasks")
    unit = models.ForeignKey(OrgUnit, verbose_name="协调单位", on_delete=models.PROTECT, related_name="problem_tasks")
    text = models.TextField("协调事项")
    due_at = models.DateTimeField("答复期限", null=True, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("发起时间", default=timezone.now)
    reply = models.TextField("答复", blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="答复人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "协调事项"
        verbose_name_plural = "协调事项"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["unit", "state"], name="problem_task_unit_idx")]

    def __str__(self) -> str:
        return f"{self.problem_id} → {self.unit_id}"


def private_storage() -> Storage:
    """Attachments live outside the web root: STORAGES["private"] if configured, else VAR_DIR/private."""
    if "private" in settings.STORAGES:
        return storages["private"]
    return FileSystemStorage(location=settings.VAR_DIR / "private", base_url=None)


def attachment_path(instance: Attachment, filename: str) -> str:
    ext = PurePosixPath(filename).suffix.lower()[:8]
    return f"problems/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{ext}"


class Attachment(models.Model):
    """A photo or PDF of a problem, stored in private storage and served only through an access-checked view."""

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        ProblemEvent, verbose_name="处理记录", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField("文件", storage=private_storage, upload_to=attachment_path, max_length=200)
    name = models.CharField("文件名", max_length=120)
    content_type = models.CharField("类型", max_length=60)
    size = models.PositiveIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Follow(models.Model):
    """关注: a user's watch list. Following grants nothing: a followed problem still has to be visible."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="problem_follows"
    )
    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField("关注时间", default=timezone.now)

    class Meta:
        verbose_name = "关注"
        verbose_name_plural = "关注"
        constraints = [models.UniqueConstraint(fields=["user", "problem"], name="problem_follow_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.problem_id}"


from .open311.models import Open311Client, Open311Service, Open311Submission, ServiceAttribute  # noqa: E402, F401 - the Open311 adapter's models (problems app label)
