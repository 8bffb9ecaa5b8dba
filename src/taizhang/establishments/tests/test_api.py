from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role
from taizhang.establishments import services
from taizhang.establishments.models import EnterpriseAccount, Establishment, EstablishmentKind, Status
from taizhang.establishments.validators import make_credit_code
from taizhang.industries.models import IndustryCode
from taizhang.regions.models import RoadSection

from .world import MOBILES, START, World, build_world

API = "/api/v1/establishments/"


@pytest.fixture
def world(make_user, regions) -> World:
    return build_world(make_user, regions)


def api_ids(client, user, **params) -> set[int]:
    client.force_login(user)
    r = client.get(API, {"page_size": 200, **params})
    assert r.status_code == 200, r.content
    return {row["id"] for row in r.json()["results"]}


def pks(world: World, *keys: str) -> set[int]:
    return {world.est[k].pk for k in keys}


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def test_list_is_scoped(client, world):
    assert api_ids(client, world.community) == pks(world, "e1", "e2", "e3")
    assert api_ids(client, world.grid_worker) == pks(world, "e1", "e2")
    assert api_ids(client, world.other_community) == pks(world, "e4", "e5")
    assert api_ids(client, world.department) == pks(world, "e2", "e3", "e4", "e5")


def test_list_masks_personal_fields(client, world):
    client.force_login(world.leader)
    r = client.get(API)
    body = r.content.decode()
    for mobile in MOBILES.values():
        assert mobile not in body
    assert "欧阳明" not in body and "李四" not in body
    row = next(x for x in r.json()["results"] if x["id"] == world.est["e2"].pk)
    assert row["contact_mobile"] == "139****5678" and row["legal_representative"] == "欧阳*"
    assert row["holder"]["name"] == world.grid_worker.display_name
    assert row["kind"] == "tutoring" and row["status"] == "not_resumed" and row["status_label"] == "未复工"


def test_list_filters_and_search(client, world, regions):
    e = world.est
    assert api_ids(client, world.community, q="ghl") == {e["e1"].pk}
    assert api_ids(client, world.community, q=MOBILES["e2"]) == {e["e2"].pk}
    assert api_ids(client, world.community, kind="tutoring") == pks(world, "e2", "e3")
    assert api_ids(client, world.community, region=regions["官园第1网格"].pk) == {e["e1"].pk}
    assert api_ids(client, world.community, responsible=world.grid_worker.pk) == {e["e2"].pk}
    assert api_ids(client, world.community, above_size="true") == set()
    assert api_ids(client, world.department, category=world.categories["education"].pk) == pks(world, "e2", "e3", "e5")


