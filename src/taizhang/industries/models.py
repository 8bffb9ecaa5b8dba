"""Industry taxonomy: the national standard GB/T 4754-2017 (with its 2019 amendment) and the district's
own two-level grouping of service categories mapped onto it (the article's 17 major / 81 minor types).
Both are data, not code: the district edits its grouping; the standard is loaded from the shipped file.
"""

from __future__ import annotations

from django.db import models

from taizhang.core.models import TimeStampedModel


class IndustryCode(models.Model):
    class Level(models.TextChoices):
        SECTION = "section", "门类"
        DIVISION = "division", "大类"
        GROUP = "group", "中类"
        CLASS = "class", "小类"

    code = models.CharField("代码", max_length=4, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    section = models.CharField("门类", max_length=1, db_index=True)
    tertiary = models.BooleanField("第三产业", default=False, db_index=True)

    class Meta:
        verbose_name = "国民经济行业分类"
        verbose_name_plural = "国民经济行业分类"
        ordering = ["section", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServiceCategory(TimeStampedModel):
    """The district's grouping: a major category (大类) holds minor categories (小类)."""

    class Level(models.TextChoices):
        MAJOR = "major", "大类"
        MINOR = "minor", "小类"

    code = models.CharField("编号", max_length=16, unique=True)
    name = models.CharField("名称", max_length=60)
    level = models.CharField("层级", max_length=8, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="所属大类", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    industry_codes = models.ManyToManyField(
        IndustryCode, verbose_name="对应国标行业", blank=True, related_name="service_categories"
    )
    sort = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "服务业类别"
        verbose_name_plural = "服务业类别"
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(level="major", parent__isnull=True) | models.Q(level="minor", parent__isnull=False)),
                name="service_category_two_levels",
            )
        ]

    def __str__(self) -> str:
        return self.name
