"""The issue-3 demo data: a 1% build written to the database, and the full-scale plan checked in memory."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from taizhang.accounts.models import Post, User
from taizhang.core.protected import blind_index
from taizhang.core.roles import Role
from taizhang.demo import scenario
from taizhang.duties.demo import TOWN_CATEGORIES, build_duties
from taizhang.duties.models import Assignment, Kind
from taizhang.duties.selectors import responsible_for
from taizhang.establishments import demo
from taizhang.establishments.models import TRANSITIONS, EnterpriseAccount, Establishment, EstablishmentEvent, Status
from taizhang.establishments.services import name_initials
from taizhang.establishments.validators import normalize_mobile, validate_credit_code
from taizhang.industries.services import read_district_grouping
from taizhang.regions.models import Region
from taizhang.regions.services import load_nbs_divisions

AS_OF = date(2020, 3, 19)
SCALE = 0.01


def _context() -> scenario.Context:
    load_nbs_divisions()
    ctx = scenario.Context(
        today=AS_OF, district=Region.objects.get(code="410502000000"), gaoxin=Region.objects.get(code="410571000000")
    )
    scenario.build_regions(ctx)
    return ctx


@pytest.fixture(scope="module")
def _small_demo_module(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end; each test's own
    transaction (the `db` fixture) nests in it, so what a test changes is undone after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = _context()
        scenario.build_units_and_users(ctx)
        build_duties(ctx, password=scenario.DEMO_PASSWORD, start=ctx.start)
        demo.build_establishments(ctx, password=scenario.DEMO_PASSWORD, start=ctx.start, scale=SCALE)
        yield ctx
        transaction.set_rollback(True)


@pytest.fixture
def small_demo(_small_demo_module, db):
    return _small_demo_module


def test_targets_are_the_article_figures():
    t = demo.Targets.at(1.0)
    assert (t.resumed, t.above_size, t.schools, t.kindergartens, t.tutoring) == (13_400, 51, 48, 107, 850)
    assert t.pool > t.resumed
    small = demo.Targets.at(SCALE)
    assert (small.resumed, small.above_size, small.schools) == (134, 1, 1)


def test_plan_covers_the_grouping_consistently():
    minors = {r.minor_code for r in read_district_grouping()}
    assert set(demo.PLAN) | set(demo.SCHOOL_LIKE.values()) | {demo.RENTAL_CATEGORY} == minors
    assert set(TOWN_CATEGORIES) == {r.minor_code for r in read_district_grouping() if not r.department_code}
    assert all(p.kind in {"enterprise", "shop", "supermarket", "mall", "public_venue"} for p in demo.PLAN.values())
    for prefix in demo.MOBILE_PREFIXES:
        assert normalize_mobile(prefix + "12345678") == prefix + "12345678"


def test_full_scale_plan_has_the_article_counts(db):
    """The whole 2020-03-19 plan, in memory: exactly 13,400 resumed, 51 of them 限上, 48/107/850 schools."""
    ctx = _context()
    builder = demo.Builder(ctx, password="x", start=ctx.start, scale=1.0, seed=2020)
    rows = builder.plan_rows()
    builder.statuses(rows)
    kinds = Counter(r.kind for r in rows)
    assert (kinds["school"], kinds["kindergarten"], kinds["tutoring"]) == (48, 107, 850)
    assert all("民办" in r.name for r in rows if r.kind == "kindergarten")
    resumed = [r for r in rows if r.status == Status.RESUMED]
    assert len(resumed) == 13_400
    assert sum(r.above_size for r in resumed) == 51
    assert not any(r.kind in demo.SCHOOL_LIKE for r in resumed)  # schools had not reopened by 3-19
    assert all(demo.RESUMPTION_FROM <= (r.resumed_on or date.min) <= AS_OF for r in resumed)
    assert len({r.name for r in rows if r.name}) == sum(1 for r in rows if r.name)  # names are unique
    assert 20 <= sum(r.key_target for r in rows) <= 80


def test_small_demo_counts_and_consistency(small_demo):
    t = demo.Targets.at(SCALE)
    est = Establishment.objects.select_related("kind", "category", "road_section")
    assert est.filter(status=Status.RESUMED).count() == t.resumed
    assert est.filter(status=Status.RESUMED, above_size=True).count() == t.above_size
    assert est.filter(kind__code="school").count() == t.schools
    assert est.filter(kind__code="kindergarten", name__contains="民办").count() == t.kindergartens
    assert est.filter(kind__code="tutoring").count() == t.tutoring
    summary = small_demo.extra["establishments"]
    assert summary["establishments"] == est.count() and summary["resumed"] == t.resumed
    dennis = est.get(name=demo.DENNIS_NAME)
    assert (dennis.status, dennis.resumed_on, dennis.key_target, dennis.above_size) == (
        Status.RESUMED,
        date(2020, 3, 5),
        True,
        True,
    )
    assert dennis.road_section.name.startswith("文峰大道")
    for e in est:
        assert e.name_initials == name_initials(e.name) and e.region_path == e.region.path
        assert e.region.path.startswith(e.road_section.subdistrict.path)
        assert normalize_mobile(e.contact_mobile) == e.contact_mobile
        if e.kind.code == "rental_house":
            assert e.credit_code is None
        else:
            assert validate_credit_code(e.credit_code or "") == e.credit_code
        fixed = demo.SCHOOL_LIKE.get(e.kind.code) or (demo.RENTAL_CATEGORY if e.kind.code == "rental_house" else None)
        if fixed:
            assert e.category.code == fixed
        else:
            assert demo.PLAN[e.category.code].kind == e.kind.code
        assert e.industry in e.category.industry_codes.all()
        town = TOWN_CATEGORIES.get(e.category.code)
        assert town is None or e.region.parent.code == town
    # Every history follows the transition table and ends in the current status.
    history: dict[int, list[EstablishmentEvent]] = {}
    for ev in EstablishmentEvent.objects.order_by("establishment_id", "at", "id"):
        history.setdefault(ev.establishment_id, []).append(ev)
    for e in est:
        events = history[e.pk]
        assert events[0].kind == EstablishmentEvent.Kind.IMPORTED
        state = events[0].to_status
        for ev in events[1:]:
            assert ev.from_status == state and ev.to_status in TRANSITIONS[state]
            state = ev.to_status
        assert state == e.status
        if e.status == Status.RESUMED:
            assert events[-1].at.date() == e.resumed_on


def test_every_establishment_has_people_on_both_axes(small_demo):
    sample = random.Random(3).sample(list(Establishment.objects.select_related("region")), 25)
    for e in sample:
        r = responsible_for(e, on=AS_OF)
        assert r.complete, (e.name, r.gaps)
        assert r.territorial and r.sectoral
        assert all(link.people for link in (*r.territorial, *r.sectoral)), e.name
        holder = r.territorial[0]
        assert holder.label == "包联人员" and holder.people[0].posts.filter(role=Role.COMMUNITY, region=e.region).exists()


def test_staff_and_assignments(small_demo):
    # 3–8 community staff per community, each with a community post; every establishment has one 包联 holder.
    per_unit = Counter(
        Post.objects.filter(role=Role.COMMUNITY, unit__kind="community_committee").values_list("unit_id", flat=True)
    )
    assert min(per_unit.values()) >= demo.STAFF_MIN and max(per_unit.values()) <= demo.STAFF_MAX
    holders = Assignment.objects.filter(kind=Kind.STAFF_SUBJECT, subject_type="establishments.establishment")
    assert holders.count() == Establishment.objects.count() == holders.values("subject_id").distinct().count()
    assert Assignment.objects.filter(kind=Kind.CATEGORY_DEPARTMENT).count() == 81
    assert Assignment.objects.filter(kind=Kind.DEPARTMENT_SUBDISTRICT).count() == 18
    assert Assignment.objects.filter(kind=Kind.DEPARTMENT_SUBDISTRICT).values("unit").distinct().count() == 16
    roads = Assignment.objects.filter(kind=Kind.STAFF_ROAD).select_related("user", "road_section", "unit")
    assert roads.count() == Region.objects.filter(level="subdistrict").count() * 3
    for a in roads:
        assert a.unit.region_id == a.road_section.subdistrict_id
        assert a.user is not None and a.user.posts.filter(unit=a.unit, role=Role.SUBDISTRICT).exists()
    # bulk-created users log in with the demo password
    assert User.objects.get(username="sq013002_3").check_password(scenario.DEMO_PASSWORD)


def test_enterprise_logins(small_demo):
    entries = small_demo.logins[Role.ENTERPRISE]
    assert entries[0]["scope"] == demo.DENNIS_NAME
    for entry in entries:
        user = User.objects.get(username=entry["username"])
        assert user.check_password(entry["password"])
        account = EnterpriseAccount.objects.get(user=user)
        assert account.confirmed and account.establishment.name == entry["scope"]
        post = user.posts.get()
        assert post.role == Role.ENTERPRISE and post.unit.kind == "enterprise" and post.region == account.establishment.region
        assert list(Establishment.objects.visible_to(user)) == [account.establishment]


def test_personal_fields_are_encrypted_in_the_database(small_demo):
    plain = {e.pk: (e.contact_mobile, e.contact_name, e.legal_representative) for e in Establishment.objects.all()}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, contact_mobile, contact_mobile_bidx, contact_name, legal_representative FROM establishments_establishment"
        )
        rows = cur.fetchall()
    assert len(rows) == len(plain)
    for pk, mobile, bidx, name, legal in rows:
        p_mobile, p_name, p_legal = plain[pk]
        assert mobile.startswith("v1:") and p_mobile not in mobile
        assert bidx == blind_index("mobile", p_mobile)
        assert name.startswith("v1:") and p_name not in name
        if p_legal:
            assert legal.startswith("v1:") and p_legal not in legal
        else:
            assert legal == ""
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM establishments_establishment WHERE contact_mobile LIKE %s", [f"%{p_mobile}%"])
        assert cur.fetchone()[0] == 0


def test_check_responsibility_command(small_demo):
    out = StringIO()
    call_command("check_responsibility", on=AS_OF, stdout=out)
    text = out.getvalue()
    total = Establishment.objects.count()
    assert f"对象总数：{total}" in text and f"两条线均完整：{total}" in text and "缺少的环节：无" in text
    # end one holder's 包联 before the date: the command names the gap and fails
    gone = Assignment.objects.filter(kind=Kind.STAFF_SUBJECT).order_by("pk").first()
    Assignment.objects.filter(pk=gone.pk).update(valid_to=date(2020, 2, 1))
    out = StringIO()
    with pytest.raises(CommandError, match="1 个对象"):
        call_command("check_responsibility", on=AS_OF, stdout=out)
    assert "缺少的环节：包联人员 1" in out.getvalue() and f"#{gone.subject_id}" in out.getvalue()
    with pytest.raises(CommandError, match="未知的对象模型"):
        call_command("check_responsibility", subject="nope.nothing", stdout=StringIO())


def test_scopes_on_the_demo_data(small_demo):
    """Done-when of issue 3 on the demo: a community worker sees their community plus their 包联; a department
    sees its categories and the sub-districts it covers."""
    grid_worker = User.objects.get(username="guanyuan_grid1")  # post on 官园第1网格; establishments sit on communities
    held = set(
        Assignment.objects.filter(
            kind=Kind.STAFF_SUBJECT, user=grid_worker, subject_type="establishments.establishment"
        ).values_list("subject_id", flat=True)
    )
    assert held and set(Establishment.objects.visible_to(grid_worker).values_list("pk", flat=True)) == held
    community = User.objects.get(username="guanyuan_bi")
    guanyuan = Region.objects.get(short_name="官园社区")
    assert set(Establishment.objects.visible_to(community)) == set(Establishment.objects.filter(region=guanyuan))
    department = User.objects.get(username="swj_liu")
    duties = Assignment.objects.filter(unit__code="SWJ")
    categories = set(duties.filter(kind=Kind.CATEGORY_DEPARTMENT).values_list("category_id", flat=True))
    subdistricts = list(duties.filter(kind=Kind.DEPARTMENT_SUBDISTRICT).values_list("region__path", flat=True))
    expected = {
        e.pk
        for e in Establishment.objects.all()
        if e.category_id in categories or any(e.region_path.startswith(p) for p in subdistricts)
    }
    assert expected and set(Establishment.objects.visible_to(department).values_list("pk", flat=True)) == expected
