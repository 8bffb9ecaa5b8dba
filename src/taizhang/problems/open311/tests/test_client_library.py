"""An Open311 client library from PyPI, unchanged, against the live server (a real HTTP socket).

The library is `civicbot` (its `Open311Client`, a GeoReport v2 client on the standard library's urllib).
Of the older wrappers, `three` 0.8.0 and `open311` 1.1 are Python 2 only (they fail to import on 3.11) and
`georeport` 0.3.1 cannot create requests; see docs/open311.md.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client  # type: ignore[import-untyped]
from civicbot.http import RateLimiter  # type: ignore[import-untyped]
from civicbot.open311 import CONFIRM_TOKEN  # type: ignore[import-untyped]

from taizhang.problems.models import Problem, Source, State
from taizhang.problems.open311.demo import build_open311


@pytest.fixture
def library(live_server, transactional_db, world):
    ctx = SimpleNamespace(logins={})
    build_open311(ctx)  # the demo step: registers the demo client, writes its key
    endpoint = Endpoint(id="taizhang", name="台账 Open311", base_url=f"{live_server.url}/open311/v2", write=True)
    client = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)))
    return SimpleNamespace(client=client, key=ctx.logins["open311_api_key"], world=world)


def test_the_library_lists_services_posts_a_request_and_reads_it_back(library, settings):
    client, key = library.client, library.key
    guanyuan = library.world.regions["官园社区"]

    services = client.list_services()
    codes = [s["service_code"] for s in services]
    assert codes == ["ppe_shortage", "staff_loss", "measures_inadequate", "policy_request", "supply_request", "other"]
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
    definition = client.get_service_definition("measures_inadequate")
    assert definition["attributes"][0]["code"] == "community"

    # validate_remote: the library fetches the service list and definition and checks the payload against them.
    sent = client.create_request(
        "measures_inadequate",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=key,
        validate_remote=True,
        address_string="光华路街道官园社区光华路超市门口",
        description="超市入口无人测温，顾客未戴口罩",
        attributes={"community": guanyuan.code},
        first_name="娜",
        last_name="王",
        phone="13912345678",
        email="wang@example.cn",
    )
    (created,) = sent.response
    request_id = created["service_request_id"]
    problem = Problem.objects.get(code=request_id)
    assert (problem.source, problem.region, problem.state) == (Source.PUBLIC, guanyuan, State.ASSIGNED)
    assert problem.unit is not None and problem.unit.name == "官园社区委员会"

    back = client.get_request(request_id)
    assert back["service_request_id"] == request_id and back["status"] == "open"
    assert back["service_code"] == "measures_inadequate" and back["agency_responsible"] == "官园社区委员会"
    assert back["description"] == "超市入口无人测温，顾客未戴口罩\n\n【补充信息】\n问题发生在哪个社区（村）？：光华路街道官园社区"
    assert "13912345678" not in str(back) and "wang@example.cn" not in str(back)
    listed = client.list_requests(service_request_ids=[request_id])
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert [r["service_request_id"] for r in client.list_requests(service_code="measures_inadequate", status="open")] == [
        request_id
    ]
    assert client.get_token(created["token"]) == [{"service_request_id": request_id, "token": created["token"]}]


def test_the_library_sees_the_spec_errors(library):
    client = library.client
    with pytest.raises(HttpError) as refused:
        client.create_request("other", dry_run=False, confirm=CONFIRM_TOKEN, api_key="o311_not-a-key", address_string="官园社区")
    assert refused.value.status == 403 and '"code": 403' in refused.value.body
    with pytest.raises(HttpError) as missing:
        client.get_request("WF-20200101-9999")
    assert missing.value.status == 404
