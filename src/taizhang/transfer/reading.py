"""Reading an uploaded sheet safely: format sniffing, limits, zip-bomb and XML checks, streaming rows.

xlsx and xls are read by python-calamine (Rust: no formula is evaluated, no external entity is resolved);
csv in UTF-8 (with or without BOM) or GBK/GB18030, sniffed. Rows come out as (Excel row number, cells).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException
from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from taizhang.core.errors import ApplicationError

Cell = Any
Row = list[Cell]

XLSX, XLS, CSV = "xlsx", "xls", "csv"
FORMATS = (XLSX, XLS, CSV)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


class FileRefused(ApplicationError):
    """The file is not read at all (too large, not a spreadsheet, a zip bomb …); the message says what to do."""

    code = "file_refused"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_uncompressed: int
    max_ratio: int = 200  # deflate reaches ~10–30× on real sheets; a bomb reaches 1000×
    max_members: int = 2000


def limits() -> Limits:
    return Limits(
        max_bytes=int(getattr(settings, "TAIZHANG_TRANSFER_MAX_BYTES", 60 * 1024 * 1024)),
        max_rows=int(getattr(settings, "TAIZHANG_TRANSFER_MAX_ROWS", 1_000_000)),
        max_uncompressed=int(getattr(settings, "TAIZHANG_TRANSFER_MAX_UNCOMPRESSED", 600 * 1024 * 1024)),
    )


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def sniff_format(path: Path, name: str = "") -> str:
    """xlsx, xls or csv by content (the extension is only a hint); FileRefused otherwise."""
    with path.open("rb") as fh:
        head = fh.read(8)
    lower = name.lower()
    if head.startswith(_ZIP):
        return XLSX
    if head.startswith(_OLE2):
        return XLS
    if lower.endswith((".csv", ".txt")) or not lower:
        return CSV
    raise FileRefused(f"无法识别文件“{name}”的格式：请上传 Excel（.xlsx/.xls）或 CSV 文件，可先下载模板填写")


def check_file(path: Path, fmt: str, lim: Limits | None = None) -> None:
    """Refuse before parsing: size, then for xlsx the zip directory (bomb) and the XML parts (DTDs)."""
    lim = lim or limits()
    size = path.stat().st_size
    if size == 0:
        raise FileRefused("文件是空的：请确认选择了正确的文件")
    if size > lim.max_bytes:
        raise FileRefused(f"文件太大（{_mb(size)}），上限为 {_mb(lim.max_bytes)}：请拆分成几个文件分别导入")
    if fmt == XLSX:
        _check_xlsx(path, lim)


def _check_xlsx(path: Path, lim: Limits) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused("文件已损坏或不是有效的 xlsx：请在 Excel 中打开后“另存为”xlsx 再上传") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > lim.max_members:
            raise FileRefused("文件内部结构异常（部件过多），已拒绝：请另存为普通的 xlsx 后再上传")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise FileRefused("文件已加密：请在 Excel 中取消密码保护后再上传")
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                raise FileRefused(
                    f"文件解压后异常膨胀（{info.filename} 压缩比超过 {lim.max_ratio} 倍），疑似“压缩炸弹”，已拒绝：请上传正常的 Excel 文件"
                )
        if total > lim.max_uncompressed:
            raise FileRefused(
                f"文件解压后过大（{_mb(total)}，上限 {_mb(lim.max_uncompressed)}），已拒绝：请拆分成几个文件，或删除无关的工作表和图片"
            )
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise FileRefused("文件不是有效的 Excel 工作簿（缺少 xl/workbook.xml）：请另存为 xlsx 后再上传")
        for name in ("[Content_Types].xml", "xl/workbook.xml"):
            if name in names:
                try:
                    SafeET.fromstring(zf.read(name), forbid_dtd=True)
                except (DefusedXmlException, SafeET.ParseError) as exc:
                    raise FileRefused("文件中含有不安全或损坏的 XML 内容，已拒绝：请另存为普通的 xlsx 后再上传") from exc
        for info in infos:  # worksheets and shared strings: no DTD anywhere (entity expansion)
            if info.filename.endswith(".xml"):
                with zf.open(info) as fh:
                    if b"<!DOCTYPE" in fh.read(4096).upper().replace(b"<!doctype", b"<!DOCTYPE"):
                        raise FileRefused("文件中含有不安全的 XML 声明（DOCTYPE），已拒绝：请另存为普通的 xlsx 后再上传")


@dataclass
class Table:
    """One sheet: rows with their Excel row numbers, and the merged ranges (0-based, inclusive)."""

    name: str
    rows: Iterator[tuple[int, Row]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    estimated_rows: int


def open_workbook_tables(path: Path, fmt: str) -> Iterator[Table]:
    """The data sheets of the file, in order (hidden sheets and chart sheets skipped)."""
    if fmt == CSV:
        yield _csv_table(path)
        return
    try:
        wb = _calamine_workbook(path, fmt)
    except (CalamineError, OSError, ValueError) as exc:
        raise FileRefused("无法读取该 Excel 文件（可能已损坏或受密码保护）：请在 Excel 中打开后另存为 xlsx 再上传") from exc
    try:
        for index, meta in enumerate(wb.sheets_metadata):
            if meta.typ != SheetTypeEnum.WorkSheet or meta.visible != SheetVisibleEnum.Visible:
                continue
            sheet = wb.get_sheet_by_index(index)
            start = (sheet.start or (0, 0))[0]
            yield Table(
                name=meta.name,
                rows=((start + i + 1, row) for i, row in enumerate(sheet.iter_rows())),
                merged=list(sheet.merged_cell_ranges or []),
                estimated_rows=sheet.height,
            )
    finally:
        wb.close()


def _calamine_workbook(path: Path, fmt: str) -> CalamineWorkbook:
    """calamine picks its reader by the file's extension: an .xls saved as "x.xlsx" (or the reverse) would be
    refused, so a file whose name disagrees with its content is opened from its bytes, where calamine looks at the
    content. Uploads are stored as input.<format> (services.input_path) and take the first branch, which does not
    copy the file into Python's memory."""
    if path.suffix.lower() == f".{fmt}":
        return CalamineWorkbook.from_path(str(path))
    with path.open("rb") as fh:  # at most TAIZHANG_TRANSFER_MAX_BYTES, checked before (check_file)
        return CalamineWorkbook.from_filelike(fh)


def sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
    return "gb18030"  # a superset of GBK and GB2312, what Excel writes on Chinese Windows


def _csv_table(path: Path) -> Table:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    encoding = sniff_encoding(head)
    sample = head.decode(encoding if encoding != "utf-8-sig" else "utf-8", errors="ignore")
    try:
        dialect: Any = csv.Sniffer().sniff(sample[:16384], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    size = path.stat().st_size

    def rows() -> Iterator[tuple[int, Row]]:
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
            try:
                yield from enumerate(csv.reader(text, dialect), start=1)
            except UnicodeDecodeError as exc:
                raise FileRefused("CSV 文件编码无法识别：请用 Excel 另存为“CSV UTF-8”或 xlsx 后再上传") from exc
            except csv.Error as exc:
                raise FileRefused(f"CSV 文件格式错误（{exc}）：请用 Excel 另存为 xlsx 后再上传") from exc

    return Table(name=path.name, rows=rows(), merged=[], estimated_rows=max(1, size // 120))
