"""Resumption filings (复工/复学备案): configurable checklists, versioned submissions, per-item rulings.

- A `FilingTemplate` (复工备案 for enterprises, 复学备案 for schools …) lists its `FilingItem`s. Templates and
  items are data (shipped by a data migration, edited by the district), not code; the evidence kind of an item
  (document, organisation, commitment, supplies, staff screening, measure) selects its form fields
  (`checklist.py`).
- A `Filing` is one establishment's filing against one template. Its answers are a working copy that the
  enterprise edits; every submission freezes them as a `FilingVersion` (number 1, 2, …), on which the reviewer
  rules item by item. A returned filing is resubmitted as the next version, and the reviewer sees the per-item
  difference to the previous one.
- `revision` is the optimistic lock: every write bumps it, every write that depends on what the writer saw
  names the revision it saw (docs/adr/0007-filing-review.md).
- Every step appends a `FilingEvent` (the filing's history and the establishment timeline's entries).

Answers hold names of the enterprise's prevention organisation, so they are stored encrypted
(`EncryptedTextField` holding JSON, `core/protected.py`).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from taizhang.accounts.models import OrgUnit
from taizhang.core.models import TimeStampedModel
from taizhang.core.protected import EncryptedTextField
from taizhang.establishments.models import Establishment, EstablishmentKind

from .storage import PrivateStorage


class Audience(models.TextChoices):
    ENTERPRISE = "enterprise", "复工备案（企业）"
    SCHOOL = "school", "复学备案（学校）"


class Evidence(models.TextChoices):
    """What an item asks for; each kind has its own fields (checklist.FIELDS)."""

    DOCUMENT = "document", "文件（方案、预案）"
    ORGANISATION = "organisation", "组织架构"
    COMMITMENT = "commitment", "承诺书"
    SUPPLIES = "supplies", "防疫物资"
    STAFF = "staff", "员工排查"
    MEASURE = "measure", "制度措施"


class FilingTemplate(TimeStampedModel):
    code = models.SlugField("编号", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    audience = models.CharField("适用对象", max_length=12, choices=Audience.choices, default=Audience.ENTERPRISE)
    kinds = models.ManyToManyField(
        EstablishmentKind,
        verbose_name="适用单位类型",
        blank=True,
        related_name="filing_templates",
        help_text="留空时按适用对象：学校类单位（按复学流程）用复学清单，其他单位用复工清单",
    )
    description = models.TextField("说明", blank=True)
    review_days = models.PositiveSmallIntegerField("审核时限（工作日）", default=2)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "备案清单"
        verbose_name_plural = "备案清单"
        ordering = ["audience", "code"]

    def __str__(self) -> str:
        return self.name


class FilingItem(models.Model):
    template = models.ForeignKey(FilingTemplate, verbose_name="清单", on_delete=models.CASCADE, related_name="items")
    code = models.SlugField("编号", max_length=40)
    label = models.CharField("事项", max_length=60)
    help = models.CharField("填写说明", max_length=300, blank=True)
    evidence = models.CharField("材料类型", max_length=16, choices=Evidence.choices)
    required = models.BooleanField("必填", default=True)
    needs_attachment = models.BooleanField("须上传附件", default=False)
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "备案事项"
        verbose_name_plural = "备案事项"
        ordering = ["template_id", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="filing_item_code_unique")]

    def __str__(self) -> str:
        return self.label


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已通过"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.RETURNED)
EDITABLE_STATES = (State.DRAFT, State.RETURNED)

# The explicit transition table (DESIGN.md convention 5).
TRANSITIONS: dict[str, set[str]] = {
    State.DRAFT: {State.SUBMITTED, State.WITHDRAWN},
    State.SUBMITTED: {State.APPROVED, State.RETURNED, State.WITHDRAWN},
    State.RETURNED: {State.SUBMITTED, State.WITHDRAWN},
    State.APPROVED: set(),
    State.WITHDRAWN: set(),
}


class Decision(models.TextChoices):
    ACCEPT = "accept", "通过"
    RETURN = "return", "退回"


def _loads(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class FilingQuerySet(models.QuerySet["Filing"]):
    def visible_to(self, user: Any) -> FilingQuerySet:
        from .scoping import filing_scope_q

        return self.filter(filing_scope_q(user))

    def open(self) -> FilingQuerySet:
        return self.filter(state__in=OPEN_STATES)


class Filing(TimeStampedModel):
    establishment = models.ForeignKey(Establishment, verbose_name="单位", on_delete=models.PROTECT, related_name="filings")
    template = models.ForeignKey(FilingTemplate, verbose_name="清单", on_delete=models.PROTECT, related_name="filings")
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.DRAFT, db_index=True)
    version = models.PositiveIntegerField("已提交版本", default=0, help_text="最近一次提交的版本号；0 表示尚未提交")
    revision = models.PositiveIntegerField("修订号", default=1, help_text="乐观锁：每次写入加一")
    planned_date = models.DateField("计划复工日期", null=True, blank=True)
    answers_data = EncryptedTextField("填报内容", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True, db_index=True)
    due_at = models.DateTimeField("审核期限", null=True, blank=True, db_index=True)
    overdue_flagged_at = models.DateTimeField("逾期督办时间", null=True, blank=True)
    reviewer_unit = models.ForeignKey(
        OrgUnit, verbose_name="审核部门", null=True, blank=True, on_delete=models.PROTECT, related_name="filings_to_review"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = FilingQuerySet.as_manager()

    class Meta:
        verbose_name = "复工备案"
        verbose_name_plural = "复工备案"
        ordering = ["-updated_at", "-id"]
        constraints = [
            # at most one filing in progress per establishment
            models.UniqueConstraint(
                fields=["establishment"], condition=Q(state__in=["draft", "submitted", "returned"]), name="filing_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["reviewer_unit", "state", "submitted_at"], name="filing_queue_idx"),
            models.Index(fields=["state", "due_at"], name="filing_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.establishment}·{self.template}"

    @property
    def answers(self) -> dict[str, Any]:
        return _loads(self.answers_data)

    @answers.setter
    def answers(self, value: dict[str, Any]) -> None:
        self.answers_data = _dumps(value)

    @property
    def next_version(self) -> int:
        """The number the working copy gets when it is submitted."""
        return self.version + 1 if self.state in EDITABLE_STATES else self.version

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES


class FilingVersion(models.Model):
    """One submission, frozen: what the reviewer ruled on."""

    filing = models.ForeignKey(Filing, verbose_name="备案", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本")
    answers_data = EncryptedTextField("填报内容", blank=True)
    attachments = models.JSONField("附件", default=dict, blank=True, help_text="{事项编号: [附件ID, …]}")
    planned_date = models.DateField("计划复工日期", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rulings = models.JSONField("逐项审核意见", default=dict, blank=True, help_text="{事项编号: {decision, comment, by, at}}")
    outcome = models.CharField(
        "审核结果", max_length=12, blank=True, choices=[(State.APPROVED, "通过"), (State.RETURNED, "退回")]
    )
    note = models.CharField("审核意见", max_length=500, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "备案版本"
        verbose_name_plural = "备案版本"
        ordering = ["filing_id", "number"]
        constraints = [models.UniqueConstraint(fields=["filing", "number"], name="filing_version_unique")]

    def __str__(self) -> str:
        return f"{self.filing_id} v{self.number}"

    @property
    def answers(self) -> dict[str, Any]:
        return _loads(self.answers_data)

    @answers.setter
    def answers(self, value: dict[str, Any]) -> None:
        self.answers_data = _dumps(value)


class FilingAttachment(models.Model):
    """A file under the private storage root (outside the web root), served only through the filing's view."""

    filing = models.ForeignKey(Filing, verbose_name="备案", on_delete=models.CASCADE, related_name="attachments")
    item_code = models.SlugField("事项", max_length=40)
    file = models.FileField("文件", storage=PrivateStorage(), upload_to="filings/", max_length=200)
    name = models.CharField("文件名", max_length=120)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed = models.BooleanField("已移除", default=False, help_text="已从填报内容中移除；仍属于此前提交的版本时保留文件")

    class Meta:
        verbose_name = "备案附件"
        verbose_name_plural = "备案附件"
        ordering = ["filing_id", "item_code", "id"]

    def __str__(self) -> str:
        return self.name


class FilingEvent(models.Model):
    """Append-only history of a filing: who did what, when, on which version."""

    class Kind(models.TextChoices):
        CREATED = "created", "创建备案"
        SUBMITTED = "submitted", "提交备案"
        RULED = "ruled", "逐项审核"
        RETURNED = "returned", "退回修改"
        APPROVED = "approved", "审核通过"
        RESUMED = "resumed", "复工"
        WITHDRAWN = "withdrawn", "撤回备案"
        OVERDUE = "overdue", "审核逾期"

    filing = models.ForeignKey(Filing, verbose_name="备案", on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间", db_index=True)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    version = models.PositiveIntegerField("版本", default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=500, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "备案事件"
        verbose_name_plural = "备案事件"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["filing", "at"], name="filing_event_idx")]

    def __str__(self) -> str:
        return f"{self.filing_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
