"""Open311 GeoReport v2 configuration and bookkeeping (part of the `problems` app label).

- `Open311Client`: an application registered to POST requests. Its api_key is shown once; only the key's
  SHA-256 digest is stored (the key is 32 random bytes, so a fast digest is enough, as for ApiToken).
- `Open311Service`: optional per-category settings of the service list (group, keywords).
- `ServiceAttribute`: the service definition of a category — extra questions a client asks the reporter.
  An attribute with `region_level` is a list of the regions of that level; its answer places the request.
- `Open311Submission`: what the adapter knows about a problem that came in through Open311 (which client,
  the token, the attribute answers, the media URL, how it was placed). Reporter contact data is not here:
  it goes to the problem's encrypted contact fields.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from taizhang.problems.models import Problem, ProblemCategory
from taizhang.regions.models import Level

KEY_PREFIX = "o311_"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Open311ClientQuerySet(models.QuerySet["Open311Client"]):
    def usable(self) -> Open311ClientQuerySet:
        return self.filter(is_active=True, revoked_at__isnull=True)


class Open311Client(models.Model):
    name = models.CharField("名称", max_length=100, unique=True)
    organisation = models.CharField("所属单位", max_length=100, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    prefix = models.CharField("前缀", max_length=12, db_index=True)
    digest = models.CharField("摘要", max_length=64, unique=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    objects = Open311ClientQuerySet.as_manager()

    class Meta:
        verbose_name = "Open311 接入应用"
        verbose_name_plural = "Open311 接入应用"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @staticmethod
    def new_key() -> str:
        return KEY_PREFIX + secrets.token_urlsafe(32)

    @classmethod
    def lookup(cls, key: str) -> Open311Client | None:
        key = (key or "").strip()
        if not key.startswith(KEY_PREFIX) or len(key) > 100:
            return None
        return cls.objects.usable().filter(digest=key_digest(key)).first()


class Open311Service(models.Model):
    """How a category shows in services.json (optional: without a row, group and keywords are empty)."""

    category = models.OneToOneField(
        ProblemCategory, verbose_name="问题类别", on_delete=models.CASCADE, related_name="open311_service"
    )
    group = models.CharField("分组", max_length=60, blank=True)
    keywords = models.CharField("关键词", max_length=200, blank=True, help_text="以逗号分隔")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "Open311 服务设置"
        verbose_name_plural = "Open311 服务设置"

    def __str__(self) -> str:
        return f"{self.category_id} {self.group}"


class Datatype(models.TextChoices):
    STRING = "string", "单行文字"
    NUMBER = "number", "数字"
    DATETIME = "datetime", "日期时间"
    TEXT = "text", "多行文字"
    SINGLEVALUELIST = "singlevaluelist", "单选"
    MULTIVALUELIST = "multivaluelist", "多选"


LIST_TYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})


class ServiceAttribute(models.Model):
    """One question of a service definition (GeoReport v2 `attribute`)."""

    category = models.ForeignKey(
        ProblemCategory, verbose_name="问题类别", on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.SlugField("编号", max_length=40)
    order = models.PositiveSmallIntegerField("顺序", default=1)
    datatype = models.CharField("类型", max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField("必填", default=False)
    variable = models.BooleanField("需要填写", default=True, help_text="不勾选：仅向用户展示说明，不收集答案")
    description = models.CharField("问题", max_length=200)
    datatype_description = models.CharField("填写说明", max_length=200, blank=True)
    values = models.JSONField("选项", default=list, blank=True, help_text='[{"key": "…", "name": "…"}]')
    region_level = models.CharField(
        "按区划定位",
        max_length=16,
        choices=Level.choices,
        blank=True,
        help_text="设置后，选项为该层级的全部区划（key 为区划代码），答案用于确定问题所在区划",
    )
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "Open311 服务属性"
        verbose_name_plural = "Open311 服务属性"
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_unique"),
            models.CheckConstraint(
                condition=Q(region_level="") | Q(datatype="singlevaluelist"), name="open311_attribute_region_is_single_choice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}:{self.code}"


class PlacedBy(models.TextChoices):
    ATTRIBUTE = "attribute", "服务属性"
    ADDRESS_ID = "address_id", "地址编号（区划代码）"
    ADDRESS = "address", "地址文字"
    ROAD_SECTION = "road_section", "路段"
    TRIAGE = "triage", "无法定位，转指挥部分派"


class Open311Submission(models.Model):
    problem = models.OneToOneField(Problem, verbose_name="问题", on_delete=models.PROTECT, related_name="open311")
    client = models.ForeignKey(Open311Client, verbose_name="接入应用", on_delete=models.PROTECT, related_name="submissions")
    token = models.CharField("令牌", max_length=32, unique=True)
    attributes = models.JSONField("属性答案", default=dict, blank=True)
    media_url = models.URLField("媒体链接", max_length=500, blank=True)
    placed_by = models.CharField("定位方式", max_length=16, choices=PlacedBy.choices)
    matched = models.CharField("匹配到的地名", max_length=200, blank=True)
    created_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = "Open311 提交"
        verbose_name_plural = "Open311 提交"
        indexes = [models.Index(fields=["client", "-created_at"], name="open311_submission_client_idx")]

    def __str__(self) -> str:
        return f"{self.token} → {self.problem_id}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_hex(16)
