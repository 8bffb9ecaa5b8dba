"""A streaming xlsx writer: rows go straight into the deflate stream of the zip, so memory does not grow with
the number of rows, and each row costs one string join (no per-cell objects). Inline strings, numbers, booleans
and dates; a bold header row frozen at the top; column widths. Nothing else — templates with drop-downs are
written with xlsxwriter (small files).

Every text cell that a spreadsheet could take for a formula (starting with = + - @ tab or CR) is neutralised
by a leading apostrophe (OWASP "CSV injection"), so that editing the cell in Excel never evaluates it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import IO, Any
from xml.sax.saxutils import escape as _xml_escape

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_REPLACE: dict[int, str | None] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_REPLACE.update({c: None for c in range(32) if c not in (9, 10, 13)})
_ESCAPE = str.maketrans(_REPLACE)
_EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
STYLE_HEADER, STYLE_DATE, STYLE_DATETIME = 1, 2, 3


def neutralise(value: str) -> str:
    """'=1+1' → "'=1+1": a value a spreadsheet would evaluate is kept as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_STATIC = {
    "[Content_Types].xml": None,  # built from the sheet list
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd hh:mm"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFEEF1F4"/><bgColor indexed="64"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _attr(value: str) -> str:
    return _xml_escape(value, {'"': "&quot;"})


class Sheet:
    def __init__(self, book: XlsxWriter, stream: IO[bytes], columns: int) -> None:
        self._book = book
        self._stream = stream
        self._buffer: list[str] = []
        self._row = 0
        self._letters = [column_letter(i) for i in range(max(columns, 1))]
        self.rows_written = 0

    def _letter(self, i: int) -> str:
        while i >= len(self._letters):
            self._letters.append(column_letter(len(self._letters)))
        return self._letters[i]

    def row(self, values: Sequence[Any], *, style: int = 0) -> None:
        """Append one row. str/int/float/Decimal/bool/date/datetime; None and "" leave the cell empty."""
        self._row += 1
        r = str(self._row)
        s = f' s="{style}"' if style else ""
        parts = [f'<row r="{r}">']
        for i, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = (self._letters[i] if i < len(self._letters) else self._letter(i)) + r
            if isinstance(value, str):
                parts.append(
                    f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{neutralise(value).translate(_ESCAPE)}</t></is></c>'
                )
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>')
            elif isinstance(value, int | float | Decimal):
                parts.append(f'<c r="{ref}"{s}><v>{value}</v></c>')
            elif isinstance(value, datetime):
                serial = value.toordinal() - _EXCEL_EPOCH_ORDINAL + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
                parts.append(f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{serial:.10f}</v></c>')
            elif isinstance(value, date):
                parts.append(f'<c r="{ref}" s="{STYLE_DATE}"><v>{value.toordinal() - _EXCEL_EPOCH_ORDINAL}</v></c>')
            else:
                parts.append(
                    f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{neutralise(str(value)).translate(_ESCAPE)}</t></is></c>'
                )
        parts.append("</row>")
        self._buffer.append("".join(parts))
        self.rows_written += 1
        if len(self._buffer) >= 512:
            self.flush()

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.row(values)

    def flush(self) -> None:
        if self._buffer:
            self._stream.write("".join(self._buffer).encode("utf-8"))
            self._buffer.clear()

    def close(self) -> None:
        self.flush()
        self._stream.write(b"</sheetData></worksheet>")
        self._stream.close()


class XlsxWriter:
    """``with XlsxWriter(fileobj) as book: sheet = book.sheet("单位台账", header=[...]); sheet.row([...])``"""

    def __init__(self, target: str | IO[bytes], *, compresslevel: int = 1) -> None:
        self._zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._names: list[str] = []
        self._current: Sheet | None = None

    def sheet(self, name: str, *, header: Sequence[str] = (), widths: Sequence[int] = ()) -> Sheet:
        if self._current is not None:
            self._current.close()
        clean = "".join(c for c in name if c not in "[]:*?/\\")[:31] or f"Sheet{len(self._names) + 1}"
        while clean in self._names:
            clean = clean[:28] + f"_{len(self._names)}"
        self._names.append(clean)
        stream = self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w", force_zip64=True)
        head = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        ]
        if header:
            head.append(
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                "</sheetView></sheetViews>"
            )
        if widths:
            head.append(
                "<cols>"
                + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
                + "</cols>"
            )
        head.append("<sheetData>")
        stream.write("".join(head).encode("utf-8"))
        self._current = Sheet(self, stream, len(header) or len(widths))
        if header:
            self._current.row(list(header), style=STYLE_HEADER)
        return self._current

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        if not self._names:
            self.sheet("Sheet1").close()
            self._current = None
        n = len(self._names)
        sheets = "".join(f'<sheet name="{_attr(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(self._names, 1))
        self._zip.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        rels += (
            f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/>'
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        self._zip.writestr("xl/styles.xml", str(_STATIC["xl/styles.xml"]))
        self._zip.writestr("_rels/.rels", str(_STATIC["_rels/.rels"]))
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        self._zip.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        self._zip.close()

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
