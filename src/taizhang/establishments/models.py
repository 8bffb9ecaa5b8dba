"""The establishments registry (市场主体/单位台账): every kind of place the district serves."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from taizhang.core.models import BinaryCollationCharField, TimeStampedModel
from taizhang.core.protected import BlindIndexField, EncryptedTextField
from taizhang.industries.models import IndustryCode, ServiceCategory
from taizhang.regions.models import Region, RoadSection


class EstablishmentKind(models.Model):
    """Kinds are configuration: the shipped ones come from a data migration; districts add their own."""

    code = models.SlugField("编号", max_length=32, unique=True)
    name = models.CharField("名称", max_length=30)
    sort = models.PositiveSmallIntegerField("排序", default=0)
    is_school_like = models.BooleanField("按复学流程", default=False, help_text="学校、幼儿园、辅导学校使用复学备案清单")

    class Meta:
        verbose_name = "单位类型"
        verbose_name_plural = "单位类型"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    NOT_RESUMED = "not_resumed", "未复工"
    FILING = "filing", "备案中"
    APPROVED = "approved", "已批准"
    RESUMED = "resumed", "已复工"
    SUSPENDED = "suspended", "停业"
    CLOSED = "closed", "注销"


# The explicit transition table of the status lifecycle.
TRANSITIONS: dict[str, set[str]] = {
    Status.NOT_RESUMED: {Status.FILING, Status.SUSPENDED, Status.CLOSED},
    Status.FILING: {Status.NOT_RESUMED, Status.APPROVED, Status.SUSPENDED, Status.CLOSED},
    Status.APPROVED: {Status.RESUMED, Status.FILING, Status.SUSPENDED, Status.CLOSED},
    Status.RESUMED: {Status.SUSPENDED, Status.CLOSED},
    Status.SUSPENDED: {Status.NOT_RESUMED, Status.FILING, Status.RESUMED, Status.CLOSED},
    Status.CLOSED: set(),
}


class EstablishmentQuerySet(models.QuerySet["Establishment"]):
    def visible_to(self, user: Any) -> EstablishmentQuerySet:
        from .scoping import establishment_scope_q

        return self.filter(establishment_scope_q(user))


class Establishment(TimeStampedModel):
    # Indexes: see Meta and docs/adr/0011-establishment-indexes.md. Every index is paid by every write (an import
    # writes 200,000 rows), so a field gets one only for a query that needs it.
    created_at = models.DateTimeField("创建时间", auto_now_add=True)  # TimeStampedModel's, without its index
    credit_code = models.CharField("统一社会信用代码", max_length=18, null=True, blank=True)  # unique: Meta
    name = models.CharField("名称", max_length=120)
    name_initials = models.CharField("拼音首字母", max_length=120, editable=False)
    # kind keeps its FK index: the kind filter is selective for the rare kinds (schools, kindergartens, malls).
    # The other FKs have none (db_index=False): no query filters on them; only deleting a referenced row would,
    # and regions, road sections, industry codes and users are never deleted (users are deactivated).
    kind = models.ForeignKey(EstablishmentKind, verbose_name="类型", on_delete=models.PROTECT, related_name="establishments")
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name="行业类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="establishments",
        db_index=False,  # est_category_status_idx leads with it
    )
    industry = models.ForeignKey(
        IndustryCode, verbose_name="国标行业", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    region = models.ForeignKey(
        Region, verbose_name="所在社区/网格", on_delete=models.PROTECT, related_name="establishments", db_index=False
    )
    # Copied from the region (codes never change) so that scope is one index range scan on this table
    # (est_region_name_idx, which also gives the list its order).
    region_path = BinaryCollationCharField("区划路径", max_length=255, editable=False)
    road_section = models.ForeignKey(
        RoadSection,
        verbose_name="路段",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="establishments",
        db_index=False,
    )
    address = models.CharField("地址", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    legal_representative = EncryptedTextField("法定代表人", kind="name", blank=True)
    contact_name = EncryptedTextField("联系人", kind="name", blank=True)
    contact_mobile = EncryptedTextField("联系电话", kind="mobile", blank=True)
    contact_mobile_bidx = BlindIndexField(source="contact_mobile", db_index=False)  # est_mobile_bidx_idx
    employees = models.PositiveIntegerField("从业人数", default=0)
    above_size = models.BooleanField("限上企业", default=False)
    key_target = models.BooleanField("重点帮扶", default=False)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.NOT_RESUMED)
    status_since = models.DateField("状态日期", null=True, blank=True)
    resumed_on = models.DateField("复工日期", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    objects = EstablishmentQuerySet.as_manager()

    SENSITIVE_FIELDS = ("legal_representative", "contact_name", "contact_mobile")

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位台账"
        ordering = ["region_path", "name", "id"]
        # Meta indexes rather than unique=True / db_index=True on CharFields: on PostgreSQL those also get a
        # varchar_pattern_ops "_like" index, which serves LIKE 'x%' and no query here.
        constraints = [
            # Exact match (duplicate checks, imports, enterprise sign-up). NULLs are distinct: many rows have no code.
            models.UniqueConstraint(fields=["credit_code"], name="est_credit_code_unique"),
        ]
        indexes = [
            # Scope (a region_path range) in the list's order, LIMIT 50; id makes it index-only for pk subqueries.
            models.Index(fields=["region_path", "name", "id"], name="est_region_name_idx"),
            # A status within a scope; status alone; resumed as of a date (status = resumed).
            models.Index(fields=["status", "region_path"], name="est_status_region_idx"),
            # Category filter and a department's categories (sectoral scope); the category FK's own index.
            models.Index(fields=["category", "status"], name="est_category_status_idx"),
            # Exact name: duplicate check on create/update and import, assignment import by name.
            models.Index(fields=["name"], name="est_name_idx"),
            # Exact mobile (search by phone number).
            models.Index(fields=["contact_mobile_bidx"], name="est_mobile_bidx_idx"),
            # 限上 / 重点 are a fraction of a percent of the rows: partial indexes cost nothing for the others.
            models.Index(fields=["region_path"], condition=Q(above_size=True), name="est_above_size_idx"),
            models.Index(fields=["region_path"], condition=Q(key_target=True), name="est_key_target_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class EstablishmentEvent(models.Model):
    """The establishment's own history: creation, edits, status changes (the timeline's first source)."""

    class Kind(models.TextChoices):
        CREATED = "created", "登记"
        UPDATED = "updated", "修改"
        STATUS = "status", "状态变更"
        ASSIGNED = "assigned", "包联调整"
        IMPORTED = "imported", "导入"

    establishment = models.ForeignKey(
        Establishment,
        verbose_name="单位",
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # est_event_idx
    )
    at = models.DateTimeField("时间")  # est_event_idx serves the timeline; nothing reads events by time alone
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # only a user's deletion (PROTECT) would look events up by actor; users are deactivated
    )
    from_status = models.CharField("原状态", max_length=16, blank=True)
    to_status = models.CharField("新状态", max_length=16, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "单位事件"
        verbose_name_plural = "单位事件"
        ordering = ["at", "id"]
        # The timeline: one establishment's events by time (also the establishment FK's index).
        indexes = [models.Index(fields=["establishment", "at"], name="est_event_idx")]

    def __str__(self) -> str:
        return f"{self.establishment_id} {self.kind} {self.at:%Y-%m-%d}"


class EnterpriseAccount(TimeStampedModel):
    """An enterprise contact person's account: it opens exactly one establishment (the enterprise portal)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.PROTECT, related_name="enterprise_accounts"
    )
    establishment = models.ForeignKey(Establishment, verbose_name="单位", on_delete=models.PROTECT, related_name="accounts")
    confirmed = models.BooleanField("已确认", default=False)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "企业账号"
        verbose_name_plural = "企业账号"
        constraints = [models.UniqueConstraint(fields=["user", "establishment"], name="enterprise_account_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.establishment}"


ACTIVE_STATUSES = Q(status__in=[Status.NOT_RESUMED, Status.FILING, Status.APPROVED, Status.RESUMED, Status.SUSPENDED])
