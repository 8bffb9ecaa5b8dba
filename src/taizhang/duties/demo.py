"""Demo data of the responsibility system (分包责任制) for the Wenfeng 2020 scenario.

`build_duties(ctx, ...)` runs after the lead's region and unit steps and writes, in bulk:
- the GB/T 4754 standard and the district's 17/81 grouping (industries data files);
- each minor category → its department (行业归口部门), or → a 镇办 for the blank ones of the grouping file;
- staff for every department and sub-district office (so that every link of a chain has people);
- each sub-district → a department (区直部门包镇办; 18 sub-districts over 16 departments);
- each road section → a staff member of its sub-district office (镇办人员包路段).
The third tier (社区人员包企业) is written with the establishments (`taizhang.establishments.demo`).

Staff users are created with `bulk_create` and one password hash computed once: every demo user logs in
with the demo password (convenient for trying any person shown on a responsibility chain).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from django.contrib.auth.hashers import make_password

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.services import Action, audit_bulk
from taizhang.core.roles import Role
from taizhang.industries.models import ServiceCategory
from taizhang.industries.services import load_district_grouping, load_gbt4754, read_district_grouping
from taizhang.regions.models import Level, Region, RoadSection

from .models import Assignment, Kind

# The blank (镇办) categories of the grouping file and the office that follows each of them (see
# industries/data/district-service-categories.README.md): the pedestrian-street office and 宝莲寺镇.
TOWN_CATEGORIES = {
    "0110": "410502561000",  # 步行街特色商铺 → 步行街综合治理办公室
    "1701": "410502101000",  # 农资与农技服务 → 宝莲寺镇
    "1702": "410502101000",  # 农村集贸市场 → 宝莲寺镇
    "1703": "410502101000",  # 乡村旅游与农家乐 → 宝莲寺镇
}
DEPARTMENT_STAFF = 2  # per department, counting the lead's named logins
OFFICE_STAFF = 2  # per sub-district office; the office's road sections are shared among them

# Fake people: common surnames and given-name characters, combined at random (no real person meant).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_ONE = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉鹏华飞玲斌波宇浩凯健峰琳雪倩"
GIVEN_TWO = "建国华明丽芳军伟秀英桂兰玉红志文斌辉鹏飞慧晓燕雪梅海宇浩瑞佳欣怡子涵博雅俊凯淑琴振宏庆新民永利春生"


class DemoContext(Protocol):
    """What the demo steps need from `taizhang.demo.scenario.Context` (kept structural: no upward import)."""

    today: date
    units: dict[str, OrgUnit]
    logins: dict[str, list[dict[str, Any]]]
    extra: dict[str, Any]

    def add_login(self, role: str, entry: dict[str, Any]) -> None: ...


def fake_person_name(rng: random.Random, surname: str | None = None) -> str:
    given = rng.choice(GIVEN_ONE) if rng.random() < 0.3 else rng.choice(GIVEN_TWO) + rng.choice(GIVEN_TWO)
    return (surname or rng.choice(SURNAMES)) + given


def password_hash(ctx: DemoContext, password: str) -> str:
    """One hash of the demo password for every bulk-created user (hashing is deliberately slow)."""
    if "password_hash" not in ctx.extra:
        ctx.extra["password_hash"] = make_password(password)
    return str(ctx.extra["password_hash"])


def bulk_staff(
    ctx: DemoContext,
    *,
    password: str,
    start: date,
    people: Sequence[tuple[str, str, OrgUnit, Region, str, str]],
) -> list[User]:
    """Create users with one post each: (username, display name, unit, region, role, title)."""
    if not people:
        return []
    hashed = password_hash(ctx, password)
    users = User.objects.bulk_create(
        [User(username=u, display_name=name, password=hashed) for u, name, *_ in people], batch_size=1000
    )
    posts = Post.objects.bulk_create(
        [
            Post(user=user, unit=unit, region=region, role=role, title=title, valid_from=start)
            for user, (_u, _n, unit, region, role, title) in zip(users, people, strict=True)
        ],
        batch_size=1000,
    )
    audit_bulk(action=Action.BULK_CREATE, actor=None, model=User, ids=[u.pk for u in users], detail={"source": "demo"})
    audit_bulk(action=Action.BULK_CREATE, actor=None, model=Post, ids=[p.pk for p in posts], detail={"source": "demo"})
    return users


def holders_of(unit: OrgUnit, role: str, on: date) -> list[User]:
    """The users holding an active post of `role` in `unit`, by username."""
    posts = Post.objects.active(on).filter(unit=unit, role=role).select_related("user").order_by("user__username")
    return list(dict.fromkeys(p.user for p in posts))


def _save_assignments(rows: Iterable[Assignment], detail: dict[str, Any]) -> list[Assignment]:
    created = Assignment.objects.bulk_create(list(rows), batch_size=1000)
    audit_bulk(action=Action.BULK_CREATE, actor=None, model=Assignment, ids=[a.pk for a in created], detail=detail)
    return created


def _office(ctx: DemoContext, subdistrict: Region) -> OrgUnit:
    return ctx.units[f"JD{subdistrict.code[:9]}"]


def build_duties(ctx: DemoContext, *, password: str, start: date, seed: int = 2020) -> None:
    rng = random.Random(seed)  # noqa: S311 - invented demo data, not a secret
    load_gbt4754()
    load_district_grouping()
    departments = [u for u in ctx.units.values() if u.kind == OrgUnit.Kind.DEPARTMENT]
    subdistricts = list(Region.objects.filter(level=Level.SUBDISTRICT).order_by("code"))
    on = max(start, ctx.today)

    # Staff: every department and office has people, so that each link of a chain names someone.
    people: list[tuple[str, str, OrgUnit, Region, str, str]] = []
    for dept in departments:
        have = len(holders_of(dept, Role.DEPARTMENT, on))
        for k in range(have + 1, DEPARTMENT_STAFF + 1):
            title = "科长" if k == 1 else "科员"
            people.append((f"{dept.code.lower()}_{k:02d}", fake_person_name(rng), dept, dept.region, Role.DEPARTMENT, title))
    for sub in subdistricts:
        office = _office(ctx, sub)
        have = len(holders_of(office, Role.SUBDISTRICT, on))
        for k in range(have + 1, OFFICE_STAFF + 1):
            title = "副主任" if k == 1 else "干事"
            people.append((f"jd{sub.code[6:9]}_{k:02d}", fake_person_name(rng), office, sub, Role.SUBDISTRICT, title))
    bulk_staff(ctx, password=password, start=start, people=people)

    # Sectoral axis: each minor category → its department, or → the office of TOWN_CATEGORIES.
    minors = {c.code: c for c in ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR)}
    sectoral = []
    for row in read_district_grouping():
        if row.department_code:
            unit = ctx.units[row.department_code]
        else:
            unit = _office(ctx, Region.objects.get(code=TOWN_CATEGORIES[row.minor_code]))
        sectoral.append(Assignment(kind=Kind.CATEGORY_DEPARTMENT, unit=unit, category=minors[row.minor_code], valid_from=start))
    _save_assignments(sectoral, {"source": "demo", "link": Kind.CATEGORY_DEPARTMENT})

    # 区直部门包镇办: 18 sub-districts over 16 departments, in order (the first two departments take two).
    cover = [
        Assignment(kind=Kind.DEPARTMENT_SUBDISTRICT, unit=departments[i % len(departments)], region=sub, valid_from=start)
        for i, sub in enumerate(subdistricts)
    ]
    _save_assignments(cover, {"source": "demo", "link": Kind.DEPARTMENT_SUBDISTRICT})

    # 镇办人员包路段: the office's road sections in turn among its staff (the lead's named logins first).
    roads = []
    for sub in subdistricts:
        office = _office(ctx, sub)
        staff = holders_of(office, Role.SUBDISTRICT, on)
        named = [u for u in staff if not u.username.startswith("jd")]
        staff = named + [u for u in staff if u not in named]
        for j, section in enumerate(RoadSection.objects.filter(subdistrict=sub).order_by("code")):
            roads.append(
                Assignment(kind=Kind.STAFF_ROAD, unit=office, user=staff[j % len(staff)], road_section=section, valid_from=start)
            )
    _save_assignments(roads, {"source": "demo", "link": Kind.STAFF_ROAD})
