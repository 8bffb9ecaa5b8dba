"""包联责任: responsibility assignments on both axes, through duties.services (each assignment ends the
previous holder's the day before, so history is kept exactly as when assigned one by one in the pages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Q

from taizhang.accounts.models import OrgUnit, User
from taizhang.core.errors import ApplicationError
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.duties.models import Assignment, Kind
from taizhang.duties.services import assign_category, assign_department_subdistrict, assign_road_section, assign_subject
from taizhang.establishments.models import Establishment
from taizhang.establishments.validators import normalize_credit_code
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level, RoadSection

from ..columns import CellError, Column, choice, date_value, text
from ..engine import Ledger, ParsedRow
from .lookups import RegionIndex

KIND_LABELS = {k.label: k.value for k in Kind}
NEEDS: dict[str, tuple[str, ...]] = {
    Kind.DEPARTMENT_SUBDISTRICT: ("region",),
    Kind.STAFF_ROAD: ("user", "road_section"),
    Kind.STAFF_SUBJECT: ("user", "subject"),
    Kind.CATEGORY_DEPARTMENT: ("category",),
}
HEADERS = {"region": "街道/镇", "road_section": "路段", "subject": "包联单位", "category": "行业类别", "user": "责任人账号"}


class AssignmentLedger(Ledger):
    code = "assignments"
    title = "包联责任"
    sheet_title = "包联责任"
    import_roles: ClassVar[frozenset[str]] = frozenset({Role.SUBDISTRICT, Role.COMMUNITY})
    export_roles: ClassVar[frozenset[str]] = frozenset({Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
    chunk_size = 200
    check_by_writing = True
    instructions = (
        "每行一条包联关系。包联类型决定要填哪些列：区直部门包镇办填“街道/镇”；镇办人员包路段填“责任人账号”和“路段”；"
        "社区人员包企业填“责任人账号”和“包联单位”（统一社会信用代码或单位名称）；行业归口部门填“行业类别”。",
        "新的包联人从起始日期起接手，原包联人的责任在前一天结束，历史保留。",
    )

    def columns(self) -> list[Column]:
        return [
            Column(
                "kind",
                "包联类型",
                ("类型", "责任类型"),
                choice(lambda: KIND_LABELS, "包联类型"),
                required=True,
                choices=lambda: list(KIND_LABELS),
                example="社区人员包企业",
                width=18,
            ),
            Column(
                "unit",
                "责任单位",
                ("单位", "责任单位编号", "包联单位名称"),
                text,
                required=True,
                example="官园社区居委会",
                width=20,
            ),
            Column("user", "责任人账号", ("责任人", "包联人账号", "账号"), text, example="gy_wang"),
            Column("region", "街道/镇", ("包联街道", "镇办"), text, example=""),
            Column("road_section", "路段", ("路段编号",), text, example=""),
            Column(
                "subject", "包联单位", ("包联企业", "统一社会信用代码", "单位名称"), text, example="91410502MA0000000X", width=22
            ),
            Column("category", "行业类别", ("行业",), text, example=""),
            Column("valid_from", "起始日期", ("开始日期", "起始时间"), date_value, example="2020-03-01", width=12),
        ]

    def prepare(self) -> None:
        self._regions = RegionIndex.load([Level.SUBDISTRICT])
        self._units = {u.code: u for u in OrgUnit.objects.filter(is_active=True)}
        self._units_by_name: dict[str, list[OrgUnit]] = {}
        for u in self._units.values():
            self._units_by_name.setdefault(u.name, []).append(u)
        self._scope_paths = tuple(scope_of(self.user).region_paths)

    def _unit(self, value: str) -> OrgUnit:
        if value in self._units:
            return self._units[value]
        found = self._units_by_name.get(value, [])
        if len(found) == 1:
            return found[0]
        raise CellError(f"责任单位“{value}”{'不唯一，请填写单位编号' if found else '不存在：请填写系统中的单位名称或编号'}")

    def check_row(self, row: ParsedRow) -> None:
        v, p = row.values, row.problems
        kind = v["kind"]
        try:
            v["unit"] = self._unit(v["unit"])
        except CellError as exc:
            p.add("责任单位", v["unit"], exc.reason)
        for need in NEEDS[kind]:
            if not v.get(need):
                p.add(HEADERS[need], "", f"“{Kind(kind).label}”必须填写{HEADERS[need]}")
        if p:
            return
        try:
            if v.get("user") and "user" in NEEDS[kind]:
                v["user"] = User.objects.filter(username=v["user"], is_active=True).first() or _raise(
                    f"账号“{v['user']}”不存在或已停用"
                )
            if kind == Kind.DEPARTMENT_SUBDISTRICT:
                v["region"] = self._regions.find(v["region"], what="街道/镇")
            if kind == Kind.STAFF_ROAD:
                v["road_section"] = RoadSection.objects.visible_to(self.user).filter(
                    Q(code=v["road_section"]) | Q(name=v["road_section"])
                ).first() or _raise(f"路段“{v['road_section']}”不存在或不在您的管辖范围内")
            if kind == Kind.STAFF_SUBJECT:
                value = v["subject"]
                code = normalize_credit_code(value)
                qs = Establishment.objects.visible_to(self.user).select_related("region")
                found = list(qs.filter(credit_code=code)[:2]) if len(code) == 18 else list(qs.filter(name=value)[:2])
                if len(found) != 1:
                    _raise(f"包联单位“{value}”{'有重名，请填写统一社会信用代码' if found else '不存在或不在您的管辖范围内'}")
                v["subject"] = found[0]
            if kind == Kind.CATEGORY_DEPARTMENT:
                v["category"] = ServiceCategory.objects.filter(Q(code=v["category"]) | Q(name=v["category"])).first() or _raise(
                    f"行业类别“{v['category']}”不存在"
                )
        except CellError as exc:
            p.add(HEADERS.get(_field_of(kind), "包联类型"), "", exc.reason)
            return
        unit = v["unit"]
        if not (self._scope_paths and unit.region.path.startswith(self._scope_paths)):
            p.add("责任单位", unit.name, "不在您的管辖范围内：只能安排本辖区单位的包联")

    def write_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> int:
        done = 0
        for row in rows:
            v = row.values
            start = v.get("valid_from")
            try:
                with transaction.atomic():
                    if v["kind"] == Kind.DEPARTMENT_SUBDISTRICT:
                        assign_department_subdistrict(
                            department=v["unit"], subdistrict=v["region"], valid_from=start, actor=self.user
                        )
                    elif v["kind"] == Kind.STAFF_ROAD:
                        assign_road_section(
                            user=v["user"], unit=v["unit"], road_section=v["road_section"], valid_from=start, actor=self.user
                        )
                    elif v["kind"] == Kind.STAFF_SUBJECT:
                        assign_subject(user=v["user"], unit=v["unit"], subject=v["subject"], valid_from=start, actor=self.user)
                    else:
                        assign_category(category=v["category"], department=v["unit"], valid_from=start, actor=self.user)
            except ApplicationError as exc:
                row.problems.add("包联类型", Kind(v["kind"]).label, exc.message)
                continue
            done += 1
        return done

    def export_rows(self, *, filters: dict[str, Any], reveal: bool) -> Iterator[list[Any]]:
        units = scope_of(self.user).region_paths
        qs = (
            Assignment.objects.active()
            .select_related("unit", "user", "region", "road_section", "category")
            .filter(_any_prefix(units))
        )
        est_ids = [a.subject_id for a in qs if a.kind == Kind.STAFF_SUBJECT and a.subject_id]
        visible = dict(Establishment.objects.visible_to(self.user).filter(pk__in=est_ids).values_list("pk", "credit_code"))
        for a in qs.order_by("kind", "unit__code").iterator(chunk_size=2000):
            subject = ""
            if a.kind == Kind.STAFF_SUBJECT:
                if a.subject_id not in visible:
                    continue
                subject = visible[a.subject_id] or str(a.subject_id)
            yield [
                a.get_kind_display(),
                a.unit.code,
                a.user.username if a.user else "",
                a.region.display_name if a.region else "",
                a.road_section.code if a.road_section else "",
                subject,
                a.category.name if a.category else "",
                a.valid_from,
            ]


def _any_prefix(paths: tuple[str, ...]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(unit__region__path__startswith=p)
    return q


def _field_of(kind: str) -> str:
    return NEEDS[kind][-1]


def _raise(reason: str) -> Any:
    raise CellError(reason)
