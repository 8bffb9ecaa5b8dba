"""Demo establishments of the Wenfeng scenario and their 包联 staff (社区人员包企业).

`build_establishments(ctx, ..., scale=1.0)` writes, in bulk (services are for one record at a time):
- the article's 48 schools, 107 private kindergartens (民办) and 850 tutoring centres (辅导学校), which had not
  reopened by the scenario's today (the article's 2020-03-19; some have filed to reopen: 复学备案);
- a pool of service establishments of every kind and category of the district's grouping, of which exactly
  13,400 had resumed by today ("截至3月19日,全区复工复产企业13400家"), 51 of those above designated size
  ("其中限上企业51家"); the others are not resumed, filing, approved or suspended (KTV, 网吧 and cinemas mostly);
- rental houses (出租屋, no credit code); large commercial facilities as key targets (重点帮扶), among them the
  丹尼斯 department store on 文峰大道, open again since 14 days before today (the article's 5 March:
  "百货部于3月5日开工");
- 3–8 community staff per community, each holding the 包联 of some of its establishments;
- the enterprise portal login of 丹尼斯 (and of a supermarket).
Status histories are `EstablishmentEvent` rows that follow the transition table, dated on the article's timeline
shifted to the scenario's today (`taizhang.duties.demo.story_day`). Names, people and mobiles are invented. `scale` shrinks every count (tests build 1%); the invariants hold at any scale.
"""

from __future__ import annotations

import importlib
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.audit.services import Action, audit_bulk
from taizhang.core.roles import Role
from taizhang.duties.demo import (
    TOWN_CATEGORIES,
    DemoContext,
    before_now,
    bulk_staff,
    fake_person_name,
    holders_of,
    password_hash,
    scenario_timestamps,
    story_day,
)
from taizhang.duties.services import bulk_assign_subjects
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level, Region, RoadSection

from .models import EnterpriseAccount, Establishment, EstablishmentEvent, EstablishmentKind, Status
from .services import name_initials
from .validators import make_credit_code

# --- the article's figures (dates on the article's timeline: `story_day` places them before the scenario's today) ---
RESUMED = 13_400  # "截至3月19日,全区复工复产企业13400家"
ABOVE_SIZE_RESUMED = 51  # "其中限上企业51家"
SCHOOLS, KINDERGARTENS, TUTORING = 48, 107, 850  # "48所学校、107所民办幼儿园、850所辅导学校"
# --- the demo's own choices -------------------------------------------------------------------------
POOL = 14_100  # service establishments that could resume; the 700 beyond RESUMED had not by 3-19
RENTAL_HOUSES = 300
ABOVE_SIZE_NOT_RESUMED = 3  # so that the 限上 filter is not the same as "resumed and 限上"
RESUMPTION_FROM = date(2020, 2, 20)  # the first resumptions: 28 days before today
SUSPENDED_FROM = date(2020, 2, 1)  # suspensions during the epidemic, over the 28 days from then
DENNIS_NAME = "丹尼斯百货彰德店"
DENNIS_RESUMED = date(2020, 3, 5)  # "百货部于3月5日开工": 14 days before today
STAFF_PER_ESTABLISHMENTS = 20  # community staff: one per 20 establishments, at least 3, at most 8
STAFF_MIN, STAFF_MAX = 3, 8
ABOVE_SIZE_MAJORS = ("01", "02", "03", "04")  # 批发、零售、住宿、餐饮: the trades that have a 限额 threshold
ABOVE_SIZE_MINORS = ("1105", "1106")  # fuel stations and car dealers report as retail too
EVENT_NOTE = "演示数据：从市场主体名录导入"


@dataclass(frozen=True)
class Plan:
    """How one minor category is populated at full scale."""

    kind: str
    count: int
    resume: float  # propensity to have resumed by 3-19 (entertainment was still closed)
    employees: tuple[int, int]
    tails: tuple[str, ...]


