from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q

from taizhang.audit.models import AuditEvent
from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.duties import services as duties
from taizhang.establishments import selectors, services
from taizhang.establishments.models import Establishment, EstablishmentEvent, Status
from taizhang.testing_domain import START


def ids(user, **filters):
    return set(selectors.establishment_list(user=user, filters=filters).values_list("pk", flat=True))


@pytest.fixture
def spread(world):
    e = {
        "gy_super": world.establishment("官园超市", "官园第1网格", road="光华路1段"),
        "gy_tutor": world.establishment("官园辅导学校", "官园社区", category="辅导学校", kind="tutoring"),
        "qj_super": world.establishment("乔家巷超市", "乔家巷第1网格"),
        "qj_tutor": world.establishment("乔家巷辅导学校", "乔家巷社区", category="辅导学校", kind="tutoring"),
        "qj_assigned": world.establishment("乔家巷便利店", "乔家巷社区", category="便利店"),
    }
    # a 官园 worker also covers one establishment in 乔家巷 personally (包联)
    duties.assign_subject(
        user=world.users["guanyuan_a"], unit=world.units["乔家巷社区"], subject=e["qj_assigned"], valid_from=START
    )
    return e


def test_community_worker_sees_their_community_and_their_assignments(world, spread):
    assert ids(world.users["guanyuan_a"]) == {spread[k].pk for k in ("gy_super", "gy_tutor", "qj_assigned")}
    assert ids(world.users["guanyuan_b"]) == {spread[k].pk for k in ("gy_super", "gy_tutor")}
    assert ids(world.users["qiaojia_a"]) == {spread[k].pk for k in ("qj_super", "qj_tutor", "qj_assigned")}


def test_personal_assignments_as_ids_or_as_a_subquery_give_the_same_scope(world, spread, monkeypatch):
    """The scope ORs in the assigned establishments outside the user's regions as ids (so that PostgreSQL bounds
    the list's index scan by the region range); past ASSIGNED_IDS_INLINE it falls back to the subquery."""
    from taizhang.establishments import scoping

    user = world.users["guanyuan_a"]
    as_ids = scoping._assigned_outside(user.pk, [world.regions["官园社区"].path])
    assert as_ids == Q(pk__in=[spread["qj_assigned"].pk])  # only the one outside 官园; none inside is listed
    monkeypatch.setattr(scoping, "ASSIGNED_IDS_INLINE", 0)
    assert ids(user) == {spread[k].pk for k in ("gy_super", "gy_tutor", "qj_assigned")}
    assert "SELECT" in str(Establishment.objects.filter(scoping._assigned_outside(user.pk, [])).query).split("WHERE", 1)[1]


def test_department_sees_its_categories_and_subdistricts(world, spread):
    # 教育局: category 辅导学校 anywhere
    assert ids(world.users["jyj_staff"]) == {spread["gy_tutor"].pk, spread["qj_tutor"].pk}
    # 商务局: 商贸零售 (and its minors) anywhere + everything in 头二三街道 (包镇办)
    assert ids(world.users["swj_staff"]) == {spread[k].pk for k in ("gy_super", "qj_super", "qj_tutor", "qj_assigned")}
    # 市场监管局: only 光华路街道 (包镇办)
    assert ids(world.users["scj_staff"]) == {spread["gy_super"].pk, spread["gy_tutor"].pk}


def test_leader_and_subdistrict(world, spread):
    assert ids(world.users["leader"]) == {e.pk for e in spread.values()}
    assert ids(world.users["ghl_office"]) == {spread["gy_super"].pk, spread["gy_tutor"].pk}


def test_access_is_the_same_404_for_missing_and_outside(world, spread):
    with pytest.raises(NotVisible):
        selectors.access_establishment(world.users["qiaojia_a"], spread["gy_super"].pk)
    with pytest.raises(NotVisible):
        selectors.access_establishment(world.users["qiaojia_a"], 10**9)
    assert selectors.access_establishment(world.users["guanyuan_a"], spread["gy_super"].pk).name == "官园超市"


