"""Resumption filing in a real browser: an enterprise files on a phone, a department reviewer returns one
item, the enterprise resubmits, the reviewer approves; every step is on the establishment's timeline; another
enterprise cannot open the filing or its attachment by URL or API."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from taizhang.establishments.demo import ensure_kinds
from taizhang.establishments.models import Establishment, Status
from taizhang.filings import enterprise
from taizhang.filings.demo import ensure_templates
from taizhang.filings.models import Filing, FilingEvent, State

from .conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)
STAFF_PASSWORD = "x-Test-Password-1"  # taizhang.testing_domain.World.user
CONTACT_PASSWORD = "Qiye-Lianxiren-2020!"  # what a contact chooses at the first sign-in


def first_login(page, username: str, initial_password: str, screenshot: str = "") -> None:
    """A staff-opened account signs in with the initial password and must change it before anything else."""
    login(page, username, initial_password)
    page.wait_for_url(re.compile(r"/accounts/password/"))
    assert "您的密码由他人设置" in page.get_by_test_id("password-change-required").inner_text()
    if screenshot:
        shot(page, screenshot)
    page.fill("#id_old_password", initial_password)
    page.fill("#id_new_password1", CONTACT_PASSWORD)
    page.fill("#id_new_password2", CONTACT_PASSWORD)
    page.get_by_test_id("change-password-submit").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")


@pytest.fixture
def flow(settings, tmp_path, world):
    # transactional tests empty the tables that data migrations fill: put the shipped kinds and lists back
    ensure_kinds()
    ensure_templates()
    settings.TAIZHANG_PRIVATE_DIR = tmp_path / "private"
    w = world
    est = w.establishment("官园惠民超市", "官园第1网格")
    other = w.establishment("乔家巷便民超市", "乔家巷第1网格")
    account, password = enterprise.enterprise_account_create(establishment=est, actor=w.users["guanyuan_a"], username="huimin")
    other_account, other_password = enterprise.enterprise_account_create(
        establishment=other, actor=w.users["qiaojia_a"], username="bianmin"
    )
    pdf = tmp_path / "复工方案.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% e2e\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return {
        "w": w,
        "est": est,
        "other": other,
        "ent": (account.user.username, password),
        "other_ent": (other_account.user.username, other_password),
        "pdf": pdf,
    }


def fill_item(page, code: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"#id_{code}-{name}", value)


def test_enterprise_files_reviewer_returns_then_approves(page_factory, flow):
    est: Establishment = flow["est"]
    pdf: Path = flow["pdf"]
    today = timezone.localdate()

    # --- the enterprise contact, on a phone ---------------------------------------------------
    phone = page_factory(360, 740)
    first_login(phone, *flow["ent"], screenshot="first-login-password-phone")
    phone.goto("/filings/portal/")
    assert "官园惠民超市" in phone.get_by_test_id("my-establishment").inner_text()
    phone.get_by_test_id("start-filing").click()
    phone.wait_for_url("**/edit/")
    phone.fill("#id_planned_date", today.isoformat())
    fill_item(phone, "plan", {"summary": "分两批复工，员工错峰进店"})
    fill_item(phone, "emergency_plan", {"summary": "发热员工立即送观察点并报告社区"})
    fill_item(phone, "organisation", {"leader": "王店长", "leader_title": "店长", "members": "李某 测温登记\n赵某 消毒"})
    phone.check("#id_commitment-signed")
    fill_item(phone, "commitment", {"signatory": "王店长", "signed_on": today.isoformat()})
    fill_item(phone, "supplies", {"masks": "800", "alcohol": "20", "disinfectant": "30", "thermometers": "3"})
    fill_item(phone, "staff", {"total": "40", "returned": "36", "screened": "36", "abnormal": "0"})
    phone.check("#id_staff-travel_checked")
    phone.check("#id_staff-temperature_checked")
    for code in ("plan", "emergency_plan", "commitment"):
        phone.get_by_test_id(f"file-{code}").set_input_files(str(pdf))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "filing-form-phone")
    phone.get_by_test_id("submit-filing").click()
    phone.wait_for_url("**/filings/*/")
    assert "待审核" in phone.get_by_test_id("filing-state").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    filing = Filing.objects.get(establishment=est)
    assert filing.state == State.SUBMITTED and filing.attachments.count() == 3

    # --- the department reviewer, at a desk ---------------------------------------------------
    desk = page_factory()
    login(desk, "swj_staff", STAFF_PASSWORD)
    desk.wait_for_url("**/")
    desk.goto("/filings/queue/")
    assert "官园惠民超市" in desk.get_by_test_id("queue").inner_text()
    desk.get_by_test_id("queue").get_by_role("link", name="审核", exact=True).click()
    desk.wait_for_url("**/review/")
    for item in filing.template.items.all():
        desk.check(f"input[name='{item.code}-decision'][value='accept']")
    desk.check("input[name='supplies-decision'][value='return']")
    desk.fill("#id_supplies-comment", "口罩不足两周用量，请补充采购计划")
    shot(desk, "filing-review-return")
    desk.get_by_test_id("submit-review").click()
    desk.wait_for_url("**/filings/queue/")
    assert "已退回修改" in desk.inner_text("main")

    # --- the enterprise fixes the returned item and resubmits ---------------------------------
    phone.goto("/filings/portal/")
    phone.get_by_test_id("open-filing").click()
    phone.wait_for_url("**/edit/")
    assert "口罩不足两周用量" in phone.get_by_test_id("returned-comment").inner_text()
    phone.fill("#id_supplies-masks", "2000")
    phone.get_by_test_id("submit-filing").click()
    phone.wait_for_url("**/filings/*/")
    filing.refresh_from_db()
    assert filing.state == State.SUBMITTED and filing.version == 2

    # --- the reviewer sees what changed and approves ------------------------------------------
    desk.goto(f"/filings/{filing.pk}/review/")
    supplies = desk.get_by_test_id("item-supplies")
    assert "本版有修改" in supplies.inner_text()
    diff = supplies.get_by_test_id("diff").inner_text()
    assert "800" in diff and "2000" in diff
    assert "本版有修改" not in desk.get_by_test_id("item-plan").inner_text()
    for item in filing.template.items.all():
        desk.check(f"input[name='{item.code}-decision'][value='accept']")
    desk.get_by_test_id("submit-review").click()
    desk.wait_for_url("**/filings/queue/")
    assert "审核通过" in desk.inner_text("main")
    filing.refresh_from_db()
    est.refresh_from_db()
    assert filing.state == State.APPROVED and est.status == Status.RESUMED and est.resumed_on == today

    # --- every step on the establishment's timeline -------------------------------------------
    steps = ["创建备案", "提交备案（第1版）", "退回修改（第1版）", "提交备案（第2版）", "审核通过（第2版）", "复工备案：复工"]
    phone.goto("/filings/portal/")
    portal_timeline = phone.get_by_test_id("timeline").inner_text()
    for step in steps:
        assert step in portal_timeline, step
    assert "口罩不足两周用量" in portal_timeline
    shot(phone, "filing-portal-timeline-phone")
    desk.goto(f"/establishments/{est.pk}/")
    timeline = desk.get_by_test_id("timeline").inner_text()
    for step in steps:
        assert step in timeline, step
    shot(desk, "filing-establishment-timeline")
    assert FilingEvent.objects.filter(filing=filing, kind__in=["approved", "returned"]).count() == 2


def test_another_enterprise_gets_404_by_url_and_api(page_factory, flow):
    from taizhang.filings import attachments, services
    from taizhang.filings.tests.conftest import ENTERPRISE_ANSWERS, upload

    owner = Establishment.objects.get(pk=flow["est"].pk)
    user = owner.accounts.get().user
    filing = services.filing_create(establishment=owner, actor=user)
    services.filing_update(filing=filing, actor=user, expected_revision=filing.revision, answers=ENTERPRISE_ANSWERS)
    att = attachments.attachment_add(
        filing=filing, actor=user, item_code="plan", upload=upload("方案.pdf", flow["pdf"].read_bytes())
    )

    page = page_factory(360, 740)
    first_login(page, *flow["other_ent"])
    for url in (
        f"/filings/{filing.pk}/",
        f"/filings/{filing.pk}/edit/",
        f"/filings/{filing.pk}/files/{att.pk}/",
        f"/establishments/{owner.pk}/",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
        assert "记录不存在" in page.inner_text("main") or "不存在" in page.content()
    for url in (f"/api/v1/filings/{filing.pk}", f"/api/v1/filings/{filing.pk}/attachments/{att.pk}"):
        api = page.request.get(url)
        assert api.status == 404 and api.json()["error"]["code"] == "not_found", url
    assert page.request.get("/api/v1/filings/").json()["count"] == 0
    # the owner does get them
    owner_page = page_factory()
    first_login(owner_page, *flow["ent"])
    assert owner_page.request.get(f"/filings/{filing.pk}/files/{att.pk}/").status == 200
