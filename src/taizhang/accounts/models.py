from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from taizhang.core.models import TimeStampedModel
from taizhang.core.roles import Role
from taizhang.regions.models import Region


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=60, blank=True)
    must_change_password = models.BooleanField(
        "须修改密码",
        default=False,
        help_text="密码由他人设置（工作人员开通账号、管理员重置），用户修改密码前只能打开修改密码页面",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class OrgUnit(TimeStampedModel):
    """An organisation unit: a department, a sub-district office, a community committee, a team."""

    class Kind(models.TextChoices):
        COMMAND = "command", "指挥部"
        DEPARTMENT = "department", "职能部门"
        SUBDISTRICT_OFFICE = "subdistrict_office", "街道/镇办"
        COMMUNITY_COMMITTEE = "community_committee", "社区/村委会"
        INSPECTION_TEAM = "inspection_team", "督导组"
        HOTLINE_CENTRE = "hotline_centre", "热线中心"
        ADMINISTRATION = "administration", "系统管理"
        ENTERPRISE = "enterprise", "企业"

    code = models.CharField("编号", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=24, choices=Kind.choices, db_index=True)
    region = models.ForeignKey(Region, verbose_name="辖区", on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class PostQuerySet(models.QuerySet["Post"]):
    def active(self, on: date | None = None) -> PostQuerySet:
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))


class Post(TimeStampedModel):
    """岗位: a user's role in a unit over a region, for a period."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.PROTECT, related_name="posts")
    unit = models.ForeignKey(OrgUnit, verbose_name="单位", on_delete=models.PROTECT, related_name="posts")
    region = models.ForeignKey(Region, verbose_name="区划", on_delete=models.PROTECT, related_name="posts")
    role = models.CharField("角色", max_length=16, choices=Role.choices, db_index=True)
    title = models.CharField("职务", max_length=60, blank=True)
    valid_from = models.DateField("起始日期", default=timezone.localdate)
    valid_to = models.DateField("截止日期", null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["user_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "region", "role", "valid_from"], name="post_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")), name="post_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.region} · {self.get_role_display()}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the key is shown once at creation."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=60)
    prefix = models.CharField("前缀", max_length=8, db_index=True)
    digest = models.CharField("摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def new_key() -> str:
        return "tz_" + secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(key: str) -> str:
        return _digest(key)

    @classmethod
    def lookup(cls, key: str) -> ApiToken | None:
        return cls.objects.usable().select_related("user").filter(digest=_digest(key)).first()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "prefix": self.prefix, "created_at": self.created_at}
