"""The list page's 导出 Excel button in a real browser: it follows the filters changed through htmx (the fragment swaps
it out of band into the page head), leads to the export's confirmation and to a finished job, at desktop and phone
widths. Screenshots go to var/screenshots/establishments-export-*.png."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from taizhang.core.roles import Role
from taizhang.establishments.models import EstablishmentKind, Status
from taizhang.establishments.services import establishment_create, establishment_transition
from taizhang.testing import PASSWORD

from .conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(make_user: Any, regions: Any) -> Any:
    user = make_user(Role.COMMUNITY, "官园社区", username="guanyuan_export")
    shop = EstablishmentKind.objects.get(code="shop")
    for n, (name, place) in enumerate(
        [("光华超市", "官园社区"), ("便民超市", "官园第1网格"), ("文明超市", "官园第1网格"), ("启明书店", "官园第2网格")], 1
    ):
        est = establishment_create(
            actor=user,
            data={
                "name": name,
                "kind": shop,
                "region": regions[place],
                "address": f"光华路{n}号",
                "contact_mobile": f"1380000{n:04d}",
            },
        )
        if name == "便民超市":
            establishment_transition(establishment=est, to=Status.FILING, actor=user)
    return user


def _export_query(page: Any) -> dict[str, list[str]]:
    href = page.get_by_test_id("export-establishments").get_attribute("href")
    assert href.startswith("/transfer/establishments/export"), href
    return parse_qs(urlsplit(href).query)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (360, 740)], ids=["desktop", "phone"])
def test_export_button_follows_the_filters_and_exports(page_factory: Any, worker: Any, width: int, height: int) -> None:
    page = page_factory(width, height)
    login(page, worker.username, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/establishments/")
    button = page.get_by_test_id("export-establishments")
    assert button.is_visible() and button.inner_text() == "导出 Excel"
    assert _export_query(page) == {}

    page.select_option("#id_status", "not_resumed")  # htmx: the results and the button are swapped
    page.wait_for_url("**status=not_resumed**")
    page.fill("#id_q", "超市")
    page.wait_for_url("**q=%E8%B6%85%E5%B8%82**")
    page.wait_for_function("document.querySelectorAll('[data-testid=export-establishments]').length === 1")
    page.wait_for_function("document.querySelector('[data-testid=export-establishments]').href.includes('q=')")
    assert _export_query(page) == {"q": ["超市"], "status": ["not_resumed"]}
    table = page.get_by_test_id("establishment-table").inner_text()
    assert "光华超市" in table and "文明超市" in table and "便民超市" not in table and "启明书店" not in table
    if width <= 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"establishments-export-{'phone' if width <= 360 else 'desktop'}")

    page.get_by_test_id("export-establishments").click()
    page.wait_for_url("**/transfer/establishments/export?**")
    assert "关键词=超市" in page.inner_text("main") and "状态=未复工" in page.inner_text("main")
    shot(page, f"establishments-export-confirm-{'phone' if width <= 360 else 'desktop'}")
    page.get_by_role("button", name="开始导出").click()
    page.wait_for_url("**/transfer/jobs/*/")
    assert "导出完成：共 2 行" in page.inner_text("main")
