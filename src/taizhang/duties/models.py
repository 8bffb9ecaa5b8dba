"""Responsibility on two axes (分包责任制), each assignment with a validity period and kept as history.

Territorial: district departments cover sub-districts/towns (区直部门包镇办), sub-district staff cover road
sections (镇办人员包路段), community staff cover establishments and other subjects (社区人员包企业).
Sectoral: each service category is assigned to a functional department (行业归口部门).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.core.models import TimeStampedModel
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Region, RoadSection


class Kind(models.TextChoices):
    DEPARTMENT_SUBDISTRICT = "dept_subdistrict", "区直部门包镇办"
    STAFF_ROAD = "staff_road", "镇办人员包路段"
    STAFF_SUBJECT = "staff_subject", "社区人员包企业"
    CATEGORY_DEPARTMENT = "category_dept", "行业归口部门"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active(self, on: date | None = None) -> AssignmentQuerySet:
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))


class Assignment(TimeStampedModel):
    kind = models.CharField("类型", max_length=20, choices=Kind.choices, db_index=True)
    unit = models.ForeignKey(OrgUnit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    region = models.ForeignKey(Region, verbose_name="街道/镇", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    road_section = models.ForeignKey(
        RoadSection, verbose_name="路段", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name="行业类别", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_type = models.CharField("对象类型", max_length=60, blank=True)
    subject_id = models.BigIntegerField("对象", null=True, blank=True)
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("截止日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "包联责任"
        verbose_name_plural = "包联责任"
        ordering = ["kind", "-valid_from"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "kind"], name="duty_subject_idx"),
            models.Index(fields=["user", "kind"], name="duty_user_idx"),
            models.Index(fields=["kind", "unit"], name="duty_unit_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")), name="duty_valid_range"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="dept_subdistrict", region__isnull=False, user__isnull=True)
                    | Q(kind="staff_road", road_section__isnull=False, user__isnull=False)
                    | Q(kind="staff_subject", subject_id__isnull=False, user__isnull=False)
                    | Q(kind="category_dept", category__isnull=False, user__isnull=True)
                ),
                name="duty_fields_match_kind",
            ),
        ]

    def __str__(self) -> str:
        holder = self.user or self.unit
        target = self.region or self.road_section or self.category or f"{self.subject_type}#{self.subject_id}"
        return f"{self.get_kind_display()}：{holder} → {target}"
