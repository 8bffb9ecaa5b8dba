"""What a checklist item of each type accepts, when it fails and how an answer reads.

Pages, the API, imports and the demo give raw answers (form strings, JSON values); `parse()` turns one into its
stored JSON value (bool, number, str, list of str, ISO date, or the number of photos), `fails()` applies the
item's "fails when" rule and `display()` renders it for people. `check_definition()` validates an item
definition when a template is edited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import ChecklistItem, FailOp, ItemType

MAX_TEXT = 2000
MAX_OPTIONS = 30
TRUE_WORDS = {"1", "true", "yes", "y", "on", "是", "有"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "否", "无"}
# Which "fails when" operators make sense for each type.
OPS_FOR_TYPE: dict[str, frozenset[str]] = {
    ItemType.YES_NO: frozenset({FailOp.EQ, FailOp.BLANK}),
    ItemType.NUMBER: frozenset({FailOp.LT, FailOp.GT, FailOp.EQ, FailOp.NE, FailOp.BLANK}),
    ItemType.SINGLE: frozenset({FailOp.IN, FailOp.EQ, FailOp.NE, FailOp.BLANK}),
    ItemType.MULTIPLE: frozenset({FailOp.IN, FailOp.LACKS, FailOp.BLANK}),
    ItemType.TEXT: frozenset({FailOp.BLANK}),
    ItemType.PHOTO: frozenset({FailOp.BLANK}),
    ItemType.DATE: frozenset({FailOp.LT, FailOp.GT, FailOp.BLANK}),
}


def _blank_raw(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return not [r for r in raw if not _blank_raw(r)]
    return False


def to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("请选择“是”或“否”")


def to_number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError("请填写数字")
    try:
        number = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("请填写数字") from None
    if not number.is_finite():
        raise ValueError("请填写数字")
    return number


def _number_json(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def parse(item: ChecklistItem, raw: Any, *, photos: int = 0) -> Any:
    """The stored value of one answer, or None when nothing was given. ValueError (Chinese) when it is invalid."""
    if item.type == ItemType.PHOTO:
        return photos or None
    if _blank_raw(raw):
        return None
    if item.type == ItemType.YES_NO:
        return to_bool(raw[0] if isinstance(raw, list | tuple) else raw)
    if item.type == ItemType.NUMBER:
        number = to_number(raw[0] if isinstance(raw, list | tuple) else raw)
        if item.min_value is not None and number < item.min_value:
            raise ValueError(f"不能小于 {_number_json(item.min_value)}{item.unit}")
        if item.max_value is not None and number > item.max_value:
            raise ValueError(f"不能大于 {_number_json(item.max_value)}{item.unit}")
        return _number_json(number)
    if item.type == ItemType.SINGLE:
        choice = str(raw[0] if isinstance(raw, list | tuple) else raw).strip()
        if choice not in item.options:
            raise ValueError("请从选项中选择")
        return choice
    if item.type == ItemType.MULTIPLE:
        values = raw if isinstance(raw, list | tuple) else [raw]
        chosen = {str(v).strip() for v in values if not _blank_raw(v)}
        unknown = chosen - set(item.options)
        if unknown:
            raise ValueError("请从选项中选择")
        return [o for o in item.options if o in chosen]  # the options' order, whatever order they came in
    if item.type == ItemType.DATE:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError("日期格式应为 年-月-日，如 2020-03-19") from None
    text = str(raw).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"不能超过 {MAX_TEXT} 字")
    return text


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def fails(item: ChecklistItem, value: Any) -> bool:
    """Whether the stored `value` fails the item's rule (an item without a rule never fails)."""
    op, ref = item.fail_op, item.fail_value
    if not op:
        return False
    if op == FailOp.BLANK:
        return value is None
    if value is None:
        return False  # not answered (an optional item): nothing to judge
    if item.type == ItemType.NUMBER and op in (FailOp.LT, FailOp.GT, FailOp.EQ, FailOp.NE):
        number, limit = Decimal(str(value)), Decimal(str(ref))
        if op == FailOp.LT:
            return number < limit
        if op == FailOp.GT:
            return number > limit
        return number == limit if op == FailOp.EQ else number != limit
    if item.type == ItemType.DATE and op in (FailOp.LT, FailOp.GT):
        return value < str(ref) if op == FailOp.LT else value > str(ref)
    if op == FailOp.EQ:
        return bool(value == ref)
    if op == FailOp.NE:
        return bool(value != ref)
    if op == FailOp.IN:
        return bool(set(_as_list(value)) & set(_as_list(ref)))
    if op == FailOp.LACKS:
        return bool(set(_as_list(ref)) - set(_as_list(value)))
    return False


