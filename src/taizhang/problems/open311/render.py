"""GeoReport v2 documents: Python dicts in the spec's shape, written as JSON or XML.

XML follows the spec's examples: `<services><service>…`, `<service_definition>…<attributes><attribute>…
<values><value>`, `<service_requests><request>…`, `<errors><error><code/><description/></error></errors>`;
null is an empty element, booleans are `true`/`false`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpResponse
from django.utils import timezone

from taizhang.core.protected import mask
from taizhang.problems.models import DONE_STATES, EventKind, Problem, ProblemCategory, ProblemEvent, State
from taizhang.regions.models import Region

from .models import LIST_TYPES, Open311Submission, ServiceAttribute
from .selectors import service_settings, submission_of

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
# Container element → its items' element in XML.
ITEM_TAGS = {
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
    "endpoints": "endpoint",
    "formats": "format",
}
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


# --- privacy ----------------------------------------------------------------------------------------


def public_text(text: str | None) -> str | None:
    """Free text as published: mobile and ID numbers masked (13812345678 → 138****5678)."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: mask("id_number", m.group(0)), text)
    return _MOBILE.sub(lambda m: mask("mobile", m.group(0)), text)


# --- values -----------------------------------------------------------------------------------------


def w3c(dt: datetime | None) -> str | None:
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def status_of(problem: Problem) -> str:
    return "closed" if problem.state in DONE_STATES else "open"


def status_notes(problem: Problem) -> str:
    unit = problem.unit.name if problem.unit_id and problem.unit else ""
    state = problem.state
    if state == State.MERGED:
        return f"与 {problem.merged_into.code} 为同一问题，已合并办理" if problem.merged_into else "已合并办理"
    if state == State.REPORTED:
        return f"待{unit}分派" if unit else "待分派"
    if state == State.ASSIGNED:
        return f"已分派至{unit}" if unit else "已分派"
    if state == State.IN_PROGRESS:
        return f"{unit}正在办理" if unit else "正在办理"
    return {
        State.RESOLVED: "已办结，待核验",
        State.VERIFIED: "办理结果已核验",
        State.CLOSED: "已办结销号",
        State.RETURNED: "承办单位退回，正在重新分派",
        State.REOPENED: "重新办理中",
    }.get(State(state), State(state).label)


def service_notice(category: ProblemCategory) -> str:
    return f"{category.name}类问题须在 {category.sla_days} 个工作日内办理，可凭编号查询进度"


def _event_text(e: ProblemEvent) -> str | None:
    data = e.data or {}
    unit = str(data.get("unit_name") or "")
    kind = e.kind
    if kind == EventKind.COMMENT:
        return public_text(e.note) if data.get("public") else None
    texts = {
        EventKind.REPORTED: "已受理",
        EventKind.ROUTED: f"已分派至{unit}" if unit else "已分派",
        EventKind.TRIAGE: "暂无法确定责任单位，转区指挥部分派",
        EventKind.ACCEPTED: "承办单位已签收，正在办理",
        EventKind.RESOLVED: "承办单位已办结，待核验",
        EventKind.VERIFIED: "办理结果已核验",
        EventKind.REJECTED: "核验未通过，重新办理",
        EventKind.CLOSED: "已办结销号",
        EventKind.RETURNED: "承办单位退回，正在重新分派",
        EventKind.REOPENED: "重新办理",
        EventKind.REASSIGNED: f"改派至{unit}" if unit else "已改派",
        EventKind.MERGED: f"与 {data.get('into_code')} 为同一问题，已合并办理" if data.get("into_code") else "已合并办理",
        EventKind.ESCALATED: "超过办理时限，已提请上级督办",
    }
    return texts.get(EventKind(kind)) if kind in EventKind.values else None


def notes(problem: Problem) -> list[dict[str, Any]]:
    out = []
    for e in getattr(problem, "public_events", []):
        text = _event_text(e)
        if text:
            out.append(
                {
                    "datetime": w3c(e.at),
                    "type": "comment" if e.kind == EventKind.COMMENT else "activity",
                    "summary": EventKind(e.kind).label,
                    "description": text,
                }
            )
    return out


def request_doc(problem: Problem, *, extensions: bool = False) -> dict[str, Any]:
    sub: Open311Submission | None = submission_of(problem)
    doc: dict[str, Any] = {
        "service_request_id": problem.code,
        "status": status_of(problem),
        "status_notes": status_notes(problem),
        "service_name": problem.category.name,
        "service_code": problem.category.code,
        "description": public_text(problem.description),
        "agency_responsible": problem.unit.name if problem.unit_id and problem.unit else None,
        "service_notice": service_notice(problem.category),
        "requested_datetime": w3c(problem.created_at),
        "updated_datetime": w3c(problem.updated_at),
        "expected_datetime": w3c(problem.due_at),
        "address": public_text(problem.address) or None,
        "address_id": problem.region.code if problem.region_id and problem.region else None,
        "zipcode": None,
        "lat": float(problem.latitude) if problem.latitude is not None else None,
        "long": float(problem.longitude) if problem.longitude is not None else None,
        "media_url": (sub.media_url or None) if sub else None,
    }
    if extensions:
        doc["extended_attributes"] = {"state": problem.state, "state_label": State(problem.state).label}
        doc["notes"] = notes(problem)
    return doc


def service_doc(category: ProblemCategory) -> dict[str, Any]:
    settings = service_settings(category)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": bool(getattr(category, "has_open311_attributes", False)),
        "type": "realtime",
        "keywords": (settings.keywords or None) if settings else None,
        "group": (settings.group or None) if settings else None,
    }


def _region_value(r: Region) -> dict[str, str]:
    parent = r.parent.display_name + "/" if r.parent_id and r.parent else ""
    return {"key": r.code, "name": parent + r.display_name}


def attribute_doc(attr: ServiceAttribute, regions: dict[str, list[Region]]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "variable": attr.variable,
        "code": attr.code,
        "datatype": attr.datatype,
        "required": attr.required,
        "datatype_description": attr.datatype_description or None,
        "order": attr.order,
        "description": attr.description,
    }
    if attr.datatype in LIST_TYPES:
        doc["values"] = [_region_value(r) for r in regions.get(attr.region_level, [])] if attr.region_level else list(attr.values)
    return doc


def definition_doc(
    category: ProblemCategory, attrs: Sequence[ServiceAttribute], regions: dict[str, list[Region]]
) -> dict[str, Any]:
    return {"service_code": category.code, "attributes": [attribute_doc(a, regions) for a in attrs]}


def errors_doc(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


# --- encodings ----------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: Element, key: str, value: Any) -> None:
    el = SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(key, "item")
        for item in value:
            _fill(el, item_tag, item)
    else:
        el.text = _text(value)


def to_xml(root: str, body: dict[str, Any] | list[Any], item: str | None = None) -> bytes:
    el = Element(root)
    if isinstance(body, list):
        for entry in body:
            _fill(el, item or "item", entry)
    else:
        for k, v in body.items():
            _fill(el, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(el, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, body: dict[str, Any] | list[Any], *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, body, item), content_type=XML_TYPE, status=status)
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=JSON_TYPE, status=status)


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, errors_doc(status, description), root="errors", item="error", status=status)
