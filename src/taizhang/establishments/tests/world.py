"""A small registry for the page and API tests: two communities, a taxonomy, staff on both axes.

    官园社区 (光华路街道):  e1 第1网格 超市, e2 第2网格 辅导班 (包联: the grid-1 worker), e3 社区 教育培训 (大类)
    乔家巷社区 (头二三街道): e4 社区 超市, e5 第1网格 辅导班

The department (区教育局) covers 教育培训 (and so its minor 辅导班) and 头二三街道: e2, e3, e4, e5.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.duties.services import assign_category, assign_department_subdistrict, assign_subject
from taizhang.establishments import services
from taizhang.establishments.models import Establishment, EstablishmentKind
from taizhang.establishments.validators import make_credit_code
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Region

START = date(2020, 1, 1)
MOBILES = {"e1": "13800000018", "e2": "13912345678", "e3": "13711112222", "e4": "13633334444", "e5": "13555556666"}


@dataclass
class World:
    regions: dict[str, Region]
    est: dict[str, Establishment]
    community: User  # 官园社区
    grid_worker: User  # 官园第1网格, holds e2 too
    other_community: User  # 乔家巷社区
    department: User  # 区教育局
    leader: User
    categories: dict[str, ServiceCategory]


def build_world(make_user: Callable[..., User], regions: dict[str, Region]) -> World:
    retail = ServiceCategory.objects.create(code="01", name="商贸零售", level="major")
    supermarket = ServiceCategory.objects.create(code="0101", name="超市", level="minor", parent=retail)
    education = ServiceCategory.objects.create(code="02", name="教育培训", level="major")
    tutoring = ServiceCategory.objects.create(code="0201", name="辅导班", level="minor", parent=education)
    cats = {"retail": retail, "supermarket": supermarket, "education": education, "tutoring": tutoring}

    community = make_user(Role.COMMUNITY, "官园社区", username="guanyuan")
    grid_worker = make_user(Role.COMMUNITY, "官园第1网格", username="grid1")
    other = make_user(Role.COMMUNITY, "乔家巷社区", username="qiaojia")
    leader = make_user(Role.LEADER, "文峰区", username="leader")
    dept_unit = OrgUnit.objects.create(code="JYJ", name="区教育局", kind=OrgUnit.Kind.DEPARTMENT, region=regions["文峰区"])
    department = User.objects.create_user(username="jyj", password="x", display_name="张教育")
    Post.objects.create(user=department, unit=dept_unit, region=regions["文峰区"], role=Role.DEPARTMENT, valid_from=START)

    shop = EstablishmentKind.objects.get(code="supermarket")
    tutoring_kind = EstablishmentKind.objects.get(code="tutoring")
    specs = {
        "e1": ("光华路超市", shop, supermarket, "官园第1网格", "00000001"),
        "e2": ("启明辅导班", tutoring_kind, tutoring, "官园第2网格", "00000002"),
        "e3": ("官园培训学校", tutoring_kind, education, "官园社区", "00000003"),
        "e4": ("乔家巷便利店", shop, supermarket, "乔家巷社区", "00000004"),
        "e5": ("乔家巷书法班", tutoring_kind, tutoring, "乔家巷第1网格", "00000005"),
    }
    est: dict[str, Establishment] = {}
    for key, (name, kind, category, place, body) in specs.items():
        est[key] = services.establishment_create(
            actor=community,
            data={
                "name": name,
                "credit_code": make_credit_code(region="410502", body=body),
                "kind": kind,
                "category": category,
                "region": regions[place],
                "address": f"{place}1号",
                "legal_representative": "欧阳明",
                "contact_name": "李四",
                "contact_mobile": MOBILES[key],
                "employees": 5,
            },
        )
    guanyuan_unit = OrgUnit.objects.get(code=f"U-community-{regions['官园社区'].code}")
    assign_subject(user=grid_worker, unit=guanyuan_unit, subject=est["e2"], valid_from=START)
    assign_subject(user=community, unit=guanyuan_unit, subject=est["e1"], valid_from=START)
    assign_category(category=education, department=dept_unit, valid_from=START)
    assign_department_subdistrict(department=dept_unit, subdistrict=regions["头二三街道"], valid_from=START)
    return World(regions, est, community, grid_worker, other, department, leader, cats)


def ids(rows: Any) -> set[int]:
    return {r if isinstance(r, int) else r.pk for r in rows}
