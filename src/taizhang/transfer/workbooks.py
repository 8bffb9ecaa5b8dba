"""The xlsx template of each ledger: Chinese headers (required ones marked *), text-formatted code columns
(so that Excel cannot turn a credit code into 9.14105E+17), drop-down lists, and an instructions sheet."""

from __future__ import annotations

import io

import xlsxwriter

from .columns import Column
from .engine import Ledger

TEXT_KEYS = {"credit_code", "contact_mobile", "code", "subject", "road_section", "user", "unit"}
ROWS_WITH_VALIDATION = 5000


def template_bytes(ledger: Ledger) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    head = book.add_format({"bold": True, "bg_color": "#EEF1F4", "border": 1, "text_wrap": True, "valign": "vcenter"})
    head_required = book.add_format(
        {"bold": True, "bg_color": "#FDE2E2", "font_color": "#B3261E", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    as_text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    bold = book.add_format({"bold": True})
    columns: list[Column] = ledger.columns()

    sheet = book.add_worksheet(ledger.sheet_title)
    lists = book.add_worksheet("选项")
    list_col = 0
    for i, col in enumerate(columns):
        sheet.set_column(i, i, max(col.width, len(col.header) * 2 + 2), as_text if col.key in TEXT_KEYS else None)
        sheet.write_string(0, i, col.header + ("*" if col.required else ""), head_required if col.required else head)
        if col.help:
            sheet.write_comment(0, i, col.help, {"x_scale": 2})
        options = list(col.choices()) if col.choices else []
        if options:
            lists.write_string(0, list_col, col.header, bold)
            for r, option in enumerate(options, start=1):
                lists.write_string(r, list_col, option)
            letter = xlsxwriter.utility.xl_col_to_name(list_col)
            sheet.data_validation(
                1,
                i,
                ROWS_WITH_VALIDATION,
                i,
                {
                    "validate": "list",
                    "source": f"=选项!${letter}$2:${letter}${len(options) + 1}",
                    "error_title": col.header,
                    "error_message": f"请从下拉列表中选择{col.header}",
                    "error_type": "warning",
                },
            )
            list_col += 1
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 30)
    lists.hide()

    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 8)
    notes.set_column(2, 2, 60)
    notes.set_column(3, 3, 28)
    notes.write_string(0, 0, f"{ledger.title}导入模板 · 填写说明", book.add_format({"bold": True, "font_size": 14}))
    row = 2
    for line in ledger.instructions:
        notes.merge_range(row, 0, row, 3, line, wrap)
        notes.set_row(row, 32)
        row += 1
    row += 1
    for c, title in enumerate(("列", "是否必填", "说明", "示例")):
        notes.write_string(row, c, title, head)
    for col in columns:
        row += 1
        notes.write_string(row, 0, col.header)
        notes.write_string(row, 1, "必填" if col.required else "")
        notes.write_string(row, 2, col.help or "", wrap)
        notes.write_string(row, 3, col.example or "")
    sheet.activate()
    book.close()
    return buffer.getvalue()
