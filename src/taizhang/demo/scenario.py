"""The Wenfeng scenario of the article (March 2020): the region tree, the units of the article and a user for every role.

Later capabilities add their part through `STEPS`; each step takes the Context and returns nothing.
All figures that come from the article are named where they are used.

The scenario happens relative to its `today` (the `demo` command's `--today`, by default the real date): the
article's 59 days from 2020-01-20 to 2020-03-19 become the 59 days up to today (`Context.start`, and
`taizhang.duties.demo.story_day` for the days in between), and `Context.now` — 18:00 of today, or the present
moment when that is earlier — is the scenario's clock: nothing is dated later. Built for the real date, the demo
looks like a live system (open problems and waiting filings within or past their deadlines as in the story,
"today" figures on the dashboards); `--today 2020-03-19` rebuilds the article's own days.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.dashboards.demo import build_dashboards
from taizhang.duties.demo import ARTICLE_START, build_duties, scenario_clock, story_day
from taizhang.establishments.demo import build_establishments
from taizhang.filings.demo import build_filings
from taizhang.inspections.demo import build_inspections
from taizhang.problems.demo import build_problems
from taizhang.problems.open311.demo import build_open311
from taizhang.regions.models import Level, Region
from taizhang.regions.services import load_nbs_divisions, region_create_local, road_section_create

DEMO_PASSWORD = "Wenfeng-2020!"  # noqa: S105 - demo only, printed on purpose

# 16 functional departments (the article: "分配给16个职能部门和各个镇办"); the list is plausible, not sourced.
DEPARTMENTS = [
    ("SWJ", "区商务局"),
    ("JYJ", "区教育局"),
    ("SCJGJ", "区市场监督管理局"),
    ("WJW", "区卫生健康委员会"),
    ("CZJ", "区财政局"),
    ("RSJ", "区人力资源和社会保障局"),
    ("WGLJ", "区文化广电和旅游局"),
    ("ZJJ", "区住房和城乡建设局"),
    ("JTJ", "区交通运输局"),
    ("YJJ", "区应急管理局"),
    ("CGJ", "区城市管理局"),
    ("MZJ", "区民政局"),
    ("FGW", "区发展和改革委员会"),
    ("GXJ", "区工业和信息化局"),
    ("JRB", "区金融工作办公室"),
    ("TYJ", "区体育事业发展中心"),
]
ROAD_NAMES = [
    "文峰大道",
    "中华路",
    "光华路",
    "紫薇大道",
    "永明路",
    "德隆街",
    "人民大道",
    "东风路",
    "平原路",
    "红旗路",
    "三道街",
    "育才路",
]


@dataclass
class Context:
    today: date
    district: Region
    gaoxin: Region
    units: dict[str, OrgUnit] = field(default_factory=dict)
    logins: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    now: datetime = field(init=False)  # the scenario's clock, fixed when the build starts

    def __post_init__(self) -> None:
        self.now = scenario_clock(self.today)

    @property
    def start(self) -> date:
        """The scenario's first day: posts and duties are valid from it (the article's 2020-01-20)."""
        return story_day(self.today, ARTICLE_START)

    def region(self, name: str) -> Region:
        from taizhang.regions.selectors import find_region_by_name

        return find_region_by_name(name).get()

    def add_login(self, role: str, entry: dict[str, Any]) -> None:
        self.logins.setdefault(role, []).append(entry)


def _unit(ctx: Context, code: str, name: str, kind: str, region: Region, parent: OrgUnit | None = None) -> OrgUnit:
    unit = OrgUnit.objects.create(code=code, name=name, kind=kind, region=region, parent=parent)
    ctx.units[code] = unit
    return unit


def _user(ctx: Context, username: str, display_name: str, posts: list[tuple[OrgUnit, Region, str, str]], scope: str) -> User:
    user = User(username=username, display_name=display_name)
    user.set_password(DEMO_PASSWORD)
    user.save()
    Post.objects.bulk_create(
        Post(user=user, unit=u, region=r, role=role, title=title, valid_from=ctx.start) for u, r, role, title in posts
    )
    entry: dict[str, Any] = {"username": username, "password": DEMO_PASSWORD, "scope": scope, "name": display_name}
    if posts and posts[0][2] in {Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR}:
        key = secrets.token_bytes(20)
        TOTPDevice.objects.create(user=user, name="演示", key=key.hex(), confirmed=True)
        entry["totp_secret"] = base64.b32encode(key).decode()
    ctx.add_login(posts[0][2] if posts else "none", entry)
    return user


def build_regions(ctx: Context) -> None:
    # Grids in each of the 11 villages/communities of 紫薇大道街道 (the article: "11个村(社区)发挥网格化工作机制").
    ziwei = ctx.region("紫薇大道街道")
    for community in Region.objects.filter(parent=ziwei).order_by("code"):
        for i in range(1, 4 + int(community.code[-1]) % 3):
            region_create_local(parent=community, level=Level.GRID, name=f"第{i}网格")
    # 官园社区: 39 old compounds and about 120 building units (the article), in 6 grids.
    guanyuan = ctx.region("官园社区")
    grids = [region_create_local(parent=guanyuan, level=Level.GRID, name=f"第{i}网格") for i in range(1, 7)]
    for n in range(1, 40):
        compound = region_create_local(parent=grids[(n - 1) % 6], level=Level.COMPOUND, name=f"官园{n}号院")
        for u in range(1, 5 if n <= 3 else 4):  # 3 × 4 + 36 × 3 = 120 units
            region_create_local(parent=compound, level=Level.UNIT, name=f"{u}单元")
    qiaojia = ctx.region("乔家巷社区")
    for i in range(1, 5):
        region_create_local(parent=qiaojia, level=Level.GRID, name=f"第{i}网格")
    # Road sections for every sub-district (镇办人员包路段).
    for k, sub in enumerate(Region.objects.filter(level=Level.SUBDISTRICT).order_by("code")):
        for j in range(3):
            road = ROAD_NAMES[(k + j * 5) % len(ROAD_NAMES)]
            road_section_create(
                subdistrict=sub,
                name=f"{road}（{sub.display_name}段{j + 1}）",
                code=f"{sub.code[:9]}R{j + 1:02d}",
                description=f"{road}第{j + 1}段",
            )


def build_units_and_users(ctx: Context) -> None:
    d, g = ctx.district, ctx.gaoxin
    command = _unit(ctx, "ZHB", "文峰区（高新区）疫情防控指挥部", OrgUnit.Kind.COMMAND, d)
    for code, name in DEPARTMENTS:
        _unit(ctx, code, name, OrgUnit.Kind.DEPARTMENT, d, command)
    for sub in Region.objects.filter(level=Level.SUBDISTRICT).order_by("code"):
        office = _unit(ctx, f"JD{sub.code[:9]}", f"{sub.display_name}办事处", OrgUnit.Kind.SUBDISTRICT_OFFICE, sub, command)
        for com in Region.objects.filter(parent=sub).order_by("code"):
            _unit(ctx, f"SQ{com.code}", f"{com.display_name}委员会", OrgUnit.Kind.COMMUNITY_COMMITTEE, com, office)
    for i in range(1, 8):  # 7 督导组 (the article: "区教育局7个督导组")
        _unit(ctx, f"DDZ{i}", f"教育疫情防控第{i}督导组", OrgUnit.Kind.INSPECTION_TEAM, d, ctx.units["JYJ"])
    _unit(ctx, "RX", "区复工复产服务热线", OrgUnit.Kind.HOTLINE_CENTRE, d, ctx.units["SWJ"])
    _unit(ctx, "XTGL", "区大数据管理中心", OrgUnit.Kind.ADMINISTRATION, d)

    u = ctx.units
    guangua, toue = ctx.region("光华路街道"), ctx.region("头二三街道")
    guanyuan, qiaojia = ctx.region("官园社区"), ctx.region("乔家巷社区")
    grid1 = Region.objects.get(parent=guanyuan, name="第1网格")
    _user(ctx, "leader", "崔指挥", [(command, d, Role.LEADER, "组长"), (command, g, Role.LEADER, "组长")], "文峰区（高新区）")
    _user(ctx, "swj_liu", "刘商务", [(u["SWJ"], d, Role.DEPARTMENT, "副局长")], "区商务局")
    _user(ctx, "jyj_zhang", "张教育", [(u["JYJ"], d, Role.DEPARTMENT, "科员")], "区教育局")
    _user(ctx, "ghl_wang", "王街道", [(u[f"JD{guangua.code[:9]}"], guangua, Role.SUBDISTRICT, "副主任")], "光华路街道")
    _user(ctx, "tes_zhao", "赵街道", [(u[f"JD{toue.code[:9]}"], toue, Role.SUBDISTRICT, "科员")], "头二三街道")
    _user(
        ctx, "guanyuan_bi", "毕社区", [(u[f"SQ{guanyuan.code}"], guanyuan, Role.COMMUNITY, "党总支书记")], "光华路街道/官园社区"
    )
    _user(ctx, "qiaojia_du", "杜社区", [(u[f"SQ{qiaojia.code}"], qiaojia, Role.COMMUNITY, "社区干部")], "头二三街道/乔家巷社区")
    _user(
        ctx,
        "guanyuan_grid1",
        "孙网格",
        [(u[f"SQ{guanyuan.code}"], grid1, Role.COMMUNITY, "网格员")],
        "光华路街道/官园社区/第1网格",
    )
    _user(ctx, "ddz1_li", "李督导", [(u["DDZ1"], d, Role.INSPECTOR, "组长")], "教育疫情防控第1督导组")
    _user(ctx, "hotline_chen", "陈热线", [(u["RX"], d, Role.HOTLINE, "接线员")], "区复工复产服务热线")
    _user(ctx, "sysadmin", "系统管理员", [(u["XTGL"], d, Role.SYSADMIN, "")], "系统管理")
    _user(ctx, "secadmin", "安全管理员", [(u["XTGL"], d, Role.SECADMIN, "")], "安全管理")
    _user(ctx, "auditor", "安全审计员", [(u["XTGL"], d, Role.AUDITOR, "")], "安全审计")


STEPS: list[tuple[str, Callable[[Context], None]]] = [
    ("区划、网格、楼院、路段", build_regions),
    ("单位与用户", build_units_and_users),
    ("行业分类、归口部门、包镇办与包路段", lambda ctx: build_duties(ctx, password=DEMO_PASSWORD, start=ctx.start)),
    # TAIZHANG_DEMO_SCALE (default 1.0) shrinks the establishments for tests; the article's counts need 1.0.
    (
        "市场主体与社区包联人员",
        lambda ctx: build_establishments(
            ctx, password=DEMO_PASSWORD, start=ctx.start, scale=getattr(settings, "TAIZHANG_DEMO_SCALE", 1.0)
        ),
    ),
    ("复工/复学备案：各状态的备案、逐项审核意见与逾期标记", lambda ctx: build_filings(ctx, password=DEMO_PASSWORD)),
    ("Open311 接入应用与服务属性", build_open311),
    ("问题台账：上报、分派、协调、整改、核验与督办", lambda ctx: build_problems(ctx, password=DEMO_PASSWORD)),
    # after the establishments and problems: it inspects the former and links the 商务局's visits to the latter
    ("走访巡查：7个督导组督导学校、商务局帮扶走访、复工商超日常巡查", lambda ctx: build_inspections(ctx, password=DEMO_PASSWORD)),
    # Keep last: the data above was written in bulk; the dashboards' rollups are rebuilt from it.
    ("数据看板：重建汇总，信息日报模板与社区填报", build_dashboards),
]


def register_step(name: str, step: Callable[[Context], None]) -> None:
    if all(n != name for n, _ in STEPS):
        STEPS.append((name, step))


def build(*, today: date, progress: Callable[[str], None] = lambda _m: None) -> Context:
    """Build the scenario as of `today` (the real date or an earlier one; see the module's docstring)."""
    if today > timezone.localdate():
        raise ValueError(f"演示场景的“今天”（{today}）不能晚于实际日期（{timezone.localdate()}）")
    with transaction.atomic():
        load_nbs_divisions()
        ctx = Context(
            today=today, district=Region.objects.get(code="410502000000"), gaoxin=Region.objects.get(code="410571000000")
        )
        for name, step in STEPS:
            progress(name)
            step(ctx)
    return ctx


def write_logins(ctx: Context, directory: Path | None = None) -> Path:
    directory = directory or Path(settings.TAIZHANG_DEMO_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "logins.json"
    target.write_text(json.dumps(ctx.logins, ensure_ascii=False, indent=2), encoding="utf-8")
    target.chmod(0o600)
    return target