def test_list_queries_do_not_grow_with_the_page(client, world, regions):
    kind = EstablishmentKind.objects.get(code="shop")
    industry = IndustryCode.objects.create(code="5211", name="百货零售", level="class", section="F")
    road = RoadSection.objects.create(code="R1", name="光华路（一段）", subdistrict=regions["光华路街道"])
    for i in range(60):
        data = {
            "name": f"店{i}",
            "kind": kind,
            "region": regions["官园社区"],
            "address": str(i),
            "industry": industry,
            "road_section": road,
        }
        services.establishment_create(actor=world.community, data={**data, "category": world.categories["supermarket"]})
    client.force_login(world.community)
    client.get(API)
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(API, {"page_size": size})
        assert len(r.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_detail_has_the_responsibility_chain_and_404_outside(client, world):
    e2 = world.est["e2"]
    client.force_login(world.community)
    data = client.get(f"{API}{e2.pk}").json()
    assert data["contact_mobile"] == "139****5678"
    chain = data["responsibility"]
    assert chain["territorial"][0]["label"] == "包联人员"
    assert chain["territorial"][0]["people"] == [{"id": world.grid_worker.pk, "name": world.grid_worker.display_name}]
    assert chain["sectoral"][0]["unit"]["name"] == "区教育局"
    client.force_login(world.other_community)
    outside, missing = client.get(f"{API}{e2.pk}"), client.get(f"{API}99999999")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
    for url in (f"{API}{e2.pk}/transition", f"{API}{e2.pk}/reveal"):
        assert client.post(url, {"to": "filing", "field": "contact_mobile"}).status_code == 404
    assert patch(client, f"{API}{e2.pk}", {"name": "x", "version": 1}).status_code == 404


def test_create(client, world, regions):
    client.force_login(world.community)
    payload = {
        "name": "光明书店",
        "credit_code": make_credit_code(region="410502", body="00000009"),
        "kind": "shop",
        "category": world.categories["retail"].pk,
        "region": regions["官园第2网格"].pk,
        "contact_mobile": "13800000099",
    }
    r = client.post(API, payload)
    assert r.status_code == 201, r.content
    assert r.json()["contact_mobile"] == "138****0099" and r.json()["version"] == 1
    again = client.post(API, payload)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "duplicate" and again.json()["error"]["detail"]["id"] == r.json()["id"]
    bad = client.post(API, {**payload, "credit_code": "91410502000000001X", "contact_mobile": "123"})
    assert bad.status_code == 400 and set(bad.json()["error"]["detail"]) >= {"credit_code", "contact_mobile"}
    outside = client.post(API, {**payload, "credit_code": "", "region": regions["乔家巷社区"].pk})
    assert outside.status_code == 400 and "region" in outside.json()["error"]["detail"]


def test_leader_and_enterprise_cannot_write(client, world):
    client.force_login(world.leader)
    e1 = world.est["e1"]
    assert client.get(f"{API}{e1.pk}").status_code == 200
    assert client.post(API, {"name": "x"}).status_code == 403
    assert patch(client, f"{API}{e1.pk}", {"name": "x", "version": 1}).status_code == 403
    assert client.post(f"{API}{e1.pk}/transition", {"to": "filing"}).status_code == 403


def test_patch_with_optimistic_locking(client, world):
    e1 = world.est["e1"]
    client.force_login(world.community)
    r = patch(client, f"{API}{e1.pk}", {"address": "新地址", "version": 1})
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2 and r.json()["address"] == "新地址"
    assert r.json()["credit_code"] == e1.credit_code  # a partial update leaves the rest alone
    stale = patch(client, f"{API}{e1.pk}", {"address": "旧版本上的修改", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict" and "已被他人修改" in stale.json()["error"]["message"]
    assert patch(client, f"{API}{e1.pk}", {"address": "无版本"}).status_code == 400
    e1.refresh_from_db()
    assert e1.address == "新地址" and e1.contact_mobile == MOBILES["e1"]


def test_transition(client, world):
    e3 = world.est["e3"]
    client.force_login(world.community)
    r = client.post(f"{API}{e3.pk}/transition", {"to": "filing", "note": "提交方案"})
    assert r.status_code == 200 and r.json()["status"] == "filing" and r.json()["version"] == 2
    bad = client.post(f"{API}{e3.pk}/transition", {"to": "closed_forever"})
    assert bad.status_code == 400
    wrong = client.post(f"{API}{e3.pk}/transition", {"to": "filing"})
    assert wrong.status_code == 200  # already there: nothing to do
    assert client.post(f"{API}{e3.pk}/transition", {"to": "resumed"}).json()["error"]["code"] == "invalid_transition"
    assert Establishment.objects.get(pk=e3.pk).status == Status.FILING


def test_reveal_is_audited(client, world):
    e2 = world.est["e2"]
    client.force_login(world.community)
    r = client.post(f"{API}{e2.pk}/reveal", {"field": "contact_mobile", "reason": "电话核实复工情况"})
    assert r.status_code == 200 and r.json() == {"field": "contact_mobile", "value": MOBILES["e2"]}
    assert r["Cache-Control"] == "no-store"
    ev = AuditEvent.objects.get(action="reveal", object_id=str(e2.pk))
    assert ev.outcome == "ok" and ev.detail == {"field": "contact_mobile", "reason": "电话核实复工情况"}
    assert client.post(f"{API}{e2.pk}/reveal", {"field": "address"}).status_code == 400


def test_reveal_refused_without_the_right(client, world):
    client.force_login(world.leader)
    r = client.post(f"{API}{world.est['e1'].pk}/reveal", {"field": "contact_mobile"})
    assert r.status_code == 403 and MOBILES["e1"] not in r.content.decode()
    assert r.json()["error"]["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="reveal", outcome="denied").count() == 1


def test_other_roles_have_no_registry_api(client, make_user, world):
    client.force_login(make_user(Role.HOTLINE, "文峰区"))
    assert client.get(API).status_code == 403
    assert client.get(f"{API}{world.est['e1'].pk}").status_code == 403


def test_an_inspector_without_campaign_targets_reads_no_establishment(client, make_user, world):
    client.force_login(make_user(Role.INSPECTOR, "文峰区"))
    listed = client.get(API).json()
    assert listed.get("count", len(listed.get("results", listed))) == 0
    assert client.get(f"{API}{world.est['e1'].pk}").status_code == 404


def test_schema_documents_the_endpoints(client, db):
    paths = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/establishments/"])
    assert {"get", "patch"} <= set(paths["/api/v1/establishments/{id}"])
    assert "post" in paths["/api/v1/establishments/{id}/transition"]
    assert "post" in paths["/api/v1/establishments/{id}/reveal"]


def test_enterprise_patches_only_its_contact(client, world, regions):
    unit = OrgUnit.objects.create(code="QY1", name="光华路超市", kind=OrgUnit.Kind.ENTERPRISE, region=regions["官园社区"])
    user = User.objects.create_user(username="qy1", password="x", display_name="李四")
    Post.objects.create(user=user, unit=unit, region=regions["官园社区"], role=Role.ENTERPRISE, valid_from=START)
    e1 = world.est["e1"]
    EnterpriseAccount.objects.create(user=user, establishment=e1, confirmed=True)
    client.force_login(user)
    assert api_ids(client, user) == {e1.pk}
    assert patch(client, f"{API}{e1.pk}", {"name": "改名", "version": 1}).status_code == 403
    r = patch(client, f"{API}{e1.pk}", {"contact_mobile": "13800000055", "version": 1})
    assert r.status_code == 200 and r.json()["contact_mobile"] == "138****0055"
    assert client.post(f"{API}{e1.pk}/transition", {"to": "filing"}).status_code == 403
    assert patch(client, f"{API}{world.est['e2'].pk}", {"contact_mobile": "13800000055", "version": 1}).status_code == 404
