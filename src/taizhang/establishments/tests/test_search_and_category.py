"""The list's category filter and search box (selectors.establishment_list): the same rows as the plain ORs they
replace, through the indexes of docs/adr/0011-establishment-indexes.md."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from taizhang.establishments import selectors
from taizhang.establishments.models import Establishment
from taizhang.establishments.validators import make_credit_code


def listed(user: Any, **filters: Any) -> set[int]:
    return set(selectors.establishment_list(user=user, filters=filters).values_list("pk", flat=True))


def searched(user: Any, text: str) -> set[int]:
    return listed(user, q=text)


@pytest.fixture
def taxonomy(world):
    """Establishments filed under a major category itself, under each of its minors, under another major's minor,
    and under none."""
    e = {
        "retail": world.establishment("官园百货", "官园第1网格", category="商贸零售"),
        "supermarket": world.establishment("官园超市", "官园第2网格", category="超市"),
        "corner": world.establishment("乔家巷便利店", "乔家巷社区", category="便利店"),
        "tutoring": world.establishment("启明辅导学校", "官园社区", category="辅导学校"),
        "education": world.establishment("官园培训中心", "乔家巷第1网格", category="教育培训"),
        "none": world.establishment("无类别商店", "官园社区", category="超市"),
    }
    Establishment.objects.filter(pk=e["none"].pk).update(category=None)
    return e


# --- category ------------------------------------------------------------------------------------


def test_category_filter_selects_the_same_rows_as_category_or_its_parent(world, taxonomy):
    leader = world.users["leader"]
    for category in [*world.categories.values(), 999_999]:
        pk = getattr(category, "pk", category)
        old = set(Establishment.objects.filter(Q(category=pk) | Q(category__parent=pk)).values_list("pk", flat=True))
        assert listed(leader, category=category) == old, category
        assert listed(leader, category=pk) == old, category
    e = taxonomy
    assert listed(leader, category=world.categories["商贸零售"]) == {e["retail"].pk, e["supermarket"].pk, e["corner"].pk}
    assert listed(leader, category=world.categories["超市"]) == {e["supermarket"].pk}
    assert listed(leader, category=world.categories["教育培训"]) == {e["tutoring"].pk, e["education"].pk}


def test_category_filter_keeps_the_scope_and_the_other_filters(world, taxonomy):
    e = taxonomy
    community = world.users["guanyuan_a"]
    retail = world.categories["商贸零售"].pk
    assert listed(community, category=retail) == {e["retail"].pk, e["supermarket"].pk}  # not 乔家巷's 便利店
    assert listed(community, category=retail, q="超市") == {e["supermarket"].pk}
    counts = selectors.status_counts(user=community, filters={"category": retail})
    assert sum(counts.values()) == 2


def test_category_filter_is_an_id_list_without_a_join(world, taxonomy):
    # `category_id IN (…)` is what est_category_status_idx serves (its plan at 200,000 rows: ADR 0011); on the
    # tiny test tables the planner rightly prefers the scope's range, so the shape is asserted, not the plan.
    qs = selectors.establishment_list(user=world.users["leader"], filters={"category": world.categories["商贸零售"].pk})
    with CaptureQueriesContext(connection) as ctx:
        rows = list(qs)
    assert len(rows) == 3 and len(ctx.captured_queries) == 1
    where = str(qs.query).split(" WHERE ", 1)[1]
    assert '"category_id" IN (' in where and "parent_id" not in where, where


# --- search --------------------------------------------------------------------------------------


def test_a_complete_credit_code_finds_exactly_that_establishment(world, taxonomy):
    e = taxonomy["supermarket"]
    leader = world.users["leader"]
    code = e.credit_code
    assert searched(leader, code) == {e.pk}
    assert searched(leader, f" {code[:6].lower()} {code[6:12]}-{code[12:]} ") == {e.pk}  # spaces, dash, case
    # The scope still applies: 乔家巷's code is not found from 官园.
    assert searched(world.users["guanyuan_a"], taxonomy["corner"].credit_code) == set()


@pytest.mark.parametrize(
    "typed",
    ["13800000018", "138 0000 0018", "+86-138-0000-0018", "0086 138 0000 0018", "(+86)138-0000-0018", "１３８ ００００ ００１８"],
)
def test_a_mobile_in_any_usual_form_finds_its_establishment(world, typed):
    e = world.establishment("光华路超市", "官园第1网格", contact_mobile="13800000018")
    world.establishment("光华路便利店", "官园第2网格", contact_mobile="13800000019")
    assert searched(world.users["leader"], typed) == {e.pk}
    assert searched(world.users["qiaojia_a"], typed) == set()  # another community's mobile: not in scope


def test_partial_names_and_initials_find_names(world):
    a = world.establishment("光华路超市", "官园第1网格")
    b = world.establishment("光华路便利店", "官园第2网格")
    c = world.establishment("启明辅导学校", "官园社区")
    leader = world.users["leader"]
    assert searched(leader, "光华路") == {a.pk, b.pk}
    assert searched(leader, "辅导") == {c.pk}
    assert searched(leader, "ghl") == {a.pk, b.pk}
    assert searched(leader, "GHLCS") == {a.pk}
    assert searched(leader, "qm fd") == {c.pk}


def test_eighteen_characters_that_are_not_a_valid_code_search_names(world):
    long_name = "安阳市文峰区光华路百货超市有限公司"  # 17
    assert len(long_name + "店") == 18
    a = world.establishment(long_name + "店", "官园第1网格")
    leader = world.users["leader"]
    assert searched(leader, long_name + "店") == {a.pk}
    valid = make_credit_code(region="410502", body="MA000777")
    wrong_check = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    b = world.establishment(f"旧证{wrong_check}门市部", "官园第2网格")
    assert searched(leader, wrong_check) == {b.pk}


def test_numbers_that_are_not_a_mobile_search_names(world):
    a = world.establishment("光华路1号院超市", "官园第1网格")
    b = world.establishment("7天连锁酒店", "官园第2网格")
    leader = world.users["leader"]
    assert searched(leader, "1号院") == {a.pk}
    assert searched(leader, "7天") == {b.pk}


# --- plans ---------------------------------------------------------------------------------------


def plan_of(qs: Any) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # the test tables are tiny
    return str(qs.explain())


def list_plan(user: Any, **filters: Any) -> str:
    return plan_of(selectors.establishment_list(user=user, filters=filters).order_by())


def test_code_and_mobile_searches_use_their_indexes(world):
    e = world.establishment("光华路超市", "官园第1网格", contact_mobile="13800000018")
    # SQLite names the unique constraint's index sqlite_autoindex_…; PostgreSQL after the constraint.
    code_index = "est_credit_code_unique" if connection.vendor == "postgresql" else "USING INDEX sqlite_autoindex"
    for user in (world.users["leader"], world.users["guanyuan_a"]):
        plan = list_plan(user, q=e.credit_code)
        assert code_index in plan and "credit_code" in plan, plan
        plan = list_plan(user, q="138 0000 0018")
        assert "est_mobile_bidx_idx" in plan, plan


@pytest.mark.parametrize("typed", ["电话13800000018", "光华路 138-0000-0018", "张三１３８ ００００ ００１８（店长）"])
def test_a_mobile_inside_other_words_finds_its_establishment(world, typed):
    e = world.establishment("光华路超市", "官园第1网格", contact_mobile="13800000018")
    other = world.establishment("光华路便利店", "官园第2网格", contact_mobile="13800000019")
    assert searched(world.users["leader"], typed) == {e.pk}  # not the other 光华路 one: its mobile differs
    assert other.pk in searched(world.users["leader"], "光华路")
    assert searched(world.users["qiaojia_a"], typed) == set()  # another community's mobile: not in scope


def test_longer_digit_runs_inside_words_are_not_taken_for_a_mobile(world):
    world.establishment("光华路超市", "官园第1网格", contact_mobile="13800000018")
    leader = world.users["leader"]
    assert searched(leader, "编号13800000018") != set()  # the same text with the mobile alone does find it
    assert searched(leader, "编号213800000018") == set()  # 12 digits: not a mobile, and no name holds them
    assert searched(leader, "编号138000000189") == set()
