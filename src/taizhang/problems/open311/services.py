"""Writes of the Open311 adapter. A request becomes a problem through `problems.services.problem_report` —
the same service the pages, the API and the hotline use — with `reporter=None` (a member of the public) and
the reporter's contact data in the problem's encrypted contact fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.problems.models import ProblemCategory, Source
from taizhang.problems.services import problem_report
from taizhang.regions.models import Region

from .errors import BadRequest, Forbidden
from .inputs import RequestInput, category_for, w3c_datetime
from .models import LIST_TYPES, Datatype, Open311Client, Open311Service, Open311Submission, PlacedBy, ServiceAttribute, key_digest
from .placement import place_address, region_label

MAX_TEXT_ANSWER = {Datatype.STRING: 200, Datatype.TEXT: 2000}


@dataclass(frozen=True)
class Registered:
    client: Open311Client
    key: str  # shown once, never stored


@transaction.atomic
def client_register(*, name: str, organisation: str = "", note: str = "", actor: Any = None) -> Registered:
    """Register an application that may POST requests; returns its api_key (only its digest is kept)."""
    name = name.strip()
    if not name:
        raise ApplicationError("请填写接入应用名称", code="required")
    if Open311Client.objects.filter(name=name).exists():
        raise ApplicationError(f"已有名为“{name}”的接入应用", code="duplicate")
    key = Open311Client.new_key()
    client = Open311Client.objects.create(
        name=name[:100], organisation=organisation.strip()[:100], note=note.strip()[:200], prefix=key[:12], digest=key_digest(key)
    )
    audit_record(action=Action.CREATE, actor=actor, target=client, detail={"prefix": client.prefix})
    return Registered(client, key)


@transaction.atomic
def client_revoke(*, client: Open311Client, actor: Any = None) -> Open311Client:
    if client.revoked_at is None:
        client.is_active, client.revoked_at = False, timezone.now()
        client.save(update_fields=["is_active", "revoked_at"])
        audit_record(action=Action.UPDATE, actor=actor, target=client, detail={"revoked": True})
    return client


def authenticate(api_key: str) -> Open311Client:
    if not api_key:
        raise BadRequest("缺少 api_key（提交问题须使用已登记应用的 api_key）")
    client = Open311Client.lookup(api_key)
    if client is None:
        raise Forbidden("api_key 无效或已吊销（invalid api_key）")
    return client


@transaction.atomic
def service_configure(*, category: ProblemCategory, group: str = "", keywords: str = "") -> Open311Service:
    obj, _ = Open311Service.objects.update_or_create(
        category=category, defaults={"group": group.strip()[:60], "keywords": keywords.strip()[:200]}
    )
    return obj


@transaction.atomic
def attribute_define(
    *,
    category: ProblemCategory,
    code: str,
    description: str,
    datatype: str = Datatype.STRING,
    required: bool = False,
    variable: bool = True,
    order: int = 1,
    datatype_description: str = "",
    values: list[dict[str, str]] | None = None,
    region_level: str = "",
) -> ServiceAttribute:
    """Create or replace one question of a category's service definition."""
    if datatype not in Datatype.values:
        raise ApplicationError("属性类型无效", code="invalid")
    if region_level and datatype != Datatype.SINGLEVALUELIST:
        raise ApplicationError("按区划定位的属性必须是单选", code="invalid")
    clean_values = [{"key": str(v["key"]).strip(), "name": str(v["name"]).strip()} for v in values or []]
    if datatype in LIST_TYPES and not clean_values and not region_level:
        raise ApplicationError("单选、多选属性须给出选项", code="invalid")
    if len({v["key"] for v in clean_values}) != len(clean_values):
        raise ApplicationError("选项的 key 不能重复", code="invalid")
    attr, _ = ServiceAttribute.objects.update_or_create(
        category=category,
        code=code,
        defaults={
            "description": description.strip()[:200],
            "datatype": datatype,
            "required": required,
            "variable": variable,
            "order": order,
            "datatype_description": datatype_description.strip()[:200],
            "values": clean_values,
            "region_level": region_level,
            "is_active": True,
        },
    )
    return attr


# --- a request ---------------------------------------------------------------------------------------


@dataclass
class Answers:
    stored: dict[str, Any]  # code → value(s), what the client sent, checked
    lines: list[str]  # "问题：答案" lines appended to the description for the handling staff
    region: Region | None  # from an attribute with region_level


