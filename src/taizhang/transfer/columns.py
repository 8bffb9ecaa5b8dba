"""Columns of a ledger and the parsers of their cells.

A parser takes the raw cell (str, int, float, bool, date, datetime …) and returns the cleaned value or raises
CellError with a reason the user can act on. Text is NFKC-normalised (full-width digits and letters become
ASCII) and stripped first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any


class CellError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Parser = Callable[[Any], Any]

_SPACES = re.compile(r"\s+")
_NOTE = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def text(cell: Any) -> str:
    """The cell as normalised text: NFKC, stripped, inner runs of white space collapsed to one space."""
    if cell.__class__ is str:
        if not cell:
            return ""
        value = (cell if cell.isascii() else unicodedata.normalize("NFKC", cell)).strip()
        if "  " in value or "\n" in value or "\t" in value:
            value = _SPACES.sub(" ", value)
        return value
    if cell is None:
        return ""
    if isinstance(cell, str):
        return text(str(cell))
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell)


def header_key(cell: Any) -> str:
    """A header compared loosely: no spaces, no required marks (*), no notes in brackets, case-folded."""
    value = _NOTE.sub("", text(cell))
    return _SPACES.sub("", value).replace("*", "").replace("※", "").rstrip(":").casefold()


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    parse: Parser = text
    required: bool = False
    sensitive: str = ""  # mask kind ("name", "mobile" …) when the column holds personal data
    choices: Callable[[], Sequence[str]] | None = None  # drop-down values of the template
    help: str = ""
    example: str = ""
    width: int = 14

    def header_keys(self) -> list[str]:
        return [header_key(h) for h in (self.header, *self.aliases)]


# --- parsers --------------------------------------------------------------------------------------


def max_length(n: int) -> Parser:
    def parse(cell: Any) -> str:
        value = text(cell)
        if len(value) > n:
            raise CellError(f"不能超过{n}个字，现有{len(value)}个字")
        return value

    return parse


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "无", "不是", ""}


def boolean(cell: Any) -> bool:
    if cell == "否" or cell == "":
        return False
    if cell == "是" or cell is True:
        return True
    if isinstance(cell, bool):
        return cell
    value = text(cell).casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError("请填“是”或“否”")


def non_negative_int(cell: Any) -> int:
    if cell == "" or cell is None:
        return 0
    if isinstance(cell, bool):
        raise CellError("应为整数")
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        if not cell.is_integer():
            raise CellError("应为整数")
        value = int(cell)
    else:
        raw = text(cell).replace(",", "").removesuffix("人")
        if not re.fullmatch(r"\d{1,9}", raw):
            raise CellError("应为不小于0的整数")
        value = int(raw)
    if value < 0 or value > 2_000_000_000:
        raise CellError("应为不小于0的整数")
    return value


def coordinate(lo: float, hi: float) -> Parser:
    def parse(cell: Any) -> Decimal | None:
        if cell == "" or cell is None:
            return None
        try:
            value = Decimal(text(cell) if not isinstance(cell, float) else repr(cell))
        except InvalidOperation:
            raise CellError("应为数字（度，如 36.0972）") from None
        if not (lo <= value <= hi):
            raise CellError(f"应在 {lo} 到 {hi} 之间")
        return value.quantize(Decimal("0.000001"))

    return parse


_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = [
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
]
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def excel_serial(value: float) -> date:
    if not (1 <= value < 2958466):
        raise CellError("不是有效的日期")
    return _EXCEL_EPOCH + timedelta(days=int(value))


def date_value(cell: Any) -> date | None:
    """2020-03-19, 2020/3/19, 2020.3.19, 2020年3月19日, 20200319, 3/19/2020, an Excel date or serial (43909)."""
    if cell == "" or cell is None:
        return None
    if cell.__class__ is str and len(cell) == 10 and cell[4] == "-" and cell[7] == "-" and cell.isascii():
        try:  # the common 2020-03-19, in C
            return date.fromisoformat(cell)
        except ValueError:
            pass  # the patterns below give the reason
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool):
        raise CellError("不是有效的日期")
    if isinstance(cell, int | float):
        return excel_serial(float(cell))
    raw = text(cell)
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(raw)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            break
    else:
        m = _US.fullmatch(raw)
        if m:
            mo, d, y = (int(g) for g in m.groups())
        elif re.fullmatch(r"\d{5}(\.\d+)?", raw):
            return excel_serial(float(raw))
        else:
            raise CellError("日期格式无法识别，请填写如 2020-03-19")
    try:
        return date(y, mo, d)
    except ValueError:
        raise CellError("不是有效的日期（月或日超出范围）") from None


def choice(options: Callable[[], dict[str, Any]], what: str) -> Parser:
    """A value from a closed list, by label or code (the template offers the labels as a drop-down)."""

    def parse(cell: Any) -> Any:
        value = text(cell)
        if not value:
            return None
        table = options()
        found = table.get(value, table.get(value.casefold()))
        if found is None:
            raise CellError(
                f"{what}“{value}”不存在，可选：{'、'.join(list(dict.fromkeys(k for k in table if not k.isascii()))[:12])}"
            )
        return found

    return parse


_SCI = re.compile(r"[+-]?\d(\.\d+)?[eE][+-]?\d{1,3}")  # what Excel shows: 9.14105E+17


def looks_like_number_damage(cell: Any) -> bool:
    """Excel stored a long code as a number (9.14105E+17): the last digits are gone and cannot be recovered."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float):
        return True
    return isinstance(cell, str) and bool(_SCI.fullmatch(text(cell)))


class RowProblems(list[tuple[str, str, str]]):
    """Problems of one row: (column header, value, reason). A list, so that "has problems" is a C truth test:
    the engine asks it several times for each of 200,000 rows."""

    __slots__ = ()

    def add(self, header: str, value: Any, reason: str) -> None:
        self.append((header, text(value)[:100], reason))

    @property
    def items(self) -> list[tuple[str, str, str]]:
        return self
