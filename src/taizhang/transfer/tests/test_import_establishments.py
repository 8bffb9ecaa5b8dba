from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.core.protected import bidx_lookup
from taizhang.establishments.models import Establishment, EstablishmentEvent, Status
from taizhang.establishments.services import establishment_create, name_initials
from taizhang.transfer import engine, services
from taizhang.transfer.ledgers import EstablishmentLedger
from taizhang.transfer.models import JobStatus
from taizhang.transfer.reading import sniff_format

from .helpers import HEADER, code, csv_bytes, xls, xlsx

pytestmark = pytest.mark.django_db


def _bad_check_digit(value: str) -> str:
    last = "0" if value[-1] != "0" else "1"
    return value[:-1] + last


def messy_sheet(write: Callable[..., bytes] = xlsx) -> bytes:
    """A title row, a blank row, two-level merged headers, then the rows of the Done-when (xlsx, or xls with xls)."""
    sub = ["", "", "", "", "", "", "姓名", "电话", "", "", ""]
    rows: list[list[Any]] = [
        [],  # a blank row under the title
        [],  # the header's top row (Excel row 3) is written by the merges
        sub,
        [code(1), "光华路便民超市", "超市", "超市", "官园社区", "光华路1号", "张三", "13800000018", 5, "未复工", ""],
        [914105020000000000.0, "数字代码商店", "门店", "", "官园社区", "", "", "", "", "", ""],
        [_bad_check_digit(code(2)), "校验位错误商店", "门店", "", "官园社区", "", "", "", "", "", ""],
        [code(1), "重复的超市", "超市", "", "官园社区", "", "", "", "", "", ""],
        [code(4), "不存在社区的店", "门店", "", "幸福社区", "", "", "", "", "", ""],
        [],
        [
            "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code(3)),
            "  文明大道　小吃店 ",
            "门店",
            "",
            " 官园社区 ",
            "",
            "",
            "",
            "3",
            "已复工",
            43909,
        ],
    ]
    merges = [(2, c, 3, c, h) for c, h in enumerate(HEADER) if h not in ("联系人", "联系电话")]
    merges.append((2, 6, 2, 7, "联系人"))
    return write(rows, title="文峰区官园社区单位台账（2020年3月）", merges=merges)


def _write(tmp_path: Any, name: str, data: bytes) -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "write", "fmt"),
    [
        ("台账.xlsx", xlsx, "xlsx"),
        ("台账.xls", xls, "xls"),  # Excel 97-2003 (BIFF8), still what many offices save
        ("台账.xlsx", xls, "xls"),  # an .xls renamed to .xlsx: the format is read from the content (OLE2)
    ],
    ids=["xlsx", "xls", "xls-named-xlsx"],
)
def test_messy_sheet_imports_nothing_and_reports_each_problem_on_its_row(
    worker: Any, categories: Any, tmp_path: Any, name: str, write: Callable[..., bytes], fmt: str
) -> None:
    path = _write(tmp_path, name, messy_sheet(write))
    assert sniff_format(path, name) == fmt
    outcome = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.ALL, name=name)

    assert Establishment.objects.count() == 0
    assert outcome.rolled_back and outcome.written == 0
    assert outcome.header_row == 4  # the sub-header row under the merged "联系人"
    assert (outcome.total, outcome.valid, outcome.invalid) == (6, 2, 4)
    by_row = {p.row: p for p in outcome.preview}
    assert set(by_row) == {6, 7, 8, 9}, outcome.preview
    assert by_row[6].column == "统一社会信用代码" and "存成了数字" in by_row[6].reason and "9.14105E+17" in by_row[6].reason
    assert "校验位" in by_row[7].reason
    assert by_row[8].reason.startswith("与第 5 行的统一社会信用代码重复")
    assert by_row[9].column == "所在社区/网格" and "幸福社区" in by_row[9].reason


