"""Parsing and checking what a client sends (query strings and form bodies), before any write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from taizhang.problems.models import ProblemCategory

from .errors import BadRequest, NotFound

MAX_DESCRIPTION = 4000  # GeoReport v2
MAX_ADDRESS = 200  # Problem.address
MAX_REQUESTS = 1000  # GeoReport v2: at most 1000 requests per response
MAX_SPAN = timedelta(days=90)  # GeoReport v2: a date range may not span more than 90 days
MAX_IDS = 200
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
_COORD = Decimal("0.000001")


@dataclass
class RequestInput:
    """A POST requests.{fmt}, checked (but not yet placed or validated against the service definition)."""

    api_key: str
    service_code: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    idempotency_key: str = ""
    media: list[Any] = field(default_factory=list)

    @property
    def contact_name(self) -> str:
        first, last = self.first_name.strip(), self.last_name.strip()
        if first.isascii() and last.isascii():
            return f"{first} {last}".strip()
        return f"{last}{first}"


def merged(get: QueryDict, post: QueryDict) -> dict[str, list[str]]:
    """Query string and body together (some clients send api_key in the query string): the body wins."""
    data = {k: get.getlist(k) for k in get}
    data.update({k: post.getlist(k) for k in post})
    return data


def _one(data: dict[str, list[str]], name: str, limit: int = 200) -> str:
    values = data.get(name) or [""]
    value = str(values[-1]).strip()
    if len(value) > limit:
        raise BadRequest(f"{name} 过长（不能超过 {limit} 个字符）")
    return value


def _coordinate(raw: str, name: str, bound: int) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadRequest(f"{name} 必须是数字（WGS84 坐标）") from None
    if not value.is_finite() or not -bound <= value <= bound:
        raise BadRequest(f"{name} 超出范围（-{bound} 至 {bound}）")
    return value.quantize(_COORD, rounding=ROUND_HALF_UP)


def api_key_of(data: dict[str, list[str]]) -> str:
    return _one(data, "api_key", 200)


def service_code_of(data: dict[str, list[str]]) -> str:
    service_code = _one(data, "service_code", 64)
    if not service_code:
        raise BadRequest("缺少 service_code")
    return service_code


def parse_request(data: dict[str, list[str]], files: Any = None) -> RequestInput:
    api_key = api_key_of(data)
    service_code = service_code_of(data)
    lat, lng = _one(data, "lat", 40), _one(data, "long", 40)
    out = RequestInput(api_key=api_key, service_code=service_code)
    if lat or lng:
        if not (lat and lng):
            raise BadRequest("lat 与 long 须同时提供")
        out.latitude, out.longitude = _coordinate(lat, "lat", 90), _coordinate(lng, "long", 180)
    out.address_string = _one(data, "address_string", MAX_ADDRESS)
    out.address_id = _one(data, "address_id", 32)
    if out.latitude is None and not out.address_string and not out.address_id:
        raise BadRequest("须提供位置：lat 与 long，或 address_string，或 address_id")
    out.description = _one(data, "description", MAX_DESCRIPTION)
    out.email = _one(data, "email", 120)
    if out.email:
        try:
            EmailValidator()(out.email)
        except ValidationError:
            raise BadRequest("email 格式不正确") from None
    out.phone = _one(data, "phone", 30)
    out.first_name, out.last_name = _one(data, "first_name", 30), _one(data, "last_name", 30)
    out.device_id, out.account_id = _one(data, "device_id", 100), _one(data, "account_id", 100)
    out.media_url = _one(data, "media_url", 500)
    if out.media_url:
        try:
            URLValidator(schemes=["http", "https"])(out.media_url)
        except ValidationError:
            raise BadRequest("media_url 须是 http 或 https 链接") from None
    out.idempotency_key = _one(data, "idempotency_key", 60)
    for key, values in data.items():
        m = _ATTRIBUTE.match(key)
        if m:
            out.attributes.setdefault(m.group(1), []).extend(str(v).strip() for v in values if str(v).strip())
    if files is not None:
        out.media = list(files.getlist("media"))
    return out


def category_for(service_code: str) -> ProblemCategory:
    category = ProblemCategory.objects.filter(code=service_code, is_active=True).first()
    if category is None:
        raise NotFound(f"服务 {service_code} 不存在（service_code not found）")
    return category


def w3c_datetime(raw: str, name: str, *, end_of_day: bool = False) -> datetime:
    """2010-01-01T00:00:00Z, 2010-01-01T08:00:00+08:00 or a bare date (local midnight; end_date: the day's end)."""
    value = raw.strip().replace(" ", "+")  # an unencoded "+08:00" arrives as " 08:00"
    try:
        day = parse_date(value) if len(value) == 10 else None
        dt = datetime.combine(day, time.max if end_of_day else time.min) if day else parse_datetime(value)
        if dt is None:
            raise ValueError(value)
    except ValueError:
        raise BadRequest(f"{name} 不是有效的 W3C 日期时间（例如 2020-03-19T08:00:00+08:00）") from None
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt)
    return dt


@dataclass
class RequestQuery:
    ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: set[str] = field(default_factory=set)
    extensions: bool = False
    page: int = 1
    page_size: int = MAX_REQUESTS


def _csv(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(",") if p.strip()]


def parse_query(get: QueryDict, *, now: datetime | None = None) -> RequestQuery:
    q = RequestQuery(extensions=get.get("extensions", "").strip().lower() in {"true", "1", "yes"})
    q.ids = _csv(",".join(get.getlist("service_request_id")))
    if len(q.ids) > MAX_IDS:
        raise BadRequest(f"service_request_id 一次最多 {MAX_IDS} 个")
    if q.ids:
        return q  # "This overrides all other arguments."
    q.service_codes = _csv(",".join(get.getlist("service_code")))
    for status in _csv(",".join(get.getlist("status"))):
        if status.lower() not in ("open", "closed"):
            raise BadRequest("status 只能是 open 或 closed")
        q.statuses.add(status.lower())
    raw_start, raw_end = str(get.get("start_date") or ""), str(get.get("end_date") or "")
    start = w3c_datetime(raw_start, "start_date") if raw_start.strip() else None
    end = w3c_datetime(raw_end, "end_date", end_of_day=True) if raw_end.strip() else None
    if start and end and start > end:
        raise BadRequest("start_date 不能晚于 end_date")
    if start and end and end - start > MAX_SPAN + timedelta(days=1):
        raise BadRequest("start_date 与 end_date 的间隔不能超过 90 天")
    if start is None and end is None:
        end = now or timezone.now()
    q.start = start or (end - MAX_SPAN if end else None)
    q.end = end or (start + MAX_SPAN if start else None)
    try:
        q.page = max(1, int(get.get("page", "1") or 1))
        q.page_size = min(MAX_REQUESTS, max(1, int(get.get("page_size", str(MAX_REQUESTS)) or MAX_REQUESTS)))
    except ValueError:
        raise BadRequest("page 与 page_size 须是正整数") from None
    return q
