from __future__ import annotations

from datetime import date

import pytest

from taizhang.accounts.models import OrgUnit
from taizhang.accounts.services import post_end, post_grant
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.regions.models import Region
from taizhang.regions.selectors import access_region


def codes(user):
    return set(Region.objects.visible_to(user).values_list("code", flat=True))


def test_community_worker_sees_only_their_community(make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区")
    visible = codes(user)
    guanyuan = regions["官园社区"]
    assert visible == {r.code for r in Region.objects.filter(path__startswith=guanyuan.path)}
    assert regions["官园第1网格"].code in visible
    assert regions["乔家巷社区"].code not in visible
    assert regions["光华路街道"].code not in visible
    with pytest.raises(NotVisible):
        access_region(user, regions["乔家巷社区"].pk)
    with pytest.raises(NotVisible):
        access_region(user, 999_999)  # missing looks exactly the same


def test_grid_worker_sees_only_their_grid(make_user, regions):
    user = make_user(Role.COMMUNITY, "官园第1网格")
    assert codes(user) == {regions["官园第1网格"].code}


def test_union_of_posts(make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区")
    unit = OrgUnit.objects.create(
        code="X", name="乔家巷社区委员会", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=regions["乔家巷社区"]
    )
    post_grant(user=user, unit=unit, region=regions["乔家巷社区"], role=Role.COMMUNITY)
    user.refresh_from_db()
    visible = codes(user)
    assert regions["乔家巷第1网格"].code in visible
    assert regions["官园第1网格"].code in visible
    assert regions["光华路街道"].code not in visible


def test_ended_post_no_longer_opens_anything(make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区")
    post = user.posts.get()
    post_end(post=post, on=date(2020, 2, 1))
    user.refresh_from_db()
    assert codes(user) == set()
    assert scope_of(user).roles == frozenset()


def test_administrators_hold_no_business_post(make_user, regions):
    admin = make_user(Role.AUDITOR, "文峰区")
    unit = OrgUnit.objects.create(code="Y", name="社区", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=regions["官园社区"])
    with pytest.raises(ApplicationError, match="三员分立"):
        post_grant(user=admin, unit=unit, region=regions["官园社区"], role=Role.COMMUNITY)
    staff = make_user(Role.COMMUNITY, "官园社区")
    with pytest.raises(ApplicationError, match="三员分立"):
        post_grant(user=staff, unit=unit, region=regions["官园社区"], role=Role.SYSADMIN)
    assert not scope_of(admin).reads_personal_data
    assert codes(admin) == set()  # the auditor does not even browse regions


def test_post_region_must_lie_in_unit(make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区")
    unit = OrgUnit.objects.create(
        code="Z", name="乔家巷社区委员会", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=regions["乔家巷社区"]
    )
    with pytest.raises(ApplicationError, match="不在单位"):
        post_grant(user=user, unit=unit, region=regions["官园社区"], role=Role.COMMUNITY)
