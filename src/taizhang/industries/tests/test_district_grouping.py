from __future__ import annotations

from collections import Counter

import pytest

from taizhang.core.errors import ApplicationError
from taizhang.industries.models import IndustryCode, ServiceCategory
from taizhang.industries.services import load_district_grouping, read_district_grouping

DEPARTMENT_CODES = {
    "SWJ",
    "JYJ",
    "SCJGJ",
    "WJW",
    "CZJ",
    "RSJ",
    "WGLJ",
    "ZJJ",
    "JTJ",
    "YJJ",
    "CGJ",
    "MZJ",
    "FGW",
    "GXJ",
    "JRB",
    "TYJ",
}


def test_district_grouping_file_is_17_by_81_over_16_departments():
    rows = read_district_grouping()
    assert len({r.major_code for r in rows}) == 17
    assert len({r.minor_code for r in rows}) == len(rows) == 81
    assert all(r.minor_code.startswith(r.major_code) for r in rows)
    departments = {r.department_code for r in rows} - {""}
    assert departments == DEPARTMENT_CODES  # "分配给16个职能部门和各个镇办"
    assert 0 < sum(r.department_code == "" for r in rows) <= 5  # a few followed by a 镇办


def test_load_district_grouping(db):
    assert load_district_grouping() == 17 + 81
    assert load_district_grouping() == 0  # idempotent
    levels = Counter(ServiceCategory.objects.values_list("level", flat=True))
    assert (levels["major"], levels["minor"]) == (17, 81)
    # every minor has at least one national code, and every code exists and is tertiary
    for minor in ServiceCategory.objects.filter(level="minor").prefetch_related("industry_codes"):
        codes = list(minor.industry_codes.all())
        assert codes, minor.name
        assert all(c.tertiary for c in codes), minor.name
    wanted = {c for r in read_district_grouping() for c in r.gbt_codes}
    assert IndustryCode.objects.filter(code__in=wanted).count() == len(wanted)
    supermarket = ServiceCategory.objects.get(name="超市")
    assert supermarket.parent.name == "商贸零售"
    assert list(supermarket.industry_codes.values_list("code", flat=True)) == ["5212"]
    assert ServiceCategory.objects.filter(level="major").order_by("sort").first().code == "01"


def test_load_district_grouping_keeps_district_edits(db):
    load_district_grouping()
    ServiceCategory.objects.filter(code="0102").update(name="超市（含量贩）")
    assert load_district_grouping() == 0
    assert ServiceCategory.objects.get(code="0102").name == "超市（含量贩）"


def test_load_district_grouping_refuses_unknown_codes(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "major_code,major_name,minor_code,minor_name,gbt_codes,department_code\n01,商贸零售,0101,超市,5212 9999,SWJ\n",
        encoding="utf-8",
    )
    with pytest.raises(ApplicationError, match="9999"):
        load_district_grouping(csv_path=bad)
    assert not ServiceCategory.objects.exists()
    empty = tmp_path / "empty.csv"
    empty.write_text(
        "major_code,major_name,minor_code,minor_name,gbt_codes,department_code\n01,商贸零售,0101,超市,,SWJ\n", encoding="utf-8"
    )
    with pytest.raises(ApplicationError, match="没有对应的国标行业代码"):
        read_district_grouping(empty)
