"""The fields behind each evidence kind, and what the services, forms, pages and API do with answers.

Which items a filing asks for is configuration (FilingTemplate / FilingItem rows); what an item of a given
evidence kind consists of is defined here once: the form fields, the checks, the display and the
difference between two versions all come from `FIELDS`.

Answers are a JSON object `{item_code: {field: value}}`; numbers are ints, flags are bools, dates ISO strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from .models import Evidence, FilingItem

MAX_NUMBER = 10_000_000
MAX_TEXT = 2000


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str  # text, textarea, int, bool, date
    required: bool = True  # on submit (a draft may be incomplete)
    help: str = ""


FIELDS: dict[str, tuple[Field, ...]] = {
    Evidence.DOCUMENT: (Field("summary", "主要内容", "textarea", help="简要说明方案要点，原件作为附件上传"),),
    Evidence.ORGANISATION: (
        Field("leader", "负责人（组长）", "text"),
        Field("leader_title", "负责人职务", "text"),
        Field("deputies", "副组长", "textarea", required=False, help="每行一人：姓名 职务"),
        Field("members", "成员及分工", "textarea", help="每行一人：姓名 职责，如“王某 测温登记”"),
    ),
    Evidence.COMMITMENT: (
        Field("signed", "已签署承诺书并加盖公章", "bool"),
        Field("signatory", "签署人", "text"),
        Field("signed_on", "签署日期", "date"),
    ),
    Evidence.SUPPLIES: (
        Field("masks", "口罩（只）", "int"),
        Field("alcohol", "酒精（升）", "int"),
        Field("disinfectant", "消毒液（升）", "int"),
        Field("thermometers", "体温计/测温仪（个）", "int"),
        Field("note", "其他物资", "textarea", required=False, help="如护目镜、热成像测温仪"),
    ),
    Evidence.STAFF: (
        Field("total", "员工总数", "int"),
        Field("returned", "已返岗人数", "int"),
        Field("screened", "已排查人数", "int"),
        Field("travel_checked", "已核查14天内行程", "bool", required=False),
        Field("temperature_checked", "已逐人测量体温", "bool", required=False),
        Field("abnormal", "异常人数", "int", help="有发热等症状或14天内到过重点地区的人数"),
        Field("note", "异常情况及处置", "textarea", required=False),
    ),
    Evidence.MEASURE: (Field("description", "落实情况", "textarea", help="写明制度、责任人和执行情况"),),
}


def fields_of(item: FilingItem) -> tuple[Field, ...]:
    return FIELDS[item.evidence]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _convert(f: Field, raw: Any) -> Any:
    """One value from a form or JSON into its stored type; ValueError with a Chinese message if it cannot be."""
    if f.type == "bool":
        if isinstance(raw, bool):
            return raw
        if raw in (None, ""):
            return False
        text = str(raw).strip().lower()
        if text in {"1", "true", "on", "yes", "是"}:
            return True
        if text in {"0", "false", "off", "no", "否"}:
            return False
        raise ValueError("请选择是或否")
    if _is_blank(raw):
        return None
    if f.type == "int":
        if isinstance(raw, bool):
            raise ValueError("请填写整数")
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise ValueError("请填写整数") from None
        if number < 0 or number > MAX_NUMBER:
            raise ValueError(f"应在 0 到 {MAX_NUMBER} 之间")
        return number
    if f.type == "date":
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


def clean_answers(items: Iterable[FilingItem], raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Convert and check the types of everything given (a draft may leave fields empty).

    Raises ValidationError keyed "<item>-<field>" (the form's field names) for values that are not valid.
    Unknown items and fields are ignored.
    """
    out: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for item in items:
        given = raw.get(item.code)
        if not isinstance(given, Mapping):
            continue
        value: dict[str, Any] = {}
        for f in fields_of(item):
            if f.name not in given:
                continue
            try:
                converted = _convert(f, given[f.name])
            except ValueError as exc:
                errors[f"{item.code}-{f.name}"] = [f"{item.label}·{f.label}：{exc}"]
                continue
            if converted is not None:
                value[f.name] = converted
        _cross_check(item, value, errors)
        out[item.code] = value
    if errors:
        raise ValidationError(errors)
    return out


def _cross_check(item: FilingItem, value: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if item.evidence != Evidence.STAFF:
        return
    total, returned, screened, abnormal = (value.get(k) for k in ("total", "returned", "screened", "abnormal"))
    if total is not None and returned is not None and returned > total:
        errors[f"{item.code}-returned"] = [f"{item.label}：已返岗人数不能多于员工总数"]
    if total is not None and screened is not None and screened > total:
        errors[f"{item.code}-screened"] = [f"{item.label}：已排查人数不能多于员工总数"]
    if screened is not None and abnormal is not None and abnormal > screened:
        errors[f"{item.code}-abnormal"] = [f"{item.label}：异常人数不能多于已排查人数"]


def missing_for_submit(
    items: Iterable[FilingItem], answers: Mapping[str, Any], attachment_counts: Mapping[str, int]
) -> dict[str, list[str]]:
    """What still has to be filled in before the filing can be submitted, per item code."""
    missing: dict[str, list[str]] = {}
    for item in items:
        value = answers.get(item.code) or {}
        problems: list[str] = []
        if item.required:
            for f in fields_of(item):
                if not f.required:
                    continue
                v = value.get(f.name)
                if f.type == "bool":
                    if v is not True:
                        problems.append(f"请确认“{f.label}”")
                elif _is_blank(v):
                    problems.append(f"请填写“{f.label}”")
        if item.needs_attachment and not attachment_counts.get(item.code):
            problems.append("请上传附件")
        if problems:
            missing[item.code] = problems
    return missing


def display_value(f: Field, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if f.type == "bool":
        return "是" if value else "否"
    return str(value)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    multiline: bool = False


def display_rows(item: FilingItem, value: Mapping[str, Any] | None) -> list[Row]:
    value = value or {}
    return [Row(f.label, display_value(f, value.get(f.name)), f.type == "textarea") for f in fields_of(item)]


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def diff_item(
    item: FilingItem,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    old_files: Iterable[str] = (),
    new_files: Iterable[str] = (),
) -> list[Change]:
    """What changed in one item between two versions (field by field, then the attachment list)."""
    old, new = old or {}, new or {}
    changes = [
        Change(f.label, display_value(f, old.get(f.name)), display_value(f, new.get(f.name)))
        for f in fields_of(item)
        if old.get(f.name) != new.get(f.name)
    ]
    before, after = list(old_files), list(new_files)
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    if added or removed:
        parts = [f"新增 {'、'.join(added)}" if added else "", f"移除 {'、'.join(removed)}" if removed else ""]
        changes.append(Change("附件", "、".join(before) or "—", "；".join(p for p in parts if p)))
    return changes
