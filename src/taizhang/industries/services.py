"""Loading the standard and maintaining the district's grouping."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from taizhang.audit.services import Action, audit_bulk, audit_record
from taizhang.core.errors import ApplicationError

from .models import IndustryCode, ServiceCategory

GBT4754_CSV = Path(__file__).resolve().parent / "data" / "gbt4754-2017.csv"


@transaction.atomic
def load_gbt4754(*, csv_path: Path = GBT4754_CSV, actor: Any = None) -> int:
    """Load GB/T 4754-2017 (amended 2019). Idempotent; returns how many codes were created."""
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    existing = dict(IndustryCode.objects.values_list("code", "pk"))
    new = [
        IndustryCode(code=r["code"], name=r["name"], level=r["level"], section=r["section"], tertiary=r["tertiary"] == "1")
        for r in rows
        if r["code"] not in existing
    ]
    if not new:
        return 0
    IndustryCode.objects.bulk_create(new, batch_size=1000)
    ids = dict(IndustryCode.objects.values_list("code", "pk"))
    parents = {r["code"]: r["parent"] for r in rows if r["parent"]}
    to_update = []
    for obj in IndustryCode.objects.filter(code__in=[n.code for n in new]):
        if obj.code in parents:
            obj.parent_id = ids[parents[obj.code]]
            to_update.append(obj)
    IndustryCode.objects.bulk_update(to_update, ["parent"], batch_size=1000)
    audit_bulk(
        action=Action.BULK_CREATE, actor=actor, model=IndustryCode, ids=[n.code for n in new], detail={"source": csv_path.name}
    )
    return len(new)


@transaction.atomic
def category_create(
    *,
    code: str,
    name: str,
    parent: ServiceCategory | None = None,
    industry_codes: list[str] | None = None,
    sort: int = 0,
    actor: Any = None,
) -> ServiceCategory:
    if ServiceCategory.objects.filter(code=code).exists():
        raise ApplicationError(f"类别编号 {code} 已被使用")
    if parent is not None and parent.level != ServiceCategory.Level.MAJOR:
        raise ApplicationError("小类只能归属于大类")
    category = ServiceCategory(
        code=code,
        name=name.strip(),
        parent=parent,
        sort=sort,
        level=ServiceCategory.Level.MINOR if parent else ServiceCategory.Level.MAJOR,
    )
    category.full_clean()
    category.save()
    if industry_codes:
        found = list(IndustryCode.objects.filter(code__in=industry_codes))
        missing = set(industry_codes) - {c.code for c in found}
        if missing:
            raise ApplicationError(f"国标行业代码不存在：{'、'.join(sorted(missing))}")
        category.industry_codes.set(found)
    audit_record(action=Action.CREATE, actor=actor, target=category)
    return category


DISTRICT_GROUPING_CSV = Path(__file__).resolve().parent / "data" / "district-service-categories.csv"


@dataclass(frozen=True)
class GroupingRow:
    """One minor category of the district's grouping as shipped (see data/district-service-categories.README.md)."""

    major_code: str
    major_name: str
    minor_code: str
    minor_name: str
    gbt_codes: tuple[str, ...]
    department_code: str  # a functional department's unit code, or "" for a category handled by a 镇办


def read_district_grouping(csv_path: Path = DISTRICT_GROUPING_CSV) -> list[GroupingRow]:
    """The rows of the grouping file, checked for shape (two levels, consistent major names, codes present)."""
    with csv_path.open(encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    rows: list[GroupingRow] = []
    majors: dict[str, str] = {}
    seen: set[str] = set()
    for n, r in enumerate(raw, start=2):
        row = GroupingRow(
            major_code=r["major_code"].strip(),
            major_name=r["major_name"].strip(),
            minor_code=r["minor_code"].strip(),
            minor_name=r["minor_name"].strip(),
            gbt_codes=tuple(r["gbt_codes"].split()),
            department_code=r["department_code"].strip(),
        )
        if not (row.major_code and row.major_name and row.minor_code and row.minor_name):
            raise ApplicationError(f"{csv_path.name} 第{n}行：大类、小类的编号和名称都不能为空")
        if majors.setdefault(row.major_code, row.major_name) != row.major_name:
            raise ApplicationError(f"{csv_path.name} 第{n}行：大类 {row.major_code} 的名称与前文不一致")
        if row.minor_code in seen or row.minor_code in majors:
            raise ApplicationError(f"{csv_path.name} 第{n}行：小类编号 {row.minor_code} 重复")
        if not row.gbt_codes:
            raise ApplicationError(f"{csv_path.name} 第{n}行：小类“{row.minor_name}”没有对应的国标行业代码")
        seen.add(row.minor_code)
        rows.append(row)
    return rows


@transaction.atomic
def load_district_grouping(*, csv_path: Path = DISTRICT_GROUPING_CSV, actor: Any = None) -> int:
    """Load the district's two-level grouping (17 major / 81 minor categories) mapped onto GB/T 4754.

    Idempotent: categories whose code already exists are left as the district may have edited them; only
    missing ones are created (with their national-standard codes). Loads the standard first if needed.
    Returns how many categories were created.
    """
    rows = read_district_grouping(csv_path)
    load_gbt4754(actor=actor)
    wanted = {c for r in rows for c in r.gbt_codes}
    codes = dict(IndustryCode.objects.filter(code__in=wanted).values_list("code", "pk"))
    if missing := wanted - codes.keys():
        raise ApplicationError(f"{csv_path.name} 中的国标行业代码不存在：{'、'.join(sorted(missing))}")
    existing = dict(ServiceCategory.objects.values_list("code", "pk"))
    order = list(dict.fromkeys(r.major_code for r in rows))
    majors: dict[str, ServiceCategory] = {}
    for r in rows:
        if r.major_code not in existing and r.major_code not in majors:
            majors[r.major_code] = ServiceCategory(
                code=r.major_code, name=r.major_name, level=ServiceCategory.Level.MAJOR, sort=order.index(r.major_code)
            )
    ServiceCategory.objects.bulk_create(majors.values())
    parent_ids = {**existing, **{code: m.pk for code, m in majors.items()}}
    minors = [
        ServiceCategory(
            code=r.minor_code, name=r.minor_name, level=ServiceCategory.Level.MINOR, parent_id=parent_ids[r.major_code], sort=i
        )
        for i, r in enumerate(rows)
        if r.minor_code not in existing
    ]
    ServiceCategory.objects.bulk_create(minors)
    by_code = {r.minor_code: r for r in rows}
    through = ServiceCategory.industry_codes.through
    through.objects.bulk_create(
        [through(servicecategory_id=m.pk, industrycode_id=codes[c]) for m in minors for c in by_code[m.code].gbt_codes]
    )
    created = [*majors.values(), *minors]
    if created:
        audit_bulk(
            action=Action.BULK_CREATE,
            actor=actor,
            model=ServiceCategory,
            ids=[c.code for c in created],
            detail={"source": csv_path.name},
        )
    return len(created)
