"""A report as CSV (one table per file) and XLSX (one sheet per table), built whole in memory
before anything is sent or written, so an error never leaves a partial file (ADR 0035). The
caller builds the report with ``export=True``: exports are always suppressed. No Flask, no
database.

Both formats share one layout (:func:`layout`): a ratio column ("3 of 10 (30%)" on the page)
becomes three columns, the count, what it is out of and the percentage; a median in days is a
number of days. Hidden cells are the text "<5" (or "not shown" for a median or a share); no
data is an empty cell.

* CSV follows the UK government Tabular data standard: RFC 4180 (CRLF, quoted as needed), UTF-8
  with a byte order mark so that Excel reads it as UTF-8, one header row, ISO 8601 dates. Text
  that a spreadsheet would take as a formula (starting ``= + - @``, a tab or a carriage return)
  is prefixed with ``'``.
* XLSX (XlsxWriter): real numbers and dates, a frozen header row, column widths, no merged
  cells; a last sheet says what the report is (title, period, filters, when, suppression).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter

from casework.reports.tables import Cell, CellKind, Column, Report, Table

#: What makes a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportTooLargeError(ValueError):
    """The export would have more rows than allowed."""

    def __init__(self, rows: int, limit: int) -> None:
        super().__init__(
            f"This export would have {rows:,} rows, more than the {limit:,} allowed. "
            "Choose a shorter period or narrow the filters."
        )
        self.rows = rows
        self.limit = limit


def neutralise(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row_count(report: Report, table_key: str | None = None) -> int:
    tables = report.tables() if table_key is None else [report.table(table_key)]
    return sum(len(table.rows) for table in tables)


def check_size(report: Report, limit: int, table_key: str | None = None) -> None:
    rows = row_count(report, table_key)
    if rows > limit:
        raise ExportTooLargeError(rows, limit)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def filename(report: Report, extension: str, table_key: str | None = None) -> str:
    """``caseload-2026-12-02.csv``; a CSV of one of several tables names the table too."""
    day = report.generated_at.date().isoformat()
    parts = [_slug(report.name)]
    if table_key is not None and len(report.tables()) > 1:
        parts.append(_slug(table_key))
    return "-".join([*parts, day]) + "." + extension


# --- the shared layout ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutColumn:
    label: str
    #: "text", "number", "percent", "date"
    kind: str


def _column_kind(table: Table, index: int) -> CellKind:
    """What a column holds: its first cell that is neither a heading nor an empty placeholder
    (a funnel's first stage has no ratio to the stage before)."""
    found = CellKind.LABEL
    for row in table.rows:
        cell = row.cells[index]
        if cell.kind is CellKind.LABEL:
            continue
        if cell.kind is CellKind.TEXT and not cell.value:
            found = CellKind.TEXT
            continue
        return cell.kind
    return found


def layout(table: Table) -> list[OutColumn]:
    """The export's columns for a table (a ratio column becomes three)."""
    columns: list[OutColumn] = []
    for index, column in enumerate(table.columns):
        columns.extend(_out_columns(column, _column_kind(table, index)))
    return columns


def _out_columns(column: Column, kind: CellKind) -> list[OutColumn]:
    if kind is CellKind.RATIO:
        return [
            OutColumn(column.label, "number"),
            OutColumn(f"{column.label}: out of", "number"),
            OutColumn(f"{column.label}: %", "percent"),
        ]
    if kind is CellKind.DAYS:
        return [OutColumn(f"{column.label} (days)", "number")]
    if kind is CellKind.PERCENT:
        return [OutColumn(f"{column.label} (%)", "percent")]
    if kind is CellKind.DATE:
        return [OutColumn(column.label, "date")]
    if kind in (CellKind.COUNT, CellKind.NUMBER):
        return [OutColumn(column.label, "number")]
    return [OutColumn(column.label, "text")]


#: A value in an export: a number, a date, text, or None (an empty cell).
Value = int | float | str | date | None


def _hidden(cell: Cell) -> str:
    return f"<{cell.threshold}"


def values(cell: Cell, kind: CellKind) -> list[Value]:
    """One cell as the export's values (as many as :func:`_out_columns` gives its column)."""
    if kind is CellKind.RATIO and cell.kind is CellKind.RATIO:
        top: Value = _hidden(cell) if cell.suppressed else cell.number
        bottom: Value = _hidden(cell) if cell.denominator_suppressed else cell.denominator
        shown_percent = not (cell.suppressed or cell.denominator_suppressed)
        return [top, bottom, cell.percent if shown_percent else None]
    if kind is CellKind.RATIO:  # a label or total cell in a ratio column
        return [_plain(cell), None, None]
    return [_plain(cell)]


def _plain(cell: Cell) -> Value:
    if cell.kind in (CellKind.LABEL, CellKind.TEXT):
        return str(cell.value) if cell.value is not None else None
    if cell.kind is CellKind.DATE:
        return cell.value if isinstance(cell.value, date) else None
    if cell.suppressed:
        if cell.kind in (CellKind.DAYS, CellKind.PERCENT):
            return "not shown"
        return _hidden(cell)
    if cell.kind is CellKind.RATIO:
        return cell.number
    return cell.number


def rows(table: Table) -> list[list[Value]]:
    kinds = [_column_kind(table, index) for index in range(len(table.columns))]
    return [
        [value for cell, kind in zip(row.cells, kinds, strict=True) for value in values(cell, kind)]
        for row in table.rows
    ]


# --- CSV ------------------------------------------------------------------------------------


def _csv_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else str(int(value))
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


def table_csv(table: Table) -> bytes:
    """One table as CSV bytes (UTF-8 with BOM, CRLF line ends, one header row)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(column.label) for column in layout(table)])
    for values_ in rows(table):
        writer.writerow([_csv_text(value) for value in values_])
    return out.getvalue().encode("utf-8-sig")


# --- XLSX -----------------------------------------------------------------------------------

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\']")


def _sheet_name(caption: str, taken: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub(" ", caption).strip()[:31] or "Table"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _width(value: Value) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 11
    if isinstance(value, float):
        return len(f"{value:,.1f}")
    return len(str(value))


def _write_table(book: Any, formats: dict[str, Any], table: Table, taken: set[str]) -> None:
    sheet = book.add_worksheet(_sheet_name(table.caption, taken))
    columns = layout(table)
    widths = [min(60, max(10, len(column.label) + 2)) for column in columns]
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.label, formats["header"])
    for row_index, (row, values_) in enumerate(zip(table.rows, rows(table), strict=True), 1):
        bold = row.total
        for index, value in enumerate(values_):
            kind = columns[index].kind
            widths[index] = min(60, max(widths[index], _width(value) + 2))
            if value is None:
                sheet.write_blank(row_index, index, None, formats["bold" if bold else "text"])
            elif isinstance(value, date):
                sheet.write_datetime(
                    row_index, index, datetime(value.year, value.month, value.day), formats["date"]
                )
            elif isinstance(value, (int, float)):
                if kind == "percent":
                    sheet.write_number(row_index, index, value / 100, formats["percent"])
                else:
                    sheet.write_number(
                        row_index, index, value, formats["bold_number" if bold else "number"]
                    )
            else:
                sheet.write_string(row_index, index, value, formats["bold" if bold else "text"])
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)


def _about(report: Report) -> list[tuple[str, str]]:
    filters = report.filters
    about = [
        ("Report", report.title),
        ("Period", filters.period.label),
        ("From", filters.period.start.isoformat()),
        ("To", filters.period.end.isoformat()),
        ("Generated at (UTC)", report.generated_at.isoformat(timespec="seconds")),
        ("Scope", "Your agency" if report.scope == "agency" else "The partnership"),
        (
            "Small numbers",
            f"Counts from 1 to {report.threshold - 1} are hidden and shown as <{report.threshold}, "
            "with enough other figures that none can be worked out."
            if report.suppressed
            else "Not hidden",
        ),
    ]
    about.extend(
        (key, value) for key, value in filters.query_args().items() if key not in ("from", "to")
    )
    for section in report.sections:
        for number, note in enumerate(section.notes, 1):
            about.append((f"{section.title}: note {number}", note))
    return about


def report_xlsx(report: Report, *, on_table: Callable[[Table], None] | None = None) -> bytes:
    """Every table of the report, one sheet each, and an "About" sheet last. ``on_table`` is
    called after each table's sheet is written (the command line's progress bar)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    formats = {
        "header": book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "text": book.add_format({}),
        "bold": book.add_format({"bold": True}),
        "number": book.add_format({"num_format": "#,##0.##"}),
        "bold_number": book.add_format({"num_format": "#,##0.##", "bold": True}),
        "percent": book.add_format({"num_format": "0%"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    taken: set[str] = {"about"}
    for table in report.tables():
        _write_table(book, formats, table, taken)
        if on_table is not None:
            on_table(table)
    about = book.add_worksheet("About")
    about.write_string(0, 0, "Item", formats["header"])
    about.write_string(0, 1, "Value", formats["header"])
    for index, (key, value) in enumerate(_about(report), 1):
        about.write_string(index, 0, key)
        about.write_string(index, 1, value)
    about.set_column(0, 0, 32)
    about.set_column(1, 1, 90)
    about.freeze_panes(1, 0)
    book.set_properties({"title": report.title, "comments": "Small numbers suppressed"})
    book.close()
    return out.getvalue()
