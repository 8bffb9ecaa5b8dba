"""Who sees a problem: involved units, territorial staff, whoever sees its establishment, its reporter.
Everyone else gets the same 404 as for a problem that does not exist — in pages and API alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taizhang.problems import services
from taizhang.problems.models import Problem, Source, State


@pytest.fixture
def guanyuan_problem(pw):
    return services.problem_report(
        reporter=pw.u("guanyuan_a"),
        source=Source.VISIT,
        category=pw.cat("ppe_shortage"),
        establishment=pw.e1,
        description="缺口罩",
    )


def visible(user):
    return set(Problem.objects.visible_to(user).values_list("code", flat=True))


def test_who_sees_a_guanyuan_problem(pw, guanyuan_problem):
    p = guanyuan_problem
    seers = ["guanyuan_a", "guanyuan_b", "ghl_office", "leader", "swj_staff", "scj_staff"]
    # 区商务局 covers 商贸零售 (sectoral); 区市场监管局 covers 光华路街道 (区直部门包镇办).
    for key in seers:
        assert p.code in visible(pw.u(key)), key
    assert p.code in visible(pw.enterprise)
    for key in ["qiaojia_a", "tes_office", "jyj_staff", "dispatcher"]:
        assert p.code not in visible(pw.u(key)), key
    assert p.code not in visible(pw.hotline)


def test_involvement_opens_the_problem(pw, guanyuan_problem):
    p = guanyuan_problem
    jyj = pw.u("jyj_staff")
    assert p.code not in visible(jyj)
    assert p.unit == pw.unit("SWJ")  # 防疫物资匮乏 routes to the sectoral department first
    p = services.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("swj_staff"))
    services.problem_add_task(problem=p, unit=pw.unit("JYJ"), text="请协助", actor=pw.u("swj_staff"))
    assert p.code in visible(jyj)  # a coordination unit sees the problem


def test_reporter_and_colleagues_see_a_hotline_problem(pw):
    p = services.problem_report(
        reporter=pw.hotline,
        source=Source.HOTLINE,
        category=pw.cat("other"),
        region=pw.regions["乔家巷社区"],
        description="来电反映",
    )
    assert p.code in visible(pw.hotline)
    assert p.unit == pw.unit("乔家巷社区")
    assert p.code in visible(pw.u("qiaojia_a"))
    assert p.code not in visible(pw.u("guanyuan_a"))


def test_administrators_see_nothing(pw, guanyuan_problem, make_user):
    from taizhang.core.roles import Role

    for role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR):
        assert visible(make_user(role, "文峰区")) == set()


def test_qiaojia_cannot_open_a_guanyuan_problem_page_or_api(client, pw, guanyuan_problem):
    p = guanyuan_problem
    client.force_login(pw.u("qiaojia_a"))
    page = client.get(reverse("problems:detail", args=[p.pk]))
    missing = client.get(reverse("problems:detail", args=[999999]))
    assert page.status_code == missing.status_code == 404
    api = client.get(f"/api/v1/problems/{p.pk}")
    api_missing = client.get("/api/v1/problems/999999")
    assert api.status_code == api_missing.status_code == 404
    assert api.json() == api_missing.json() == {"error": {"code": "not_found", "message": "记录不存在", "detail": {}}}
    # not in lists or counts either
    assert p.code not in client.get(reverse("problems:list")).content.decode()
    assert client.get("/api/v1/problems/").json()["count"] == 0
    # nor can it act on it
    assert client.post(reverse("problems:comment", args=[p.pk]), {"note": "x"}).status_code == 404
    assert (
        client.post(f"/api/v1/problems/{p.pk}/transition", {"to": "in_progress"}, content_type="application/json").status_code
        == 404
    )
    att = p.attachments.first()
    assert att is None or client.get(reverse("problems:attachment", args=[att.pk])).status_code == 404


def test_guanyuan_opens_it(client, pw, guanyuan_problem):
    client.force_login(pw.u("guanyuan_a"))
    assert client.get(reverse("problems:detail", args=[guanyuan_problem.pk])).status_code == 200
    assert client.get(f"/api/v1/problems/{guanyuan_problem.pk}").status_code == 200


def test_establishment_timeline_shows_its_problems(pw, guanyuan_problem):
    from taizhang.establishments.timeline import timeline_of

    entries = [e for e in timeline_of(establishment=pw.e1, user=pw.u("guanyuan_a")) if e.source == "问题"]
    assert any(guanyuan_problem.code in e.title for e in entries)
    assert [e for e in timeline_of(establishment=pw.e1, user=pw.u("qiaojia_a")) if e.source == "问题"] == []
