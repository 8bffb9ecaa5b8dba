from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role
from taizhang.establishments import services
from taizhang.establishments.forms import EXPORTERS
from taizhang.establishments.models import EnterpriseAccount, Establishment, EstablishmentEvent, EstablishmentKind, Status
from taizhang.establishments.validators import make_credit_code
from taizhang.regions.models import RoadSection

from .world import MOBILES, START, World, build_world

LIST = "/establishments/"


@pytest.fixture
def world(make_user, regions) -> World:
    return build_world(make_user, regions)


def listed(client, user, **params) -> set[int]:
    client.force_login(user)
    r = client.get(LIST, {"page_size": 200, **params})
    assert r.status_code == 200
    return {e.pk for e, _holder, _tone in r.context["rows"]}


def pks(world: World, *keys: str) -> set[int]:
    return {world.est[k].pk for k in keys}


# --- scope -----------------------------------------------------------------------------------------


def test_community_list_holds_exactly_their_community_or_assigned(client, world):
    assert listed(client, world.community) == pks(world, "e1", "e2", "e3")
    # A grid worker: their grid (e1) plus the establishment assigned to them in the next grid (e2).
    assert listed(client, world.grid_worker) == pks(world, "e1", "e2")
    assert listed(client, world.other_community) == pks(world, "e4", "e5")


def test_department_list_holds_exactly_its_categories_and_subdistricts(client, world):
    # 教育培训 (e3) and its minor 辅导班 (e2, e5) anywhere; everything in 头二三街道 (e4, e5).
    assert listed(client, world.department) == pks(world, "e2", "e3", "e4", "e5")


def test_leader_sees_the_district(client, world):
    assert listed(client, world.leader) == pks(world, "e1", "e2", "e3", "e4", "e5")


def test_an_inspector_without_campaign_targets_sees_no_establishment(client, make_user, world):
    """Inspectors read the registry for their campaign targets only (inspections registers the rule): none here."""
    assert listed(client, make_user(Role.INSPECTOR, "文峰区")) == set()  # logs the inspector in
    e1 = world.est["e1"].pk
    assert client.get(f"{LIST}{e1}/").status_code == 404
    for url in (f"{LIST}new/", f"{LIST}{e1}/edit/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", [Role.HOTLINE, Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR])
def test_roles_without_registry_pages_are_refused(client, make_user, world, role):
    user = make_user(role, "文峰区")
    if role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR):
        user.is_verified = lambda: True  # the OTP step is another test's business
    client.force_login(user)
    e1 = world.est["e1"].pk
    for url in (LIST, f"{LIST}{e1}/", f"{LIST}new/", f"{LIST}{e1}/edit/"):
        r = client.get(url)
        assert r.status_code in (302, 403), url  # administrators are sent to the OTP step first


def test_leader_is_read_only(client, world):
    client.force_login(world.leader)
    e1 = world.est["e1"].pk
    assert client.get(f"{LIST}{e1}/").status_code == 200
    assert client.get(f"{LIST}new/").status_code == 403
    assert client.get(f"{LIST}{e1}/edit/").status_code == 403
    assert client.post(f"{LIST}{e1}/transition/", {"to": Status.FILING}).status_code == 403
    page = client.get(f"{LIST}{e1}/").content.decode()
    for testid in ("edit-establishment", "transition-form", "reveal-contact_mobile"):
        assert f'data-testid="{testid}"' not in page


def test_out_of_scope_is_the_same_404_as_missing(client, world):
    client.force_login(world.other_community)
    e1 = world.est["e1"].pk
    for template in ("{}{}/", "{}{}/edit/", "{}{}/transition/"):
        assert client.get(template.format(LIST, e1)).status_code == 404
        assert client.get(template.format(LIST, 99999999)).status_code == 404
    for pk in (e1, 99999999):
        assert client.post(f"{LIST}{pk}/reveal/contact_mobile/").status_code == 404
    assert not AuditEvent.objects.filter(action="reveal", outcome="ok").exists()


# --- list ------------------------------------------------------------------------------------------


