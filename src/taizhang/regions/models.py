"""The region tree: district → sub-district/town → community/village → grid → compound → building unit.

Every region stores its materialized path of codes, e.g. `/410500000000/410502000000/410502013000/`.
A subtree is the half-open range [path, path with the final "/" replaced by "0"): one range scan over
the unique index on `path`, on SQLite and PostgreSQL alike (the column compares bytewise; see
BinaryCollationCharField).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from taizhang.core.models import BinaryCollationCharField, TimeStampedModel
from taizhang.core.paths import SEP, subtree_q


class Level(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区县"
    SUBDISTRICT = "subdistrict", "街道/镇"
    COMMUNITY = "community", "社区/村"
    GRID = "grid", "网格"
    COMPOUND = "compound", "楼院"
    UNIT = "unit", "单元"


LEVEL_ORDER = [c.value for c in Level]
LOCAL_LEVELS = {Level.GRID, Level.COMPOUND, Level.UNIT}
# Which level may sit under which: a compound may hang off a grid or directly off a community.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    Level.PROVINCE: {Level.CITY},
    Level.CITY: {Level.DISTRICT},
    Level.DISTRICT: {Level.SUBDISTRICT},
    Level.SUBDISTRICT: {Level.COMMUNITY},
    Level.COMMUNITY: {Level.GRID, Level.COMPOUND},
    Level.GRID: {Level.COMPOUND},
    Level.COMPOUND: {Level.UNIT},
    Level.UNIT: set(),
}


class RegionQuerySet(models.QuerySet["Region"]):
    def subtree(self, *roots: Region | str) -> RegionQuerySet:
        paths = [r if isinstance(r, str) else r.path for r in roots]
        return self.filter(subtree_q(paths))

    def visible_to(self, user: Any) -> RegionQuerySet:
        from taizhang.core.scoping import scope_of

        return self.filter(scope_of(user).region_q("path"))


class Region(TimeStampedModel):
    code = models.CharField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=100, blank=True)
    level = models.CharField("层级", max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = BinaryCollationCharField("路径", max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField("深度")
    is_local = models.BooleanField("本地层级", default=False, help_text="网格、楼院、单元由本地维护，非统计局区划")
    source = models.CharField("来源", max_length=60, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "区划"
        verbose_name_plural = "区划"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def ancestors_paths(self) -> list[str]:
        return self.path_ancestors(self.path)

    @staticmethod
    def path_ancestors(path: str) -> list[str]:
        parts = path.strip(SEP).split(SEP)
        return [SEP + SEP.join(parts[: i + 1]) + SEP for i in range(len(parts) - 1)]

    def is_within(self, other: Region) -> bool:
        return self.path.startswith(other.path)


class RegionAlias(models.Model):
    region = models.ForeignKey(Region, verbose_name="区划", on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField("别名", max_length=100, db_index=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "区划别名"
        verbose_name_plural = "区划别名"
        constraints = [models.UniqueConstraint(fields=["region", "alias"], name="region_alias_unique")]

    def __str__(self) -> str:
        return self.alias


class RoadSectionQuerySet(models.QuerySet["RoadSection"]):
    def visible_to(self, user: Any) -> RoadSectionQuerySet:
        from taizhang.core.scoping import scope_of

        scope = scope_of(user)
        # a sub-district's road sections are seen from inside it too (communities, grids)
        above = {a for p in scope.region_paths for a in Region.path_ancestors(p)}
        return self.filter(scope.region_q("subdistrict__path") | Q(subdistrict__path__in=above))


class RoadSection(TimeStampedModel):
    """A stretch of road that a sub-district assigns to one of its staff (镇办人员包路段)."""

    code = models.CharField("编号", max_length=32, unique=True)
    name = models.CharField("路段名称", max_length=100)
    subdistrict = models.ForeignKey(Region, verbose_name="所属街道/镇", on_delete=models.PROTECT, related_name="road_sections")
    description = models.CharField("起止说明", max_length=200, blank=True)
    aliases = models.JSONField("别名", default=list, blank=True)

    objects = RoadSectionQuerySet.as_manager()

    class Meta:
        verbose_name = "路段"
        verbose_name_plural = "路段"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
