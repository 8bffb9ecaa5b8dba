"""The API: the same services and scope as the pages; POST /visits is idempotent."""

from __future__ import annotations

import json

import pytest

from taizhang.inspections.models import ChecklistTemplate, Visit

from .conftest import photo, school_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(iw):
    return iw.school_campaign()


def test_submitting_a_visit_is_idempotent(iw, client, campaign):
    target = campaign.targets.filter(team=iw.teams["DDZ1"]).first()
    client.force_login(iw.u("insp1a"))
    body = {"key": "api-key-000001", "target": target.pk, "answers": school_answers(drill="no"), "extra_people": 1}
    first = client.post("/api/v1/visits/", body, content_type="application/json")
    assert first.status_code == 201, first.json()
    again = client.post("/api/v1/visits/", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == 1
    data = first.json()
    assert data["result"] == "findings" and data["staff_count"] == 2 and data["template"] == "school-reopening"
    assert {a["item"] for a in data["answers"] if a["failed"]} == {"drill"}
    bad = client.post(
        "/api/v1/visits/", {**body, "key": "api-key-000002", "answers": {"drill": "yes"}}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid" and "preparation" in bad.json()["error"]["detail"]


def test_multipart_with_photos(iw, client, campaign):
    target = campaign.targets.filter(team=iw.teams["DDZ1"]).first()
    client.force_login(iw.u("insp1a"))
    response = client.post(
        "/api/v1/visits/",
        {
            "key": "api-key-000003",
            "target": target.pk,
            "answers": json.dumps(school_answers(observation_room="no")),
            "photo.observation_room": photo(),
            "photo": photo("全景.png"),
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    failed = next(a for a in data["answers"] if a["item"] == "observation_room")
    assert failed["problem"]["code"].startswith("WF-") and len(failed["photos"]) == 1
    assert Visit.objects.get().photos.count() == 2


def test_campaigns_and_checklists(iw, client, campaign):
    client.force_login(iw.u("jyj_staff"))
    listing = client.get("/api/v1/campaigns/").json()
    assert listing["count"] == 1 and listing["results"][0]["state"] == "active"
    detail = client.get(f"/api/v1/campaigns/{campaign.pk}").json()
    assert detail["total"]["total"] == 5 and len(detail["by_team"]) == 2
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/targets?status=todo").json()["count"] == 5
    created = client.post(
        "/api/v1/campaigns/",
        {
            "name": "辅导学校专项督导",
            "version": iw.version("school-reopening").pk,
            "unit": iw.w.units["JYJ"].pk,
            "region": iw.regions["光华路街道"].pk,
            "starts_on": "2020-03-01",
            "rule": {"kinds": ["tutoring"]},
            "teams": [iw.teams["DDZ2"].pk],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    started = client.post(f"/api/v1/campaigns/{created.json()['id']}/start")
    assert started.status_code == 200 and started.json()["state"] == "active"
    template = ChecklistTemplate.objects.get(code="household-visit")
    assert client.get("/api/v1/checklists/").status_code == 200
    v1 = client.get(f"/api/v1/checklist-versions/{template.versions.get().pk}").json()
    items = v1["items"][:3]
    revised = client.post(f"/api/v1/checklists/{template.pk}", {"items": items, "note": "精简"}, content_type="application/json")
    assert revised.status_code == 201 and revised.json()["number"] == 2 and len(revised.json()["items"]) == 3
    figures = client.get("/api/v1/visit-figures?start=2020-01-01").json()
    assert figures["total"]["person_times"] == 0
    client.force_login(iw.u("insp1a"))
    assert client.post(f"/api/v1/checklists/{template.pk}", {"items": items}, content_type="application/json").status_code == 403
