"""A small, complete world for domain tests: taxonomy, units, people, assignments on both axes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.duties import services as duties
from taizhang.duties.demo import ARTICLE_START, scenario_clock, story_day
from taizhang.establishments.models import Establishment, EstablishmentKind
from taizhang.establishments.services import establishment_create
from taizhang.establishments.validators import make_credit_code
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Region
from taizhang.regions.services import road_section_create

START = date(2020, 1, 20)


@dataclass
class DemoStepContext:
    """What a demo step reads from `taizhang.demo.scenario.Context` (`duties.demo.DemoContext`), for running one step
    of the demo on a test world: its today, the scenario's clock and first day, units and logins."""

    today: date
    units: dict[str, Any]
    logins: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = scenario_clock(self.today)

    @property
    def start(self) -> date:
        return story_day(self.today, ARTICLE_START)

    def add_login(self, role: str, entry: dict[str, Any]) -> None:
        self.logins.setdefault(role, []).append(entry)


@dataclass
class World:
    regions: dict[str, Region]
    units: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    categories: dict[str, ServiceCategory] = field(default_factory=dict)
    roads: dict[str, Any] = field(default_factory=dict)
    counter: int = 0

    def user(self, key: str, unit: str, region: str, role: str) -> User:
        u = User.objects.create_user(username=key, password="x-Test-Password-1", display_name=key)
        Post.objects.create(user=u, unit=self.units[unit], region=self.regions[region], role=role, valid_from=START)
        self.users[key] = u
        return u

    def establishment(
        self, name: str, region: str, category: str = "超市", road: str | None = None, kind: str = "supermarket", **extra: Any
    ) -> Establishment:
        self.counter += 1
        body = f"MA{self.counter:06d}"
        data = {
            "name": name,
            "credit_code": make_credit_code(region="410502", body=body),
            "kind": EstablishmentKind.objects.get(code=kind),
            "category": self.categories[category],
            "region": self.regions[region],
            "road_section": self.roads.get(road) if road else None,
            "contact_name": "张三",
            "contact_mobile": f"139{self.counter:08d}",
            **extra,
        }
        return establishment_create(actor=None, data=data)


@pytest.fixture
def world(regions: dict[str, Region]) -> World:
    w = World(regions=regions)
    d = regions["文峰区"]
    command = OrgUnit.objects.create(code="ZHB", name="指挥部", kind=OrgUnit.Kind.COMMAND, region=d)
    w.units["command"] = command
    for code, name in [("SWJ", "区商务局"), ("JYJ", "区教育局"), ("SCJ", "区市场监管局")]:
        w.units[code] = OrgUnit.objects.create(code=code, name=name, kind=OrgUnit.Kind.DEPARTMENT, region=d, parent=command)
    for sub in ("光华路街道", "头二三街道"):
        w.units[sub] = OrgUnit.objects.create(
            code=f"JD-{sub}", name=f"{sub}办事处", kind=OrgUnit.Kind.SUBDISTRICT_OFFICE, region=regions[sub], parent=command
        )
    for com, sub in (("官园社区", "光华路街道"), ("乔家巷社区", "头二三街道")):
        w.units[com] = OrgUnit.objects.create(
            code=f"SQ-{com}", name=f"{com}委员会", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=regions[com], parent=w.units[sub]
        )
    retail = ServiceCategory.objects.create(code="01", name="商贸零售", level="major")
    w.categories["商贸零售"] = retail
    w.categories["超市"] = ServiceCategory.objects.create(code="0101", name="超市", level="minor", parent=retail)
    w.categories["便利店"] = ServiceCategory.objects.create(code="0102", name="便利店", level="minor", parent=retail)
    edu = ServiceCategory.objects.create(code="02", name="教育培训", level="major")
    w.categories["教育培训"] = edu
    w.categories["辅导学校"] = ServiceCategory.objects.create(code="0201", name="辅导学校", level="minor", parent=edu)
    w.roads["光华路1段"] = road_section_create(subdistrict=regions["光华路街道"], name="光华路1段", code="GHL-R01")
    w.roads["三道街1段"] = road_section_create(subdistrict=regions["头二三街道"], name="三道街1段", code="TES-R01")

    w.user("swj_staff", "SWJ", "文峰区", Role.DEPARTMENT)
    w.user("jyj_staff", "JYJ", "文峰区", Role.DEPARTMENT)
    w.user("scj_staff", "SCJ", "文峰区", Role.DEPARTMENT)
    w.user("ghl_office", "光华路街道", "光华路街道", Role.SUBDISTRICT)
    w.user("ghl_road", "光华路街道", "光华路街道", Role.SUBDISTRICT)
    w.user("tes_office", "头二三街道", "头二三街道", Role.SUBDISTRICT)
    w.user("guanyuan_a", "官园社区", "官园社区", Role.COMMUNITY)
    w.user("guanyuan_b", "官园社区", "官园社区", Role.COMMUNITY)
    w.user("qiaojia_a", "乔家巷社区", "乔家巷社区", Role.COMMUNITY)
    w.user("leader", "command", "文峰区", Role.LEADER)

    duties.assign_category(category=w.categories["商贸零售"], department=w.units["SWJ"], valid_from=START)
    duties.assign_category(category=w.categories["辅导学校"], department=w.units["JYJ"], valid_from=START)
    duties.assign_department_subdistrict(department=w.units["SCJ"], subdistrict=regions["光华路街道"], valid_from=START)
    duties.assign_department_subdistrict(department=w.units["SWJ"], subdistrict=regions["头二三街道"], valid_from=START)
    duties.assign_road_section(
        user=w.users["ghl_road"], unit=w.units["光华路街道"], road_section=w.roads["光华路1段"], valid_from=START
    )
    return w
