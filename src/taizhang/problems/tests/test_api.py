"""The API calls the same services with the same scope; errors come through the project's handler."""

from __future__ import annotations

from taizhang.problems.models import Problem, State

from .conftest import photo


def create(client, pw, **extra):
    data = {"category": "measures_inadequate", "establishment": pw.e1.pk, "description": "未设一米线", "source": "visit", **extra}
    return client.post("/api/v1/problems/", data, content_type="application/json")


def test_report_list_detail(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    r = create(client, pw)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["state"] == "assigned" and body["unit_name"] == "官园社区委员会" and body["code"].startswith("WF-")
    assert [e["kind"] for e in body["events"]] == ["reported", "routed"]
    listing = client.get("/api/v1/problems/", {"queue": "all", "state": "open"}).json()
    assert listing["count"] == 1 and listing["results"][0]["code"] == body["code"]
    assert client.get(f"/api/v1/problems/{body['id']}").json()["description"] == "未设一米线"
    cats = client.get("/api/v1/problem-categories").json()
    assert {c["code"] for c in cats} >= {
        "ppe_shortage",
        "staff_loss",
        "measures_inadequate",
        "policy_request",
        "supply_request",
        "other",
    }


def test_idempotency_key_header(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    data = {"category": "other", "region": pw.regions["官园社区"].pk, "description": "x"}
    a = client.post("/api/v1/problems/", data, content_type="application/json", headers={"Idempotency-Key": "abc-1"})
    b = client.post("/api/v1/problems/", data, content_type="application/json", headers={"Idempotency-Key": "abc-1"})
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["id"] == b.json()["id"]
    assert Problem.objects.count() == 1


def test_transitions_tasks_comments_and_errors(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    pid = create(client, pw).json()["id"]
    client.force_login(pw.u("guanyuan_b"))
    p = client.get(f"/api/v1/problems/{pid}").json()
    r = client.post(
        f"/api/v1/problems/{pid}/transition",
        {"to": "in_progress", "expected_version": p["version"]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    # a stale version: 409 with the current state
    stale = client.post(
        f"/api/v1/problems/{pid}/transition",
        {"to": "resolved", "note": "x", "expected_version": p["version"]},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict" and stale.json()["error"]["detail"]["state"] == "in_progress"
    # a business rule: 400
    bad = client.post(f"/api/v1/problems/{pid}/transition", {"to": "closed"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_transition"
    t = client.post(
        f"/api/v1/problems/{pid}/tasks", {"unit": pw.unit("SWJ").pk, "text": "协调口罩"}, content_type="application/json"
    )
    assert t.status_code == 201
    refused = client.post(
        f"/api/v1/problems/{pid}/transition", {"to": "resolved", "note": "已办"}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "open_tasks"
    client.force_login(pw.u("swj_staff"))
    reply = client.post(
        f"/api/v1/problems/{pid}/tasks/{t.json()['id']}/reply", {"reply": "已协调"}, content_type="application/json"
    )
    assert reply.status_code == 200 and reply.json()["state"] == "replied"
    client.force_login(pw.u("guanyuan_b"))
    c = client.post(f"/api/v1/problems/{pid}/comments", {"note": "现场照片", "photos": [photo()]})
    assert c.status_code == 201 and len(c.json()["attachments"]) == 1
    done = client.post(f"/api/v1/problems/{pid}/transition", {"to": "resolved", "note": "已办"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == State.RESOLVED
    assert client.get(f"/api/v1/problems/{pid}/tasks").json()[0]["reply"] == "已协调"


def test_reassign_via_api(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    pid = create(client, pw).json()["id"]
    client.force_login(pw.u("ghl_office"))  # the unit above the handling community
    r = client.post(
        f"/api/v1/problems/{pid}/reassign", {"unit": pw.unit("SWJ").pk, "reason": "商务局归口"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["unit_name"] == "区商务局" and r.json()["assignee_name"] == "swj_staff"


def test_leader_is_read_only_in_the_api(client, pw):
    client.force_login(pw.u("guanyuan_a"))
    pid = create(client, pw).json()["id"]
    client.force_login(pw.u("leader"))
    assert client.get(f"/api/v1/problems/{pid}").status_code == 200
    assert create(client, pw).status_code == 403
    assert (
        client.post(f"/api/v1/problems/{pid}/transition", {"to": "in_progress"}, content_type="application/json").status_code
        == 403
    )


def test_schema_documents_the_problem_api(client, db):
    paths = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert "/api/v1/problems/" in paths and "/api/v1/problems/{id}/transition" in paths
