from __future__ import annotations

from collections import Counter

import pytest

from taizhang.core.errors import ApplicationError
from taizhang.industries.models import IndustryCode, ServiceCategory
from taizhang.industries.services import category_create, load_gbt4754


def test_gbt4754_counts(db):
    assert load_gbt4754() == 1972
    counts = Counter(IndustryCode.objects.values_list("level", flat=True))
    assert (counts["section"], counts["division"], counts["group"], counts["class"]) == (20, 97, 473, 1382)
    assert load_gbt4754() == 0
    # the 2019 amendment: 9231 is 监察委员会
    assert IndustryCode.objects.get(code="9231").name == "监察委员会"
    assert IndustryCode.objects.get(code="5211").parent.code == "521"
    tertiary_divisions = IndustryCode.objects.filter(level="division", tertiary=True).count()
    assert tertiary_divisions == 50


def test_district_grouping_is_two_levels(db):
    load_gbt4754()
    major = category_create(code="01", name="商贸零售")
    minor = category_create(code="0101", name="超市", parent=major, industry_codes=["5211", "5212"])
    assert minor.level == "minor" and minor.industry_codes.count() == 2
    with pytest.raises(ApplicationError, match="小类只能归属于大类"):
        category_create(code="010101", name="x", parent=minor)
    with pytest.raises(ApplicationError, match="不存在"):
        category_create(code="0102", name="y", parent=major, industry_codes=["9999"])
    assert ServiceCategory.objects.count() == 2
