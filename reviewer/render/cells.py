"""Writing CSV and XLSX cells so that a spreadsheet never runs text as a formula (OWASP's CSV injection
advice). Every table export goes through here: text from a document, a model, a file name or an option
is attacker-controlled, and Excel or LibreOffice would evaluate `=HYPERLINK(...)` when the file opens."""

import csv
import io
import re
import sys
import types
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Value = str | int | float | None


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_value(value: Value) -> Value:
    """Text that a spreadsheet would read as a formula gets a leading single quote; numbers stay numbers."""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def to_csv_text(header: Sequence[Value], rows: Iterable[Sequence[Value]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in [header, *rows]:
        writer.writerow([csv_value(v) for v in row])
    return out.getvalue()


# The control characters XML 1.0 forbids (openpyxl's ILLEGAL_CHARACTERS_RE): a cell holding one cannot be saved.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_OPENPYXL_NUMBERS = "openpyxl.compat.numbers"


def new_workbook() -> "Workbook":
    """An empty openpyxl Workbook. openpyxl imports numpy, when it is installed, only to accept numpy
    numbers as cell values; we never write any, and that import costs more than the rest of an export.
    Its numbers module is given here before openpyxl's first import, with the types openpyxl itself
    falls back to without numpy."""
    if "openpyxl" not in sys.modules and _OPENPYXL_NUMBERS not in sys.modules:
        numbers = types.ModuleType(_OPENPYXL_NUMBERS)
        numbers.NUMERIC_TYPES = (int, float, Decimal)  # type: ignore[attr-defined]
        numbers.NUMPY = False  # type: ignore[attr-defined]
        sys.modules[_OPENPYXL_NUMBERS] = numbers
    from openpyxl import Workbook

    return Workbook()


def append_xlsx_row(sheet: "Worksheet", values: Sequence[Value]) -> None:
    """Append a row whose text cells are strings, never formulas; text that starts like a formula also
    gets Excel's quote prefix, so editing the cell in Excel cannot turn it into one either."""
    sheet.append([_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in values])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = sheet.cell(row=row, column=column)
            cell.data_type = "s"
            if starts_like_formula(value):
                cell.quotePrefix = True
