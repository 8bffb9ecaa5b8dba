"""The API calls the same services with the same scope; errors come through the project's handler."""

from __future__ import annotations

import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from taizhang.accounts.services import api_token_create
from taizhang.problems import selectors
from taizhang.problems.models import Problem, State
from taizhang.testing import statements

from .conftest import PNG, photo


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


def test_the_201_document_is_what_get_answers(client, pw, monkeypatch):
    """POST builds its 201 from the rows the service has just written instead of reading them back: it must be
    the same JSON as GET /problems/<id> (an establishment's 包联 person; a region's community committee with
    coordinates, photos and an idempotency key; a sub-district office)."""

    def not_read(**kwargs):
        raise AssertionError("the 201 document was read back")

    monkeypatch.setattr(selectors, "problem_track", not_read)
    monkeypatch.setattr(selectors, "problem_tasks", not_read)
    client.force_login(pw.u("guanyuan_a"))
    created = [
        create(client, pw),
        client.post(
            "/api/v1/problems/",
            {
                "category": "other",
                "region": pw.regions["官园社区"].pk,
                "description": "  小区门口垃圾堆放  ",
                "latitude": "34.1",
                "longitude": "114.35",
                "severity": "high",
                "idempotency_key": "k-1",
                "photos": [photo(), photo("b.png", PNG, "image/png")],
            },
        ),
    ]
    client.force_login(pw.u("ghl_office"))
    created.append(
        client.post(
            "/api/v1/problems/",
            {"category": "staff_loss", "region": pw.regions["光华路街道"].pk, "description": "x"},
            content_type="application/json",
        )
    )
    monkeypatch.undo()
    for r, user in zip(created, ["guanyuan_a", "guanyuan_a", "ghl_office"], strict=True):
        assert r.status_code == 201, r.json()
        client.force_login(pw.u(user))
        assert r.json() == client.get(f"/api/v1/problems/{r.json()['id']}").json()
    assert len(created[1].json()["events"][0]["attachments"]) == 2
    assert [e["kind"] for e in created[2].json()["events"]] == ["reported", "routed"]


def test_statements_of_one_api_report(pw, settings, django_capture_on_commit_callbacks):
    """What POST /api/v1/problems/ runs (token authentication, a region, routed to a community committee and
    its least loaded member), the same on SQLite and PostgreSQL. Outside a test's transaction SQLite adds its
    BEGIN IMMEDIATE. The delivery task is queued as deployed (the database task backend), on commit."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _, key = api_token_create(user=pw.u("guanyuan_a"), name="t")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    body = json.dumps({"category": "other", "region": pw.regions["官园社区"].pk, "description": "门店入口未设测温点"})
    # The first request also stamps the token's last use and creates the day's code counter.
    assert api.post("/api/v1/problems/", body, content_type="application/json").status_code == 201
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/v1/problems/", body, content_type="application/json")
    assert r.status_code == 201, r.json()
    assert statements(ctx.captured_queries) == [
        "SELECT accounts_apitoken",  # the token and its user (one join)
        "SELECT accounts_post",  # the user's posts: scope, roles, acting units (once per request)
        "SELECT problems_problemcategory",  # the category by code
        "SELECT regions_region",  # the region by id (its visibility is checked on this row, in memory)
        "SELECT core_workdayoverride",  # the working-day calendar, for the SLA deadline
        "SELECT accounts_orgunit",  # routing: the community committee or sub-district office of the region
        "SELECT accounts_post",  # routing: the unit's acting members
        "SELECT problems_problem",  # routing: their open problems, for the least loaded
        "UPDATE problems_problemcounter",  # the day's code number (UPDATE … RETURNING)
        "INSERT problems_problem",  # the problem, already routed
        "INSERT problems_problemparty",  # the reporting and the assigned unit
        "INSERT problems_problemevent",  # the reported and routed events
        "INSERT rollups_tally",  # the counts of the problem and its two events
        "INSERT rollups_dailyflow",  # the daily flow of reports
        "INSERT notifications_notification",  # the handler's notification
        "INSERT audit_auditevent",  # the audit row
        "INSERT django_tasks_database_dbtaskresult",  # the delivery task, on commit
    ]
