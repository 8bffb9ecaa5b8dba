from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from taizhang.filings.models import Filing, FilingEvent, State

from .conftest import ENTERPRISE_ANSWERS, FAR, pdf_bytes, submitted, upload


def api_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_the_whole_flow_through_the_api(setup):
    ent, swj = api_for(setup.ent["gy"]), api_for(setup.users["swj_staff"])
    templates = ent.get("/api/v1/filings/templates").json()
    assert {t["code"] for t in templates} >= {"enterprise-resumption", "school-reopening"}

    r = ent.post("/api/v1/filings/", {"establishment": setup.est["gy"].pk, "answers": {"supplies": {"masks": 10}}}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    pk, revision = body["id"], body["revision"]
    assert body["state"] == "draft" and body["answers"]["supplies"] == {"masks": 10}

    r = ent.patch(
        f"/api/v1/filings/{pk}",
        {"revision": revision, "answers": ENTERPRISE_ANSWERS, "planned_date": FAR.isoformat()},
        format="json",
    )
    assert r.status_code == 200
    stale = ent.patch(f"/api/v1/filings/{pk}", {"revision": revision, "answers": {}}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"

    for code in ("plan", "emergency_plan", "commitment"):
        r = ent.post(
            f"/api/v1/filings/{pk}/attachments",
            {"item": code, "file": upload(f"{code}.pdf", pdf_bytes(code))},
            format="multipart",
        )
        assert r.status_code == 201, r.json()
    bad = ent.post(f"/api/v1/filings/{pk}/attachments", {"item": "plan", "file": upload("x.pdf", b"<html>")}, format="multipart")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "rejected_file"

    r = ent.post(f"/api/v1/filings/{pk}/submit", {"version": 1}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    again = ent.post(f"/api/v1/filings/{pk}/submit", {"version": 1}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 1
    assert FilingEvent.objects.filter(filing_id=pk, kind="submitted").count() == 1

    queue = swj.get("/api/v1/filings/queue").json()
    assert [row["id"] for row in queue["results"]] == [pk] and queue["results"][0]["age"]

    revision = swj.get(f"/api/v1/filings/{pk}").json()["revision"]
    r = swj.post(
        f"/api/v1/filings/{pk}/rulings",
        {"revision": revision, "rulings": [{"item": "staff", "decision": "return", "comment": "请逐人测温"}]},
        format="json",
    )
    assert r.status_code == 200
    revision = r.json()["revision"]
    r = swj.post(f"/api/v1/filings/{pk}/approve", {"revision": revision}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "items_not_accepted"
    r = swj.post(f"/api/v1/filings/{pk}/return", {"revision": revision, "note": "请修改员工排查"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "returned"

    detail = ent.get(f"/api/v1/filings/{pk}").json()
    assert detail["versions"][0]["rulings"]["staff"]["comment"] == "请逐人测温"
    staff = {**ENTERPRISE_ANSWERS["staff"], "screened": 120, "returned": 120}
    ent.patch(f"/api/v1/filings/{pk}", {"revision": detail["revision"], "answers": {"staff": staff}}, format="json")
    assert ent.post(f"/api/v1/filings/{pk}/submit", {"version": 2}, format="json").json()["version"] == 2

    detail = swj.get(f"/api/v1/filings/{pk}").json()
    assert list(detail["changes"]) == ["staff"]
    rulings = [{"item": i.code, "decision": "accept"} for i in Filing.objects.get(pk=pk).template.items.all()]
    r = swj.post(f"/api/v1/filings/{pk}/review", {"revision": detail["revision"], "rulings": rulings}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    # a second reviewer with the same revision loses with a clear 409
    lost = swj.post(f"/api/v1/filings/{pk}/review", {"revision": detail["revision"], "rulings": rulings}, format="json")
    assert lost.status_code == 409
    assert "当前状态为“已通过”" in lost.json()["error"]["message"]

    figures = swj.get("/api/v1/filings/figures", {"on": "2020-03-19", "by": "category"}).json()
    assert figures["by"] == "category" and "resumed" in figures


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/api/v1/filings/{pk}", None),
        ("patch", "/api/v1/filings/{pk}", {"revision": 1}),
        ("post", "/api/v1/filings/{pk}/submit", {}),
        ("post", "/api/v1/filings/{pk}/withdraw", {}),
        ("post", "/api/v1/filings/{pk}/attachments", None),
        ("get", "/api/v1/filings/{pk}/attachments/{aid}", None),
        ("delete", "/api/v1/filings/{pk}/attachments/{aid}", None),
    ],
)
def test_another_enterprise_gets_404_in_the_api(setup, method, path, data):
    other = submitted(setup, "qj")
    att = other.attachments.first()
    c = api_for(setup.ent["gy"])
    url = path.format(pk=other.pk, aid=att.pk)
    if path.endswith("/attachments"):
        response = c.post(url, {"item": "plan", "file": upload("x.pdf", pdf_bytes())}, format="multipart")
    else:
        response = getattr(c, method)(url, data, format="json") if data is not None else getattr(c, method)(url)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "记录不存在", "detail": {}}}
    assert Filing.objects.get(pk=other.pk).state == State.SUBMITTED
    assert api_for(setup.ent["gy"]).get("/api/v1/filings/").json()["count"] == 0


def test_an_enterprise_cannot_create_a_filing_for_another(setup):
    r = api_for(setup.ent["gy"]).post("/api/v1/filings/", {"establishment": setup.est["qj"].pk}, format="json")
    assert r.status_code == 404


def test_reviewing_is_for_reviewers(setup):
    filing = submitted(setup)
    r = api_for(setup.ent["gy"]).post(
        f"/api/v1/filings/{filing.pk}/review", {"revision": filing.revision, "rulings": []}, format="json"
    )
    assert r.status_code == 403
    r = api_for(setup.users["scj_staff"]).post(
        f"/api/v1/filings/{filing.pk}/review",
        {"revision": filing.revision, "rulings": [{"item": "plan", "decision": "accept"}]},
        format="json",
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "forbidden"
