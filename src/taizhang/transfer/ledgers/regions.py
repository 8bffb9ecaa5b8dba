"""The local levels of the region tree (网格、楼院、单元) and road sections (路段), through regions.services.

These ledgers hold hundreds of rows, not hundreds of thousands: each row goes through the service
(region_create_local, road_section_create) in a savepoint, and a check rehearses the writes in a
transaction that is rolled back, so the report holds the services' own rules (duplicate names, levels).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django.db import transaction

from taizhang.core.errors import ApplicationError
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.regions.models import LOCAL_LEVELS, Level, Region, RoadSection
from taizhang.regions.services import region_create_local, road_section_create

from ..columns import CellError, Column, choice, max_length, text
from ..engine import Ledger, ParsedRow
from .lookups import RegionIndex

LOCAL_LEVEL_LABELS = {Level(v).label: v for v in (Level.GRID, Level.COMPOUND, Level.UNIT)}


def _in_scope(user: Any, region: Region) -> bool:
    paths = scope_of(user).region_paths
    return bool(paths) and region.path.startswith(tuple(paths))


class LocalRegionLedger(Ledger):
    code = "regions"
    title = "网格楼院"
    sheet_title = "网格楼院"
    import_roles: ClassVar[frozenset[str]] = frozenset({Role.SYSADMIN, Role.SUBDISTRICT, Role.COMMUNITY})
    export_roles: ClassVar[frozenset[str]] = frozenset(
        {Role.SYSADMIN, Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY}
    )
    chunk_size = 1  # a row may hang under a grid created a few rows above
    check_by_writing = True
    instructions = (
        "每行一个网格、楼院或单元；上级写社区（村）、网格或楼院的名称或代码，重名时写成“官园社区/第1网格”。",
        "先写上级、后写下级：同一文件中上面的行新建的网格，下面的行可以作为上级。",
        "代码可不填，系统按“上级代码+G/C/U+序号”自动编号。",
    )

    def columns(self) -> list[Column]:
        return [
            Column(
                "parent",
                "上级区划",
                ("上级", "所属社区", "所属社区/网格", "上级名称", "上级代码"),
                text,
                required=True,
                example="官园社区",
                width=20,
            ),
            Column(
                "level",
                "层级",
                ("类型", "区划层级"),
                choice(lambda: LOCAL_LEVEL_LABELS, "层级"),
                required=True,
                choices=lambda: list(LOCAL_LEVEL_LABELS),
                example="网格",
            ),
            Column("name", "名称", ("网格名称", "楼院名称", "单元名称"), max_length(100), required=True, example="第3网格"),
            Column("code", "代码", ("编号", "区划代码"), max_length(32), example=""),
        ]

    def prepare(self) -> None:
        self._index = RegionIndex.load([Level.COMMUNITY, *LOCAL_LEVELS])

    def check_row(self, row: ParsedRow) -> None:
        try:
            parent = self._index.find(row.values["parent"], what="上级区划")
        except CellError as exc:
            row.problems.add("上级区划", row.values["parent"], exc.reason)
            return
        if not _in_scope(self.user, parent):
            row.problems.add("上级区划", row.values["parent"], "不在您的管辖范围内：只能在本辖区内新增网格、楼院")
        row.values["parent"] = parent

    def write_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> int:
        done = 0
        for row in rows:
            v = row.values
            try:
                with transaction.atomic():
                    region = region_create_local(
                        parent=v["parent"], level=v["level"], name=v["name"], code=v.get("code") or None, actor=self.user
                    )
            except ApplicationError as exc:
                row.problems.add("名称", v["name"], exc.message)
                continue
            self._index.by_code[region.code] = region
            self._index.by_pk[region.pk] = region
            self._index.by_name[region.name].append(region)
            done += 1
        return done

    def export_rows(self, *, filters: dict[str, Any], reveal: bool) -> Iterator[list[Any]]:
        qs = Region.objects.visible_to(self.user).filter(level__in=list(LOCAL_LEVELS)).select_related("parent").order_by("path")
        for r in qs.iterator(chunk_size=2000):
            parent = r.parent.display_name if r.parent else ""
            yield [parent, r.get_level_display(), r.name, r.code]


class RoadSectionLedger(Ledger):
    code = "road_sections"
    title = "路段"
    sheet_title = "路段"
    import_roles: ClassVar[frozenset[str]] = frozenset({Role.SYSADMIN, Role.SUBDISTRICT})
    export_roles: ClassVar[frozenset[str]] = frozenset(
        {Role.SYSADMIN, Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY}
    )
    chunk_size = 200
    check_by_writing = True
    instructions = ("每行一个路段；所属街道/镇写名称或代码；路段编号在全区唯一。",)

    def columns(self) -> list[Column]:
        return [
            Column(
                "subdistrict",
                "所属街道/镇",
                ("街道", "街道/镇", "镇办", "所属街道"),
                text,
                required=True,
                example="光华路街道",
                width=18,
            ),
            Column(
                "name",
                "路段名称",
                ("名称", "路段"),
                max_length(100),
                required=True,
                example="光华路（中华路—文明大道）",
                width=28,
            ),
            Column("code", "路段编号", ("编号", "代码"), max_length(32), required=True, example="GHL-01"),
            Column("description", "起止说明", ("起止", "说明", "备注"), max_length(200), example="", width=28),
        ]

    def prepare(self) -> None:
        self._index = RegionIndex.load([Level.SUBDISTRICT])
        self._seen: dict[str, int] = {}

    def check_row(self, row: ParsedRow) -> None:
        v = row.values
        try:
            v["subdistrict"] = self._index.find(v["subdistrict"], what="街道/镇")
        except CellError as exc:
            row.problems.add("所属街道/镇", v["subdistrict"], exc.reason)
            return
        if not _in_scope(self.user, v["subdistrict"]):
            row.problems.add("所属街道/镇", v["subdistrict"].display_name, "不在您的管辖范围内")
        first = self._seen.setdefault(v["code"], row.row)
        if first != row.row:
            row.problems.add("路段编号", v["code"], f"与第 {first} 行的路段编号重复")

    def check_chunk(self, rows: list[ParsedRow]) -> None:
        taken = set(RoadSection.objects.filter(code__in=[r.values["code"] for r in rows]).values_list("code", flat=True))
        for r in rows:
            if r.values["code"] in taken:
                r.problems.add("路段编号", r.values["code"], "该编号已被使用：请换一个编号")

    def write_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> int:
        done = 0
        for row in rows:
            v = row.values
            try:
                with transaction.atomic():
                    road_section_create(
                        subdistrict=v["subdistrict"],
                        name=v["name"],
                        code=v["code"],
                        description=v.get("description", ""),
                        actor=self.user,
                    )
            except ApplicationError as exc:
                row.problems.add("路段名称", v["name"], exc.message)
                continue
            done += 1
        return done

    def export_rows(self, *, filters: dict[str, Any], reveal: bool) -> Iterator[list[Any]]:
        for s in (
            RoadSection.objects.visible_to(self.user).select_related("subdistrict").order_by("code").iterator(chunk_size=2000)
        ):
            yield [s.subdistrict.display_name, s.name, s.code, s.description]
