"""Visits, inspections and campaigns (走访/巡查/督导/专项行动) with versioned checklists. See
docs/adr/0009-checklists-and-campaigns.md.

- A ChecklistTemplate has numbered TemplateVersions; a published version and its ChecklistItems never change
  again (editing a template makes a new version). A visit keeps the version it was filled in, and its Answers
  point at that version's items, so what a record showed on the day it was made is what it shows forever.
- A Visit records who (the staff on it, the unit they went for), when, which subject, the answers, photos,
  where the phone was and the result. Failed items open problems in the problem ledger (Answer.problem).
- A Campaign (专项行动) has a rule that selects its targets; when it starts the targets are written as
  CampaignTarget rows, each given to one of the campaign's teams. Progress is read from the targets.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.core.models import BinaryCollationCharField, TimeStampedModel
from taizhang.establishments.models import Establishment
from taizhang.problems.models import Problem, ProblemCategory
from taizhang.regions.models import Region

from .storage import PrivatePhotoStorage


class FrozenError(Exception):
    """A published checklist version (or one of its items) was about to be changed."""


class SubjectType(models.TextChoices):
    ESTABLISHMENT = "establishment", "单位"
    HOUSEHOLD = "household", "住户"
    CHECKPOINT = "checkpoint", "卡点"


class VisitKind(models.TextChoices):
    VISIT = "visit", "走访"
    INSPECTION = "inspection", "巡查"
    SUPERVISION = "supervision", "督导"


class ItemType(models.TextChoices):
    YES_NO = "yes_no", "是/否"
    NUMBER = "number", "数值"
    SINGLE = "single", "单选"
    MULTIPLE = "multiple", "多选"
    TEXT = "text", "文字"
    PHOTO = "photo", "照片"
    DATE = "date", "日期"


class FailOp(models.TextChoices):
    """When an answer counts as a failure (不合格). The value it is compared with is ChecklistItem.fail_value."""

    NONE = "", "不判定"
    EQ = "eq", "等于"
    NE = "ne", "不等于"
    LT = "lt", "小于"
    GT = "gt", "大于"
    IN = "in", "选了其中之一"
    LACKS = "lacks", "缺少其中之一"
    BLANK = "blank", "未填写或未拍照"


class ChecklistTemplate(TimeStampedModel):
    code = models.SlugField("编号", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    subject_type = models.CharField("检查对象", max_length=16, choices=SubjectType.choices, default=SubjectType.ESTABLISHMENT)
    # Establishment kind codes (establishments.EstablishmentKind.code) the template is meant for; empty: any kind.
    subject_kinds = models.JSONField("适用单位类型", default=list, blank=True)
    visit_kind = models.CharField("记录类型", max_length=16, choices=VisitKind.choices, default=VisitKind.INSPECTION)
    description = models.CharField("说明", max_length=300, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "检查表"
        verbose_name_plural = "检查表"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def applies_to_kind(self, kind_code: str) -> bool:
        return not self.subject_kinds or kind_code in self.subject_kinds


class TemplateVersion(models.Model):
    template = models.ForeignKey(ChecklistTemplate, verbose_name="检查表", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField("版本号")
    note = models.CharField("修订说明", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修订人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "检查表版本"
        verbose_name_plural = "检查表版本"
        ordering = ["template_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="checklist_version_unique"),
            # at most one draft per template: editing continues the draft instead of forking it
            models.UniqueConstraint(fields=["template"], condition=Q(published_at__isnull=True), name="checklist_one_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} 第{self.number}版"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ChecklistItem(models.Model):
    """One question of one version. Rows of a published version are frozen (services never change them and
    save() refuses to)."""

    version = models.ForeignKey(TemplateVersion, verbose_name="版本", on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField("顺序")
    code = models.SlugField("编号", max_length=32)
    label = models.CharField("检查内容", max_length=200)
    type = models.CharField("类型", max_length=10, choices=ItemType.choices)
    required = models.BooleanField("必填", default=True)
    help_text = models.CharField("填写说明", max_length=300, blank=True)
    options = models.JSONField("选项", default=list, blank=True)
    min_value = models.DecimalField("最小值", max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField("最大值", max_digits=12, decimal_places=2, null=True, blank=True)
    unit = models.CharField("单位", max_length=12, blank=True, help_text="数值的单位，如 ℃、人")
    fail_op = models.CharField("不合格条件", max_length=8, choices=FailOp.choices, default=FailOp.NONE, blank=True)
    fail_value = models.JSONField("不合格取值", null=True, blank=True)
    problem_category = models.ForeignKey(
        ProblemCategory, verbose_name="不合格时上报问题类别", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "检查项"
        verbose_name_plural = "检查项"
        ordering = ["version_id", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="checklist_item_code_unique")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.version_id and TemplateVersion.objects.filter(pk=self.version_id, published_at__isnull=False).exists():
            raise FrozenError("已发布的检查表版本不能修改，请修订为新版本")
        super().save(*args, **kwargs)

    @property
    def can_fail(self) -> bool:
        return bool(self.fail_op)


# --- campaigns ------------------------------------------------------------------------------------


class CampaignState(models.TextChoices):
    DRAFT = "draft", "筹备中"
    ACTIVE = "active", "进行中"
    CLOSED = "closed", "已结束"


CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignState.DRAFT: frozenset({CampaignState.ACTIVE}),
    CampaignState.ACTIVE: frozenset({CampaignState.CLOSED}),
    CampaignState.CLOSED: frozenset(),
}


class ShareRule(models.TextChoices):
    REGION = "region", "按辖区分片（同一街道/社区归同一组）"
    ROUND_ROBIN = "round_robin", "轮流分配"
    TERRITORY = "territory", "属地（各组负责本单位辖区）"


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: Any) -> CampaignQuerySet:
        from .scoping import campaign_scope_q

        return self.filter(campaign_scope_q(user))


class Campaign(TimeStampedModel):
    """专项行动 / 督导 / 日常巡查. `rule` selects the targets:

    {"kinds": [kind codes], "categories": [service category codes, a major includes its minors],
     "statuses": [establishment statuses], "above_size": true|null, "key_target": true|null}
    inside the subtree of `region`. Empty lists mean "any".
    """

    name = models.CharField("名称", max_length=100)
    description = models.TextField("说明", blank=True)
    version = models.ForeignKey(TemplateVersion, verbose_name="检查表版本", on_delete=models.PROTECT, related_name="campaigns")
    unit = models.ForeignKey(OrgUnit, verbose_name="组织单位", on_delete=models.PROTECT, related_name="organised_campaigns")
    region = models.ForeignKey(Region, verbose_name="范围", on_delete=models.PROTECT, related_name="+")
    standing = models.BooleanField("常态化（日常巡查）", default=False, help_text="每天巡查一遍；对象随单位状态自动增减")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)
    rule = models.JSONField("对象范围", default=dict, blank=True)
    share = models.CharField("分配方式", max_length=16, choices=ShareRule.choices, default=ShareRule.REGION)
    teams = models.ManyToManyField(OrgUnit, verbose_name="检查组", through="CampaignTeam", related_name="campaigns")
    state = models.CharField("状态", max_length=8, choices=CampaignState.choices, default=CampaignState.DRAFT, db_index=True)
    started_at = models.DateTimeField("启动时间", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "专项行动"
        verbose_name_plural = "专项行动"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="campaign_period"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignTeam(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="team_links")
    unit = models.ForeignKey(OrgUnit, verbose_name="检查组", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "行动检查组"
        verbose_name_plural = "行动检查组"
        ordering = ["campaign_id", "position", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="campaign_team_unique")]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.unit_id}"


class TargetQuerySet(models.QuerySet["CampaignTarget"]):
    def visible_to(self, user: Any) -> TargetQuerySet:
        from .scoping import target_scope_q

        return self.filter(target_scope_q(user))


class CampaignTarget(models.Model):
    """One subject of a campaign and the team it was given to. The visit counters are kept by the visit service
    (progress reads them); `tests/test_campaigns.py` compares them with a direct count of the visits."""

    campaign = models.ForeignKey(Campaign, verbose_name="专项行动", on_delete=models.CASCADE, related_name="targets")
    establishment = models.ForeignKey(
        Establishment, verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="campaign_targets"
    )
    region = models.ForeignKey(Region, verbose_name="所在区划", on_delete=models.PROTECT, related_name="+")
    region_path = BinaryCollationCharField("区划路径", max_length=255, db_index=True)
    team = models.ForeignKey(OrgUnit, verbose_name="检查组", on_delete=models.PROTECT, related_name="campaign_targets")
    active = models.BooleanField("在检查范围内", default=True, help_text="常态化行动中，不再符合条件的对象移出（保留记录）")
    added_at = models.DateTimeField("加入时间", default=timezone.now)
    removed_at = models.DateTimeField("移出时间", null=True, blank=True)
    covered_at = models.DateTimeField("首次检查时间", null=True, blank=True)
    last_visit_at = models.DateTimeField("最近检查时间", null=True, blank=True)
    last_result = models.CharField("最近检查结果", max_length=10, blank=True)
    visits_count = models.PositiveIntegerField("检查次数", default=0)
    findings_count = models.PositiveIntegerField("发现问题项数", default=0)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = "检查对象"
        verbose_name_plural = "检查对象"
        ordering = ["campaign_id", "region_path", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "establishment"], condition=Q(establishment__isnull=False), name="campaign_target_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "team", "active"], name="campaign_target_team_idx"),
            models.Index(fields=["team", "campaign"], name="campaign_target_by_team_idx"),
            models.Index(fields=["campaign", "region_path"], name="campaign_target_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.establishment_id}"

    @property
    def subject_name(self) -> str:
        return self.establishment.name if self.establishment_id and self.establishment else ""


# --- visits ---------------------------------------------------------------------------------------


class VisitResult(models.TextChoices):
    PASSED = "passed", "合格"
    FINDINGS = "findings", "发现问题"
    ABSENT = "absent", "未营业/无人"


class VisitQuerySet(models.QuerySet["Visit"]):
    def visible_to(self, user: Any) -> VisitQuerySet:
        from .scoping import visit_scope_q

        return self.filter(visit_scope_q(user))


class Visit(models.Model):
    """A visit or inspection as it was submitted. Records are never edited: corrections are a new visit."""

    key = models.CharField("提交标识", max_length=64, unique=True, help_text="由填写页面生成；重复提交同一标识只记一次")
    kind = models.CharField("类型", max_length=16, choices=VisitKind.choices, default=VisitKind.INSPECTION, db_index=True)
    version = models.ForeignKey(TemplateVersion, verbose_name="检查表版本", on_delete=models.PROTECT, related_name="visits")
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项行动", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    target = models.ForeignKey(
        CampaignTarget, verbose_name="检查对象", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    subject_type = models.CharField("对象类型", max_length=16, choices=SubjectType.choices, default=SubjectType.ESTABLISHMENT)
    establishment = models.ForeignKey(
        Establishment, verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    # Households and checkpoints get their own nullable keys when the people ledger lands; the place is always here.
    region = models.ForeignKey(Region, verbose_name="所在区划", on_delete=models.PROTECT, related_name="+")
    region_path = BinaryCollationCharField("区划路径", max_length=255, db_index=True)
    place = models.CharField("地点", max_length=200, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name="出动单位", on_delete=models.PROTECT, related_name="visits")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+")
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="出动人员", through="VisitStaff", related_name="visits")
    extra_people = models.PositiveSmallIntegerField(
        "其他同行人员", default=0, help_text="没有账号的同行人员（如疾控、卫生监督人员）"
    )
    staff_count = models.PositiveSmallIntegerField("出动人次", default=1)
    visited_at = models.DateTimeField("检查时间", db_index=True)
    created_at = models.DateTimeField("提交时间", default=timezone.now)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField("定位精度（米）", null=True, blank=True)
    result = models.CharField("结果", max_length=10, choices=VisitResult.choices, default=VisitResult.PASSED, db_index=True)
    failed_count = models.PositiveSmallIntegerField("不合格项", default=0)
    helped = models.BooleanField("现场帮扶", default=False, help_text="讲解政策、指导整改、协调物资等")
    help_note = models.CharField("帮扶内容", max_length=500, blank=True)
    note = models.TextField("备注", blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = "走访巡查记录"
        verbose_name_plural = "走访巡查记录"
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "visited_at"], name="visit_unit_time_idx"),
            models.Index(fields=["establishment", "visited_at"], name="visit_establishment_idx"),
            models.Index(fields=["campaign", "visited_at"], name="visit_campaign_idx"),
            models.Index(fields=["target", "visited_at"], name="visit_target_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(staff_count__gte=1), name="visit_has_staff"),
            models.CheckConstraint(
                condition=~Q(subject_type="establishment") | Q(establishment__isnull=False), name="visit_establishment_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_name} {timezone.localtime(self.visited_at):%Y-%m-%d}"

    @property
    def subject_name(self) -> str:
        if self.establishment_id and self.establishment:
            return self.establishment.name
        return self.place


class VisitStaff(models.Model):
    visit = models.ForeignKey(Visit, verbose_name="记录", on_delete=models.CASCADE, related_name="staff_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="人员", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "出动人员"
        verbose_name_plural = "出动人员"
        constraints = [models.UniqueConstraint(fields=["visit", "user"], name="visit_staff_unique")]
        indexes = [models.Index(fields=["user", "visit"], name="visit_staff_user_idx")]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.user_id}"


class Answer(models.Model):
    visit = models.ForeignKey(Visit, verbose_name="记录", on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, verbose_name="检查项", on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField("回答", null=True, blank=True)
    failed = models.BooleanField("不合格", default=False, db_index=True)
    note = models.CharField("情况说明", max_length=500, blank=True)
    problem = models.ForeignKey(
        Problem, verbose_name="上报的问题", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "检查结果"
        verbose_name_plural = "检查结果"
        ordering = ["visit_id", "item__position"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="answer_unique")]
        indexes = [models.Index(fields=["item", "failed"], name="answer_item_failed_idx")]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.item_id}"


def photo_path(instance: VisitPhoto, filename: str) -> str:
    ext = PurePosixPath(filename).suffix.lower()[:8]
    return f"inspections/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{ext}"


class VisitPhoto(models.Model):
    """A photo taken on a visit (of one item, or of the scene). Private storage, served only after access_visit()."""

    visit = models.ForeignKey(Visit, verbose_name="记录", on_delete=models.CASCADE, related_name="photos")
    answer = models.ForeignKey(
        Answer, verbose_name="检查项", null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField("文件", storage=PrivatePhotoStorage(), upload_to=photo_path, max_length=200)
    name = models.CharField("文件名", max_length=120)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "现场照片"
        verbose_name_plural = "现场照片"
        ordering = ["visit_id", "id"]

    def __str__(self) -> str:
        return self.name
