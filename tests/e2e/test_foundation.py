"""Login, navigation and scope, in a real browser, at desktop and phone widths."""

from __future__ import annotations

import pytest

from taizhang.core.roles import Role
from taizhang.testing import PASSWORD

from .conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_community_worker_sees_only_their_community(page_factory, make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区", username="guanyuan_e2e")
    page = page_factory()
    login(page, user.username, PASSWORD)
    page.wait_for_url("**/")
    assert "官园社区" in page.get_by_test_id("my-posts").inner_text()
    assert "乔家巷社区" not in page.inner_text("main")
    page.locator("#sidenav").get_by_role("link", name="区划网格").click()
    table = page.get_by_test_id("region-table").inner_text()
    assert "官园社区" in table and "乔家巷社区" not in table
    page.get_by_role("link", name="官园社区").click()
    assert "第1网格" in page.inner_text("main")
    shot(page, "community-region-detail")
    # another community's record by URL: the same 404 as a missing one
    other = page.goto(f"/regions/{regions['乔家巷社区'].pk}/")
    assert other is not None and other.status == 404
    assert "记录不存在" in page.inner_text("main")
    missing = page.goto("/regions/99999999/")
    assert missing is not None and missing.status == 404
    # and in the API, with the browser's session
    api = page.request.get(f"/api/v1/regions/{regions['乔家巷社区'].pk}")
    assert api.status == 404 and api.json()["error"]["code"] == "not_found"


def test_phone_width_login_navigation_and_logout(page_factory, make_user):
    user = make_user(Role.SUBDISTRICT, "光华路街道", username="ghl_e2e")
    page = page_factory(360, 740)
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "wrong-password-1A!")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.get_by_test_id("login-error").inner_text()
    assert page.input_value("#id_username") == user.username  # what was typed is kept
    shot(page, "phone-login-error")
    login(page, user.username, PASSWORD)
    page.wait_for_url("**/")
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    nav = page.locator("#sidenav")
    assert not nav.is_visible()
    page.click("[data-nav-toggle]")
    assert nav.is_visible()
    shot(page, "phone-nav-open")
    nav.get_by_role("link", name="区划网格").click()
    assert "光华路街道" in page.get_by_test_id("region-table").inner_text()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/")
    assert page.goto("/").url.endswith("/accounts/login/?next=/")
