from __future__ import annotations

import pytest
from django.db import connection

from taizhang.core.errors import ApplicationError
from taizhang.regions.models import Level, Region
from taizhang.regions.selectors import find_region_by_name
from taizhang.regions.services import load_nbs_divisions, region_create_local


def test_nbs_load_is_complete_and_idempotent(regions):
    assert Region.objects.filter(is_local=False).count() == 178
    assert Region.objects.get(code="410502000000").name == "文峰区"
    assert load_nbs_divisions() == 0  # second run creates nothing
    assert Region.objects.filter(is_local=False).count() == 178


def test_levels_follow_the_nbs_release(regions):
    counts = {lvl: Region.objects.filter(level=lvl, is_local=False).count() for lvl in Level.values}
    assert counts["district"] == 2
    assert counts["subdistrict"] == 18
    # 紫薇大道街道 has the 11 villages/communities of the article
    ziwei = find_region_by_name("紫薇大道街道").get()
    assert ziwei.children.count() == 11


def test_aliases_find_the_article_names(regions):
    assert find_region_by_name("头二三道街街道").get().code == "410502002000"
    assert find_region_by_name("官园社区").get().code == "410502013002"
    assert find_region_by_name("三官庙村").get().code == "410502012200"


def test_subtree_holds_exactly_the_descendants(regions):
    guanghua = find_region_by_name("光华路街道").get()
    subtree = set(Region.objects.subtree(guanghua).values_list("code", flat=True))
    expected = {r.code for r in Region.objects.all() if r.path.startswith(guanghua.path)}
    assert subtree == expected
    assert regions["官园第1网格"].code in subtree
    assert regions["乔家巷第1网格"].code not in subtree
    # a sibling whose code shares the prefix digits is not inside
    assert all(c.startswith("410502013") for c in subtree)


def test_subtree_is_one_indexed_query(regions, django_assert_num_queries):
    guanghua = find_region_by_name("光华路街道").get()
    qs = Region.objects.subtree(guanghua).only("id")
    with django_assert_num_queries(1):
        list(qs)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
        assert "Index" in plan and "regions_region_path" in plan, plan
    else:
        plan = qs.explain()
        assert "SEARCH regions_region USING" in plan and "(path>? AND path<?)" in plan, plan


@pytest.mark.parametrize(
    ("role", "places"),
    [
        ("community", ["官园社区"]),
        ("subdistrict", ["光华路街道", "乔家巷第1网格"]),
        ("leader", ["文峰区"]),
        ("sysadmin", []),  # the whole tree
        ("enterprise", ["官园社区"]),  # no region scope
    ],
)
def test_scope_covers_is_visible_to_in_memory(regions, make_user, role, places):
    """Scope.covers(path), used on a region row already loaded, answers what Region.objects.visible_to asks SQL."""
    from taizhang.accounts.models import Post
    from taizhang.core.scoping import forget_scope, scope_of

    user = make_user(role=role, region=places[0] if places else "文峰区")
    for name in places[1:]:
        Post.objects.create(user=user, unit=Post.objects.filter(user=user).first().unit, region=regions[name], role=role)
    forget_scope(user)
    scope = scope_of(user)
    visible = set(Region.objects.visible_to(user).values_list("pk", flat=True))
    assert {r.pk for r in Region.objects.all() if scope.covers(r.path)} == visible
    assert bool(visible) == (role != "enterprise")


def test_local_levels_follow_the_hierarchy(regions):
    grid = regions["官园第1网格"]
    compound = region_create_local(parent=grid, level=Level.COMPOUND, name="官园1号院")
    unit = region_create_local(parent=compound, level=Level.UNIT, name="1单元")
    assert unit.path.startswith(grid.path)
    assert unit.depth == grid.depth + 2
    with pytest.raises(ApplicationError, match="不能直接设置"):
        region_create_local(parent=regions["光华路街道"], level=Level.GRID, name="错误网格")
    with pytest.raises(ApplicationError, match="统计局"):
        region_create_local(parent=regions["光华路街道"], level=Level.COMMUNITY, name="新社区")
    with pytest.raises(ApplicationError, match="已有"):
        region_create_local(parent=regions["官园社区"], level=Level.GRID, name="第1网格")
