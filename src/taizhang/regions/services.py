"""Writes to the region tree."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from django.db import transaction

from taizhang.audit.services import Action, audit_bulk, audit_record
from taizhang.core.errors import ApplicationError

from .models import ALLOWED_CHILDREN, LOCAL_LEVELS, SEP, Level, Region, RegionAlias, RoadSection

NBS_CSV = Path(__file__).resolve().parent / "data" / "divisions-anyang-wenfeng-gaoxin-nbs2023.csv"
NBS_LEVELS = {
    "province": Level.PROVINCE,
    "city": Level.CITY,
    "county": Level.DISTRICT,
    "township": Level.SUBDISTRICT,
    "village": Level.COMMUNITY,
}
# Names used in practice that differ from the NBS release (the article writes 头二三道街街道).
KNOWN_ALIASES = {
    "410502002000": ["头二三道街街道", "头二三道街"],
    "410571000000": ["高新区", "安阳高新区"],
}
_SUFFIXES = re.compile(r"(居委会|居民委员会|村民委员会|村委会)$")


def short_name_for(name: str, level: str) -> str:
    """官园社区居委会 → 官园社区, 三官庙村民委员会 → 三官庙村."""
    if level != Level.COMMUNITY:
        return ""
    stripped = _SUFFIXES.sub("", name)
    if name.endswith(("村民委员会", "村委会")) and not stripped.endswith("村"):
        stripped += "村"
    return stripped if stripped != name else ""


def _path_for(parent: Region | None, code: str) -> str:
    if SEP in code:
        raise ApplicationError("代码不能包含“/”")
    return (parent.path if parent else SEP) + code + SEP


@transaction.atomic
def load_nbs_divisions(*, csv_path: Path = NBS_CSV, actor: Any = None) -> int:
    """Load (or refresh) the NBS division release. Idempotent: running it twice changes nothing."""
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    existing = {r.code: r for r in Region.objects.filter(is_local=False)}
    created: list[str] = []
    for row in rows:  # rows come parent-first
        code, name, level = row["code"], row["name"], NBS_LEVELS[row["level"]]
        parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        if row["parent_code"] and parent is None:
            raise ApplicationError(f"区划 {code} 的上级 {row['parent_code']} 不存在")
        region = existing.get(code)
        short = short_name_for(name, level)
        if region is None:
            region = Region.objects.create(
                code=code,
                name=name,
                short_name=short,
                level=level,
                parent=parent,
                path=_path_for(parent, code),
                depth=(parent.depth + 1 if parent else 0),
                source="国家统计局2023年统计用区划代码",
            )
            existing[code] = region
            created.append(code)
        elif region.name != name or region.short_name != short:
            region.name, region.short_name = name, short
            region.save(update_fields=["name", "short_name", "updated_at"])
        aliases = [*KNOWN_ALIASES.get(code, []), *([short] if short else [])]
        for alias in aliases:
            RegionAlias.objects.get_or_create(region=region, alias=alias)
    if created:
        audit_bulk(action=Action.BULK_CREATE, actor=actor, model=Region, ids=created, detail={"source": csv_path.name})
    return len(created)


def _check_child(parent: Region, level: str) -> None:
    if level not in LOCAL_LEVELS:
        raise ApplicationError("只能在系统中新增网格、楼院和单元；统计区划由国家统计局数据导入")
    if level not in ALLOWED_CHILDREN[parent.level]:
        raise ApplicationError(f"{Level(parent.level).label}“{parent.display_name}”下不能直接设置{Level(level).label}")


@transaction.atomic
def region_create_local(*, parent: Region, level: str, name: str, code: str | None = None, actor: Any = None) -> Region:
    """Create a grid, compound or building unit under `parent`."""
    _check_child(parent, level)
    name = name.strip()
    if not name:
        raise ApplicationError("名称不能为空")
    if Region.objects.filter(parent=parent, name=name).exists():
        raise ApplicationError(f"“{parent.display_name}”下已有名为“{name}”的{Level(level).label}")
    if code is None:
        prefix = parent.code + {"grid": "G", "compound": "C", "unit": "U"}[level]
        siblings = Region.objects.filter(parent=parent, code__startswith=prefix).count()
        code = f"{prefix}{siblings + 1:03d}"
        while Region.objects.filter(code=code).exists():
            siblings += 1
            code = f"{prefix}{siblings + 1:03d}"
    elif Region.objects.filter(code=code).exists():
        raise ApplicationError(f"代码 {code} 已被使用")
    region = Region(
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=_path_for(parent, code),
        depth=parent.depth + 1,
        is_local=True,
        source="本地维护",
    )
    region.full_clean()
    region.save()
    audit_record(action=Action.CREATE, actor=actor, target=region)
    return region


@transaction.atomic
def region_alias_add(*, region: Region, alias: str, note: str = "", actor: Any = None) -> RegionAlias:
    alias = alias.strip()
    if not alias:
        raise ApplicationError("别名不能为空")
    obj, created = RegionAlias.objects.get_or_create(region=region, alias=alias, defaults={"note": note})
    if created:
        audit_record(action=Action.CREATE, actor=actor, target=obj, detail={"region": region.code})
    return obj


@transaction.atomic
def road_section_create(*, subdistrict: Region, name: str, code: str, description: str = "", actor: Any = None) -> RoadSection:
    if subdistrict.level != Level.SUBDISTRICT:
        raise ApplicationError("路段必须属于一个街道或镇")
    if RoadSection.objects.filter(code=code).exists():
        raise ApplicationError(f"路段编号 {code} 已被使用")
    section = RoadSection(code=code, name=name.strip(), subdistrict=subdistrict, description=description)
    section.full_clean()
    section.save()
    audit_record(action=Action.CREATE, actor=actor, target=section)
    return section