P = Plan
PLAN: dict[str, Plan] = {
    "0101": P("mall", 11, 1.0, (120, 500), ("购物中心", "商厦", "百货大楼", "购物广场")),
    "0102": P("supermarket", 420, 1.0, (8, 160), ("超市", "生活超市", "量贩超市", "购物超市")),
    "0103": P("supermarket", 520, 1.0, (2, 8), ("便利店", "便民超市", "便利超市")),
    "0104": P("public_venue", 40, 1.0, (10, 80), ("农贸市场", "菜市场", "生鲜市场")),
    "0105": P("shop", 1300, 1.0, (1, 6), ("烟酒店", "副食店", "粮油店", "茶叶店", "食品店", "烘焙坊")),
    "0106": P("shop", 1500, 0.9, (1, 8), ("服装店", "鞋店", "日用百货店", "化妆品店", "眼镜店", "箱包店")),
    "0107": P("shop", 500, 0.9, (2, 15), ("家电商行", "手机店", "电脑城", "数码店")),
    "0108": P("shop", 600, 0.9, (1, 10), ("五金店", "灯饰店", "家具城", "建材店", "瓷砖店")),
    "0109": P("shop", 300, 0.8, (1, 6), ("文具店", "书店", "体育用品店", "琴行", "工艺品店")),
    "0110": P("shop", 150, 0.9, (1, 6), ("特色小吃", "民俗工艺店", "服饰店", "手作铺")),
    "0201": P("enterprise", 250, 1.0, (3, 40), ("农产品有限公司", "粮油贸易有限公司", "果蔬批发有限公司")),
    "0202": P("enterprise", 350, 0.9, (3, 30), ("商贸有限公司", "日用品有限公司", "建材有限公司", "五金机电有限公司")),
    "0203": P("enterprise", 80, 0.9, (2, 15), ("再生资源回收有限公司", "物资回收站")),
    "0204": P("enterprise", 150, 1.0, (2, 30), ("电子商务有限公司", "网络科技有限公司")),
    "0301": P("enterprise", 500, 0.9, (8, 80), ("大酒店", "酒楼", "饭庄", "餐饮有限公司")),
    "0302": P("shop", 1800, 0.95, (2, 10), ("快餐店", "面馆", "小吃店", "饺子馆", "包子铺", "扁粉菜馆")),
    "0303": P("shop", 350, 0.6, (2, 10), ("茶社", "咖啡馆", "奶茶店", "清吧")),
    "0304": P("enterprise", 60, 1.0, (3, 30), ("餐饮配送有限公司", "团餐服务有限公司")),
    "0401": P("enterprise", 60, 0.9, (20, 200), ("大酒店", "宾馆", "国际酒店", "商务酒店")),
    "0402": P("shop", 200, 0.8, (2, 10), ("旅馆", "招待所", "快捷宾馆")),
    "0403": P("shop", 30, 0.5, (1, 5), ("民宿",)),
    "0501": P("shop", 900, 0.8, (2, 10), ("理发店", "美发店", "美容院", "美甲店")),
    "0502": P("public_venue", 150, 0.15, (5, 40), ("洗浴中心", "足浴店", "养生馆")),
    "0503": P("enterprise", 120, 0.9, (3, 40), ("家政服务有限公司", "保洁服务部")),
    "0504": P("shop", 150, 0.6, (2, 12), ("婚纱摄影", "婚庆公司", "照相馆")),
    "0505": P("shop", 400, 0.9, (1, 5), ("干洗店", "家电维修部", "修鞋配钥匙店", "手机维修店")),
    "0506": P("shop", 120, 0.8, (1, 6), ("宠物店", "宠物医院", "宠物美容店")),
    "0507": P("enterprise", 40, 0.2, (3, 20), ("托育中心", "托育园")),
    "0604": P("enterprise", 60, 0.3, (3, 20), ("职业技能培训学校", "技能培训中心")),
    "0605": P("public_venue", 50, 0.3, (2, 15), ("跆拳道馆", "游泳培训中心", "篮球训练营", "武术馆")),
    "0701": P("public_venue", 90, 0.02, (5, 40), ("KTV", "歌舞厅", "电玩城")),
    "0702": P("public_venue", 120, 0.02, (2, 10), ("网吧", "网咖")),
    "0703": P("public_venue", 12, 0.02, (10, 60), ("影城", "影剧院")),
    "0704": P("public_venue", 15, 0.3, (5, 40), ("图书馆", "文化馆", "博物馆")),
    "0705": P("public_venue", 15, 0.05, (5, 40), ("游乐场", "儿童乐园")),
    "0801": P("public_venue", 80, 0.1, (3, 20), ("健身会所", "健身房", "瑜伽馆")),
    "0802": P("public_venue", 20, 0.3, (3, 30), ("体育场", "羽毛球馆", "游泳馆")),
    "0803": P("shop", 150, 0.9, (1, 3), ("体育彩票投注站", "福利彩票投注站")),
    "0901": P("public_venue", 25, 1.0, (60, 600), ("医院", "中医医院", "专科医院")),
    "0902": P("public_venue", 200, 0.95, (3, 30), ("诊所", "社区卫生服务站", "口腔诊所", "卫生室")),
    "0903": P("shop", 450, 1.0, (2, 10), ("大药房", "药店", "医疗器械店")),
    "0904": P("enterprise", 15, 0.9, (10, 60), ("健康体检中心", "医学检验所")),
    "1001": P("public_venue", 30, 1.0, (10, 80), ("养老院", "敬老院", "康养中心")),
    "1002": P("public_venue", 60, 0.5, (2, 10), ("日间照料中心", "老年人服务站")),
    "1003": P("enterprise", 8, 1.0, (5, 30), ("殡仪服务有限公司", "殡葬用品店")),
    "1004": P("enterprise", 60, 0.8, (1, 10), ("商会", "协会", "社会工作服务中心")),
    "1101": P("enterprise", 30, 0.8, (20, 300), ("客运有限公司", "出租汽车有限公司", "公交客运有限公司")),
    "1102": P("enterprise", 300, 1.0, (3, 60), ("物流有限公司", "货运有限公司", "仓储有限公司")),
    "1103": P("enterprise", 150, 1.0, (3, 40), ("快递服务部", "速递有限公司")),
    "1104": P("shop", 400, 0.9, (2, 15), ("汽车维修中心", "汽修厂", "汽车美容店")),
    "1105": P("enterprise", 40, 1.0, (6, 20), ("加油站", "加气站", "充电站")),
    "1106": P("enterprise", 80, 0.9, (8, 60), ("汽车销售服务有限公司", "汽车贸易有限公司")),
    "1201": P("enterprise", 110, 1.0, (8, 40), ()),  # bank branches: named by BANKS
    "1202": P("enterprise", 50, 1.0, (5, 60), ("保险代理有限公司", "保险经纪有限公司")),
    "1203": P("enterprise", 12, 1.0, (5, 30), ("证券营业部", "期货营业部")),
    "1204": P("enterprise", 40, 0.9, (3, 15), ("小额贷款有限公司", "典当有限公司", "融资担保有限公司")),
    "1301": P("enterprise", 90, 0.9, (10, 120), ("置业有限公司", "房地产开发有限公司")),
    "1302": P("enterprise", 200, 1.0, (5, 80), ("物业服务有限公司", "物业管理有限公司")),
    "1303": P("shop", 250, 0.8, (2, 12), ("房产中介", "房屋经纪部", "地产")),
    "1401": P("enterprise", 80, 1.0, (3, 20), ("会计师事务所", "税务师事务所", "财务咨询有限公司")),
    "1402": P("enterprise", 150, 0.9, (2, 20), ("律师事务所", "企业管理咨询有限公司", "信息咨询服务部")),
    "1403": P("enterprise", 250, 0.9, (2, 20), ("广告有限公司", "文化传媒有限公司", "会展服务有限公司", "图文快印店")),
    "1404": P("enterprise", 80, 0.9, (2, 15), ("人力资源有限公司", "劳务派遣有限公司")),
    "1405": P("enterprise", 40, 0.2, (2, 15), ("旅行社", "国际旅行社")),
    "1406": P("enterprise", 20, 1.0, (20, 200), ("保安服务有限公司", "安防科技有限公司")),
    "1501": P("shop", 90, 1.0, (2, 10), ("移动营业厅", "电信营业厅", "联通营业厅")),
    "1502": P("enterprise", 200, 1.0, (3, 80), ("软件有限公司", "信息技术有限公司", "网络科技有限公司")),
    "1503": P("enterprise", 60, 1.0, (3, 40), ("网络科技有限公司", "互联网信息服务有限公司")),
    "1504": P("enterprise", 40, 1.0, (3, 40), ("检测技术有限公司", "科技服务有限公司", "众创空间")),
    "1601": P("enterprise", 80, 1.0, (10, 150), ("环卫服务有限公司", "保洁服务有限公司")),
    "1602": P("enterprise", 40, 1.0, (5, 60), ("停车管理有限公司", "市政工程维护有限公司")),
    "1603": P("enterprise", 40, 1.0, (5, 60), ("园林绿化有限公司", "园林工程有限公司")),
    "1604": P("enterprise", 25, 1.0, (5, 40), ("环保科技有限公司", "环境工程有限公司")),
    "1701": P("shop", 120, 1.0, (1, 6), ("农资店", "种子化肥门市", "农机服务部")),
    "1702": P("public_venue", 8, 1.0, (5, 30), ("集贸市场",)),
    "1703": P("shop", 40, 0.5, (2, 15), ("农家乐", "采摘园", "生态园")),
    "1704": P("enterprise", 30, 1.0, (3, 30), ("粮食购销有限公司", "农产品加工厂", "粮库")),
}
SCHOOL_LIKE = {"school": "0601", "kindergarten": "0602", "tutoring": "0603"}
RENTAL_CATEGORY = "1304"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Trade names (字号), invented by combining common auspicious words; no real business is meant.
TRADE = words(
    "鑫隆 金源 福瑞 永盛 德祥 华联 宏达 瑞丰 兴旺 恒通 嘉禾 百信 利民 惠民 万家 佳美 盛世 天成 聚福 和顺 "
    "顺发 隆昌 祥和 富源 金鼎 银河 新世纪 东方 中原 殷都 彰德 洹河 安康 康宁 美佳 好运 大众 阳光 蓝天 "
    "君安 汇丰源 鸿运 天润 金诚 诚信 信达 泰和 昌盛 吉祥 如意 百乐 乐家 欣欣 红旗 光明 文峰 新华 "
    "时代 建业 众诚 四季 春晖 秋实 金穗 丰收 五谷 田园 绿源 清泉 汇通 通达 广源 博远 远航 启明 "
    "星辰 明珠 宝丰 金桥 银座 锦绣 华夏 九州 万和 千禧 百合 丹桂 兰亭 梅园 竹韵 松鹤 益民 "
    "华冠 金冠 盛源 福满 家和 喜来 悦来 同福 宏图 鹏程 凯达 友谊 团结 同心 匠心 诚品 优品 "
    "尚品 臻品 晨光 曙光 朝阳 夕阳红 老街 古城 洹上 北关 南苑 东篱 西山 太行 龙泉 凤凰 麒麟"
)
BANKS = (
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "中国邮政储蓄银行",
    "中原银行",
    "安阳农村商业银行",
)
MALL_TRADE = ("殷都", "中原", "彰德", "洹河", "银座", "新世纪", "时代", "金鼎", "华联", "东方", "明珠")
KID_TRADE = words(
    "小太阳 金色童年 七彩虹 爱心 启航 童馨 阳光宝贝 蓝天 新星 小天使 快乐岛 金钥匙 童之梦 小精灵 贝贝 乐乐 "
    "春苗 小树苗 向日葵 彩虹桥 童心 小白鸽 育苗 晨曦 星星 小博士 智慧树 花蕾 苗苗 开心果 蒲公英 "
    "小海豚 格林 安徒生 蓓蕾 红苹果 小蜜蜂 欢乐谷 小百灵 童话城 宝贝乐园 小哈佛 明日之星 雏鹰"
)
KID_TAILS = ("幼儿园", "双语幼儿园", "艺术幼儿园")
EDU_TRADE = words(
    "博学 启智 明德 育英 新思维 卓越 优学 状元 金榜 精英 尚学 励志 书香 翰林 德才 英才 睿思 乐学 致远 "
    "博文 弘毅 正心 知行 立人 厚德 求真 北辰 思源 弘文 慧泉 墨香 童画 琴韵 雅韵 星空 未来 七色花 "
    "小天才 新起点 优才 名师 博雅 百川 鸿儒 学知 勤思 善学 天天向上 步步高 点睛 领航 益智 灵犀 青藤"
)
EDU_SUBJECTS = ("", "", "英语", "数学", "作文", "美术", "书法", "音乐", "舞蹈", "编程", "围棋", "口才", "珠心算")
EDU_TAILS = ("辅导学校", "培训学校")
# The article's schools ("到文峰区第一实验小学、东南营小学、三官庙小学、宝莲寺中心小学等48所学校"), by community code.
ARTICLE_SCHOOLS = (
    ("文峰区第一实验小学", "410502013001"),
    ("东南营小学", "410502001003"),
    ("三官庙小学", "410502012007"),
    ("宝莲寺中心小学", "410502101001"),  # 文峰家园社区, the town seat
)
MOBILE_PREFIXES = words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176 177 180 181 182 183 "
    "185 186 187 188 189 191 198 199"
)
HOUSE_NUMBERS = tuple(str(n) for n in range(1, 400))
USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 characters (no I, O, Z, S, V)
BODY_SPACE = len(USCC_BODY) ** 6
BODY_STEP = 387_420_489  # 3^18, coprime with 31^6: counter × step mod 31^6 is a bijection (unique bodies)
TZ = ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Targets:
    """The demo's counts at a scale (1.0 = the article)."""

    resumed: int
    above_size: int
    schools: int
    kindergartens: int
    tutoring: int
    pool: int
    rentals: int
    above_size_not_resumed: int

    @classmethod
    def at(cls, scale: float) -> Targets:
        def n(x: int) -> int:
            return max(1, round(x * scale))

        return cls(
            resumed=n(RESUMED),
            above_size=n(ABOVE_SIZE_RESUMED),
            schools=n(SCHOOLS),
            kindergartens=n(KINDERGARTENS),
            tutoring=n(TUTORING),
            pool=max(n(POOL), n(RESUMED) + 2),
            rentals=n(RENTAL_HOUSES),
            above_size_not_resumed=round(ABOVE_SIZE_NOT_RESUMED * scale),
        )


