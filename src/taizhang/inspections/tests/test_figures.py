"""出动人员人次 and 帮扶企业, computed from visits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from taizhang.inspections import selectors, services

pytestmark = pytest.mark.django_db

PASSING = {"resumed": "已复工", "ppe_enough": "yes", "staff_back": "yes", "measures_ok": "yes", "policy": "no"}


def test_person_times_and_establishments_helped(iw):
    version = iw.version("enterprise-help-visit")
    swj = iw.u("swj_staff")
    colleague = iw.w.user("swj_two", "SWJ", "文峰区", "department")
    now = timezone.now()
    day1, day2 = now - timedelta(days=2), now - timedelta(days=1)

    def visit(est, at, **kw):
        return services.visit_submit(
            actor=swj, key=iw.key(), establishment=iw.est[est], version=version, visited_at=at, **kw
        ).visit

    visit("m1", day1, answers=PASSING, staff=[colleague], extra_people=2)  # 4 people, nothing found, no help
    visit("m1", day2, answers=PASSING, helped=True, help_note="讲解补贴政策")  # 1 person, helped m1
    visit("m2", day2, answers={**PASSING, "ppe_enough": "no"}, staff=[colleague])  # 2 people, a problem opened for m2
    visit("m1", day2, answers=PASSING, helped=True)  # m1 again: still one establishment
    f = selectors.dispatch_figures(user=swj, start=timezone.localdate(day1), end=timezone.localdate(now))
    assert (f.total.visits, f.total.person_times, f.total.helped) == (4, 8, 2)
    assert [(r.label, r.person_times, r.helped) for r in f.rows] == [("区商务局", 8, 2)]
    by_day = selectors.dispatch_figures(user=swj, start=timezone.localdate(day1), end=timezone.localdate(now), by="day")
    assert [(r.person_times, r.helped) for r in by_day.rows] == [(4, 0), (4, 2)]
    only_day2 = selectors.dispatch_figures(user=swj, start=timezone.localdate(day2), end=timezone.localdate(day2))
    assert only_day2.total.person_times == 4
    # per unit; a department covering neither the category nor the sub-districts sees none of it
    assert (
        selectors.dispatch_figures(
            user=swj, start=timezone.localdate(day1), end=timezone.localdate(now), unit=iw.w.units["JYJ"]
        ).total.visits
        == 0
    )
    assert (
        selectors.dispatch_figures(
            user=iw.u("jyj_staff"), start=timezone.localdate(day1), end=timezone.localdate(now)
        ).total.visits
        == 0
    )
    # 区市场监管局 covers 光华路街道 (区直部门包镇办): it sees the visits to m1 only
    scj = selectors.dispatch_figures(user=iw.u("scj_staff"), start=timezone.localdate(day1), end=timezone.localdate(now))
    assert (scj.total.visits, scj.total.helped) == (3, 1)
    # the leader of the district sees them all
    assert (
        selectors.dispatch_figures(
            user=iw.u("leader"), start=timezone.localdate(day1), end=timezone.localdate(now)
        ).total.person_times
        == 8
    )
