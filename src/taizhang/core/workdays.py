"""The working-day calendar behind every SLA: China's public holidays and adjusted working days (调休).

Two sources, in this order:

1. `WorkdayOverride` rows (core/models.py), entered by an administrator: a year the shipped package does not
   know yet (the State Council publishes next year's arrangement each November), or a local change;
2. the `chinesecalendar` package (import name `chinese_calendar`), which knows the official arrangements
   from 2004 to its release year, e.g. that Sunday 2020-01-19 and Saturday 2020-10-10 were working days and
   that the 2020 Spring Festival holiday ran to 2020-02-02;
3. for a year neither knows: Monday to Friday (and `WorkCalendar.known(year)` says so, so the page can warn).

Deadlines are "the end of the Nth working day after the start" in the district's time zone (Asia/Shanghai):
the day of the start does not count, so a problem reported on Friday afternoon with a 1-day SLA is due at the
end of the next working day. The end of a day is 23:59:59.999999 local time; a problem is overdue when `now`
is later than its deadline.

Use `WorkCalendar.load()` once per operation (one small query) and its methods for many computations; the
module functions `is_working_day()` and `add_working_days()` load it for a single call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.utils import timezone

__all__ = [
    "CalendarDay",
    "WorkCalendar",
    "add_working_days",
    "end_of_day",
    "is_working_day",
    "override_clear",
    "override_set",
]

MAX_DAYS = 3660  # no SLA is longer than ten years; a guard against an endless loop on a misconfigured calendar


@lru_cache(maxsize=8192)
def _package_status(d: date) -> bool | None:
    """Working day according to chinese_calendar; None when the package does not know the year."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


@lru_cache(maxsize=64)
def _package_holiday_name(d: date) -> str:
    try:
        import chinese_calendar

        _on_holiday, name = chinese_calendar.get_holiday_detail(d)
    except (ImportError, NotImplementedError):
        return ""
    return HOLIDAY_NAMES.get(name or "", name or "")


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class CalendarDay:
    """A day that differs from the Monday-to-Friday rule (for the calendar page)."""

    day: date
    is_working_day: bool
    source: str  # "override" | "package"
    note: str = ""


def end_of_day(d: date) -> datetime:
    """23:59:59.999999 of `d` in the district's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(d, time.max), timezone.get_default_timezone())


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date() if timezone.is_aware(moment) else moment.date()


class WorkCalendar:
    """Working days from administrator overrides, then the shipped package, then Monday to Friday."""

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, *, use_package: bool = True, notes: Mapping[date, str] | None = None
    ) -> None:
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.notes: dict[date, str] = dict(notes or {})
        self.use_package = use_package

    @classmethod
    def load(cls) -> WorkCalendar:
        from .models import WorkdayOverride

        rows = list(WorkdayOverride.objects.values_list("day", "is_working_day", "note"))
        return cls({d: w for d, w, _n in rows}, notes={d: n for d, _w, n in rows})

    def is_working_day(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        if self.use_package:
            known = _package_status(d)
            if known is not None:
                return known
        return d.weekday() < 5

    def known(self, year: int) -> bool:
        """Whether the year's holidays are known (package or at least one override), not just guessed."""
        if any(d.year == year for d in self.overrides):
            return True
        return self.use_package and _package_status(date(year, 1, 1)) is not None

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        for _ in range(MAX_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise ValueError("工作日历配置有误：十年内没有工作日")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after `start`'s local date (`days` = 0: the end of the start
        day if it is a working day, else of the next working day)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        d = local_date(start)
        if days == 0:
            return end_of_day(d if self.is_working_day(d) else self.next_working_day(d))
        for _ in range(days):
            d = self.next_working_day(d)
        return end_of_day(d)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """How many working days lie after `start`'s local date up to and including `end`'s (0 if end <= start)."""
        first, last = local_date(start), local_date(end)
        if last <= first:
            return 0
        if (last - first).days > MAX_DAYS:
            raise ValueError("时间跨度过长")
        return sum(1 for i in range(1, (last - first).days + 1) if self.is_working_day(first + timedelta(days=i)))

    def exceptions(self, year: int) -> list[CalendarDay]:
        """The days of `year` that are not "Monday to Friday work, weekend rest", with their source."""
        out: list[CalendarDay] = []
        d = date(year, 1, 1)
        while d.year == year:
            default = d.weekday() < 5
            if d in self.overrides:  # always listed: an administrator entered it
                out.append(CalendarDay(d, self.overrides[d], "override", self.notes.get(d, "")))
            elif self.use_package:
                known = _package_status(d)
                if known is not None and known != default:
                    out.append(CalendarDay(d, known, "package", _package_holiday_name(d)))
            d += timedelta(days=1)
        return out


def is_working_day(d: date, *, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or WorkCalendar.load()).is_working_day(d)


def add_working_days(start: datetime, days: int, *, calendar: WorkCalendar | None = None) -> datetime:
    """The deadline `days` working days after `start`: the end of that day in Asia/Shanghai (aware)."""
    return (calendar or WorkCalendar.load()).add_working_days(start, days)


def override_set(*, day: date, is_working_day: bool, note: str = "") -> Any:
    """Enter or change the status of one day. Callers (pages, commands) write the audit log."""
    from .models import WorkdayOverride

    obj, _created = WorkdayOverride.objects.update_or_create(
        day=day, defaults={"is_working_day": is_working_day, "note": note.strip()[:60]}
    )
    return obj


def override_clear(*, day: date) -> bool:
    from .models import WorkdayOverride

    deleted, _ = WorkdayOverride.objects.filter(day=day).delete()
    return bool(deleted)
