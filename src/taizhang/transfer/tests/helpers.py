"""Building sheets the way people make them in Excel (title rows, merged headers, numbers for codes)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import xlsxwriter

from taizhang.establishments.validators import make_credit_code

HEADER = [
    "统一社会信用代码",
    "单位名称",
    "单位类型",
    "行业类别",
    "所在社区/网格",
    "地址",
    "联系人",
    "联系电话",
    "从业人数",
    "状态",
    "复工日期",
]


def code(n: int, region: str = "410502") -> str:
    body = f"{n:08d}"
    return make_credit_code(region=region, body=body)


def xlsx(
    rows: Sequence[Sequence[Any]], *, title: str | None = None, merges: Sequence[tuple[int, int, int, int, str]] = ()
) -> bytes:
    """rows are written from the top (after an optional merged title row); numbers stay numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("台账")
    start = 0
    if title:
        sheet.merge_range(0, 0, 0, 8, title)
        start = 1
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write(r, c, value)
    for r0, c0, r1, c1, value in merges:
        sheet.merge_range(r0, c0, r1, c1, value)
    book.close()
    return buffer.getvalue()


def xls(
    rows: Sequence[Sequence[Any]], *, title: str | None = None, merges: Sequence[tuple[int, int, int, int, str]] = ()
) -> bytes:
    """The same sheet as xlsx() in the Excel 97-2003 format (BIFF8 in an OLE2 container), written by xlwt."""
    import xlwt  # type: ignore[import-untyped]

    book = xlwt.Workbook(encoding="utf-8")
    # Merges are written over the cells below them, as xlsx() does; xlwt refuses that unless asked.
    sheet = book.add_sheet("台账", cell_overwrite_ok=True)
    start = 0
    if title:
        sheet.write_merge(0, 0, 0, 8, title)
        start = 1
    as_date = xlwt.easyxf(num_format_str="yyyy-mm-dd")  # a date cell is a number with a date format
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write(r, c, value, as_date)
            elif value is not None:
                sheet.write(r, c, value)  # a Python number becomes a NUMBER record, text a (Unicode) string
    for r0, c0, r1, c1, value in merges:
        sheet.write_merge(r0, r1, c0, c1, value)  # xlwt takes (first row, last row, first col, last col)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)
