"""Incremental rollups: the counts every dashboard reads, kept up to date by the services that change the rows
they count (docs/adr/0010-rollups.md).

- `Tally` holds current counts (establishments by status, open problems, filings waiting …) for EVERY region on
  the path of the counted row: a row in a grid adds to the grid, its community, sub-district, district, city and
  province. A dashboard for any region therefore reads its figures with one equality lookup on `region_path`,
  whatever the size of the data.
- `DailyFlow` holds counts per day (resumed that day, problems reported / resolved that day, visits, person-times),
  for the regions down to the community level (`settings.TAIZHANG_ROLLUP_FLOW_DEPTH`).
- `Member` remembers which objects were already counted by a distinct count (establishments helped).
- `RollupState` records when the rollups were rebuilt and checked, and the day the data describes when it is not
  live (the demo's 2020-03-19).

`dim` is the metric's second key: a service category, a problem category, a unit or a campaign id; 0 means none.
NULL is never used, so that a unique index can serve the upserts on every database.
"""

from __future__ import annotations

from django.db import models

from taizhang.core.models import BinaryCollationCharField


class Tally(models.Model):
    metric = models.CharField("指标", max_length=24)
    region_path = BinaryCollationCharField("区划路径", max_length=255)
    depth = models.PositiveSmallIntegerField("层级深度")
    dim = models.BigIntegerField("维度", default=0)
    key = models.CharField("分项", max_length=24, default="", blank=True)
    value = models.BigIntegerField("数值", default=0)

    class Meta:
        verbose_name = "汇总计数"
        verbose_name_plural = "汇总计数"
        constraints = [models.UniqueConstraint(fields=["metric", "region_path", "dim", "key"], name="rollup_tally_key")]
        indexes = [models.Index(fields=["metric", "depth", "region_path"], name="rollup_tally_children")]

    def __str__(self) -> str:
        return f"{self.metric} {self.region_path} {self.dim} {self.key} = {self.value}"


class DailyFlow(models.Model):
    metric = models.CharField("指标", max_length=24)
    region_path = BinaryCollationCharField("区划路径", max_length=255)
    depth = models.PositiveSmallIntegerField("层级深度")
    day = models.DateField("日期")
    dim = models.BigIntegerField("维度", default=0)
    key = models.CharField("分项", max_length=24, default="", blank=True)
    value = models.BigIntegerField("数值", default=0)

    class Meta:
        verbose_name = "每日汇总"
        verbose_name_plural = "每日汇总"
        constraints = [
            models.UniqueConstraint(fields=["metric", "region_path", "day", "dim", "key"], name="rollup_flow_key"),
        ]
        indexes = [models.Index(fields=["metric", "depth", "day", "region_path"], name="rollup_flow_children")]

    def __str__(self) -> str:
        return f"{self.metric} {self.region_path} {self.day} {self.dim} {self.key} = {self.value}"


class Member(models.Model):
    """An object already counted by a distinct count (e.g. an establishment helped at least once)."""

    metric = models.CharField("指标", max_length=24)
    member_id = models.BigIntegerField("对象")
    region_path = BinaryCollationCharField("区划路径", max_length=255)

    class Meta:
        verbose_name = "去重计数对象"
        verbose_name_plural = "去重计数对象"
        constraints = [models.UniqueConstraint(fields=["metric", "member_id"], name="rollup_member_key")]

    def __str__(self) -> str:
        return f"{self.metric} {self.member_id}"


class RollupState(models.Model):
    """One row (pk=1)."""

    rebuilt_at = models.DateTimeField("最近重建", null=True, blank=True)
    rebuild_seconds = models.FloatField("重建用时（秒）", null=True, blank=True)
    verified_at = models.DateTimeField("最近核对", null=True, blank=True)
    differences = models.PositiveIntegerField("核对差异", default=0)
    as_of = models.DateField(
        "数据日期", null=True, blank=True, help_text="数据描述的日期（演示数据为 2020-03-19）；留空表示实时数据，按今天统计"
    )

    class Meta:
        verbose_name = "汇总状态"
        verbose_name_plural = "汇总状态"

    def __str__(self) -> str:
        return f"rebuilt {self.rebuilt_at}, verified {self.verified_at}"
