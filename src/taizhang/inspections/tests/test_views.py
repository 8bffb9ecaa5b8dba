"""The pages: the inspector's task list and phone form, campaigns, templates, records, figures."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.inspections import services
from taizhang.inspections.models import Campaign, ChecklistTemplate, Visit

from .conftest import photo, school_answers

pytestmark = pytest.mark.django_db


def form_data(answers, key="page-key-0001", **extra):
    data = {"key": key}
    for code, value in answers.items():
        data[f"a-{code}"] = value
    data.update(extra)
    return data


@pytest.fixture
def campaign(iw):
    return iw.school_campaign()


def test_the_inspector_finds_targets_and_fills_in_the_phone_form(iw, client, campaign):
    target = campaign.targets.filter(team=iw.teams["DDZ1"]).select_related("establishment").first()
    client.force_login(iw.u("insp1a"))
    home = client.get("/inspections/").content.decode()
    assert campaign.name in home and target.establishment.name in home
    page = client.get(f"/inspections/targets/{target.pk}/inspect/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "inspections/inspect.js" in html and "<script>" not in html  # no inline script (CSP)
    assert 'name="key"' in html and "观察室" in html
    data = form_data(
        school_answers(observation_room="no"),
        **{"n-observation_room": "未设置", "p-observation_room": photo(), "staff": [iw.u("insp1b").pk]},
    )
    response = client.post(f"/inspections/targets/{target.pk}/inspect/", data)
    assert response.status_code == 302
    visit = Visit.objects.get(key="page-key-0001")
    assert response["Location"] == f"/inspections/visits/{visit.pk}/"
    assert visit.staff_count == 2 and visit.photos.count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert "已上报的问题" in detail and ("官园社区委员会" in detail or "乔家巷社区委员会" in detail)
    assert f"/inspections/photos/{visit.photos.get().pk}/" in detail
    assert 'data-draft-done="t' in detail
    # a double tap / a retry: the same record, no second visit
    again = client.post(f"/inspections/targets/{target.pk}/inspect/", data | {"p-observation_room": photo()})
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Visit.objects.count() == 1


def test_a_form_with_errors_keeps_what_was_typed(iw, client, campaign):
    target = campaign.targets.filter(team=iw.teams["DDZ1"]).first()
    client.force_login(iw.u("insp1a"))
    answers = school_answers(observation_room="no")
    del answers["duty_check"]
    data = form_data(answers, key="page-key-0002", **{"n-observation_room": "缺体温计", "extra_people": "1"})
    response = client.post(f"/inspections/targets/{target.pk}/inspect/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "此项必填" in html and "缺体温计" in html and 'value="page-key-0002"' in html
    assert 'value="no" checked' in html
    assert not Visit.objects.exists()


def test_campaign_pages(iw, client):
    client.force_login(iw.u("jyj_staff"))
    assert client.get("/inspections/campaigns/new/").status_code == 200
    version = iw.version("school-reopening")
    data = {
        "name": "幼儿园复学督导",
        "version": version.pk,
        "unit": iw.w.units["JYJ"].pk,
        "regions": [iw.regions["文峰区"].pk],
        "starts_on": "2020-02-07",
        "kinds": ["kindergarten", "school"],
        "teams": [iw.teams["DDZ1"].pk, iw.teams["DDZ2"].pk],
        "share": "region",
    }
    response = client.post("/inspections/campaigns/new/", data)
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="幼儿园复学督导")
    detail = client.get(f"/inspections/campaigns/{campaign.pk}/").content.decode()
    assert "启动（分配 3 个对象）" in detail
    assert client.post(f"/inspections/campaigns/{campaign.pk}/start/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == "active" and campaign.targets.count() == 3
    with CaptureQueriesContext(connection) as queries:
        detail = client.get(f"/inspections/campaigns/{campaign.pk}/")
    assert detail.status_code == 200 and "各检查组进度" in detail.content.decode()
    assert len(queries) < 40
    targets = client.get(f"/inspections/campaigns/{campaign.pk}/targets/?status=todo").content.decode()
    assert "官园小学" in targets
    assert client.get("/inspections/campaigns/").status_code == 200
    # an inspector may not organise
    client.force_login(iw.u("insp1a"))
    assert client.get("/inspections/campaigns/new/").status_code == 403


def test_template_pages_make_a_new_version(iw, client):
    template = ChecklistTemplate.objects.get(code="enterprise-daily")
    client.force_login(iw.u("swj_staff"))
    assert client.get("/inspections/checklists/").status_code == 200
    assert "体温检测" in client.get(f"/inspections/checklists/{template.pk}/").content.decode()
    page = client.get(f"/inspections/checklists/{template.pk}/edit/")
    assert page.status_code == 200
    form = page.context["formset"]
    data = {
        "name": template.name,
        "subject_type": "establishment",
        "subject_kinds": template.subject_kinds,
        "visit_kind": "inspection",
        "description": "",
        "note": "增加电梯消毒",
        "publish": "1",
        "items-TOTAL_FORMS": str(len(form.forms)),
        "items-INITIAL_FORMS": str(form.initial_form_count()),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "60",
    }
    for i, f in enumerate(form.forms):
        for name, field in f.fields.items():
            value = f.initial.get(name, field.initial)
            if name in ("required", "DELETE"):
                if value:
                    data[f"items-{i}-{name}"] = "on"
            elif value is not None:
                data[f"items-{i}-{name}"] = value
    last = len(form.forms) - 1
    data.update({f"items-{last}-code": "elevator", f"items-{last}-label": "电梯按钮是否每2小时消毒", f"items-{last}-type": "yes_no",
                 f"items-{last}-required": "on", f"items-{last}-fail_op": "eq", f"items-{last}-fail_value": "否",
                 f"items-{last}-problem_category": "measures_inadequate"})  # fmt: skip
    response = client.post(f"/inspections/checklists/{template.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    v2 = template.versions.get(number=2)
    assert v2.is_published and v2.items.count() == template.versions.get(number=1).items.count() + 1
    assert v2.items.get(code="elevator").fail_value is False
    # a community worker reads but does not edit
    client.force_login(iw.u("guanyuan_a"))
    assert client.get(f"/inspections/checklists/{template.pk}/edit/").status_code == 403


def test_records_and_figures(iw, client, campaign):
    target = campaign.targets.filter(team=iw.teams["DDZ1"]).first()
    services.visit_submit(
        actor=iw.u("insp1a"), key=iw.key(), target=target, answers=school_answers(), staff=[iw.u("insp1b")], helped=True
    )
    client.force_login(iw.u("jyj_staff"))
    listing = client.get("/inspections/visits/").content.decode()
    assert target.establishment.name in listing
    figures = client.get("/inspections/figures/")
    assert figures.status_code == 200
    assert figures.context["f"].total.person_times == 2 and figures.context["f"].total.helped == 1
    new = client.get(f"/inspections/visits/new/?q={iw.est['s1'].name}").content.decode()
    assert iw.est["s1"].name in new
    chooser = client.get(f"/inspections/visits/new/?establishment={iw.est['s1'].pk}").content.decode()
    assert "学校复学疫情防控督导" in chooser and "复工企业日常巡查" not in chooser
    client.force_login(iw.u("qiaojia_a"))
    assert client.get(f"/inspections/visits/new/?establishment={iw.est['s1'].pk}").status_code == 404