def display(item: ChecklistItem, value: Any) -> str:
    if value is None:
        return "未填"
    if item.type == ItemType.YES_NO:
        return "是" if value else "否"
    if item.type == ItemType.NUMBER:
        return f"{value}{item.unit}"
    if item.type == ItemType.MULTIPLE:
        return "、".join(value) if value else "（都没有）"
    if item.type == ItemType.PHOTO:
        return f"{value} 张照片"
    return str(value)


def describe_rule(item: ChecklistItem) -> str:
    """The "fails when" rule in words, e.g. 回答“否”时不合格."""
    op, ref = item.fail_op, item.fail_value
    if not op:
        return ""
    if op == FailOp.BLANK:
        return "未填写时不合格" if item.type != ItemType.PHOTO else "未拍照时不合格"
    if item.type == ItemType.YES_NO:
        return f"回答“{'是' if ref else '否'}”时不合格"
    words = "、".join(str(r) for r in _as_list(ref))
    if op == FailOp.LT:
        return f"小于 {words}{item.unit} 时不合格" if item.type != ItemType.DATE else f"早于 {words} 时不合格"
    if op == FailOp.GT:
        return f"大于 {words}{item.unit} 时不合格" if item.type != ItemType.DATE else f"晚于 {words} 时不合格"
    if op == FailOp.EQ:
        return f"等于“{words}”时不合格"
    if op == FailOp.NE:
        return f"不是“{words}”时不合格"
    if op == FailOp.IN:
        return f"选了“{words}”时不合格"
    return f"缺少“{words}”中任何一项时不合格"


def failing_choices(item: ChecklistItem) -> set[str]:
    """For the phone form: the radio values that fail at once (yes/no and single choice), to open the evidence
    section as soon as one is tapped."""
    if item.type == ItemType.YES_NO and item.fail_op == FailOp.EQ:
        return {"yes" if item.fail_value else "no"}
    if item.type == ItemType.SINGLE and item.fail_op in (FailOp.IN, FailOp.EQ):
        return {str(v) for v in _as_list(item.fail_value)}
    if item.type == ItemType.SINGLE and item.fail_op == FailOp.NE:
        return {o for o in item.options if o != item.fail_value}
    return set()


# --- answers of a whole checklist -----------------------------------------------------------------


@dataclass
class CleanAnswer:
    item: ChecklistItem
    value: Any
    failed: bool
    note: str = ""


@dataclass
class CleanAnswers:
    answers: list[CleanAnswer] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # item code → message

    @property
    def failed(self) -> list[CleanAnswer]:
        return [a for a in self.answers if a.failed]


def clean_answers(
    items: Sequence[ChecklistItem],
    raw: Mapping[str, Any],
    *,
    notes: Mapping[str, str] | None = None,
    photo_counts: Mapping[str, int] | None = None,
    require: bool = True,
) -> CleanAnswers:
    """Parse every item's answer; collect one message per item that is invalid or missing (when `require`)."""
    result = CleanAnswers()
    notes = notes or {}
    photo_counts = photo_counts or {}
    for item in items:
        try:
            value = parse(item, raw.get(item.code), photos=photo_counts.get(item.code, 0))
        except ValueError as exc:
            result.errors[item.code] = str(exc)
            continue
        if value is None and item.required and require:
            result.errors[item.code] = "请拍照" if item.type == ItemType.PHOTO else "此项必填"
            continue
        note = str(notes.get(item.code) or "").strip()
        if len(note) > 500:
            result.errors[item.code] = "情况说明不能超过 500 字"
            continue
        result.answers.append(CleanAnswer(item, value, fails(item, value), note))
    return result


