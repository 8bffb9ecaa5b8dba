from __future__ import annotations

from datetime import date

import pytest

from taizhang.establishments.models import Status
from taizhang.establishments.services import establishment_transition
from taizhang.filings.selectors import establishment_status_figures
from taizhang.testing_domain import World


def resume(est, on):
    for to in (Status.FILING, Status.APPROVED):
        establishment_transition(establishment=est, to=to, actor=None)
    establishment_transition(establishment=est, to=Status.RESUMED, actor=None, on=on)


@pytest.fixture
def spread(world: World):
    w = world
    e = {
        "gy1": w.establishment("官园超市", "官园第1网格", above_size=True),
        "gy2": w.establishment("官园便利店", "官园社区", category="便利店"),
        "gy3": w.establishment("官园辅导学校", "官园社区", category="辅导学校", kind="tutoring"),
        "qj1": w.establishment("乔家巷超市", "乔家巷第1网格", above_size=True),
        "qj2": w.establishment("乔家巷便利店", "乔家巷社区", category="便利店"),
    }
    resume(e["gy1"], date(2020, 3, 5))
    resume(e["gy2"], date(2020, 3, 20))
    resume(e["qj1"], date(2020, 3, 10))
    establishment_transition(establishment=e["qj2"], to=Status.FILING, actor=None)
    return e


def test_by_subdistrict_with_resumed_as_of(world, spread, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        f = establishment_status_figures(user=world.users["leader"], on=date(2020, 3, 19), by="subdistrict")
    assert (f.resumed, f.resumed_above_size) == (2, 2)  # gy2 resumed on 3-20, after the date
    rows = {r.label: r for r in f.rows}
    assert set(rows) == {"光华路街道", "头二三街道"}
    assert rows["光华路街道"].counts[Status.RESUMED] == 2 and rows["光华路街道"].counts[Status.NOT_RESUMED] == 1
    assert rows["光华路街道"].resumed_by_date == 1 and rows["头二三街道"].resumed_by_date == 1
    assert rows["头二三街道"].counts[Status.FILING] == 1
    assert f.totals.total == 5 and f.totals.resumed_by_date == f.resumed
    later = establishment_status_figures(user=world.users["leader"], on=date(2020, 3, 20), by="subdistrict")
    assert (later.resumed, later.resumed_above_size) == (3, 2)


def test_by_major_category(world, spread):
    f = establishment_status_figures(user=world.users["leader"], on=date(2020, 3, 31), by="category")
    rows = {r.label: r for r in f.rows}
    assert rows["商贸零售"].total == 4 and rows["商贸零售"].counts[Status.RESUMED] == 3
    assert rows["教育培训"].total == 1


def test_figures_count_only_what_the_user_sees(world, spread):
    f = establishment_status_figures(user=world.users["qiaojia_a"], on=date(2020, 3, 31), by="subdistrict")
    assert [r.label for r in f.rows] == ["头二三街道"] and f.totals.total == 2 and f.resumed == 1
    nothing = establishment_status_figures(user=world.users["jyj_staff"], on=date(2020, 3, 31), by="category")
    assert nothing.totals.total == 1 and nothing.resumed == 0  # 教育局 sees the tutoring school only