def check_attributes(category: ProblemCategory, given: dict[str, list[str]]) -> Answers:
    """Check answers against the category's service definition; unknown attribute codes are ignored."""
    stored: dict[str, Any] = {}
    lines: list[str] = []
    region: Region | None = None
    for attr in ServiceAttribute.objects.filter(category=category, is_active=True, variable=True).order_by("order", "code"):
        values = given.get(attr.code, [])
        if not values:
            if attr.required:
                raise BadRequest(f"缺少必填属性 attribute[{attr.code}]（{attr.description}）")
            continue
        if attr.datatype != Datatype.MULTIVALUELIST and len(values) > 1:
            raise BadRequest(f"attribute[{attr.code}] 只能有一个值")
        value = values[0]
        if attr.datatype == Datatype.NUMBER:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite():
                raise BadRequest(f"attribute[{attr.code}] 须是数字") from None
            stored[attr.code], shown = value, value
        elif attr.datatype == Datatype.DATETIME:
            stored[attr.code] = w3c_datetime(value, f"attribute[{attr.code}]").isoformat()
            shown = value
        elif attr.datatype in (Datatype.STRING, Datatype.TEXT):
            limit = MAX_TEXT_ANSWER[Datatype(attr.datatype)]
            if len(value) > limit:
                raise BadRequest(f"attribute[{attr.code}] 不能超过 {limit} 个字符")
            stored[attr.code], shown = value, value
        elif attr.region_level:
            found = Region.objects.filter(code=value, level=attr.region_level).first()
            if found is None:
                raise BadRequest(f"attribute[{attr.code}] 的取值 {value} 不在选项中")
            region, stored[attr.code], shown = found, value, region_label(found)
        else:
            names = {str(v["key"]): str(v["name"]) for v in attr.values}
            bad = [v for v in values if v not in names]
            if bad:
                raise BadRequest(f"attribute[{attr.code}] 的取值 {'、'.join(bad)} 不在选项中")
            stored[attr.code] = values if attr.datatype == Datatype.MULTIVALUELIST else value
            shown = "、".join(names[v] for v in values)
        lines.append(f"{attr.description}：{shown}")
    return Answers(stored, lines, region)


def _place(data: RequestInput, answers: Answers) -> tuple[Region | None, str, str]:
    """(region, placed_by, matched names): the attribute's region, the address_id's, then the address text's;
    a later one only refines an earlier one (it must lie within it)."""
    region: Region | None = answers.region
    placed_by = PlacedBy.ATTRIBUTE if region else PlacedBy.TRIAGE
    matched = ""
    if data.address_id:
        by_id = Region.objects.filter(code=data.address_id).first()
        if by_id is None:
            raise BadRequest(f"address_id {data.address_id} 不存在（address_id 为区划代码）")
        if region is None or by_id.path.startswith(region.path):
            region, placed_by = by_id, PlacedBy.ADDRESS_ID
    if data.address_string:
        found = place_address(data.address_string)
        matched = "、".join(found.matched)[:200]
        if found.region is not None and (region is None or found.region.path.startswith(region.path)):
            region = found.region
            placed_by = PlacedBy.ROAD_SECTION if found.via == "road_section" else PlacedBy.ADDRESS
    return region, placed_by, matched


def _description(data: RequestInput, category: ProblemCategory, answers: Answers) -> str:
    text = data.description or f"（群众通过 Open311 反映：{category.name}）"
    if answers.lines:
        text += "\n\n【补充信息】\n" + "\n".join(answers.lines)
    return text


@transaction.atomic
def request_create(
    *, client: Open311Client, data: RequestInput, category: ProblemCategory | None = None, at: datetime | None = None
) -> Open311Submission:
    """POST requests: check, place, and report the problem (routed at once, or to the triage queue)."""
    category = category or category_for(data.service_code)
    answers = check_attributes(category, data.attributes)
    region, placed_by, matched = _place(data, answers)
    key = f"open311:{client.pk}:{data.idempotency_key}" if data.idempotency_key else None
    if key:
        existing = Open311Submission.objects.filter(problem__idempotency_key=key).select_related("problem").first()
        if existing is not None:
            return existing
    address = data.address_string or (region_label(region) if region is not None else "")
    token = Open311Submission.new_token()
    try:
        problem = problem_report(
            reporter=None,
            source=Source.PUBLIC,
            category=category,
            description=_description(data, category, answers),
            region=region,
            address=address,
            latitude=data.latitude,
            longitude=data.longitude,
            photos=data.media,
            idempotency_key=key,
            external_ref=f"open311:{token}",
            contact_name=data.contact_name,
            contact_phone=data.phone,
            contact_email=data.email,
            at=at,
        )
    except ApplicationError as exc:
        raise BadRequest(exc.message) from exc
    if key and (raced := Open311Submission.objects.filter(problem=problem).first()) is not None:
        return raced  # a concurrent repeat of the same idempotency key won the insert
    return Open311Submission.objects.create(
        problem=problem,
        client=client,
        token=token,
        attributes=answers.stored,
        media_url=data.media_url,
        placed_by=placed_by if region is not None else PlacedBy.TRIAGE,
        matched=matched,
        created_at=problem.created_at,
    )
