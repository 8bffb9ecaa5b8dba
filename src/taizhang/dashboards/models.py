"""The daily report (信息日报): its configurable template, each community's filing (or zero report) for a day, and
every generated report kept as history with its Excel and PDF files exactly as issued.

The dashboards themselves have no models: they read the rollups (taizhang.rollups).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q

from taizhang.core.models import TimeStampedModel
from taizhang.regions.models import Region

# The figures the system fills in for each community (code → label); a template picks and orders them.
SYSTEM_FIGURES: dict[str, str] = {
    "est_total": "单位总数",
    "est_resumed": "已复工",
    "resumed_today": "当日复工",
    "above_resumed": "限上已复工",
    "filing_waiting": "待审备案",
    "prob_open": "未办结问题",
    "prob_overdue": "超期问题",
    "prob_reported_today": "当日上报问题",
    "prob_resolved_today": "当日办结问题",
    "visits_today": "当日走访巡查",
    "people_today": "当日出动人次",
}
DEFAULT_FIGURES = ["est_total", "est_resumed", "resumed_today", "filing_waiting", "prob_open", "prob_overdue", "visits_today"]
# What each community reports itself (code, label): numbers the system does not hold.
DEFAULT_ITEMS = [
    {"code": "households_visited", "label": "入户排查户数"},
    {"code": "returnees", "label": "新增返乡人员"},
    {"code": "checkpoint_people", "label": "卡点登记人次"},
]


def default_figures() -> list[str]:
    return list(DEFAULT_FIGURES)


def default_items() -> list[dict[str, str]]:
    return [dict(i) for i in DEFAULT_ITEMS]


class ReportTemplate(TimeStampedModel):
    name = models.CharField("日报名称", max_length=60, default="信息日报")
    region = models.ForeignKey(Region, verbose_name="汇总范围", on_delete=models.PROTECT, related_name="+")
    cutoff = models.TimeField("截止时间", default=time(17, 0), help_text="社区须在此时间前填报；过后生成当日日报")
    figures = models.JSONField("系统统计项", default=default_figures, blank=True)
    items = models.JSONField("社区填报项", default=default_items, blank=True, help_text='[{"code": "…", "label": "…"}]')
    scheduled = models.BooleanField("每日自动生成", default=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "日报模板"
        verbose_name_plural = "日报模板"
        ordering = ["region__path", "name"]

    def __str__(self) -> str:
        return f"{self.region.display_name}{self.name}"

    @property
    def title(self) -> str:
        return str(self)

    def figure_columns(self) -> list[tuple[str, str]]:
        return [(code, SYSTEM_FIGURES[code]) for code in self.figures if code in SYSTEM_FIGURES]

    def item_columns(self) -> list[tuple[str, str]]:
        return [(str(i["code"]), str(i["label"])) for i in self.items if isinstance(i, dict) and i.get("code")]


class CommunityReport(TimeStampedModel):
    """A community's report for a day: numbers for the template's items, or a zero report (零报告: nothing to
    report). A community without one is shown as missing (未报)."""

    template = models.ForeignKey(ReportTemplate, verbose_name="日报模板", on_delete=models.PROTECT, related_name="filings")
    day = models.DateField("日期")
    community = models.ForeignKey(Region, verbose_name="社区/村", on_delete=models.PROTECT, related_name="+")
    is_zero = models.BooleanField("零报告", default=False)
    values = models.JSONField("填报数", default=dict, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("填报时间")
    late = models.BooleanField("超过截止时间", default=False)

    class Meta:
        verbose_name = "社区日报"
        verbose_name_plural = "社区日报"
        ordering = ["-day", "community__path"]
        constraints = [models.UniqueConstraint(fields=["template", "day", "community"], name="community_report_once")]

    def __str__(self) -> str:
        return f"{self.community} {self.day:%Y-%m-%d}"


class DailyReport(models.Model):
    """One generated report: the figures as they were at generation (`data`) and the files as issued."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "定时生成"
        ON_DEMAND = "on_demand", "手动生成"

    template = models.ForeignKey(ReportTemplate, verbose_name="日报模板", on_delete=models.PROTECT, related_name="reports")
    day = models.DateField("日期")
    kind = models.CharField("生成方式", max_length=10, choices=Kind.choices)
    generated_at = models.DateTimeField("生成时间")
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField("内容")
    xlsx = models.BinaryField("Excel")
    pdf = models.BinaryField("PDF")

    class Meta:
        verbose_name = "信息日报"
        verbose_name_plural = "信息日报"
        ordering = ["-day", "-generated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "day"], condition=Q(kind="scheduled"), name="daily_report_scheduled_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.day:%Y-%m-%d}"

    @property
    def filename(self) -> str:
        return f"{self.template.region.display_name}{self.template.name}-{self.day:%Y%m%d}"
