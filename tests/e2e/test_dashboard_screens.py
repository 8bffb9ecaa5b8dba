"""The dashboard of the demo (the Wenfeng 2020 scenario, shrunk) in a real browser: charts drawn from the locally
served ECharts under the CSP, nothing wider than a 360-px phone, drill-down, the big screen and the daily report.
Screenshots go to var/screenshots/dashboard-*.png."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from taizhang.demo import scenario
from taizhang.establishments.models import Establishment, Status
from taizhang.regions.models import Region

from .conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)
AS_OF = date(2020, 3, 19)


@pytest.fixture
def demo(settings: Any) -> Any:
    settings.TAIZHANG_DEMO_SCALE = 0.03
    return scenario.build(today=AS_OF)


def _watch_console(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _charts_drawn(page: Any, names: list[str]) -> None:
    for name in names:
        page.wait_for_selector(f'[data-chart="{name}"][data-rendered="1"]')
    sizes = page.eval_on_selector_all(
        "[data-chart] canvas", "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])"
    )
    assert sizes and all(w > 100 and h > 100 for w, h in sizes), sizes


def test_dashboard_desktop_drilldown_and_phone(page_factory: Any, demo: Any) -> None:
    resumed = Establishment.objects.filter(status=Status.RESUMED, resumed_on__lte=AS_OF).count()
    page = page_factory(1366, 900)
    errors = _watch_console(page)
    login(page, "leader", scenario.DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/dashboard/")
    _charts_drawn(page, ["resumed", "problems", "coverage"])
    assert page.get_by_test_id("resumed-total").inner_text().split("\n")[0].replace(",", "") == str(resumed)
    assert "截至3月19日复工复产" in page.inner_text("main")
    shot(page, "dashboard-desktop")

    # drill down: district → sub-district → community
    page.get_by_test_id("children").get_by_role("link", name="文峰区").click()
    page.get_by_test_id("children").get_by_role("link", name="光华路街道").click()
    _charts_drawn(page, ["resumed", "problems"])
    assert "光华路街道数据看板" in page.inner_text("h1")
    shot(page, "dashboard-desktop-subdistrict")
    page.get_by_test_id("children").get_by_role("link", name="官园社区").click()
    assert "官园社区数据看板" in page.inner_text("h1")
    # every figure links to its rows
    page.get_by_test_id("resumed-total").click()
    page.wait_for_url("**/establishments/**status=resumed**")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    phone = page_factory(360, 740)
    phone_errors = _watch_console(phone)
    login(phone, "ghl_wang", scenario.DEMO_PASSWORD)
    phone.wait_for_url("**/")
    phone.goto("/dashboard/")
    _charts_drawn(phone, ["resumed", "problems", "coverage"])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.evaluate("document.body.scrollWidth") <= 360
    shot(phone, "dashboard-phone")
    guanyuan = Region.objects.get(short_name="官园社区")
    phone.goto(f"/dashboard/?region={guanyuan.pk}")
    _charts_drawn(phone, ["resumed"])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert not [e for e in phone_errors if "favicon" not in e and "404" not in e], phone_errors
    outside = phone.goto(f"/dashboard/?region={Region.objects.get(short_name='乔家巷社区').pk}")
    assert outside is not None and outside.status == 404


def test_big_screen_and_daily_report(page_factory: Any, demo: Any) -> None:
    page = page_factory(1600, 900)
    login(page, "leader", scenario.DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/dashboard/screen/")
    _charts_drawn(page, ["resumed", "problems", "coverage"])
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "60"
    shot(page, "dashboard-screen")
    page.goto("/dashboard/reports/")
    page.get_by_test_id("report-history").get_by_role("link").first.click()
    assert "信息日报" in page.inner_text("h1")
    assert int(page.get_by_test_id("missing-count").inner_text()) >= 0
    shot(page, "dashboard-daily-report")
    phone = page_factory(360, 740)
    login(phone, "guanyuan_bi", scenario.DEMO_PASSWORD)
    phone.wait_for_url("**/")
    phone.goto("/dashboard/reports/file/")
    assert "官园社区" in phone.inner_text("h1")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "dashboard-phone-file-report")
