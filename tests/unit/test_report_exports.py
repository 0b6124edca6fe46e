"""The pure rendering of reports: chart SVG, CSV and XLSX (no Flask, no database)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from casework.reports import charts, exports
from casework.reports.periods import Filters, Period
from casework.reports.suppression import suppress
from casework.reports.tables import Chart, ChartKind, Report, count
from tests.reports_support import sample_report

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _report(*, suppressed: bool = True) -> Report:
    report = sample_report(filters=Filters(Period(date(2026, 4, 1), date(2026, 9, 30))), now=NOW)
    if suppressed:
        suppress(report, 5)
    return report


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(text: str) -> None:
    assert exports.neutralise(text) == "'" + text


def test_plain_text_is_left_alone() -> None:
    assert exports.neutralise("Worker 1") == "Worker 1"
    assert exports.neutralise("") == ""


def test_every_chart_colour_has_3_to_1_contrast_with_white() -> None:
    assert all(charts.contrast_with_white(c) >= charts.MIN_CONTRAST for c in charts.COLOURS)


def test_a_suppressed_value_is_not_drawn_and_says_so() -> None:
    hidden = count(3)
    hidden.suppressed = True
    chart = Chart(ChartKind.BAR, "Cases", ["A", "B"], [("Cases", [count(12), hidden])], "alt")
    svg = charts.render_svg(chart).decode()
    assert "&lt;5</text>" in svg
    assert charts.chart_value(hidden) is None
    assert "<script src" not in svg
    assert "http://kozea" not in svg
    assert 'viewBox="0 0 400 ' in charts.render_svg(chart, narrow=True).decode()


def test_whole_number_ticks_for_counts() -> None:
    chart = Chart(ChartKind.BAR, "t", ["a"], [("s", [count(0)])], "alt")
    assert charts.axis_ticks(chart) == [0.0, 1.0]
    chart = Chart(ChartKind.BAR, "t", ["a"], [("s", [count(37)])], "alt")
    assert charts.axis_ticks(chart) == [float(n) for n in range(0, 41, 5)]


def test_csv_layout_expands_ratios_and_keeps_dates_iso() -> None:
    report = _report()
    text = exports.table_csv(report.table("workers")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Worker",
        "Open cases",
        "New cases",
        "Contacted in the last 28 days",
        "Contacted in the last 28 days: out of",
        "Contacted in the last 28 days: %",
        "Median days since last contact (days)",
        "Latest contact",
    ]
    assert rows[-1][0] == "Total"
    assert rows[1][-1] == "2026-11-20"


def test_filenames() -> None:
    report = _report()
    assert exports.filename(report, "xlsx") == "caseload-2026-12-02.xlsx"
    assert exports.filename(report, "csv", "workers") == "caseload-workers-2026-12-02.csv"


def test_the_row_limit() -> None:
    report = _report()
    exports.check_size(report, 6)
    with pytest.raises(exports.ExportTooLargeError, match="6 rows, more than the 5 allowed"):
        exports.check_size(report, 5)


def test_xlsx_about_sheet_says_what_the_report_is() -> None:
    book = openpyxl.load_workbook(io.BytesIO(exports.report_xlsx(_report())))
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(min_row=2)}
    assert about["Report"] == "Caseload and workload"
    assert about["From"] == "2026-04-01"
    assert "hidden" in str(about["Small numbers"])
