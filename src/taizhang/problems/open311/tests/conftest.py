"""The Open311 world: the shared domain world (units, a command unit for triage, two communities with
committees, road sections), a compound with building units under 官园社区, a registered client, and service
definitions (a "community" question that places the request, a list and a number question)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from taizhang.problems.defaults import ensure_default_categories
from taizhang.problems.models import ProblemCategory
from taizhang.problems.open311.models import Open311Client
from taizhang.problems.open311.services import attribute_define, client_register, service_configure
from taizhang.regions.models import Level, Region
from taizhang.regions.services import region_alias_add, region_create_local

BASE = "/open311/v2"


@dataclass
class O311:
    w: Any
    client: Open311Client
    key: str
    compound: Region  # 官园3号院, under 官园第1网格
    unit2: Region  # its 2单元

    def region(self, name: str) -> Region:
        return self.w.regions[name]


@pytest.fixture(autouse=True)
def _private_storage(settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def o311(world: Any) -> O311:
    ensure_default_categories()  # transactional tests flush the rows migration 0002 created
    grid1 = world.regions["官园第1网格"]
    compound = region_create_local(parent=grid1, level=Level.COMPOUND, name="官园3号院")
    region_create_local(parent=grid1, level=Level.COMPOUND, name="官园13号院")
    region_create_local(parent=compound, level=Level.UNIT, name="1单元")
    unit2 = region_create_local(parent=compound, level=Level.UNIT, name="2单元")
    region_alias_add(region=world.regions["乔家巷社区"], alias="乔家巷")
    other = ProblemCategory.objects.get(code="other")
    attribute_define(
        category=other,
        code="community",
        description="问题发生在哪个社区（村）？",
        datatype="singlevaluelist",
        region_level=Level.COMMUNITY,
        order=1,
    )
    measures = ProblemCategory.objects.get(code="measures_inadequate")
    attribute_define(
        category=measures,
        code="venue",
        description="场所类型",
        datatype="singlevaluelist",
        required=True,
        values=[{"key": "shop", "name": "商店超市"}, {"key": "restaurant", "name": "餐馆"}],
        order=1,
    )
    attribute_define(category=measures, code="people", description="现场大约多少人", datatype="number", order=2)
    attribute_define(category=measures, code="seen_at", description="发现时间", datatype="datetime", order=3)
    attribute_define(
        category=measures,
        code="issues",
        description="存在哪些问题",
        datatype="multivaluelist",
        values=[{"key": "mask", "name": "未戴口罩"}, {"key": "temp", "name": "未测温"}],
        order=4,
    )
    service_configure(category=measures, group="疫情防控", keywords="测温,口罩")
    reg = client_register(name="测试客户端")
    return O311(world, reg.client, reg.key, compound, unit2)


@pytest.fixture
def http() -> Client:
    return Client()


def post(http: Client, o: O311, fmt: str = "json", **data: Any) -> Any:
    payload = {"api_key": o.key, "service_code": "other", "description": "小区门口垃圾堆放", **data}
    return http.post(f"{BASE}/requests.{fmt}", {k: v for k, v in payload.items() if v is not None})
