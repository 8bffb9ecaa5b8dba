from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class BinaryCollationCharField(models.CharField):
    """A CharField compared byte by byte on every database.

    Used for materialized paths: a subtree is the range [path, path_upper) and a range scan over a
    B-tree index only equals a prefix match when the column sorts bytewise. SQLite's default BINARY
    collation already does; on PostgreSQL the column gets COLLATE "C". The collation is chosen per
    connection so migrations stay database-neutral.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class WorkdayOverride(models.Model):
    """One day whose working status an administrator sets by hand (SLA calendar, see core/workdays.py).

    The shipped calendar (the `chinesecalendar` package) knows China's public holidays and adjusted working
    days (调休) for the years it was released for. A row here wins over it: it enters a year the package does
    not know yet (the State Council publishes the next year's arrangement every November), or a local change
    (e.g. the 2020 Spring Festival extension). One row per day.
    """

    day = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("工作日", help_text="勾选：上班（含调休上班）；不勾选：放假")
    note = models.CharField("说明", max_length=60, blank=True, help_text="如：春节调休上班、国庆节放假")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "工作日历调整"
        verbose_name_plural = "工作日历调整"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {'上班' if self.is_working_day else '放假'} {self.note}".strip()