@dataclass
class Row:
    """An establishment being planned (turned into a model instance at the end)."""

    kind: str
    category: str
    name: str
    community: Region
    employees: int
    code_type: str = ""  # the first two characters of the credit code; "" for none
    status: str = Status.NOT_RESUMED
    status_since: date | None = None
    resumed_on: date | None = None
    above_size: bool = False
    key_target: bool = False
    events: tuple[tuple[date, time, str, str, str], ...] = ()  # (day, time, from, to, note)
    road: RoadSection | None = None
    address: str = ""


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=TZ)


def largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    """Integer counts proportional to `weights` that add up to exactly `total`."""
    s = sum(weights.values())
    raw = {k: w * total / s for k, w in weights.items()}
    counts = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (counts[k] - raw[k], k))[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


class Builder:
    def __init__(self, ctx: DemoContext, *, password: str, start: date, scale: float, seed: int) -> None:
        self.ctx, self.password, self.start, self.scale = ctx, password, start, scale
        self.rng = random.Random(seed)  # noqa: S311 - invented demo data, not a secret
        self.targets = Targets.at(scale)
        self.names: set[str] = set()
        self.mobiles: set[str] = set()
        self.bodies = 0
        subdistricts = {r.pk: r for r in Region.objects.filter(level=Level.SUBDISTRICT)}
        self.communities = list(Region.objects.filter(level=Level.COMMUNITY, parent__in=subdistricts).order_by("code"))
        self.by_code = {r.code: r for r in [*subdistricts.values(), *self.communities]}
        self.subdistrict_of = {c.pk: subdistricts[c.parent_id or 0] for c in self.communities}
        self.roads: dict[int, list[RoadSection]] = defaultdict(list)
        for section in RoadSection.objects.order_by("code"):
            self.roads[section.subdistrict_id].append(section)
        self.cum_weights = list(itertools.accumulate(self._community_weight(c) for c in self.communities))
        # Schools, kindergartens and rental houses are not in the offices' virtual communities (步行街, 北大街).
        self.residential = [c for c in self.communities if "虚拟" not in c.name]
        self.residential_weights = list(itertools.accumulate(self._community_weight(c) for c in self.residential))
        self.in_town: dict[str, list[Region]] = defaultdict(list)
        for c in self.communities:
            self.in_town[self.subdistrict_of[c.pk].code].append(c)

    # --- where --------------------------------------------------------------------------------------
    def _community_weight(self, community: Region) -> float:
        sub = self.subdistrict_of[community.pk].code
        if sub == "410502101000":  # 宝莲寺镇: villages
            return 0.3
        if sub in ("410502561000", "410502562000"):  # the pedestrian-street and 北大街 offices' virtual communities
            return 1.5
        if sub.startswith("410571"):  # 高新区
            return 0.8
        return 1.0

    def place(self, category: str, *, residential: bool = False) -> Region:
        town = TOWN_CATEGORIES.get(category)
        if town is not None:
            return self.rng.choice(self.in_town[town])
        if residential:
            return self.rng.choices(self.residential, cum_weights=self.residential_weights)[0]
        return self.rng.choices(self.communities, cum_weights=self.cum_weights)[0]

    def prefixes(self, community: Region, *, company: bool = False) -> tuple[str, ...]:
        gaoxin = self.subdistrict_of[community.pk].code.startswith("410571")
        if company:
            return ("安阳高新区", "安阳市") if gaoxin else ("安阳市", "安阳", "安阳市文峰区")
        return ("高新区", "安阳高新区", "") if gaoxin else ("文峰区", "安阳市文峰区", "文峰区", "")

    def prefix(self, community: Region, *, company: bool = False) -> str:
        return self.rng.choice(self.prefixes(community, company=company))

    # --- names --------------------------------------------------------------------------------------
    def compose(self, *parts: str | Sequence[str]) -> Callable[[], str]:
        """A name maker: fixed strings as they are, one random choice from each sequence."""

        def make() -> str:
            return "".join(p if isinstance(p, str) else self.rng.choice(p) for p in parts)

        return make

    def unique(self, make: Callable[[], str], fallback: Callable[[str], str]) -> str:
        for _ in range(20):
            name = make()
            if name not in self.names:
                self.names.add(name)
                return name
        n = 2
        while (name := fallback(make()) + (f"{n}" if n > 2 else "")) in self.names:
            n += 1
        self.names.add(name)
        return name

    def trade(self) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return self.rng.choice("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋谢") + self.rng.choice(
                ("记", "氏", "家", "姐", "哥")
            )
        return self.rng.choice(TRADE)

    def name_for(self, plan: Plan, category: str, community: Region) -> str:
        branch = community.display_name.removesuffix("社区").removesuffix("村")
        if category == "1201":
            return self.unique(
                lambda: f"{self.rng.choice(BANKS)}安阳{self.rng.choice((branch, self.rng.choice(TRADE)))}支行",
                lambda n: n[:-2] + "分理处",
            )
        if plan.kind == "mall":
            return self.unique(
                lambda: f"{self.rng.choice(MALL_TRADE)}{self.rng.choice(plan.tails)}", lambda n: f"{n}（{branch}店）"
            )
        if plan.kind in ("enterprise",) and plan.tails[0].endswith(("公司", "事务所")):
            return self.unique(
                lambda: f"{self.prefix(community, company=True)}{self.rng.choice(TRADE)}{self.rng.choice(plan.tails)}",
                lambda n: f"{n}{branch}分公司",
            )
        return self.unique(
            lambda: f"{self.prefix(community)}{self.trade()}{self.rng.choice(plan.tails)}", lambda n: f"{n}（{branch}店）"
        )

    # --- identifiers and people ---------------------------------------------------------------------
    def credit_code(self, code_type: str, community: Region) -> str | None:
        if not code_type:
            return None
        self.bodies += 1
        n = self.bodies * BODY_STEP % BODY_SPACE
        digits = []
        for _ in range(6):
            n, r = divmod(n, len(USCC_BODY))
            digits.append(USCC_BODY[r])
        region = "410571" if community.code.startswith("410571") else "410502"
        return make_credit_code(region=region, body="MA" + "".join(digits), authority=code_type[0], category=code_type[1])

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    # --- the plan -----------------------------------------------------------------------------------
    def plan_rows(self) -> list[Row]:
        t = self.targets
        rows: list[Row] = []
        rows += self.schools(t.schools)
        for _ in range(t.kindergartens):
            c = self.place("0602", residential=True)
            pre = "高新区" if self.subdistrict_of[c.pk].code.startswith("410571") else "文峰区"
            name = self.unique(self.compose(pre, "民办", KID_TRADE, KID_TAILS), lambda n: n + "分园")
            rows.append(Row("kindergarten", "0602", name, c, self.rng.randint(8, 35), "52"))
        for _ in range(t.tutoring):
            c = self.place("0603")
            name = self.unique(
                self.compose(self.prefixes(c), EDU_TRADE, EDU_SUBJECTS, EDU_TAILS), lambda n: n.replace("学校", "中心")
            )
            rows.append(Row("tutoring", "0603", name, c, self.rng.randint(3, 20), self.rng.choice(("52", "91"))))
        for _ in range(t.rentals):
            c = self.place(RENTAL_CATEGORY, residential=True)
            rows.append(Row("rental_house", RENTAL_CATEGORY, "", c, 0))
        rows += self.pool(t.pool)
        return rows

    def schools(self, count: int) -> list[Row]:
        """The article's four schools, then one named after each of other communities (小学, every fourth 中学)."""
        rows = []
        for name, code in ARTICLE_SCHOOLS[:count]:
            self.names.add(name)
            rows.append(Row("school", "0601", name, self.by_code[code], self.rng.randint(40, 150), "12"))
        places = {self.by_code[code].display_name.removesuffix("社区").removesuffix("村") for _, code in ARTICLE_SCHOOLS}
        candidates = []
        for c in self.rng.sample(self.residential, len(self.residential)):
            place = c.display_name.removesuffix("社区").removesuffix("村")
            if place not in places:
                places.add(place)
                candidates.append((c, place))
        for i in range(count - len(rows)):
            c, place = candidates[i % len(candidates)]
            level = "中学" if i % 4 == 3 else "小学"
            pre = "安阳高新区" if c.code.startswith("410571") else "文峰区"
            name = self.unique(self.compose(pre, place, level), lambda n: f"{n[:-2]}第二{n[-2:]}")
            rows.append(Row("school", "0601", name, c, self.rng.randint(40, 150), "12"))
        return rows

    def pool(self, total: int) -> list[Row]:
        # 官园社区 (the article's community, where the community logins are) always gets a supermarket and a shop,
        # so that its staff hold 包联 at any scale; they come out of the 0102 and 0105 shares.
        guanyuan = next((c for c in self.communities if c.display_name == "官园社区"), None)
        fixed: list[tuple[str, Region | None]] = [("0102", guanyuan), ("0105", guanyuan)] if guanyuan else []
        counts = largest_remainder({k: float(p.count) for k, p in PLAN.items()}, total - 1 - len(fixed))
        rows: list[Row] = []
        dennis_road, dennis_community = self.dennis_place()
        self.names.add(DENNIS_NAME)
        rows.append(
            Row("mall", "0101", DENNIS_NAME, dennis_community, 480, "91", road=dennis_road, address="文峰大道与中华路交叉口")
        )
        placed: list[tuple[str, Region | None]] = [(category, None) for category, n in counts.items() for _ in range(n)]
        for category, where in [*fixed, *placed]:
            plan = PLAN[category]
            c = where or self.place(category)
            code_type = {"enterprise": "91", "mall": "91", "supermarket": "91"}.get(plan.kind, "92")
            if category in ("0901", "0704"):
                code_type = "12"  # public institutions (事业单位)
            elif category == "1004":
                code_type = "51"  # social organisations (社会团体)
            elif category in ("1001", "0507"):
                code_type = "52"  # private non-enterprise units (民办非企业单位)
            elif plan.kind == "shop" and self.rng.random() < 0.2:
                code_type = "91"
            emp = self.rng.randint(*plan.employees)
            rows.append(Row(plan.kind, category, self.name_for(plan, category, c), c, emp, code_type))
        return rows

    def dennis_place(self) -> tuple[RoadSection | None, Region]:
        """A 文峰大道 road section and a community of its sub-district (the article: "文峰大道新丹尼斯")."""
        for sub_id, sections in sorted(self.roads.items()):
            for section in sections:
                if section.name.startswith("文峰大道"):
                    return section, next(c for c in self.communities if self.subdistrict_of[c.pk].pk == sub_id)
        return None, self.communities[0]

    # --- statuses and flags -------------------------------------------------------------------------
    def statuses(self, rows: list[Row]) -> None:
        t = self.targets
        dennis = next(r for r in rows if r.name == DENNIS_NAME)
        pool = [r for r in rows if r.kind not in SCHOOL_LIKE and r.kind != "rental_house" and r is not dennis]
        # Weighted sampling without replacement (key u^(1/w)): entertainment venues mostly stay closed.
        keyed = sorted(pool, key=lambda r: self.rng.random() ** (1 / PLAN[r.category].resume), reverse=True)
        resumed, others = [dennis, *keyed[: t.resumed - 1]], keyed[t.resumed - 1 :]
        today = self.ctx.today
        first = story_day(today, RESUMPTION_FROM)
        span = (today - first).days
        for r in resumed:
            day = (
                story_day(today, DENNIS_RESUMED)
                if r is dennis
                else first + timedelta(days=round(self.rng.triangular(0, span, span * 0.6)))
            )
            approved = day - timedelta(days=self.rng.randint(1, 2))
            filed = approved - timedelta(days=self.rng.randint(1, 4))
            r.status, r.status_since, r.resumed_on = Status.RESUMED, day, day
            r.events = (
                (filed, time(10, 0), Status.NOT_RESUMED, Status.FILING, "提交复工备案"),
                (approved, time(16, 0), Status.FILING, Status.APPROVED, "复工备案审核通过"),
                (day, time(8, 30), Status.APPROVED, Status.RESUMED, "复工"),
            )
        for r in others:
            self.not_resumed(r, (0.45, 0.30, 0.15, 0.10))
        for r in rows:
            if r.kind in SCHOOL_LIKE:
                self.not_resumed(r, (0.55, 0.35, 0.10, 0.0))
        # 限上: the largest resumed establishments of the trades with a threshold, malls first.
        eligible = [r for r in resumed if r.category[:2] in ABOVE_SIZE_MAJORS or r.category in ABOVE_SIZE_MINORS]
        eligible.sort(key=lambda r: (r.kind != "mall", -r.employees, r.name))
        for r in eligible[: t.above_size]:
            r.above_size = True
        waiting = [r for r in others if r.category[:2] in ABOVE_SIZE_MAJORS or r.category in ABOVE_SIZE_MINORS]
        for r in sorted(waiting, key=lambda r: -r.employees)[: t.above_size_not_resumed]:
            r.above_size = True
        # 重点帮扶: large commercial facilities (malls, 限上 supermarkets, big markets).
        for r in rows:
            if r.kind == "mall" or (r.above_size and r.kind == "supermarket") or (r.category == "0104" and r.employees >= 60):
                r.key_target = True

    def not_resumed(self, r: Row, shares: Sequence[float]) -> None:
        status = self.rng.choices((Status.NOT_RESUMED, Status.FILING, Status.APPROVED, Status.SUSPENDED), shares)[0]
        r.status = status
        today = self.ctx.today
        if status == Status.FILING:
            day = today - timedelta(days=self.rng.randint(0, 12))
            r.events = ((day, time(10, 0), Status.NOT_RESUMED, Status.FILING, "提交复工备案"),)
        elif status == Status.APPROVED:
            day = today - timedelta(days=self.rng.randint(0, 6))
            filed = day - timedelta(days=self.rng.randint(1, 4))
            r.events = (
                (filed, time(10, 0), Status.NOT_RESUMED, Status.FILING, "提交复工备案"),
                (day, time(16, 0), Status.FILING, Status.APPROVED, "复工备案审核通过，待复工"),
            )
        elif status == Status.SUSPENDED:
            day = story_day(today, SUSPENDED_FROM) + timedelta(days=self.rng.randint(0, 28))
            r.events = ((day, time(9, 0), Status.NOT_RESUMED, Status.SUSPENDED, "疫情期间停业"),)
        else:
            day = self.start
        r.status_since = day

    # --- writing ------------------------------------------------------------------------------------
    def write(self, rows: list[Row]) -> list[Establishment]:
        kinds = ensure_kinds()
        categories = {c.code: c for c in ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR)}
        industry = {
            c.code: min(c.industry_codes.all(), key=lambda i: i.code)
            for c in ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR).prefetch_related("industry_codes")
        }
        objs = []
        for r in rows:
            sub = self.subdistrict_of[r.community.pk]
            road = r.road or (self.rng.choice(self.roads[sub.pk]) if self.roads[sub.pk] else None)
            street = road.name.split("（")[0] if road else sub.display_name
            if r.kind == "rental_house":
                r.name = self.unique(self.compose(street, HOUSE_NUMBERS, "号院出租屋"), lambda n: n.replace("号院", "号院东"))
                address = f"{r.name.removesuffix('出租屋')}{self.rng.randint(1, 6)}号楼"
            else:
                address = r.address or f"{street}{self.rng.randint(1, 399)}号"
            person = fake_person_name(self.rng, surname="孙" if r.name == DENNIS_NAME else None)  # "丹尼斯彰德店孙经理"
            has_legal = r.kind != "rental_house"
            objs.append(
                Establishment(
                    credit_code=self.credit_code(r.code_type, r.community),
                    name=r.name,
                    name_initials=name_initials(r.name),
                    kind=kinds[r.kind],
                    category=categories[r.category],
                    industry=industry[r.category],
                    region=r.community,
                    region_path=r.community.path,
                    road_section=road,
                    address=address,
                    legal_representative=(person if r.code_type.startswith("92") else fake_person_name(self.rng))
                    if has_legal
                    else "",
                    contact_name=person,
                    contact_mobile=self.mobile(),
                    employees=r.employees,
                    above_size=r.above_size,
                    key_target=r.key_target,
                    status=r.status,
                    status_since=r.status_since or self.start,
                    resumed_on=r.resumed_on,
                )
            )
        # registered (imported from the directory) in the scenario's first days: the record's creation time too;
        # the status events on the scenario's days, none later than its clock
        now = self.ctx.now
        registered = [_at(self.start + timedelta(days=self.rng.randint(0, 10)), time(9, self.rng.randint(0, 59))) for _ in rows]
        changes = [[(before_now(_at(day, t), now), old, new, note) for day, t, old, new, note in r.events] for r in rows]
        for obj, at, steps in zip(objs, registered, changes, strict=True):
            obj.created_at = at
            obj.updated_at = max([at, *(s[0] for s in steps)])
        with scenario_timestamps(Establishment):
            created = Establishment.objects.bulk_create(objs, batch_size=1000)
        audit_bulk(
            action=Action.BULK_CREATE, actor=None, model=Establishment, ids=[e.pk for e in created], detail={"source": "demo"}
        )
        events = []
        for est, at, steps in zip(created, registered, changes, strict=True):
            events.append(
                EstablishmentEvent(
                    establishment=est,
                    at=at,
                    kind=EstablishmentEvent.Kind.IMPORTED,
                    to_status=Status.NOT_RESUMED,
                    note=EVENT_NOTE,
                )
            )
            for at, old, new, note in steps:
                events.append(
                    EstablishmentEvent(
                        establishment=est,
                        at=at,
                        kind=EstablishmentEvent.Kind.STATUS,
                        from_status=old,
                        to_status=new,
                        note=note,
                    )
                )
        EstablishmentEvent.objects.bulk_create(events, batch_size=2000)
        return created

    def assign(self, establishments: list[Establishment]) -> dict[int, list[User]]:
        """3–8 community staff per community (existing community logins count), each holding some 包联."""
        by_community: dict[int, list[Establishment]] = defaultdict(list)
        for e in establishments:
            by_community[e.region_id].append(e)
        on = max(self.start, self.ctx.today)
        units = {c.pk: self.ctx.units[f"SQ{c.code}"] for c in self.communities}
        holders = {c.pk: holders_of(units[c.pk], Role.COMMUNITY, on) for c in self.communities}
        people = []
        for c in self.communities:
            need = min(STAFF_MAX, max(STAFF_MIN, math.ceil(len(by_community[c.pk]) / STAFF_PER_ESTABLISHMENTS)))
            village = c.display_name.endswith("村")
            for k in range(len(holders[c.pk]) + 1, need + 1):
                title = ("村干部" if village else "社区干部") if k % 2 else "网格员"
                people.append((f"sq{c.code[6:]}_{k}", fake_person_name(self.rng), units[c.pk], c, Role.COMMUNITY, title))
        for user, spec in zip(bulk_staff(self.ctx, password=self.password, start=self.start, people=people), people, strict=True):
            holders[spec[3].pk].append(user)
        rows = []
        for c in self.communities:
            staff = holders[c.pk]
            for i, e in enumerate(by_community[c.pk]):
                rows.append((staff[i % len(staff)], units[c.pk], e))
        for i in range(0, len(rows), 5000):
            bulk_assign_subjects(rows=rows[i : i + 5000], valid_from=self.start)
        return holders

    def enterprise_logins(self, establishments: list[Establishment]) -> None:
        dennis = next(e for e in establishments if e.name == DENNIS_NAME)
        guanyuan = next((c for c in self.communities if c.display_name == "官园社区"), None)
        supermarkets = [e for e in establishments if e.kind.code == "supermarket" and e.status == Status.RESUMED]
        shop = next(
            (e for e in supermarkets if guanyuan and e.region_id == guanyuan.pk), supermarkets[0] if supermarkets else None
        )
        accounts = [("dns_sun", "孙经理", dennis)] + ([("qy_chaoshi", shop.contact_name, shop)] if shop else [])
        hashed = password_hash(self.ctx, self.password)
        for username, display, est in accounts:
            user = User.objects.create(username=username, display_name=display, password=hashed)
            unit = OrgUnit.objects.create(code=f"QY{est.pk}", name=est.name, kind=OrgUnit.Kind.ENTERPRISE, region=est.region)
            Post.objects.create(
                user=user, unit=unit, region=est.region, role=Role.ENTERPRISE, title="联系人", valid_from=self.start
            )
            EnterpriseAccount.objects.create(user=user, establishment=est, confirmed=True)
            self.ctx.add_login(
                Role.ENTERPRISE, {"username": username, "password": self.password, "scope": est.name, "name": display}
            )


