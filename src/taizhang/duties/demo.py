"""Demo data of the responsibility system (分包责任制) for the Wenfeng 2020 scenario.

`build_duties(ctx, ...)` runs after the lead's region and unit steps and writes, in bulk:
- the GB/T 4754 standard and the district's 17/81 grouping (industries data files);
- each minor category → its department (行业归口部门), or → a 镇办 for the blank ones of the grouping file;
- staff for every department and sub-district office (so that every link of a chain has people);
- each sub-district → a department (区直部门包镇办; 18 sub-districts over 16 departments);
- each road section → a staff member of its sub-district office (镇办人员包路段).
The third tier (社区人员包企业) is written with the establishments (`taizhang.establishments.demo`).

This module also holds what every demo step shares: the structural `DemoContext`, the scenario's clock and the
article's timeline. The scenario happens relative to its "today" (`taizhang demo --today`, by default the real
date): the article's days (2020-01-20 … 2020-03-19, "截至3月19日") become the same offsets back from today
(`story_day`), and nothing is dated later than the scenario's clock (`DemoContext.now`, `before_now`).

Staff users are created with `bulk_create` and one password hash computed once: every demo user logs in
with the demo password (convenient for trying any person shown on a responsibility chain).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import Model
from django.utils import timezone

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


# --- the scenario's time --------------------------------------------------------------------------
# The article's timeline: the demo's posts and duties start on 2020-01-20; its "today" is 2020-03-19. A scenario
# built for another today keeps every day's offset from today (59 days from start to today), so its data has the
# same shape: which problems are open, which filings wait past their deadline, what happened today and this week.
ARTICLE_START = date(2020, 1, 20)
ARTICLE_TODAY = date(2020, 3, 19)  # "截至3月19日"
DAY_END = time(18, 0)  # the scenario's clock on its today: the day's work done, the daily report filed (17:00)


def story_day(today: date, article_day: date) -> date:
    """The day that stands where `article_day` stood in the article's timeline, for a scenario whose today is
    `today` (the same number of days before it): `story_day(today, date(2020, 3, 5))` is 14 days before today."""
    return today - (ARTICLE_TODAY - article_day)


def scenario_clock(today: date) -> datetime:
    """The scenario's "now": 18:00 of its today; for the real today the present moment if that is earlier, so
    that nothing in a scenario built today is dated later than the moment it was built."""
    end = datetime.combine(today, DAY_END, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return min(end, timezone.now()) if today == timezone.localdate() else end


def before_now(moment: datetime, now: datetime) -> datetime:
    """`moment`, or — when the scenario's clock has not reached it (a scenario built in the morning of the real
    today) — the same share of the day up to `now`: what the story put on today still happens today, in order."""
    if moment < now:
        return moment
    midnight = datetime.combine(timezone.localtime(now).date(), time(0), tzinfo=ZoneInfo(settings.TIME_ZONE))
    share = min(max((moment - midnight) / timedelta(days=1), 0.0), 1.0)
    return min(midnight + (now - midnight) * share, now - timedelta(seconds=1))


@contextmanager
def scenario_timestamps(model: type[Model]) -> Iterator[None]:
    """Keep the scenario's times given for auto_now/auto_now_add fields while bulk-creating demo rows
    (Django would stamp the clock's time). The demo is single-threaded; the flags are restored."""
    fields = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]
    for f in fields:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add  # type: ignore[attr-defined]


class DemoContext(Protocol):
    """What the demo steps need from `taizhang.demo.scenario.Context` (kept structural: no upward import)."""

    today: date
    now: datetime  # the scenario's clock (`scenario_clock(today)`): nothing is dated later
    units: dict[str, OrgUnit]
    logins: dict[str, list[dict[str, Any]]]
    extra: dict[str, Any]

    @property
    def start(self) -> date:
        """The scenario's first day (the article's 2020-01-20, 59 days before today)."""
        ...

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
