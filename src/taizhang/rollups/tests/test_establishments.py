"""The rollups follow every establishment service, and always equal a direct count of the base rows."""

from __future__ import annotations

from datetime import date

import pytest

from taizhang.establishments.models import Establishment, Status
from taizhang.establishments.services import establishment_create, establishment_transition, establishment_update
from taizhang.rollups import facts, services
from taizhang.rollups.models import DailyFlow, Tally
from taizhang.rollups.selectors import tallies

pytestmark = pytest.mark.django_db


def assert_consistent() -> None:
    assert services.verify(record=False) == []


def test_create_counts_at_every_level(world):
    e = world.establishment("光华路超市", "官园第1网格")
    assert_consistent()
    for region in ("官园第1网格", "官园社区", "光华路街道", "文峰区"):
        path = world.regions[region].path
        assert tallies(["est"], path)["est"] == {(e.category_id, Status.NOT_RESUMED): 1}
    assert Tally.objects.filter(metric="est", region_path__in=[p for p, _ in services.ancestors(e.region_path)]).count() == len(
        services.ancestors(e.region_path)
    )


def test_transitions_move_counts_and_keep_resumed_flows(world):
    e = world.establishment("光华路超市", "官园第1网格", above_size=True)
    for to, on in ((Status.FILING, None), (Status.APPROVED, None), (Status.RESUMED, date(2020, 3, 5))):
        establishment_transition(establishment=e, to=to, actor=None, on=on)
        assert_consistent()
    district = world.regions["文峰区"].path
    assert tallies(["est", "est_above"], district) == {
        "est": {(e.category_id, Status.RESUMED): 1},
        "est_above": {(e.category_id, Status.RESUMED): 1},
    }
    assert DailyFlow.objects.get(metric="resumed", region_path=district, key="above").day == date(2020, 3, 5)
    establishment_transition(establishment=e, to=Status.SUSPENDED, actor=None)
    assert_consistent()
    assert not DailyFlow.objects.filter(metric="resumed", region_path=district).exclude(value=0).exists()


def test_update_of_region_category_and_flags(world):
    e = world.establishment("光华路超市", "官园第1网格")
    e = establishment_update(
        establishment=e,
        actor=None,
        expected_version=e.version,
        data={"region": world.regions["乔家巷社区"], "category": world.categories["便利店"], "above_size": True},
    )
    assert_consistent()
    assert tallies(["est"], world.regions["官园社区"].path)["est"] == {}
    assert tallies(["est_above"], world.regions["乔家巷社区"].path)["est_above"] == {
        (world.categories["便利店"].pk, Status.NOT_RESUMED): 1
    }


def test_rebuild_equals_maintained_and_is_idempotent(world):
    a = world.establishment("光华路超市", "官园第1网格", above_size=True)
    world.establishment("乔家巷便利店", "乔家巷社区", category="便利店")
    establishment_transition(establishment=a, to=Status.FILING, actor=None)
    before = sorted(Tally.objects.exclude(value=0).values_list("metric", "region_path", "dim", "key", "value"))
    services.rebuild()
    assert sorted(Tally.objects.values_list("metric", "region_path", "dim", "key", "value")) == before
    services.rebuild()
    assert_consistent()


def test_verify_reports_drift_and_rebuild_repairs_it(world):
    world.establishment("光华路超市", "官园第1网格")
    Establishment.objects.update(status=Status.CLOSED)  # a write that bypassed the services
    differences = services.verify()
    assert {d.metric for d in differences} == {"est"}
    assert any(d.expected == 1 and d.actual == 0 for d in differences)
    services.rebuild()
    assert_consistent()


def test_concurrent_style_deltas_add_up(world):
    e = world.establishment("光华路超市", "官园第1网格")
    f = facts.establishment(e)
    services.apply(after=f)
    services.apply(after=f)
    services.apply(before=f)
    assert tallies(["est"], world.regions["文峰区"].path)["est"] == {(e.category_id, Status.NOT_RESUMED): 2}


def test_bulk_import_hook(world):
    rows = [
        {
            "region_path": world.regions["乔家巷社区"].path,
            "category_id": world.categories["超市"].pk,
            "status": Status.RESUMED,
            "above_size": False,
            "resumed_on": date(2020, 3, 1),
        },
    ]
    services.establishments_added(rows)
    assert tallies(["est"], world.regions["文峰区"].path)["est"] == {(world.categories["超市"].pk, Status.RESUMED): 1}


def test_create_then_direct_service_call(world):
    e = establishment_create(
        actor=None,
        data={
            "name": "新店",
            "kind": world.establishment("甲", "官园社区").kind,
            "category": world.categories["超市"],
            "region": world.regions["官园第2网格"],
        },
    )
    assert e.pk
    assert_consistent()
