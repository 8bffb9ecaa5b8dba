from __future__ import annotations

from datetime import date

import pytest

from taizhang.core.errors import ApplicationError
from taizhang.duties import services
from taizhang.duties.models import Assignment
from taizhang.duties.selectors import responsible_for, responsible_for_many
from taizhang.testing_domain import START


def labels(links):
    return [link.label for link in links]


def names(link):
    return sorted(p.username for p in link.people)


def test_both_chains_with_people(world):
    est = world.establishment("官园超市", "官园第1网格", road="光华路1段")
    services.assign_subject(user=world.users["guanyuan_a"], unit=world.units["官园社区"], subject=est, valid_from=START)
    r = responsible_for(est, on=date(2020, 3, 19))
    assert r.complete, r.gaps
    assert labels(r.territorial) == ["包联人员", "社区/村", "路段负责人", "街道/镇", "包镇办部门"]
    by_label = {link.label: link for link in r.territorial}
    assert names(by_label["包联人员"]) == ["guanyuan_a"]
    assert by_label["社区/村"].unit.name == "官园社区委员会"
    assert names(by_label["社区/村"]) == ["guanyuan_a", "guanyuan_b"]
    assert names(by_label["路段负责人"]) == ["ghl_road"]
    assert by_label["街道/镇"].unit.name == "光华路街道办事处"
    assert by_label["包镇办部门"].unit.name == "区市场监管局"
    assert names(by_label["包镇办部门"]) == ["scj_staff"]
    [sector] = r.sectoral
    assert sector.unit.name == "区商务局" and names(sector) == ["swj_staff"]  # minor category falls back to its major


def test_gaps_are_reported(world):
    est = world.establishment("乔家巷超市", "乔家巷第1网格")
    r = responsible_for(est, on=date(2020, 3, 19))
    assert r.gaps == ("包联人员",)
    assert not r.complete


def test_history_answers_as_of_a_date(world):
    est = world.establishment("官园超市", "官园社区")
    services.assign_subject(user=world.users["guanyuan_a"], unit=world.units["官园社区"], subject=est, valid_from=START)
    services.assign_subject(
        user=world.users["guanyuan_b"], unit=world.units["官园社区"], subject=est, valid_from=date(2020, 3, 1)
    )
    before = responsible_for(est, on=date(2020, 2, 29)).territorial[0]
    after = responsible_for(est, on=date(2020, 3, 1)).territorial[0]
    assert names(before) == ["guanyuan_a"] and names(after) == ["guanyuan_b"]
    assert Assignment.objects.filter(subject_id=est.pk).count() == 2  # history kept
    assert responsible_for(est, on=date(2020, 1, 1)).gaps[0] == "包联人员"


def test_sectoral_assignment_changes_over_time(world):
    est = world.establishment("辅导学校甲", "官园社区", category="辅导学校", kind="tutoring")
    services.assign_category(category=world.categories["辅导学校"], department=world.units["SCJ"], valid_from=date(2020, 3, 10))
    assert responsible_for(est, on=date(2020, 3, 9)).sectoral[0].unit.code == "JYJ"
    assert responsible_for(est, on=date(2020, 3, 10)).sectoral[0].unit.code == "SCJ"


def test_subject_must_lie_in_the_unit(world):
    est = world.establishment("乔家巷超市", "乔家巷社区")
    with pytest.raises(ApplicationError, match="不在"):
        services.assign_subject(user=world.users["guanyuan_a"], unit=world.units["官园社区"], subject=est, valid_from=START)


def test_reassign_everything_in_one_call(world):
    ests = [world.establishment(f"官园店{i}", "官园社区") for i in range(3)]
    for e in ests:
        services.assign_subject(user=world.users["guanyuan_a"], unit=world.units["官园社区"], subject=e, valid_from=START)
    moved = services.reassign_all(from_user=world.users["guanyuan_a"], to_user=world.users["guanyuan_b"], on=date(2020, 3, 5))
    assert moved == 3
    for e in ests:
        assert names(responsible_for(e, on=date(2020, 3, 4)).territorial[0]) == ["guanyuan_a"]
        assert names(responsible_for(e, on=date(2020, 3, 5)).territorial[0]) == ["guanyuan_b"]
    # the road section holder hands over too
    assert services.reassign_all(from_user=world.users["ghl_road"], to_user=world.users["ghl_office"], on=date(2020, 3, 5)) == 1


def test_many_answers_in_a_fixed_number_of_queries(world):
    few = [world.establishment(f"甲{i}", "官园社区", road="光华路1段") for i in range(2)]
    many = few + [world.establishment(f"乙{i}", "乔家巷社区") for i in range(30)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        responsible_for_many(few, on=date(2020, 3, 19))
    with CaptureQueriesContext(connection) as large:
        result = responsible_for_many(many, on=date(2020, 3, 19))
    assert len(result) == 32
    assert len(large.captured_queries) == len(small.captured_queries)
    assert result[few[0].pk].gaps == ("包联人员",)
    assert result[few[0].pk].territorial[0].label == "社区/村"