def test_check_then_commit_all_through_the_job(worker: Any, categories: Any, django_capture_on_commit_callbacks: Any) -> None:
    rows = [
        HEADER,
        [
            code(1),
            "光华路便民超市",
            "超市",
            "超市",
            "官园社区/第1网格",
            "光华路1号",
            "张三",
            "138 0000 0018",
            "5",
            "已复工",
            "2020/3/19",
        ],
        ["", "文明大道小吃店", "门店", "", "410502013002", "", "", "", "", "", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        check = services.import_start(user=worker, ledger="establishments", upload=io.BytesIO(xlsx(rows)), name="a.xlsx")
    check.refresh_from_db()
    assert check.status == JobStatus.DONE, check.message
    assert (check.total_rows, check.valid_rows, check.invalid_rows) == (2, 2, 0)
    assert Establishment.objects.count() == 0  # a check writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_commit(user=worker, source=check)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.written_rows == 2, job.message
    est = Establishment.objects.get(credit_code=code(1))
    assert est.name_initials == name_initials("光华路便民超市")
    assert est.region.name == "第1网格" and est.region_path == est.region.path
    assert est.status == Status.RESUMED and str(est.resumed_on) == "2020-03-19"
    assert est.contact_mobile == "13800000018" and est.created_by == worker
    assert est.category == categories["超市"]
    assert EstablishmentEvent.objects.filter(establishment=est, kind=EstablishmentEvent.Kind.IMPORTED).count() == 1
    assert list(Establishment.objects.filter(**bidx_lookup(Establishment, "contact_mobile", "+86 138-0000-0018"))) == [est]
    # the same columns as a registration through the service
    other = establishment_create(
        actor=worker, data={"name": "光华路便民超市", "kind": est.kind, "region": est.region, "address": "另一个地址"}
    )
    for field in ("name_initials", "region_path", "created_by", "version"):
        assert getattr(other, field) == getattr(est, field), field
    assert other.status_since == timezone.localdate() and est.status_since == est.resumed_on
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT, actor=worker).count() == 1
    # the dashboard's tallies follow the imported rows (no rebuild needed)
    from taizhang.rollups.services import verify

    assert verify(only=["establishments"], record=False) == []


@pytest.mark.parametrize("name", ["台账.xls", "台账.xlsx"])  # the second is an .xls renamed by hand
def test_a_clean_xls_imports_through_the_job(
    worker: Any, categories: Any, django_capture_on_commit_callbacks: Any, name: str
) -> None:
    """What Excel 97-2003 keeps: a mobile and a head count typed as numbers, a real date cell, full-width text."""
    rows: list[list[Any]] = [
        HEADER,
        [
            code(1),
            "光华路便民超市",
            "超市",
            "超市",
            "官园社区/第1网格",
            "光华路1号",
            "张三",
            13800000018,
            5,
            "已复工",
            date(2020, 3, 19),
        ],
        ["", "文明大道小吃店", "门店", "", "410502013002", "文明大道８号", "", "", "", "未复工", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        check = services.import_start(user=worker, ledger="establishments", upload=io.BytesIO(xls(rows)), name=name)
    check.refresh_from_db()
    assert check.file_format == "xls" and check.status == JobStatus.DONE, check.message
    assert (check.total_rows, check.valid_rows, check.invalid_rows) == (2, 2, 0)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_commit(user=worker, source=check)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.written_rows == 2, job.message
    est = Establishment.objects.get(credit_code=code(1))
    assert est.region.name == "第1网格" and est.category == categories["超市"]
    assert est.contact_name == "张三" and est.contact_mobile == "13800000018" and est.employees == 5
    assert est.status == Status.RESUMED and est.resumed_on == date(2020, 3, 19)
    other = Establishment.objects.get(name="文明大道小吃店")
    assert other.credit_code is None and other.address == "文明大道8号" and other.status == Status.NOT_RESUMED


def test_duplicates_against_the_database_and_valid_only(worker: Any, categories: Any, tmp_path: Any) -> None:
    first = _write(tmp_path, "1.csv", csv_bytes([HEADER, [code(1), "甲超市", "超市", "", "官园社区"]]))
    assert engine.run_import(EstablishmentLedger(user=worker), first, mode=engine.ALL, name="1.csv").written == 1
    second = _write(
        tmp_path,
        "2.csv",
        csv_bytes([HEADER, [code(1), "甲超市", "超市", "", "官园社区"], [code(2), "乙超市", "超市", "", "官园社区"]]),
    )
    outcome = engine.run_import(EstablishmentLedger(user=worker), second, mode=engine.ALL, name="2.csv")
    assert outcome.written == 0 and "已登记为“甲超市”" in outcome.preview[0].reason
    outcome = engine.run_import(EstablishmentLedger(user=worker), second, mode=engine.VALID, name="2.csv")
    assert outcome.written == 1 and outcome.invalid == 1
    assert set(Establishment.objects.values_list("name", flat=True)) == {"甲超市", "乙超市"}


def test_csv_in_gbk(worker: Any, categories: Any, tmp_path: Any) -> None:
    data = csv_bytes(
        [["单位名称", "单位类型", "所在社区", "联系人", "手机号"], ["光华路便民超市", "超市", "官园社区", "王五", "13900000001"]],
        "gbk",
    )
    path = _write(tmp_path, "gbk.csv", data)
    outcome = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.ALL, name="gbk.csv")
    assert outcome.ok and outcome.written == 1, outcome.preview
    est = Establishment.objects.get()
    assert est.name == "光华路便民超市" and est.contact_name == "王五"


def test_outside_scope_and_scientific_text_codes_are_refused(worker: Any, categories: Any, tmp_path: Any) -> None:
    path = _write(
        tmp_path,
        "s.csv",
        csv_bytes([HEADER, ["9.14105E+17", "甲", "门店", "", "官园社区"], ["", "乙", "门店", "", "乔家巷社区"]]),
    )
    outcome = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.ALL, name="s.csv")
    reasons = {p.row: p.reason for p in outcome.preview}
    assert "存成了数字" in reasons[2] and "管辖范围" in reasons[3]


def test_missing_required_column_is_a_clear_message(worker: Any, tmp_path: Any) -> None:
    path = _write(tmp_path, "m.csv", csv_bytes([["单位名称", "地址"], ["甲", "x"]]))
    with pytest.raises(engine.FileRefused, match="缺少必填列"):
        engine.run_import(EstablishmentLedger(user=worker), path, name="m.csv")
