"""The GeoReport v2 endpoints: documents in JSON and XML, POST with api_key, the standard filters, tokens,
extensions, the spec's error format and status codes, and what public output never contains."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.problems import services as ledger
from taizhang.problems.models import EventKind, Problem, ProblemEvent, Source, State
from taizhang.problems.open311.inputs import RequestInput
from taizhang.problems.open311.models import Open311Client, Open311Submission
from taizhang.problems.open311.services import client_revoke, request_create
from taizhang.testing import statements

from .conftest import BASE, post

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64


def xml(response):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ElementTree.fromstring(response.content)  # noqa: S314


def errors(response, status):
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


# --- discovery, services, service definitions --------------------------------------------------------


def test_discovery_in_both_formats(o311, http):
    doc = http.get(f"{BASE}/discovery.json").json()
    assert doc["endpoints"][0]["url"] == "http://testserver/open311/v2"
    assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(doc["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    root = xml(http.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_list_one_service_per_active_category(o311, http):
    from taizhang.problems.models import ProblemCategory

    ProblemCategory.objects.filter(code="supply_request").update(is_active=False)
    r = http.get(f"{BASE}/services.json")
    assert r["Content-Type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in r.json()}
    assert set(services) == {"ppe_shortage", "staff_loss", "measures_inadequate", "policy_request", "other"}
    m = services["measures_inadequate"]
    assert m == {
        "service_code": "measures_inadequate",
        "service_name": "防疫措施不到位",
        "description": m["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": "测温,口罩",
        "group": "疫情防控",
    }
    assert services["ppe_shortage"]["metadata"] is False and services["ppe_shortage"]["group"] is None
    root = xml(http.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert root.find("service[service_code='measures_inadequate']/metadata").text == "true"


def test_service_definition(o311, http):
    doc = http.get(f"{BASE}/services/measures_inadequate.json").json()
    assert doc["service_code"] == "measures_inadequate"
    venue, people, seen, issues = doc["attributes"]
    assert venue == {
        "variable": True,
        "code": "venue",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "场所类型",
        "values": [{"key": "shop", "name": "商店超市"}, {"key": "restaurant", "name": "餐馆"}],
    }
    assert (people["datatype"], seen["datatype"], issues["datatype"]) == ("number", "datetime", "multivaluelist")
    assert "values" not in people
    # A region-level question lists the regions of that level, keyed by region code.
    community = http.get(f"{BASE}/services/other.json").json()["attributes"][0]
    names = {v["name"]: v["key"] for v in community["values"]}
    assert names["光华路街道/官园社区"] == o311.region("官园社区").code
    root = xml(http.get(f"{BASE}/services/measures_inadequate.xml"))
    assert root.tag == "service_definition"
    assert root.find("service_code").text == "measures_inadequate"
    values = root.findall("attributes/attribute[code='venue']/values/value")
    assert [(v.find("key").text, v.find("name").text) for v in values] == [("shop", "商店超市"), ("restaurant", "餐馆")]


def test_unknown_service_is_404_in_the_spec_format(o311, http):
    assert "不存在" in errors(http.get(f"{BASE}/services/nope.json"), 404)
    root = xml(http.get(f"{BASE}/services/nope.xml"))
    assert root.tag == "errors" and root.find("error/code").text == "404"
    assert root.find("error/description").text


# --- POST requests --------------------------------------------------------------------------------


def test_post_creates_a_routed_public_problem(o311, http):
    r = post(
        http,
        o311,
        address_string="文峰区光华路街道官园社区",
        first_name="娜",
        last_name="王",
        phone="13912345678",
        email="wang@example.cn",
        device_id="dev-1",
        account_id="acc-1",
        media_url="https://example.cn/p.jpg",
    )
    assert r.status_code == 200, r.content
    (body,) = r.json()
    assert set(body) == {"service_request_id", "token", "service_notice", "account_id"}
    assert body["account_id"] is None and "5 个工作日" in body["service_notice"]
    p = Problem.objects.get(code=body["service_request_id"])
    assert (p.source, p.reporter, p.region, p.state) == (Source.PUBLIC, None, o311.region("官园社区"), State.ASSIGNED)
    assert p.unit == o311.w.units["官园社区"] and p.assignee is not None
    assert (p.contact_name, p.contact_phone, p.contact_email) == ("王娜", "13912345678", "wang@example.cn")
    sub = p.open311
    assert (sub.client, sub.token, sub.placed_by, sub.media_url) == (
        o311.client,
        body["token"],
        "address",
        "https://example.cn/p.jpg",
    )
    assert p.events.filter(kind=EventKind.REPORTED).count() == 1


def test_statements_of_one_open311_report(o311, http, settings, django_capture_on_commit_callbacks):
    """What POST requests.json runs for an address to place (the same problem_report as the API), the same on
    SQLite and PostgreSQL. request_create's transaction is a SAVEPOINT … RELEASE inside the test's; outside it,
    BEGIN IMMEDIATE on SQLite (PostgreSQL's BEGIN and both COMMITs are not captured)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # as deployed
    data = {"address_string": "文峰区光华路街道官园社区", "description": "小区门口垃圾堆放"}
    assert post(http, o311, **data).status_code == 200  # the first creates the day's code counter
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        r = post(http, o311, **data)
    assert r.status_code == 200, r.content
    assert statements(ctx.captured_queries) == [
        "SELECT problems_open311client",  # the api_key
        "SELECT problems_problemcategory",  # the service_code
        "SAVEPOINT",  # request_create's transaction (see above)
        "SELECT problems_serviceattribute",  # the category's questions
        "SELECT regions_region",  # placing the address: region names,
        "SELECT regions_regionalias",  # their aliases,
        "SELECT regions_region",  # the regions below the match,
        "SELECT regions_roadsection",  # road sections
        "SELECT core_workdayoverride",  # the working-day calendar, for the SLA deadline
        "SELECT accounts_orgunit",  # routing: the community committee or sub-district office of the region
        "SELECT accounts_post",  # routing: the unit's acting members
        "SELECT problems_problem",  # routing: their open problems, for the least loaded
        "UPDATE problems_problemcounter",  # the day's code number (UPDATE … RETURNING)
        "INSERT problems_problem",  # the problem, already routed (no savepoint inside request_create's transaction)
        "INSERT problems_problemparty",  # the assigned unit
        "INSERT problems_problemevent",  # the reported and routed events
        "INSERT rollups_tally",  # the counts of the problem and its two events
        "INSERT rollups_dailyflow",  # the daily flow of reports
        "INSERT notifications_notification",  # the handler's notification
        "INSERT audit_auditevent",  # the audit row
        "INSERT problems_open311submission",  # the client, token and answers
        "RELEASE",  # (commit)
        "INSERT django_tasks_database_dbtaskresult",  # the delivery task, on commit
    ]


def test_post_xml_response(o311, http):
    root = xml(post(http, o311, "xml", address_string="官园社区"))
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text.startswith("WF-")
    assert root.find("request/account_id").text is None


def test_post_accepts_api_key_in_the_query_string_and_a_photo(o311, http):
    photo = SimpleUploadedFile("现场.jpg", JPEG, content_type="image/jpeg")
    r = http.post(
        f"{BASE}/requests.json?api_key={o311.key}",
        {"service_code": "other", "address_string": "官园社区", "description": "x", "media": photo},
    )
    assert r.status_code == 200, r.content
    assert Problem.objects.get(code=r.json()[0]["service_request_id"]).attachments.count() == 1


POST_ERRORS: list[tuple[dict[str, Any], int, str]] = [
    ({"api_key": None}, 400, "api_key"),
    ({"api_key": "o311_wrong"}, 403, "api_key"),
    ({"api_key": "something-else"}, 403, "api_key"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "nope"}, 404, "nope"),
    ({}, 400, "位置"),
    ({"lat": "36.1"}, 400, "long"),
    ({"lat": "north", "long": "114.3"}, 400, "lat"),
    ({"lat": "91", "long": "114.3"}, 400, "lat"),
    ({"address_id": "999999"}, 400, "address_id"),
    ({"address_string": "官园社区", "description": "长" * 4001}, 400, "description"),
    ({"address_string": "官园社区", "email": "not-an-email"}, 400, "email"),
    ({"address_string": "官园社区", "media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"address_string": "官园社区", "attribute[community]": "410502013999"}, 400, "community"),
    # api_key is checked first, then the service, then everything else
    ({"api_key": "o311_wrong", "service_code": "nope"}, 403, "api_key"),
    ({"service_code": "nope", "lat": "north"}, 404, "nope"),
]


def test_post_errors(o311, http):
    for data, status, text in POST_ERRORS:
        assert text in errors(post(http, o311, **data), status), data
        root = xml(post(http, o311, "xml", **data))
        assert (root.tag, root.find("error/code").text) == ("errors", str(status)), data
    assert not Problem.objects.exists()


def test_post_with_a_revoked_key_is_refused(o311, http):
    client_revoke(client=o311.client)
    assert "api_key" in errors(post(http, o311, address_string="官园社区"), 403)


def test_attributes_are_checked_and_kept(o311, http):
    base = {"service_code": "measures_inadequate", "address_string": "官园社区"}
    assert "venue" in errors(post(http, o311, **base), 400)
    assert "venue" in errors(post(http, o311, **base, **{"attribute[venue]": "zoo"}), 400)
    assert "people" in errors(post(http, o311, **base, **{"attribute[venue]": "shop", "attribute[people]": "many"}), 400)
    assert "seen_at" in errors(post(http, o311, **base, **{"attribute[venue]": "shop", "attribute[seen_at]": "yesterday"}), 400)
    r = http.post(
        f"{BASE}/requests.json",
        {
            "api_key": o311.key,
            **base,
            "description": "超市入口无人测温",
            "attribute[venue]": "shop",
            "attribute[people]": "30",
            "attribute[seen_at]": "2020-03-19T08:30:00+08:00",
            "attribute[issues][]": ["mask", "temp"],
            "attribute[ignored]": "x",
        },
    )
    assert r.status_code == 200, r.content
    p = Problem.objects.get(code=r.json()[0]["service_request_id"])
    assert p.open311.attributes == {
        "venue": "shop",
        "people": "30",
        "seen_at": "2020-03-19T08:30:00+08:00",
        "issues": ["mask", "temp"],
    }
    assert "场所类型：商店超市" in p.description and "存在哪些问题：未戴口罩、未测温" in p.description


def test_idempotency_key_returns_the_first_request(o311, http):
    a = post(http, o311, address_string="官园社区", idempotency_key="k-1").json()[0]
    b = post(http, o311, address_string="官园社区", idempotency_key="k-1").json()[0]
    assert a["service_request_id"] == b["service_request_id"] and a["token"] == b["token"]
    other = Open311Client.objects.get(pk=o311.client.pk)
    assert Problem.objects.filter(source=Source.PUBLIC).count() == 1 and other.submissions.count() == 1


# --- GET requests -----------------------------------------------------------------------------------


def _report(o311, *, days_ago=0, service_code="other", address="官园社区", **extra):
    data = RequestInput(
        api_key=o311.key,
        service_code=service_code,
        address_string=address,
        description=extra.pop("description", "门口垃圾"),
        **extra,
    )
    return request_create(client=o311.client, data=data, at=timezone.now() - timedelta(days=days_ago)).problem


def test_request_by_id_has_the_spec_fields_and_no_personal_data(o311, http):
    r = post(
        http,
        o311,
        address_string="官园社区3号院，联系13912345678",
        description="楼道堆物，请联系13912345678 或身份证410502199001011234",
        first_name="娜",
        last_name="王",
        phone="13912345678",
        email="wang@example.cn",
        lat="36.0912345",
        long="114.3523456",
    )
    code = r.json()[0]["service_request_id"]
    resp = http.get(f"{BASE}/requests/{code}.json")
    (doc,) = resp.json()
    assert list(doc) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert doc["status"] == "open" and doc["service_code"] == "other" and doc["service_name"] == "其他"
    assert doc["agency_responsible"] == "官园社区委员会" and doc["status_notes"] == "已分派至官园社区委员会"
    assert doc["address_id"] == o311.compound.code
    assert (doc["lat"], doc["long"]) == (36.091235, 114.352346)
    p = Problem.objects.get(code=code)
    assert doc["expected_datetime"] == timezone.localtime(p.due_at).isoformat(timespec="seconds")
    assert doc["requested_datetime"].endswith("+08:00")
    body = resp.content.decode()
    for secret in ("13912345678", "王娜", "wang@example.cn", "410502199001011234"):
        assert secret not in body
    assert "139****5678" in doc["description"] and "139****5678" in doc["address"]
    # The singular path of the published swagger answers too, and XML has the same fields.
    assert http.get(f"{BASE}/request/{code}.json").json() == [doc]
    root = xml(http.get(f"{BASE}/requests/{code}.xml"))
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == code
    assert root.find("request/zipcode").text is None


def test_internal_problems_are_not_service_requests(o311, http):
    grid = o311.w.users["guanyuan_a"]
    from taizhang.problems.models import ProblemCategory

    p = ledger.problem_report(
        reporter=grid,
        source=Source.VISIT,
        category=ProblemCategory.objects.get(code="other"),
        region=o311.region("官园社区"),
        description="内部巡查发现的问题",
    )
    errors(http.get(f"{BASE}/requests/{p.code}.json"), 404)
    assert http.get(f"{BASE}/requests.json").json() == []


def test_filters(o311, http):
    recent = _report(o311)
    older = _report(o311, days_ago=30, service_code="measures_inadequate", attributes={"venue": ["shop"]})
    ancient = _report(o311, days_ago=120)
    closed = _report(o311, days_ago=1)
    Problem.objects.filter(pk=closed.pk).update(state=State.CLOSED)

    def codes(**params):
        r = http.get(f"{BASE}/requests.json", params)
        assert r.status_code == 200, r.content
        return [d["service_request_id"] for d in r.json()]

    assert codes() == [recent.code, closed.code, older.code]  # newest first, last 90 days by default
    assert codes(service_code="measures_inadequate") == [older.code]
    assert codes(service_code="other,measures_inadequate") == [recent.code, closed.code, older.code]
    assert codes(status="closed") == [closed.code]
    assert codes(status="open") == [recent.code, older.code]
    assert codes(status="open,closed") == [recent.code, closed.code, older.code]
    start = (timezone.now() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(start_date=start, end_date=end) == [ancient.code]
    assert codes(start_date=start) == [ancient.code]  # start plus 90 days
    assert codes(end_date=timezone.localdate().isoformat()) == [recent.code, closed.code, older.code]
    # service_request_id overrides every other argument.
    assert codes(service_request_id=f"{ancient.code},{recent.code}", status="closed") == [recent.code, ancient.code]
    assert codes(page_size="1", page="2") == [closed.code]
    assert "start_date" in errors(http.get(f"{BASE}/requests.json", {"start_date": "last week"}), 400)
    assert "90" in errors(http.get(f"{BASE}/requests.json", {"start_date": start, "end_date": timezone.now().isoformat()}), 400)
    assert "status" in errors(http.get(f"{BASE}/requests.json", {"status": "pending"}), 400)
    root = xml(http.get(f"{BASE}/requests.xml", {"status": "closed"}))
    assert [e.text for e in root.findall("request/service_request_id")] == [closed.code]


def test_status_mapping(o311, http):
    p = _report(o311)
    for state, status in [
        (State.REPORTED, "open"),
        (State.IN_PROGRESS, "open"),
        (State.RESOLVED, "open"),
        (State.RETURNED, "open"),
        (State.REOPENED, "open"),
        (State.VERIFIED, "closed"),
        (State.CLOSED, "closed"),
    ]:
        Problem.objects.filter(pk=p.pk).update(state=state)
        assert http.get(f"{BASE}/requests/{p.code}.json").json()[0]["status"] == status, state


def test_extensions_give_public_notes_only(o311, http):
    p = _report(o311)
    handler = p.assignee
    p = ledger.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler, note="张三已签收 13800001111")
    ledger.problem_comment(problem=p, actor=handler, note="内部备注：联系人李四 13800002222")
    ProblemEvent.objects.create(problem=p, kind=EventKind.COMMENT, note="已安排清运，请联系 13800003333", data={"public": True})
    plain = http.get(f"{BASE}/requests/{p.code}.json").json()[0]
    assert "notes" not in plain
    r = http.get(f"{BASE}/requests/{p.code}.json", {"extensions": "true"})
    doc = r.json()[0]
    assert [n["description"] for n in doc["notes"]] == [
        "已受理",
        "已分派至官园社区委员会",
        "承办单位已签收，正在办理",
        "已安排清运，请联系 138****3333",
    ]
    assert doc["extended_attributes"]["state"] == "in_progress" and doc["status_notes"] == "官园社区委员会正在办理"
    body = r.content.decode()
    for secret in ("张三", "李四", "13800001111", "13800002222", "13800003333", handler.username):
        assert secret not in body
    listed = http.get(f"{BASE}/requests.json", {"extensions": "true"}).json()
    assert listed[0]["notes"] == doc["notes"]
    root = xml(http.get(f"{BASE}/requests/{p.code}.xml", {"extensions": "true"}))
    assert len(root.findall("request/notes/note")) == 4


def test_merged_request_is_closed_with_a_note(o311, http):
    a, b = _report(o311), _report(o311)
    office = o311.w.users["ghl_office"]
    ledger.problem_merge(problem=b, into=a, actor=office, note="同一地点")
    doc = http.get(f"{BASE}/requests/{b.code}.json", {"extensions": "1"}).json()[0]
    assert doc["status"] == "closed" and a.code in doc["status_notes"] and a.code in doc["notes"][-1]["description"]


def test_tokens(o311, http):
    body = post(http, o311, address_string="官园社区").json()[0]
    assert http.get(f"{BASE}/tokens/{body['token']}.json").json() == [
        {"service_request_id": body["service_request_id"], "token": body["token"]}
    ]
    root = xml(http.get(f"{BASE}/tokens/{body['token']}.xml"))
    assert root.find("request/service_request_id").text == body["service_request_id"]
    errors(http.get(f"{BASE}/tokens/0000.json"), 404)


def test_unknown_paths_and_formats(o311, http):
    errors(http.get(f"{BASE}/whatever.json"), 404)
    errors(http.get(f"{BASE}/services.csv"), 404)
    errors(http.get(f"{BASE}/"), 404)
    assert xml(http.get(f"{BASE}/whatever.xml")).tag == "errors"
    assert http.delete(f"{BASE}/requests.json").status_code == 405


def test_jurisdiction_when_configured(o311, http, settings):
    settings.TAIZHANG_OPEN311_JURISDICTION = "wenfeng.anyang"
    assert http.get(f"{BASE}/services.json", {"jurisdiction_id": "wenfeng.anyang"}).status_code == 200
    assert http.get(f"{BASE}/services.json").status_code == 200
    errors(http.get(f"{BASE}/services.json", {"jurisdiction_id": "elsewhere"}), 404)


def test_query_counts_do_not_grow_with_the_list(o311, http, django_assert_max_num_queries):
    for _ in range(3):
        _report(o311)
    with django_assert_max_num_queries(4):
        assert len(http.get(f"{BASE}/requests.json", {"extensions": "true"}).json()) == 3
    for _ in range(5):
        _report(o311)
    with django_assert_max_num_queries(4):
        assert len(http.get(f"{BASE}/requests.json", {"extensions": "true"}).json()) == 8


# --- registration ---------------------------------------------------------------------------------


def test_management_command_prints_the_key_once_and_stores_its_digest(db, capsys):
    call_command("open311_client", name="12345 市民热线 App", organisation="市热线")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = Open311Client.objects.get(name="12345 市民热线 App")
    assert key.startswith("o311_") and Open311Client.lookup(key) == client
    assert key not in (client.digest, client.prefix)
    call_command("open311_client", list=True)
    assert "12345 市民热线 App" in capsys.readouterr().out
    call_command("open311_client", revoke="12345 市民热线 App")
    assert Open311Client.lookup(key) is None


def test_demo_step_registers_a_client_and_writes_its_key(db):
    from types import SimpleNamespace

    from taizhang.problems.open311.demo import build_open311

    ctx = SimpleNamespace(logins={})
    build_open311(ctx)
    key = ctx.logins["open311_api_key"]
    assert isinstance(key, str) and Open311Client.lookup(key) is not None


def test_a_request_that_cannot_be_placed_is_never_lost(o311, http):
    r = post(http, o311, lat="36.09", long="114.35")
    p = Problem.objects.get(code=r.json()[0]["service_request_id"])
    command = OrgUnit.objects.get(kind=OrgUnit.Kind.COMMAND)
    assert (p.state, p.unit, p.region) == (State.REPORTED, command, command.region)
    assert p.open311.placed_by == "triage"
    assert Open311Submission.objects.count() == 1
