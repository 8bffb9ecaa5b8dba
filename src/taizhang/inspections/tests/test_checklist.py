"""Item types, "fails when" rules, definitions, and the shipped checklists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from taizhang.inspections import checklist
from taizhang.inspections.models import ChecklistItem, ChecklistTemplate, FailOp, ItemType
from taizhang.inspections.shipped import TEMPLATE_CODES, ensure_shipped_checklists


def item(**kw):
    defaults = {
        "code": "x",
        "label": "检查",
        "type": ItemType.YES_NO,
        "required": True,
        "options": [],
        "unit": "",
        "fail_op": "",
        "fail_value": None,
    }
    return ChecklistItem(**{**defaults, **kw})


def test_yes_no_parses_words_and_fails_on_no():
    i = item(fail_op=FailOp.EQ, fail_value=False)
    assert checklist.parse(i, "yes") is True
    assert checklist.parse(i, "否") is False
    assert checklist.parse(i, "") is None
    assert checklist.fails(i, False) and not checklist.fails(i, True)
    assert checklist.display(i, False) == "否"
    assert checklist.failing_choices(i) == {"no"}
    assert checklist.describe_rule(i) == "回答“否”时不合格"
    with pytest.raises(ValueError, match="是"):
        checklist.parse(i, "maybe")


def test_number_range_and_threshold():
    i = item(type=ItemType.NUMBER, min_value=Decimal(34), max_value=Decimal(43), unit="℃", fail_op=FailOp.GT, fail_value=37.3)
    assert checklist.parse(i, "36.5") == 36.5
    assert checklist.parse(i, "37") == 37
    assert checklist.fails(i, 37.5) and not checklist.fails(i, 37.3)
    with pytest.raises(ValueError, match="不能大于 43℃"):
        checklist.parse(i, "45")
    with pytest.raises(ValueError, match="数字"):
        checklist.parse(i, "abc")
    assert checklist.display(i, 36.5) == "36.5℃"


def test_choices():
    single = item(type=ItemType.SINGLE, options=["7天以上", "3至7天", "不足3天"], fail_op=FailOp.IN, fail_value=["不足3天"])
    assert checklist.parse(single, "不足3天") == "不足3天"
    assert checklist.fails(single, "不足3天") and not checklist.fails(single, "7天以上")
    assert checklist.failing_choices(single) == {"不足3天"}
    with pytest.raises(ValueError):
        checklist.parse(single, "一周")
    multi = item(
        type=ItemType.MULTIPLE, options=["口罩", "洗手液", "消毒液"], fail_op=FailOp.LACKS, fail_value=["口罩", "消毒液"]
    )
    assert checklist.parse(multi, ["消毒液", "口罩"]) == ["口罩", "消毒液"]  # options' order
    assert checklist.fails(multi, ["口罩"]) and not checklist.fails(multi, ["口罩", "消毒液"])
    assert checklist.parse(multi, []) is None
    assert checklist.display(multi, ["口罩", "消毒液"]) == "口罩、消毒液"


def test_photo_text_date_and_blank_rule():
    p = item(type=ItemType.PHOTO, fail_op=FailOp.BLANK)
    assert checklist.parse(p, None, photos=2) == 2
    assert checklist.fails(p, None) and not checklist.fails(p, 1)
    d = item(type=ItemType.DATE, fail_op=FailOp.GT, fail_value="2020-03-31")
    assert checklist.parse(d, "2020-03-20") == "2020-03-20"
    assert checklist.fails(d, "2020-04-01")
    with pytest.raises(ValueError, match="年-月-日"):
        checklist.parse(d, "3月20日")
    t = item(type=ItemType.TEXT)
    assert checklist.parse(t, "  说明  ") == "说明"


def test_clean_answers_collects_every_error():
    items = [item(code="a"), item(code="b", type=ItemType.NUMBER, max_value=Decimal(5)), item(code="c", required=False)]
    result = checklist.clean_answers(items, {"a": "", "b": "9"})
    assert result.errors == {"a": "此项必填", "b": "不能大于 5"}


def test_definitions_are_checked():
    ok = checklist.check_definition(
        {
            "code": "ppe",
            "label": "物资",
            "type": "single",
            "options": ["够", "不够"],
            "fail_op": "in",
            "fail_value": "不够",
            "problem_category": "ppe_shortage",
        }
    )
    assert ok["fail_value"] == ["不够"]
    with pytest.raises(ValueError, match="至少要有两个选项"):
        checklist.check_definition({"code": "x", "label": "y", "type": "single", "options": ["一"]})
    with pytest.raises(ValueError, match="不支持"):
        checklist.check_definition({"code": "x", "label": "y", "type": "text", "fail_op": "gt", "fail_value": 1})
    with pytest.raises(ValueError, match="编号"):
        checklist.check_definition({"code": "检查", "label": "y", "type": "text"})
    with pytest.raises(ValueError, match="必须是它的选项"):
        checklist.check_definition(
            {"code": "x", "label": "y", "type": "single", "options": ["a", "b"], "fail_op": "in", "fail_value": ["c"]}
        )
    with pytest.raises(ValueError, match="没有设不合格条件"):
        checklist.check_definition({"code": "x", "label": "y", "type": "yes_no", "problem_category": "other"})


@pytest.mark.django_db
def test_the_article_checklists_are_shipped():
    ensure_shipped_checklists()  # idempotent
    assert set(TEMPLATE_CODES) <= set(ChecklistTemplate.objects.values_list("code", flat=True))
    school = ChecklistTemplate.objects.get(code="school-reopening")
    v1 = school.versions.get()
    assert v1.is_published and v1.number == 1
    labels = " ".join(v1.items.values_list("label", flat=True))
    for word in ("防疫物资", "防控制度落实", "开学前后准备", "值班进班登记测温", "观察室", "模拟开学演练"):
        assert word in labels
    daily = ChecklistTemplate.objects.get(code="enterprise-daily").versions.get()
    labels = " ".join(daily.items.values_list("label", flat=True))
    for word in ("体温检测", "佩戴口罩", "消毒记录", "通风", "人员密度", "员工健康台账", "防疫物资储备"):
        assert word in labels
    assert daily.items.get(code="ppe_stock").problem_category.code == "ppe_shortage"
    household = ChecklistTemplate.objects.get(code="household-visit")
    assert household.versions.get().items.first().label == "请问家里有境外返安人员吗？"
