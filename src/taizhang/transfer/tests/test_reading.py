from __future__ import annotations

import io
import random
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from taizhang.establishments.validators import normalize_mobile, validate_credit_code
from taizhang.transfer import engine
from taizhang.transfer.columns import CellError, date_value, header_key, text
from taizhang.transfer.ledgers import EstablishmentLedger
from taizhang.transfer.ledgers.establishments import credit_code
from taizhang.transfer.ledgers.lookups import Initials, mobile
from taizhang.transfer.reading import FileRefused, check_file, limits, open_workbook_tables, sniff_encoding, sniff_format

from .helpers import code, xls, xlsx


def test_text_and_headers_are_normalised() -> None:
    assert text("  ９１４１０５　ＡＢ  ") == "914105 AB"
    assert text(5.0) == "5" and text(True) == "是"
    assert header_key(" 单位名称＊（必填） ") == header_key("单位名称")
    assert header_key("联系 电话:") == "联系电话"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2020-03-19", date(2020, 3, 19)),
        ("2020/3/19", date(2020, 3, 19)),
        ("2020.3.19", date(2020, 3, 19)),
        ("2020年3月19日", date(2020, 3, 19)),
        ("20200319", date(2020, 3, 19)),
        ("3/19/2020", date(2020, 3, 19)),
        (43909, date(2020, 3, 19)),
        (43909.0, date(2020, 3, 19)),
        ("43909", date(2020, 3, 19)),
        (date(2020, 3, 19), date(2020, 3, 19)),
        ("", None),
    ],
)
def test_dates_in_common_forms(cell: Any, expected: Any) -> None:
    assert date_value(cell) == expected


@pytest.mark.parametrize("cell", ["2020-02-30", "明天", "13/45/2020", True])
def test_bad_dates_are_reported(cell: Any) -> None:
    with pytest.raises(CellError):
        date_value(cell)


def test_credit_code_fast_path_agrees_with_the_validator() -> None:
    rnd = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV"
    samples = [code(n) for n in range(1, 300)]
    for s in list(samples):
        for _ in range(3):
            i = rnd.randrange(18)
            samples.append(s[:i] + rnd.choice(alphabet) + s[i + 1 :])
    samples += ["91110000600037341L", "12345", "9141050200000000000", "91410502 MA00000 0X"]
    for s in samples:
        try:
            expected: Any = validate_credit_code(s)
        except ValidationError as exc:
            expected = exc.messages[0]
        try:
            got: Any = credit_code(s)
        except CellError as exc:
            got = exc.reason
        assert got == expected, s


def test_credit_codes_that_excel_turned_into_numbers_are_never_guessed() -> None:
    for cell in (914105020000000000.0, 914105020000000000, "9.14105E+17", "9.14105e17"):
        with pytest.raises(CellError, match="存成了数字"):
            credit_code(cell)


def test_mobile_fast_path_agrees_with_phonenumbers() -> None:
    rnd = random.Random(11)
    samples = [f"1{rnd.randrange(10**10):010d}" for _ in range(3000)] + [
        "+86 138-0000-0018",
        "13800000018",
        "12345",
        "010-12345678",
        "19912345678",
    ]
    for s in samples:
        try:
            expected: Any = normalize_mobile(s)
        except ValidationError as exc:
            expected = exc.messages[0]
        try:
            got: Any = mobile(s)
        except CellError as exc:
            got = exc.reason
        assert got == expected, s
    assert mobile(13800000018.0) == "13800000018"


def test_initials_by_segment_equal_the_whole_name() -> None:
    from bench.generate import MIDDLE, ROADS, SUFFIX

    from taizhang.establishments.services import name_initials

    initials = Initials()
    names = [r + m + s for r in ROADS for m in MIDDLE for s in SUFFIX[:4]] + [
        "光华路超市",
        "银行路ATM 24小时便利店",
        "重庆小面（中华路店）",
        "长安银行",
    ]
    for name in names:
        assert initials(name) == name_initials(name), name


def test_encoding_is_sniffed() -> None:
    assert sniff_encoding("单位名称".encode()) == "utf-8"
    assert sniff_encoding("\ufeff单位".encode()) == "utf-8-sig"
    assert sniff_encoding("单位名称".encode("gbk")) == "gb18030"


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * (50 * 1024 * 1024) + "</a>")
    return path


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = _zip_bomb(tmp_path / "bomb.xlsx")
    with pytest.raises(FileRefused, match="压缩炸弹"):
        check_file(path, sniff_format(path, "bomb.xlsx"))


def test_oversize_and_too_many_rows_are_refused(tmp_path: Path, settings: Any) -> None:
    settings.TAIZHANG_TRANSFER_MAX_BYTES = 1000
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * 1000)
    with pytest.raises(FileRefused, match=r"文件太大.*请拆分"):
        check_file(path, "csv")
    settings.TAIZHANG_TRANSFER_MAX_BYTES = 10**8
    settings.TAIZHANG_TRANSFER_MAX_UNCOMPRESSED = 1000
    x = tmp_path / "x.xlsx"
    x.write_bytes(xlsx([["单位名称"], *[["甲"]] * 200]))
    with pytest.raises(FileRefused, match="解压后过大"):
        check_file(x, "xlsx")
    assert limits().max_uncompressed == 1000


def test_dtd_in_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dtd.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>')
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FileRefused, match="不安全"):
        check_file(path, "xlsx")


@pytest.mark.parametrize(
    ("name", "write", "fmt"),
    [("a.xls", xls, "xls"), ("a.xlsx", xls, "xls"), ("a.xls", xlsx, "xlsx"), ("a", xls, "xls"), ("a.csv", xlsx, "xlsx")],
)
def test_excel_files_are_read_by_content_whatever_their_name(tmp_path: Path, name: str, write: Any, fmt: str) -> None:
    path = tmp_path / name
    path.write_bytes(write([["单位名称", "从业人数"], ["甲", 3]]))
    assert sniff_format(path, name) == fmt
    (table,) = open_workbook_tables(path, sniff_format(path, name))
    assert [row for _, row in table.rows] == [["单位名称", "从业人数"], ["甲", 3]]


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(FileRefused, match="无法识别"):
        sniff_format(path, "a.pdf")


@pytest.mark.django_db
def test_row_limit(tmp_path: Path, settings: Any, worker: Any) -> None:
    settings.TAIZHANG_TRANSFER_MAX_ROWS = 2
    path = tmp_path / "r.csv"
    path.write_bytes("单位名称,单位类型,所在社区\n甲,门店,官园社区\n乙,门店,官园社区\n丙,门店,官园社区\n".encode())
    with pytest.raises(FileRefused, match="行数超过上限"):
        engine.run_import(EstablishmentLedger(user=worker), path, name="r.csv")


@pytest.mark.django_db
def test_zip_bomb_is_refused_through_the_page(
    client: Any, worker: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(worker)
    data = _zip_bomb(tmp_path / "bomb.xlsx").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "bomb.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/transfer/establishments/import", {"file": upload})
    page = client.get(response["Location"]).content.decode()
    assert "压缩炸弹" in page and "已拒绝" in page