def test_list_masks_mobiles_and_shows_holders_and_counts(client, world):
    client.force_login(world.community)
    html = client.get(LIST).content.decode()
    for key in ("e1", "e2", "e3"):
        assert MOBILES[key] not in html
        assert f"{MOBILES[key][:3]}****{MOBILES[key][-4:]}" in html
    assert "欧阳明" not in html and "李四" not in html
    assert world.grid_worker.display_name in html  # 包联人员 of e2
    assert re.search(r'data-testid="stat-not_resumed"><div class="value">3<', html)


def test_list_filters_stay_in_the_url(client, world, regions):
    e = world.est
    assert listed(client, world.community, region=regions["官园第2网格"].pk) == {e["e2"].pk}
    assert listed(client, world.community, kind="supermarket") == {e["e1"].pk}
    # A major category includes its minors.
    assert listed(client, world.community, category=world.categories["education"].pk) == {e["e2"].pk, e["e3"].pk}
    assert listed(client, world.community, category=world.categories["tutoring"].pk) == {e["e2"].pk}
    assert listed(client, world.community, responsible=world.grid_worker.pk) == {e["e2"].pk}
    services.establishment_transition(establishment=e["e3"], to=Status.FILING, actor=world.community)
    assert listed(client, world.community, status=Status.FILING) == {e["e3"].pk}
    services.establishment_update(
        establishment=e["e1"],
        actor=world.community,
        data={"above_size": True, "credit_code": e["e1"].credit_code},
        expected_version=e["e1"].version,
    )
    assert listed(client, world.community, above_size="on") == {e["e1"].pk}
    assert listed(client, world.community, key_target="on") == set()
    # A region outside the user's scope is not a filter they can use: reported, not applied to widen anything.
    assert listed(client, world.community, region=regions["乔家巷社区"].pk) <= pks(world, "e1", "e2", "e3")


def test_search_by_pinyin_initials_credit_code_and_mobile(client, world):
    e = world.est
    assert listed(client, world.community, q="ghl") == {e["e1"].pk}  # 光华路超市
    assert listed(client, world.community, q="GHLCS") == {e["e1"].pk}
    assert listed(client, world.community, q="启明") == {e["e2"].pk}
    assert listed(client, world.community, q=e["e3"].credit_code) == {e["e3"].pk}
    assert listed(client, world.community, q="139 1234 5678") == {e["e2"].pk}
    assert listed(client, world.community, q="+86 13912345678") == {e["e2"].pk}
    # Another community's mobile finds nothing here.
    assert listed(client, world.community, q=MOBILES["e4"]) == set()


