"""A school inspection on a 360-px phone: a failing item with a photo taken from the camera input becomes a problem
routed to the responsible unit, with the photo as evidence; the form keeps a draft across a reload."""

from __future__ import annotations

import struct
import zlib

import pytest

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.establishments.demo import ensure_kinds
from taizhang.inspections import services
from taizhang.inspections.models import ChecklistTemplate, Visit
from taizhang.inspections.shipped import ensure_shipped_checklists
from taizhang.problems.models import Problem
from taizhang.testing import PASSWORD
from taizhang.testing_domain import START

from .conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = (360, 740)
YES_ITEMS = ("preparation", "duty_check", "key_people", "drill")


def png(width: int = 8, height: int = 8) -> bytes:
    """A small real PNG (red), as a phone camera would hand over a JPEG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xd0\x20\x20" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def school_campaign(world, settings, tmp_path):
    settings.TAIZHANG_PRIVATE_DIR = str(tmp_path / "private")
    ensure_kinds()
    ensure_shipped_checklists()
    school = world.establishment("官园小学", "官园第1网格", category="教育培训", kind="school", address="光华路8号")
    team = OrgUnit.objects.create(
        code="DDZ1", name="教育疫情防控第1督导组", kind=OrgUnit.Kind.INSPECTION_TEAM, region=world.regions["文峰区"]
    )
    inspector = User.objects.create_user(username="ddz1_e2e", password=PASSWORD, display_name="李督导")
    Post.objects.create(user=inspector, unit=team, region=world.regions["文峰区"], role=Role.INSPECTOR, valid_from=START)
    version = ChecklistTemplate.objects.get(code="school-reopening").versions.get(number=1)
    campaign = services.campaign_create(
        actor=world.users["jyj_staff"],
        data={"name": "学校复学疫情防控督导", "version": version, "unit": world.units["JYJ"], "regions": [world.regions["文峰区"]],
              "starts_on": START, "rule": {"kinds": ["school"]}},
        teams=[team],
    )  # fmt: skip
    services.campaign_start(actor=world.users["jyj_staff"], campaign=campaign)
    return school, inspector


def answer_everything_but_the_observation_room(page):
    for code in YES_ITEMS:
        page.get_by_test_id(f"item-{code}").locator(".choice", has_text="是").click()
    for code in ("supplies", "systems"):
        for option in page.get_by_test_id(f"item-{code}").locator(".choice").all():
            option.click()


def test_phone_school_inspection_opens_a_routed_problem_with_the_photo(page_factory, school_campaign, world):
    school, inspector = school_campaign
    page = page_factory(*PHONE)
    login(page, inspector.username, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/inspections/")
    assert "已查 0 / 1" in page.get_by_test_id("my-campaigns").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    shot(page, "phone-inspection-tasks")
    page.get_by_test_id("task").filter(has_text=school.name).click()
    assert page.get_by_test_id("subject-name").inner_text() == school.name
    answer_everything_but_the_observation_room(page)
    # the failing answer: "否" on the observation room opens its evidence section (camera capture + remark)
    room = page.get_by_test_id("item-observation_room")
    room.locator(".choice", has_text="否").click()
    evidence = room.locator("details.evidence")
    assert evidence.get_attribute("open") is not None
    camera = room.locator('input[type="file"][capture="environment"]')
    assert camera.get_attribute("accept") == "image/*"
    camera.set_input_files(files=[{"name": "观察室.png", "mimeType": "image/png", "buffer": png()}])
    assert room.locator("[data-thumbs] img").count() == 1  # previewed before sending
    room.locator("textarea").fill("观察室未配备体温计和消毒用品")
    # touch targets are large and nothing is wider than the phone
    box = room.locator(".choice span").first.bounding_box()
    assert box is not None and box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    shot(page, "phone-school-inspection-form")
    page.get_by_test_id("submit-inspection").click()
    page.wait_for_url("**/inspections/visits/*/")

    # the result page: the problem is routed to 官园社区 (the school's community), the photo is there
    problems = page.get_by_test_id("visit-problems").inner_text()
    assert "官园社区委员会" in problems and "防疫措施不到位" in problems
    photo = page.get_by_test_id("answer-photo")
    photo.wait_for()
    # the image loads after the page: wait until the browser has it, then check it is the 8-pixel photo sent
    page.wait_for_function("(img) => img.complete", arg=photo.element_handle())
    assert page.evaluate("(img) => img.naturalWidth === 8", photo.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    shot(page, "phone-school-inspection-result")

    visit = Visit.objects.get()
    problem = Problem.objects.get()
    assert visit.establishment == school and visit.failed_count == 1 and visit.photos.count() == 1
    assert problem.unit == world.units["官园社区"] and problem.source == "inspection" and problem.establishment == school
    assert problem.assignee in (world.users["guanyuan_a"], world.users["guanyuan_b"])
    evidence_file = problem.attachments.get()
    assert evidence_file.content_type == "image/png" and evidence_file.size == len(png())
    assert "观察室" in problem.description and "观察室未配备体温计和消毒用品" in problem.description

    # the community worker it was routed to sees it in the problem ledger, with the photo as evidence
    desk = page_factory(1280, 800)
    login(desk, problem.assignee.username, "x-Test-Password-1")
    desk.wait_for_url("**/")
    desk.goto(f"/problems/{problem.pk}/")
    assert desk.get_by_test_id("problem-unit").inner_text() == "官园社区委员会"
    evidence_img = desk.locator(f'img[src="/problems/attachments/{evidence_file.pk}/"]')
    evidence_img.wait_for()
    desk.wait_for_function("(img) => img.complete", arg=evidence_img.element_handle())
    assert desk.evaluate("(img) => img.naturalWidth === 8", evidence_img.element_handle())
    shot(desk, "problem-from-inspection")


def test_the_form_keeps_a_draft_and_one_submission_key(page_factory, school_campaign):
    school, inspector = school_campaign
    page = page_factory(*PHONE)
    login(page, inspector.username, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/inspections/")
    page.get_by_test_id("task").filter(has_text=school.name).click()
    url = page.url
    key = page.locator("input[name=key]").input_value()
    page.get_by_test_id("item-preparation").locator(".choice", has_text="是").click()
    page.get_by_test_id("item-observation_room").locator(".choice", has_text="否").click()
    page.get_by_test_id("item-observation_room").locator("textarea").fill("未设置观察室")
    page.wait_for_timeout(600)  # the draft is written a moment after typing
    # the connection drops, the page is reloaded: what was typed, and the submission key, are back
    page.goto(url)
    assert page.locator("[data-draft-note]").is_visible()
    assert page.locator("input[name=key]").input_value() == key
    assert page.get_by_test_id("item-preparation").locator("input[value=yes]").is_checked()
    assert page.get_by_test_id("item-observation_room").locator("input[value=no]").is_checked()
    assert page.get_by_test_id("item-observation_room").locator("textarea").input_value() == "未设置观察室"
    answer_everything_but_the_observation_room(page)
    page.get_by_test_id("submit-inspection").click()
    page.wait_for_url("**/inspections/visits/*/")
    assert Visit.objects.get().key == key
    # the draft is gone once the submission is recorded; a resubmission of the same key records nothing new
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('taizhang.inspection-draft.')).length") == 0
    page.go_back()
    page.reload()
    new_key = page.locator("input[name=key]").input_value()
    assert new_key != key  # a fresh form is a new submission
    assert Visit.objects.count() == 1