def test_search_by_name_initials_code_and_mobile(world, spread):
    leader = world.users["leader"]
    assert ids(leader, q="乔家巷") == {spread[k].pk for k in ("qj_super", "qj_tutor", "qj_assigned")}
    assert ids(leader, q="gycs") == {spread["gy_super"].pk}
    assert ids(leader, q=spread["qj_super"].credit_code.lower()) == {spread["qj_super"].pk}
    mobile = spread["gy_tutor"].contact_mobile
    assert ids(leader, q=f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}") == {spread["gy_tutor"].pk}
    # and nobody finds what they may not see
    assert ids(world.users["qiaojia_a"], q="gycs") == set()


def test_personal_fields_are_encrypted_at_rest(world, spread):
    est = spread["gy_super"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_mobile, contact_name FROM establishments_establishment WHERE id = %s", [est.pk])
        raw_mobile, raw_name = cursor.fetchone()
    assert est.contact_mobile not in raw_mobile and "张三" not in raw_name
    assert Establishment.objects.get(pk=est.pk).contact_mobile == est.contact_mobile


def test_never_silently_duplicated(world, spread):
    world.counter -= 1  # the next establishment gets the same credit code as the last one
    with pytest.raises(ApplicationError, match="已登记为“乔家巷便利店”"):
        world.establishment("另一个名字", "官园社区")
    assert Establishment.objects.filter(name="另一个名字").count() == 0
    with pytest.raises(ValidationError) as exc:
        services.establishment_create(
            actor=None, data={"name": "x", "credit_code": "91410502MA3X7K2B0X", "region": world.regions["官园社区"]}
        )
    assert "credit_code" in exc.value.message_dict
    # without a credit code (a rental house), the same name and address in the same community is refused
    data = {"name": "出租屋甲", "region": world.regions["官园社区"], "address": "官园1号院3单元", "kind": spread["gy_super"].kind}
    services.establishment_create(actor=None, data=dict(data))
    with pytest.raises(ApplicationError, match="同名同地址"):
        services.establishment_create(actor=None, data=dict(data))


def test_status_lifecycle_is_a_table_and_every_change_an_event(world, spread):
    est = spread["gy_super"]
    services.establishment_transition(establishment=est, to=Status.FILING, actor=world.users["guanyuan_a"], on=date(2020, 3, 1))
    services.establishment_transition(establishment=est, to=Status.APPROVED, actor=world.users["swj_staff"], on=date(2020, 3, 3))
    services.establishment_transition(establishment=est, to=Status.RESUMED, actor=world.users["swj_staff"], on=date(2020, 3, 5))
    with pytest.raises(ApplicationError, match="不能从"):
        services.establishment_transition(establishment=est, to=Status.FILING, actor=None)
    est.refresh_from_db()
    assert est.status == Status.RESUMED and est.resumed_on == date(2020, 3, 5)
    steps = list(EstablishmentEvent.objects.filter(establishment=est, kind="status").values_list("from_status", "to_status"))
    assert steps == [("not_resumed", "filing"), ("filing", "approved"), ("approved", "resumed")]
    assert selectors.resumed_as_of(user=world.users["leader"], on=date(2020, 3, 4)) == {"resumed": 0, "resumed_above_size": 0}
    assert selectors.resumed_as_of(user=world.users["leader"], on=date(2020, 3, 19))["resumed"] == 1


def test_optimistic_locking(world, spread):
    est = spread["gy_super"]
    first = Establishment.objects.get(pk=est.pk)
    second = Establishment.objects.get(pk=est.pk)
    services.establishment_update(establishment=first, actor=None, data={"employees": 12}, expected_version=first.version)
    with pytest.raises(ConflictError):
        services.establishment_update(establishment=second, actor=None, data={"employees": 30}, expected_version=second.version)
    assert Establishment.objects.get(pk=est.pk).employees == 12


def test_updates_are_audited_without_personal_values(world, spread):
    est = spread["gy_super"]
    services.establishment_update(
        establishment=est, actor=None, data={"contact_mobile": "13700000001"}, expected_version=est.version
    )
    e = AuditEvent.objects.filter(action="update", object_id=str(est.pk)).latest("at")
    assert "13700000001" not in str(e.detail) and e.detail["changes"]["contact_mobile"] == ["***", "***"]
