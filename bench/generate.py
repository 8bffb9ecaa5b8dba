"""The benchmark's establishment sheet: N rows as a district would fill them in, credit codes made with
establishments.validators.make_credit_code (valid check characters), in the import template's columns."""

from __future__ import annotations

import random
from pathlib import Path

HEADER = [
    "统一社会信用代码",
    "单位名称",
    "单位类型",
    "行业类别",
    "所在社区/网格",
    "路段",
    "地址",
    "法定代表人",
    "联系人",
    "联系电话",
    "从业人数",
    "限上企业",
    "重点帮扶",
    "状态",
    "复工日期",
    "纬度",
    "经度",
]
ROADS = [
    "光华路",
    "文明大道",
    "中华路",
    "红旗路",
    "平原路",
    "德隆街",
    "彰德路",
    "东工路",
    "永明路",
    "紫薇大道",
    "人民大道",
    "朝霞路",
]
MIDDLE = [
    "便民",
    "鑫源",
    "惠民",
    "福满多",
    "兴隆",
    "金鼎",
    "华联",
    "顺发",
    "百姓",
    "好运来",
    "佳美",
    "万家",
    "盛世",
    "友谊",
    "新世纪",
]
SUFFIX = [
    "超市",
    "便利店",
    "小吃店",
    "服装店",
    "五金店",
    "药店",
    "餐馆",
    "理发店",
    "商贸有限公司",
    "文具店",
    "烟酒店",
    "水果店",
    "家电维修部",
]
KINDS = ["企业/个体", "门店", "超市", "商场", "辅导学校", "出租屋", "公共场所"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅玉兰晓东春梅丽娟"
CATEGORIES = [
    ("C0101", "超市"),
    ("C0102", "便利店"),
    ("C0103", "餐饮"),
    ("C0104", "住宿"),
    ("C0105", "居民服务"),
    ("C0106", "教育培训"),
]


def _code(n: int) -> str:
    from taizhang.establishments.validators import make_credit_code

    return make_credit_code(region="410502", body=f"{n:08d}")


def rows(n: int, communities: list[str], seed: int = 2020) -> list[list[object]]:
    rnd = random.Random(seed)
    out: list[list[object]] = []
    for i in range(n):
        road = rnd.choice(ROADS)
        name = road + rnd.choice(MIDDLE) + rnd.choice(SUFFIX)
        has_code = rnd.random() < 0.9
        resumed = rnd.random() < 0.6
        located = rnd.random() < 0.3
        out.append(
            [
                _code(i + 1) if has_code else "",
                name,
                rnd.choice(KINDS),
                rnd.choice(CATEGORIES)[1] if rnd.random() < 0.8 else "",
                rnd.choice(communities),
                "",
                f"{road}{i + 1}号",
                rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.6 else ""),
                rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                rnd.choice(["138", "139", "150", "186", "137", "135"]) + f"{rnd.randrange(10**8):08d}",
                rnd.randrange(1, 300),
                "是" if rnd.random() < 0.05 else "否",
                "是" if rnd.random() < 0.03 else "否",
                "已复工" if resumed else "未复工",
                f"2020-03-{rnd.randrange(1, 20):02d}" if resumed else "",
                round(36.05 + rnd.random() / 10, 6) if located else "",
                round(114.33 + rnd.random() / 10, 6) if located else "",
            ]
        )
    return out


def write_sheet(path: Path, n: int, communities: list[str]) -> Path:
    """An xlsx with the header in row 1 (so that tablib/django-import-export can read it too)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("单位台账")
    sheet.write_row(0, 0, HEADER)
    for r, values in enumerate(rows(n, communities), start=1):
        sheet.write_row(r, 0, values)
    book.close()
    return path