def ensure_kinds() -> dict[str, EstablishmentKind]:
    """The shipped kinds (a data migration; `flush` empties the table, so the demo puts them back)."""
    shipped = importlib.import_module("taizhang.establishments.migrations.0002_shipped_establishment_kinds").KINDS
    existing = {k.code: k for k in EstablishmentKind.objects.all()}
    missing = [EstablishmentKind(code=c, name=n, sort=s, is_school_like=sl) for c, n, s, sl in shipped if c not in existing]
    for k in EstablishmentKind.objects.bulk_create(missing):
        existing[k.code] = k
    return existing


def build_establishments(ctx: DemoContext, *, password: str, start: date, scale: float = 1.0, seed: int = 2020) -> None:
    """Run after `taizhang.duties.demo.build_duties`. Keeps the counts written in ctx.extra["establishments"]."""
    builder = Builder(ctx, password=password, start=start, scale=scale, seed=seed)
    rows = builder.plan_rows()
    builder.statuses(rows)
    establishments = builder.write(rows)
    holders = builder.assign(establishments)
    builder.enterprise_logins(establishments)
    summary = {
        "establishments": len(establishments),
        "resumed": sum(r.status == Status.RESUMED for r in rows),
        "above_size_resumed": sum(r.above_size and r.status == Status.RESUMED for r in rows),
        "key_targets": sum(r.key_target for r in rows),
        "community_staff": sum(len(v) for v in holders.values()),
        "targets": builder.targets,
    }
    ctx.extra["establishments"] = summary
