"""Pages: queues with filters in the URL, a constant number of queries per list, the problem page with its
track and action forms, the report form on a phone, attachments behind access checks."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from taizhang.problems import services
from taizhang.problems.models import Problem, Source, State

from .conftest import PDF, photo


def report(pw, reporter="guanyuan_a", **kw):
    args = {
        "reporter": pw.u(reporter),
        "source": Source.VISIT,
        "category": pw.cat("measures_inadequate"),
        "establishment": pw.e1,
        "description": "未设一米线",
    }
    args.update(kw)
    return services.problem_report(**args)


@pytest.mark.parametrize(
    "name", ["problems:list", "problems:mine", "problems:unit", "problems:verify", "problems:overdue", "problems:watch"]
)
def test_queues_render(client, pw, name):
    p = report(pw)
    client.force_login(pw.u("guanyuan_b"))
    r = client.get(reverse(name))
    assert r.status_code == 200
    if name in ("problems:list", "problems:mine", "problems:unit"):
        assert p.code in r.content.decode()


def test_filters_stay_in_the_url_and_htmx_gets_the_rows(client, pw):
    p = report(pw)
    other = report(pw, category=pw.cat("staff_loss"), description="员工返岗难")
    client.force_login(pw.u("guanyuan_a"))
    url = reverse("problems:list") + f"?category={pw.cat('staff_loss').pk}&state=open"
    page = client.get(url).content.decode()
    assert other.code in page and p.code not in page
    assert 'hx-push-url="true"' in page
    rows = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in rows.content.decode() and other.code in rows.content.decode()


def test_list_pages_take_a_constant_number_of_queries(client, pw):
    for i in range(30):
        report(pw, description=f"问题{i}")
    for key in ("guanyuan_a", "swj_staff", "leader"):
        client.force_login(pw.u(key))
        client.get(reverse("problems:list"))  # the first request after sign-in also writes the session
        counts = []
        for size in (20, 50):
            with CaptureQueriesContext(connection) as ctx:
                r = client.get(reverse("problems:list"), {"page_size": size})
            assert r.status_code == 200
            counts.append(len(ctx.captured_queries))
            assert len(re.findall(r'href="/problems/\d+/"', r.content.decode())) == min(size, 30)
        assert counts[0] == counts[1], (key, counts)
        assert counts[0] <= 20, (key, counts)


def test_problem_page_shows_the_track_and_the_actions(client, pw):
    p = report(pw, photos=[photo()])
    client.force_login(pw.u("guanyuan_b"))
    page = client.get(reverse("problems:detail", args=[p.pk])).content.decode()
    assert '<ol class="timeline"' in page
    assert "上报" in page and "分派" in page
    assert 'data-testid="transition-in_progress"' in page
    assert 'accept="image/*" capture="environment"' in page
    # the leader reads the same page without a single action
    client.force_login(pw.u("leader"))
    page = client.get(reverse("problems:detail", args=[p.pk])).content.decode()
    assert '<ol class="timeline"' in page
    assert 'data-testid="actions"' not in page and "transition" not in page


def test_acting_through_the_page(client, pw):
    p = report(pw)
    client.force_login(pw.u("guanyuan_b"))
    r = client.post(reverse("problems:transition", args=[p.pk]), {"to": "in_progress", "expected_version": p.version})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.state == State.IN_PROGRESS
    # a stale form: 409, the typed text kept
    r = client.post(
        reverse("problems:transition", args=[p.pk]), {"to": "resolved", "note": "已设置一米线", "expected_version": p.version - 1}
    )
    assert r.status_code == 409
    assert "已被他人处理" in r.content.decode() and "已设置一米线" in r.content.decode()
    # a refused step: 400 with the reason
    r = client.post(reverse("problems:transition", args=[p.pk]), {"to": "closed", "expected_version": p.version})
    assert r.status_code == 400 and "不能变为" in r.content.decode()
    r = client.post(reverse("problems:comment", args=[p.pk]), {"note": "已到现场", "photos": [photo(), photo("b.png")]})
    assert r.status_code == 302
    assert p.attachments.count() == 2


def test_a_leader_cannot_post_actions(client, pw):
    p = report(pw)
    client.force_login(pw.u("leader"))
    r = client.post(reverse("problems:transition", args=[p.pk]), {"to": "in_progress", "expected_version": p.version})
    assert r.status_code == 403
    assert client.get(reverse("problems:new")).status_code == 403


def test_report_form_offers_the_open_duplicate(client, pw):
    first = report(pw)
    client.force_login(pw.u("guanyuan_a"))
    page = client.get(reverse("problems:new") + f"?establishment={pw.e1.pk}").content.decode()
    assert "光华路超市" in page and 'capture="environment"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    data = {
        "category": pw.cat("measures_inadequate").pk,
        "establishment": pw.e1.pk,
        "source": "visit",
        "severity": "normal",
        "description": "仍未设一米线",
        "idempotency_key": key,
    }
    r = client.post(reverse("problems:new"), data)
    assert r.status_code == 400 and first.code in r.content.decode()
    assert Problem.objects.count() == 1
    r = client.post(reverse("problems:new"), {**data, "confirm_duplicate": "True", "photos": [photo()]})
    assert r.status_code == 302
    assert Problem.objects.count() == 2
    again = client.post(reverse("problems:new"), {**data, "confirm_duplicate": "True"})  # double submit
    assert again.status_code == 302 and again["Location"] == r["Location"]
    assert Problem.objects.count() == 2


def test_report_by_region_and_establishment_search(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    options = client.get(reverse("problems:establishment_options"), {"q": "光华路"}).content.decode()
    assert "光华路超市" in options and "乔家巷便利店" not in options
    r = client.post(
        reverse("problems:new"),
        {
            "category": pw.cat("other").pk,
            "region": pw.regions["官园第1网格"].pk,
            "source": "visit",
            "severity": "normal",
            "description": "路灯不亮",
            "idempotency_key": "k1",
        },
    )
    assert r.status_code == 302
    assert Problem.objects.get().unit == pw.unit("官园社区")


def test_attachments_are_served_only_through_the_access_check(client, pw):
    p = report(pw, photos=[photo(), photo("报告.pdf", PDF, "application/pdf")])
    img, pdf = p.attachments.order_by("id")
    client.force_login(pw.u("guanyuan_b"))
    r = client.get(reverse("problems:attachment", args=[img.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert b"".join(r.streaming_content).startswith(b"\xff\xd8\xff")
    assert client.get(reverse("problems:attachment", args=[pdf.pk]))["Content-Type"] == "application/pdf"
    client.force_login(pw.u("qiaojia_a"))
    assert client.get(reverse("problems:attachment", args=[img.pk])).status_code == 404


def test_bad_uploads_are_refused_before_anything_is_written(pw, settings):
    from taizhang.core.errors import ApplicationError

    with pytest.raises(ApplicationError, match="不是照片"):
        report(pw, photos=[photo("x.jpg", b"MZ\x90\x00 not an image", "image/jpeg")])
    settings.TAIZHANG_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ApplicationError, match="超过"):
        report(pw, photos=[photo()])
    assert Problem.objects.count() == 0


def test_follow_puts_it_on_the_watch_list(client, pw):
    p = report(pw)
    client.force_login(pw.u("swj_staff"))
    assert p.code not in client.get(reverse("problems:watch")).content.decode()
    client.post(reverse("problems:follow", args=[p.pk]), {"follow": "1"})
    assert p.code in client.get(reverse("problems:watch")).content.decode()
    client.post(reverse("problems:follow", args=[p.pk]), {"follow": "0"})
    assert p.code not in client.get(reverse("problems:watch")).content.decode()


def test_enterprise_portal(client, pw):
    p = report(pw)
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("guanyuan_b"))
    from django.utils import timezone

    services.require_rectification(problem=p, due=timezone.localdate(), actor=pw.u("guanyuan_b"))
    other = report(pw, reporter="qiaojia_a", establishment=pw.e2)
    client.force_login(pw.enterprise)
    listing = client.get(reverse("problems:list")).content.decode()
    assert p.code in listing and other.code not in listing
    page = client.get(reverse("problems:detail", args=[p.pk])).content.decode()
    assert 'data-testid="rect-report-form"' in page and 'data-testid="transition-' not in page
    r = client.post(reverse("problems:rect_report", args=[p.pk]), {"note": "已整改", "evidence": [photo()]})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.rectification == "reported"


def test_calendar_page_for_the_system_administrator(client, make_user, pw):
    from datetime import date

    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from taizhang.core.models import WorkdayOverride
    from taizhang.core.roles import Role

    admin = make_user(Role.SYSADMIN, "文峰区")
    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    client.force_login(admin)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page = client.get(reverse("problems:calendar"), {"year": 2031})
    assert page.status_code == 200 and 'data-testid="calendar-unknown"' in page.content.decode()
    r = client.post(reverse("problems:calendar") + "?year=2031", {"day": "2031-01-01", "is_working_day": "0", "note": "元旦"})
    assert r.status_code == 302
    assert WorkdayOverride.objects.get(day=date(2031, 1, 1)).is_working_day is False
    assert "元旦" in client.get(reverse("problems:calendar"), {"year": 2031}).content.decode()
    client.force_login(pw.u("guanyuan_a"))
    assert client.get(reverse("problems:calendar")).status_code == 403
