from __future__ import annotations

from typing import Any

import pytest

from taizhang.core.roles import Role
from taizhang.duties.models import Assignment, Kind
from taizhang.establishments.models import EstablishmentKind
from taizhang.establishments.services import establishment_create
from taizhang.regions.models import Region, RoadSection
from taizhang.regions.services import road_section_create
from taizhang.transfer import engine
from taizhang.transfer.ledgers import AssignmentLedger, LocalRegionLedger, RoadSectionLedger

from .helpers import code, csv_bytes

pytestmark = pytest.mark.django_db


def _file(tmp_path: Any, rows: list[list[Any]]) -> Any:
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes(rows))
    return path


def test_grids_and_compounds_in_one_file_through_the_service(worker: Any, tmp_path: Any) -> None:
    rows = [
        ["上级区划", "层级", "名称"],
        ["官园社区", "网格", "第3网格"],
        ["官园社区/第3网格", "楼院", "幸福小区"],
        ["乔家巷社区", "网格", "第9网格"],
        ["官园社区", "网格", "第1网格"],
    ]
    path = _file(tmp_path, rows)
    check = engine.run_import(LocalRegionLedger(user=worker), path, mode=engine.CHECK)
    assert not Region.objects.filter(name="第3网格").exists()  # a check rehearses and rolls back
    reasons = {p.row: p.reason for p in check.preview}
    assert set(reasons) == {4, 5} and "管辖范围" in reasons[4] and "已有名为“第1网格”" in reasons[5]
    done = engine.run_import(LocalRegionLedger(user=worker), path, mode=engine.VALID)
    assert done.written == 2
    compound = Region.objects.get(name="幸福小区")
    assert compound.parent.name == "第3网格" and compound.is_local


def test_road_sections(make_user: Any, regions: Any, tmp_path: Any) -> None:
    staff = make_user(Role.SUBDISTRICT, "光华路街道")
    road_section_create(subdistrict=regions["光华路街道"], name="旧路", code="GHL-00")
    path = _file(
        tmp_path,
        [
            ["所属街道/镇", "路段名称", "路段编号"],
            ["光华路街道", "光华路东段", "GHL-01"],
            ["光华路街道", "光华路西段", "GHL-00"],
            ["头二三道街街道", "道街", "T-01"],
        ],
    )
    outcome = engine.run_import(RoadSectionLedger(user=staff), path, mode=engine.ALL)
    assert outcome.written == 0 and not RoadSection.objects.filter(code="GHL-01").exists()
    reasons = {p.row: p.reason for p in outcome.preview}
    assert "已被使用" in reasons[3] and "管辖范围" in reasons[4]


def test_assignments_of_establishments_to_staff(worker: Any, regions: Any, tmp_path: Any) -> None:
    from taizhang.accounts.models import OrgUnit

    unit = OrgUnit.objects.create(
        code="GY", name="官园社区居委会", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=regions["官园社区"]
    )
    est = establishment_create(
        actor=None,
        data={
            "credit_code": code(1),
            "name": "甲",
            "kind": EstablishmentKind.objects.get(code="shop"),
            "region": regions["官园社区"],
        },
    )
    path = _file(
        tmp_path,
        [
            ["包联类型", "责任单位", "责任人账号", "包联单位", "起始日期"],
            ["社区人员包企业", "GY", worker.username, code(1), "2020-03-01"],
            ["社区人员包企业", "GY", "nobody", code(1), "2020-03-01"],
        ],
    )
    outcome = engine.run_import(AssignmentLedger(user=worker), path, mode=engine.VALID)
    assert outcome.written == 1 and "nobody" in outcome.preview[0].reason
    a = Assignment.objects.get(kind=Kind.STAFF_SUBJECT)
    assert a.subject_id == est.pk and a.user == worker and a.unit == unit and str(a.valid_from) == "2020-03-01"
