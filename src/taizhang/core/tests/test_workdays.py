"""The SLA calendar: China's public holidays and adjusted working days (调休), plus administrator overrides."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from taizhang.core import workdays
from taizhang.core.models import WorkdayOverride
from taizhang.core.workdays import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=SH)


def eod(y: int, m: int, d: int) -> datetime:
    return workdays.end_of_day(date(y, m, d))


CAL = WorkCalendar()  # package only, no database


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2020, 1, 19), True),  # Sunday, worked for the Spring Festival (调休)
        (date(2020, 1, 24), False),  # 除夕
        (date(2020, 2, 1), False),  # Saturday, in the extended 2020 Spring Festival holiday
        (date(2020, 2, 3), True),  # Monday, the first working day after the extension
        (date(2020, 9, 27), True),  # Sunday, worked for National Day
        (date(2020, 10, 8), False),  # Thursday, National Day holiday
        (date(2020, 10, 10), True),  # Saturday, worked for National Day
        (date(2020, 3, 19), True),  # an ordinary Thursday
        (date(2020, 3, 21), False),  # an ordinary Saturday
    ],
)
def test_knows_2020(day, working):
    assert CAL.is_working_day(day) is working


def test_deadline_is_the_end_of_the_nth_working_day_after_the_start():
    # An ordinary week: Thursday + 1 = end of Friday; Friday + 1 = end of Monday.
    assert CAL.add_working_days(at(2020, 3, 19), 1) == eod(2020, 3, 20)
    assert CAL.add_working_days(at(2020, 3, 20), 1) == eod(2020, 3, 23)
    # 调休: Friday 2020-09-25 + 1 is Sunday 2020-09-27 (a working day), not Monday.
    assert CAL.add_working_days(at(2020, 9, 25), 1) == eod(2020, 9, 27)
    # National Day: Wednesday 2020-09-30 + 1 skips 1–8 October; + 2 is Saturday 10 October (worked).
    assert CAL.add_working_days(at(2020, 9, 30), 1) == eod(2020, 10, 9)
    assert CAL.add_working_days(at(2020, 9, 30), 2) == eod(2020, 10, 10)
    # Spring Festival 2020 (extended to 2 February): reported 23 January + 1 = 3 February.
    assert CAL.add_working_days(at(2020, 1, 23), 1) == eod(2020, 2, 3)
    # 0 days: the end of the day itself if it is a working day, else of the next one.
    assert CAL.add_working_days(at(2020, 3, 19), 0) == eod(2020, 3, 19)
    assert CAL.add_working_days(at(2020, 3, 21), 0) == eod(2020, 3, 23)


def test_the_start_is_read_in_shanghai_time():
    # 2020-03-19 17:00 UTC is already Friday 01:00 in Shanghai: + 1 is the end of Monday.
    assert CAL.add_working_days(datetime(2020, 3, 19, 17, 0, tzinfo=ZoneInfo("UTC")), 1) == eod(2020, 3, 23)
    assert eod(2020, 3, 23).tzinfo is not None


def test_working_days_between():
    assert CAL.working_days_between(eod(2020, 9, 25), at(2020, 9, 28)) == 2  # Sunday 27 (worked) and Monday 28
    assert CAL.working_days_between(eod(2020, 9, 30), at(2020, 10, 9)) == 1
    assert CAL.working_days_between(at(2020, 10, 9), at(2020, 10, 9)) == 0


def test_a_year_the_package_does_not_know_falls_back_to_weekdays():
    far = WorkCalendar()
    assert not far.known(2031)
    assert far.is_working_day(date(2031, 1, 1))  # a Wednesday: no holiday known
    assert not far.is_working_day(date(2031, 1, 4))  # a Saturday


def test_overrides_win_and_enter_an_unknown_year(db):
    workdays.override_set(day=date(2031, 1, 1), is_working_day=False, note="元旦")
    workdays.override_set(day=date(2031, 1, 4), is_working_day=True, note="调休上班")
    workdays.override_set(day=date(2020, 3, 19), is_working_day=False, note="本地调整")
    cal = WorkCalendar.load()
    assert cal.known(2031)
    assert not cal.is_working_day(date(2031, 1, 1))
    assert cal.is_working_day(date(2031, 1, 4))
    assert not cal.is_working_day(date(2020, 3, 19))  # wins over the package
    assert workdays.add_working_days(at(2030, 12, 31), 1) == eod(2031, 1, 2)
    assert workdays.is_working_day(date(2031, 1, 4))
    listed = {d.day: (d.is_working_day, d.source, d.note) for d in cal.exceptions(2031)}
    assert listed == {date(2031, 1, 1): (False, "override", "元旦"), date(2031, 1, 4): (True, "override", "调休上班")}
    assert workdays.override_clear(day=date(2031, 1, 4))
    assert not workdays.override_clear(day=date(2031, 1, 4))
    assert WorkdayOverride.objects.count() == 2


def test_exceptions_list_the_package_days():
    days = {d.day: d for d in CAL.exceptions(2020)}
    assert days[date(2020, 1, 19)].is_working_day and days[date(2020, 1, 19)].note == "春节"
    assert not days[date(2020, 10, 1)].is_working_day and days[date(2020, 10, 1)].note == "国庆节"
    assert date(2020, 3, 21) not in days  # an ordinary weekend is not an exception


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="days"):
        CAL.add_working_days(at(2020, 3, 19), -1)