# --- item definitions (template editing) ----------------------------------------------------------


def check_definition(d: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one item definition {code, label, type, required, help_text, options, min_value, max_value, unit,
    fail_op, fail_value, problem_category (code or None)}; return it normalised. ValueError (Chinese) otherwise."""
    code = str(d.get("code") or "").strip()
    label = str(d.get("label") or "").strip()
    kind = str(d.get("type") or "")
    if not code or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code) or len(code) > 32:
        raise ValueError(f"检查项编号“{code}”无效：只能用英文字母、数字、-、_，最多 32 个字符")
    if not label:
        raise ValueError(f"检查项 {code} 缺少检查内容")
    if len(label) > 200:
        raise ValueError(f"检查项 {code} 的检查内容不能超过 200 字")
    if kind not in ItemType.values:
        raise ValueError(f"检查项 {code} 的类型无效")
    options = [str(o).strip() for o in (d.get("options") or []) if str(o).strip()]
    if kind in (ItemType.SINGLE, ItemType.MULTIPLE):
        if len(options) < 2:
            raise ValueError(f"检查项 {code}（{label}）至少要有两个选项")
        if len(set(options)) != len(options) or len(options) > MAX_OPTIONS:
            raise ValueError(f"检查项 {code}（{label}）的选项重复或过多")
    else:
        options = []
    min_value = d.get("min_value")
    max_value = d.get("max_value")
    if kind == ItemType.NUMBER:
        min_value = to_number(min_value) if min_value not in (None, "") else None
        max_value = to_number(max_value) if max_value not in (None, "") else None
        if min_value is not None and max_value is not None and min_value > max_value:
            raise ValueError(f"检查项 {code}（{label}）的最小值大于最大值")
    else:
        min_value = max_value = None
    op = str(d.get("fail_op") or "")
    ref = d.get("fail_value")
    if op and op not in OPS_FOR_TYPE[kind]:
        raise ValueError(f"检查项 {code}（{label}）的类型不支持“{FailOp(op).label if op in FailOp.values else op}”这种不合格条件")
    if op in ("", FailOp.BLANK):
        ref = None
    elif kind == ItemType.YES_NO:
        ref = to_bool(ref)
    elif kind == ItemType.NUMBER:
        ref = _number_json(to_number(ref))
    elif kind == ItemType.DATE:
        ref = date.fromisoformat(str(ref)).isoformat()
    elif kind in (ItemType.SINGLE, ItemType.MULTIPLE):
        refs = [str(r).strip() for r in _as_list(ref) if str(r).strip()]
        if not refs or set(refs) - set(options):
            raise ValueError(f"检查项 {code}（{label}）的不合格取值必须是它的选项")
        ref = refs[0] if op in (FailOp.EQ, FailOp.NE) else refs
    category = d.get("problem_category") or None
    if category and not op:
        raise ValueError(f"检查项 {code}（{label}）设了上报问题类别，但没有设不合格条件")
    return {
        "code": code,
        "label": label,
        "type": kind,
        "required": bool(d.get("required", True)),
        "help_text": str(d.get("help_text") or "").strip()[:300],
        "options": options,
        "min_value": min_value,
        "max_value": max_value,
        "unit": str(d.get("unit") or "").strip()[:12],
        "fail_op": op,
        "fail_value": ref,
        "problem_category": category,
    }


def definition_of(item: ChecklistItem) -> dict[str, Any]:
    """The editable definition of an existing item (to start a new version from)."""
    return {
        "code": item.code,
        "label": item.label,
        "type": item.type,
        "required": item.required,
        "help_text": item.help_text,
        "options": list(item.options or []),
        "min_value": item.min_value,
        "max_value": item.max_value,
        "unit": item.unit,
        "fail_op": item.fail_op,
        "fail_value": item.fail_value,
        "problem_category": item.problem_category.code if item.problem_category_id and item.problem_category else None,
    }