def test_htmx_gets_the_results_partial(client, world):
    client.force_login(world.community)
    r = client.get(LIST, {"q": "ghl"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body and 'data-testid="establishment-table"' in body and "光华路超市" in body
    assert "HX-Request" in r["Vary"]


def test_list_runs_a_constant_number_of_queries(client, world, regions):
    kind = EstablishmentKind.objects.get(code="shop")
    for i in range(110):
        services.establishment_create(
            actor=world.community,
            data={
                "name": f"门店{i:03d}",
                "kind": kind,
                "category": world.categories["supermarket"],
                "region": regions["官园第1网格"],
                "contact_mobile": f"1380000{i:04d}",
                "address": str(i),
            },
        )
    client.force_login(world.community)
    client.get(LIST)  # warm caches that are not per request (content types, sessions)
    counts = {}
    for size in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(LIST, {"page_size": size})
        assert r.status_code == 200 and len(r.context["rows"]) == size
        counts[size] = len(ctx.captured_queries)
    assert counts[10] == counts[100], counts


def test_nav_offers_the_registry(client, world):
    client.force_login(world.community)
    assert 'href="/establishments/"' in client.get("/").content.decode()


# --- detail, reveal --------------------------------------------------------------------------------


def test_detail_shows_masked_fields_chain_and_timeline(client, world):
    e2 = world.est["e2"]
    services.establishment_transition(establishment=e2, to=Status.FILING, actor=world.community, note="提交复工方案")
    client.force_login(world.community)
    r = client.get(f"{LIST}{e2.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert MOBILES["e2"] not in html and "欧阳明" not in html and "李四" not in html
    assert "139****5678" in html and "欧阳*" in html
    assert "属地责任" in html and "行业责任" in html
    assert "区教育局" in html  # sectoral: 教育培训 → 区教育局 (via the minor's major)
    assert world.grid_worker.display_name in html  # 包联人员
    timeline = r.context["timeline"]
    assert [t.title for t in timeline][:2] == ["状态：未复工 → 备案中", "登记入台账（未复工）"]
    assert timeline[0].detail == "提交复工方案" and timeline[0].at >= timeline[1].at
    assert 'data-testid="reveal-contact_mobile"' in html


def test_reveal_is_audited_every_time(client, world):
    e2 = world.est["e2"]
    client.force_login(world.community)
    for _ in range(2):
        r = client.post(f"{LIST}{e2.pk}/reveal/contact_mobile/", HTTP_HX_REQUEST="true")
        assert r.status_code == 200
        assert MOBILES["e2"] in r.content.decode()
        assert r["Cache-Control"] == "no-store"
    events = AuditEvent.objects.filter(action="reveal", object_id=str(e2.pk))
    assert events.count() == 2
    assert {ev.detail["field"] for ev in events} == {"contact_mobile"}
    assert all(MOBILES["e2"] not in str(ev.detail) + ev.object_repr for ev in events)
    assert client.get(f"{LIST}{e2.pk}/reveal/contact_mobile/").status_code == 405
    assert client.post(f"{LIST}{e2.pk}/reveal/address/").status_code == 404


def test_reveal_without_the_right_is_refused_and_audited(client, world):
    client.force_login(world.leader)
    r = client.post(f"{LIST}{world.est['e1'].pk}/reveal/legal_representative/")
    assert r.status_code == 403 and "欧阳明" not in r.content.decode()
    assert AuditEvent.objects.filter(action="reveal", outcome="denied", actor=world.leader).count() == 1


# --- create, edit, transition ----------------------------------------------------------------------


def form_data(world: World, **overrides):
    data = {
        "name": "光明书店",
        "credit_code": make_credit_code(region="410502", body="00000009"),
        "kind": EstablishmentKind.objects.get(code="shop").pk,
        "category": world.categories["retail"].pk,
        "region": world.regions["官园第1网格"].pk,
        "address": "光华路9号",
        "legal_representative": "王五",
        "contact_name": "王五",
        "contact_mobile": "13800000099",
        "employees": "3",
    }
    data.update(overrides)
    return data


def test_create_form_limits_choices_and_creates(client, world, regions):
    client.force_login(world.community)
    r = client.get(f"{LIST}new/")
    choices = dict(r.context["form"].fields["region"].choices)
    assert str(regions["官园第1网格"].pk) in choices and str(regions["官园社区"].pk) in choices
    assert str(regions["乔家巷社区"].pk) not in choices and str(regions["光华路街道"].pk) not in choices
    r = client.post(f"{LIST}new/", form_data(world))
    est = Establishment.objects.get(name="光明书店")
    assert r.status_code == 302 and r["Location"] == f"{LIST}{est.pk}/"
    assert est.contact_mobile == "13800000099" and est.created_by == world.community
    # Someone else's community is not a choice.
    r = client.post(f"{LIST}new/", form_data(world, name="别处", credit_code="", region=regions["乔家巷社区"].pk))
    assert r.status_code == 200 and "region" in r.context["form"].errors


def test_create_road_sections_are_those_of_the_subdistrict(client, world, regions):
    ours = RoadSection.objects.create(code="R1", name="光华路（一段）", subdistrict=regions["光华路街道"])
    theirs = RoadSection.objects.create(code="R2", name="乔家巷（一段）", subdistrict=regions["头二三街道"])
    client.force_login(world.community)
    options = client.get(f"{LIST}road-sections/", {"region": regions["官园社区"].pk}).content.decode()
    assert ours.name in options and theirs.name not in options
    r = client.post(f"{LIST}new/", form_data(world, road_section=theirs.pk))
    assert r.status_code == 200 and "road_section" in r.context["form"].errors
    r = client.post(f"{LIST}new/", form_data(world, road_section=ours.pk))
    assert r.status_code == 302
    assert Establishment.objects.get(name="光明书店").road_section == ours


def test_create_errors_keep_what_was_typed(client, world):
    client.force_login(world.community)
    r = client.post(f"{LIST}new/", form_data(world, credit_code="91410502000000001X", contact_mobile="12345"))
    html = r.content.decode()
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert "credit_code" in errors and "contact_mobile" in errors
    assert 'value="光华路9号"' in html and 'value="光明书店"' in html
    assert not Establishment.objects.filter(name="光明书店").exists()


def test_create_duplicate_links_to_the_existing_record(client, world):
    client.force_login(world.community)
    e1 = world.est["e1"]
    r = client.post(f"{LIST}new/", form_data(world, credit_code=e1.credit_code))
    html = r.content.decode()
    assert r.status_code == 200 and "请勿重复登记" in html
    assert f'href="{LIST}{e1.pk}/" data-testid="duplicate-link"' in html


def test_edit_does_not_reveal_and_keeps_personal_fields_left_empty(client, world):
    e1 = world.est["e1"]
    client.force_login(world.community)
    r = client.get(f"{LIST}{e1.pk}/edit/")
    html = r.content.decode()
    assert MOBILES["e1"] not in html and "欧阳明" not in html and "138****0018" in html
    data = form_data(
        world,
        name="光华路超市（新）",
        credit_code=e1.credit_code,
        region=e1.region_id,
        legal_representative="",
        contact_name="",
        contact_mobile="",
        version=e1.version,
    )
    r = client.post(f"{LIST}{e1.pk}/edit/", data)
    assert r.status_code == 302
    e1.refresh_from_db()
    assert e1.name == "光华路超市（新）" and e1.contact_mobile == MOBILES["e1"] and e1.legal_representative == "欧阳明"
    assert e1.version == 2
    assert EstablishmentEvent.objects.filter(establishment=e1, kind="updated").exists()


def test_edit_conflict_keeps_the_typed_values(client, world):
    e1 = world.est["e1"]
    client.force_login(world.community)
    stale = e1.version
    # Someone else saves first.
    services.establishment_update(
        establishment=Establishment.objects.get(pk=e1.pk),
        actor=world.grid_worker,
        data={"address": "他人改的地址", "credit_code": e1.credit_code},
        expected_version=stale,
    )
    typed = form_data(
        world,
        name="我改的名称",
        credit_code=e1.credit_code,
        region=e1.region_id,
        address="我填的地址",
        contact_mobile="13800000077",
        version=stale,
    )
    r = client.post(f"{LIST}{e1.pk}/edit/", typed)
    html = r.content.decode()
    assert r.status_code == 200
    assert "已被他人修改" in html
    assert 'value="我改的名称"' in html and 'value="我填的地址"' in html and 'value="13800000077"' in html
    assert "他人改的地址" in html  # what is saved now, shown beside
    e1.refresh_from_db()
    assert e1.name == "光华路超市" and e1.address == "他人改的地址"
    # The form now carries the current version: saving again is a deliberate overwrite.
    assert f'name="version" value="{e1.version}"' in html
    r = client.post(f"{LIST}{e1.pk}/edit/", {**typed, "version": e1.version})
    assert r.status_code == 302
    e1.refresh_from_db()
    assert e1.name == "我改的名称" and e1.address == "我填的地址" and e1.contact_mobile == "13800000077"


def test_transition_through_the_page(client, world):
    e3 = world.est["e3"]
    client.force_login(world.community)
    r = client.get(f"{LIST}{e3.pk}/transition/")
    assert {v for v, _ in r.context["form"].fields["to"].choices} == {Status.FILING, Status.SUSPENDED, Status.CLOSED}
    r = client.post(f"{LIST}{e3.pk}/transition/", {"to": Status.RESUMED})
    assert r.status_code == 200 and r.context["form"].errors  # not allowed from 未复工
    r = client.post(f"{LIST}{e3.pk}/transition/", {"to": Status.FILING, "note": "已提交方案"})
    assert r.status_code == 302
    e3.refresh_from_db()
    assert e3.status == Status.FILING
    ev = EstablishmentEvent.objects.get(establishment=e3, kind="status")
    assert (ev.from_status, ev.to_status, ev.note, ev.actor) == (Status.NOT_RESUMED, Status.FILING, "已提交方案", world.community)


# --- enterprise ------------------------------------------------------------------------------------


@pytest.fixture
def enterprise_user(world, regions) -> User:
    unit = OrgUnit.objects.create(code="QY1", name="光华路超市", kind=OrgUnit.Kind.ENTERPRISE, region=regions["官园社区"])
    user = User.objects.create_user(username="qy1", password="x", display_name="李四")
    Post.objects.create(user=user, unit=unit, region=regions["官园社区"], role=Role.ENTERPRISE, valid_from=START)
    EnterpriseAccount.objects.create(user=user, establishment=world.est["e1"], confirmed=True)
    return user


def test_enterprise_sees_and_edits_only_its_contact(client, world, enterprise_user):
    e1 = world.est["e1"]
    assert listed(client, enterprise_user) == {e1.pk}
    assert client.get(f"{LIST}{world.est['e2'].pk}/").status_code == 404
    assert client.get(f"{LIST}new/").status_code == 403
    r = client.get(f"{LIST}{e1.pk}/edit/")
    assert set(r.context["form"].fields) == {"contact_name", "contact_mobile", "version"}
    r = client.post(f"{LIST}{e1.pk}/edit/", {"contact_mobile": "13800000055", "name": "改名", "version": e1.version})
    assert r.status_code == 302
    e1.refresh_from_db()
    assert e1.contact_mobile == "13800000055" and e1.name == "光华路超市" and e1.contact_name == "李四"
    assert client.post(f"{LIST}{e1.pk}/reveal/contact_mobile/").status_code == 403


# --- the Excel export link -------------------------------------------------------------------------


def export_links(html: str) -> list[tuple[str, bool]]:
    """(href, is an out-of-band swap) of every export link in the page or fragment."""
    out = []
    for tag in re.findall(r'<a [^>]*data-testid="export-establishments"[^>]*>', html):
        href = re.search(r'href="([^"]*)"', tag)
        assert href is not None, tag
        out.append((unescape(href.group(1)), 'hx-swap-oob="true"' in tag))
    return out


def test_export_link_for_roles_that_may_export(client, world, enterprise_user):
    from taizhang.transfer.ledgers import EstablishmentLedger

    assert EstablishmentLedger.export_roles == EXPORTERS  # the button is shown to exactly those the export admits
    for user in (world.community, world.grid_worker, world.department, world.leader):
        client.force_login(user)
        html = client.get(LIST).content.decode()
        assert export_links(html) == [("/transfer/establishments/export", False)], user
        assert "导出 Excel" in html and client.get("/transfer/establishments/export").status_code == 200
    client.force_login(enterprise_user)  # reads its own establishment, exports nothing
    html = client.get(LIST).content.decode()
    assert export_links(html) == [] and "导出 Excel" not in html
    assert client.get("/transfer/establishments/export").status_code == 403


def test_export_link_carries_the_filters_also_after_an_htmx_change(client, world, regions):
    client.force_login(world.community)
    grid = regions["官园第2网格"].pk
    html = client.get(LIST, {"q": "启明", "region": grid, "status": "", "page": 2, "page_size": 20}).content.decode()
    ((href, oob),) = export_links(html)
    assert not oob and href.startswith("/transfer/establishments/export?")
    assert parse_qs(urlsplit(href).query) == {"q": ["启明"], "region": [str(grid)]}  # no page, no empty filters

    # The filter bar asks for the results fragment (hx-get on the form, with every field of the form): the fragment
    # carries the link again, swapped out of band into the page head, with the new filters.
    form = {"q": "", "region": "", "kind": "supermarket", "category": "", "status": "not_resumed", "page_size": "50"}
    r = client.get(LIST, {**form, "above_size": "on"}, HTTP_HX_REQUEST="true")
    fragment = r.content.decode()
    assert "<html" not in fragment
    ((href, oob),) = export_links(fragment)
    assert oob and parse_qs(urlsplit(href).query) == {"kind": ["supermarket"], "status": ["not_resumed"], "above_size": ["on"]}
    page = client.get(LIST).content.decode()  # the page head holds the element the fragment replaces
    assert re.search(r'<a [^>]*id="export-establishments"', page) and 'id="export-establishments"' in fragment


def test_export_link_is_not_swapped_for_those_who_cannot_export(client, world, enterprise_user):
    client.force_login(enterprise_user)
    fragment = client.get(LIST, {"q": "光华"}, HTTP_HX_REQUEST="true").content.decode()
    assert export_links(fragment) == [] and "光华路超市" in fragment
