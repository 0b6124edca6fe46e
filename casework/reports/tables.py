"""What a report is made of: sections with a headline, a chart and tables of cells. Plain values
that the pages, the charts, the CSV and XLSX exports and the command line all render; nothing
here touches the database or Flask.

A cell knows what it counts (``kind``) and, for a count, which people are behind it (``drill``:
the measure and the breakdown values that select them). Suppression (``suppression.py``) marks
cells ``suppressed`` before anything renders them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from casework.reports.periods import Filters

NO_DATA = "no data"


class CellKind(StrEnum):
    LABEL = "label"  # a row heading
    COUNT = "count"  # a number of people, cases, referrals...
    RATIO = "ratio"  # x of y (z%)
    DAYS = "days"  # a median number of days, over ``denominator`` values
    NUMBER = "number"  # a figure that is not a count (an estimate entered by a manager)
    PERCENT = "percent"  # a share worked out from other figures (unmet need)
    TEXT = "text"
    DATE = "date"


@dataclass(frozen=True)
class Drill:
    """The people behind one figure: a measure and the breakdown values that select them."""

    measure: str
    params: tuple[tuple[str, str], ...] = ()

    def as_args(self) -> dict[str, str]:
        return {"measure": self.measure, **{f"d_{k}": v for k, v in self.params}}


@dataclass
class Cell:
    kind: CellKind
    #: COUNT/NUMBER: an int; RATIO: the numerator; DAYS: a float or None; PERCENT: 0-100 float
    #: or None; LABEL/TEXT: a str; DATE: a date.
    value: int | float | str | date | None
    #: RATIO: the denominator; DAYS: how many values the median is over.
    denominator: int | None = None
    drill: Drill | None = None
    suppressed: bool = False
    #: RATIO: the denominator is itself suppressed.
    denominator_suppressed: bool = False
    #: The threshold in force when the cell was suppressed ("<5").
    threshold: int = 5
    #: RATIO: where the numerator and the denominator are shown as counts in the same table
    #: ((row, column) positions), so that suppression hides the ratio with its counts.
    of: tuple[tuple[int, int], tuple[int, int]] | None = None

    @property
    def n(self) -> int:
        """A count's value as an int (0 for anything that is not a number)."""
        return int(self.value) if isinstance(self.value, int | float) else 0

    @property
    def percent(self) -> float | None:
        """RATIO: the percentage rounded to a whole number (half up), or None with no data."""
        if self.kind is CellKind.PERCENT:
            return None if self.value is None else float(self.value)  # type: ignore[arg-type]
        if self.kind is not CellKind.RATIO or not self.denominator:
            return None
        return percent(self.n, self.denominator)

    @property
    def shown(self) -> str:
        """The cell as text, as the page and the CSV show it."""
        hidden = f"<{self.threshold}"
        if self.kind is CellKind.LABEL or self.kind is CellKind.TEXT:
            return str(self.value)
        if self.kind is CellKind.DATE:
            return self.value.isoformat() if isinstance(self.value, date) else ""
        if self.kind is CellKind.COUNT or self.kind is CellKind.NUMBER:
            return hidden if self.suppressed else f"{self.n:,}"
        return self._shown_derived(hidden)

    def _shown_derived(self, hidden: str) -> str:
        if self.kind is CellKind.RATIO:
            if not self.denominator:
                return NO_DATA
            top = hidden if self.suppressed else f"{self.n:,}"
            bottom = hidden if self.denominator_suppressed else f"{self.denominator:,}"
            if self.suppressed or self.denominator_suppressed:
                return f"{top} of {bottom}"
            return f"{top} of {bottom} ({format_percent(self.percent)})"
        if self.kind is CellKind.DAYS:
            if self.value is None:
                return NO_DATA
            if self.suppressed:
                return f"not shown (fewer than {self.threshold})"
            return format_days(float(self.value))  # type: ignore[arg-type]
        if self.kind is CellKind.PERCENT:
            if self.value is None:
                return NO_DATA
            if self.suppressed:
                return "not shown"
            return format_percent(float(self.value))  # type: ignore[arg-type]
        raise AssertionError(self.kind)

    @property
    def number(self) -> int | float | None:
        """The cell as a number for a spreadsheet (None: hidden or no data)."""
        if self.suppressed or self.value is None or self.kind in (CellKind.LABEL, CellKind.TEXT):
            return None
        if self.kind is CellKind.RATIO:
            return int(self.value)  # type: ignore[arg-type]
        if isinstance(self.value, int | float):
            return self.value
        return None


def percent(numerator: int, denominator: int) -> float:
    exact = Decimal(numerator * 100) / Decimal(denominator)
    return float(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_percent(value: float | None) -> str:
    if value is None:
        return NO_DATA
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def format_days(value: float) -> str:
    number = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return f"{number} day" if number == "1" else f"{number} days"


def count(value: int, drill: Drill | None = None) -> Cell:
    return Cell(CellKind.COUNT, value, drill=drill)


def ratio(
    numerator: int,
    denominator: int,
    drill: Drill | None = None,
    *,
    of: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> Cell:
    return Cell(CellKind.RATIO, numerator, denominator=denominator, drill=drill, of=of)


def days(median: float | None, over: int) -> Cell:
    return Cell(CellKind.DAYS, median, denominator=over)


def label(text: str) -> Cell:
    return Cell(CellKind.LABEL, text)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = True


@dataclass
class Row:
    cells: list[Cell]
    #: A total row (shown in bold, last).
    total: bool = False

    @property
    def heading(self) -> str:
        return str(self.cells[0].value)


@dataclass(frozen=True)
class Sum:
    """An additive relationship in a table: the cell at ``total`` is the sum of the cells at
    ``parts`` ((row, column) positions). Secondary suppression reads these so that a hidden
    cell cannot be worked out by subtraction."""

    total: tuple[int, int]
    parts: tuple[tuple[int, int], ...]


@dataclass
class Table:
    key: str
    caption: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    sums: list[Sum] = field(default_factory=list)

    def cell(self, row: int, column: int) -> Cell:
        return self.rows[row].cells[column]

    def column_index(self, key: str) -> int:
        return next(i for i, column in enumerate(self.columns) if column.key == key)


class ChartKind(StrEnum):
    BAR = "bar"  # vertical bars, one per label
    HBAR = "hbar"  # horizontal bars (funnels, long labels)


@dataclass
class Chart:
    kind: ChartKind
    title: str
    labels: list[str]
    #: (series name, values): one value per label; suppressed values are not drawn.
    series: list[tuple[str, list[Cell]]]
    #: Short alternative text: what the chart shows, and that the data is in the table below.
    alt: str


@dataclass
class Section:
    key: str
    title: str
    #: One sentence saying what the figures show: text, or a function of the section's cells
    #: called when rendered, so that a suppressed figure reads "<5" in the headline too.
    headline: str | Callable[[], str]
    tables: list[Table]
    chart: Chart | None = None
    #: Definitions and method, shown in a "How these figures are worked out" details.
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The headline as shown (after suppression)."""
        return self.headline() if callable(self.headline) else self.headline


class Scope(StrEnum):
    #: A manager: what their agency may read (DECISIONS §3, rules 1-2); exact on the page.
    AGENCY = "agency"
    #: A partnership lead: partnership-wide aggregates, always suppressed.
    PARTNERSHIP = "partnership"


@dataclass
class Report:
    name: str
    title: str
    filters: Filters
    scope: Scope
    sections: list[Section]
    generated_at: datetime
    #: Small numbers are hidden (exports always; a partnership lead's pages).
    suppressed: bool = False
    threshold: int = 5

    def tables(self) -> Sequence[Table]:
        return [table for section in self.sections for table in section.tables]

    def table(self, key: str) -> Table:
        return next(table for table in self.tables() if table.key == key)
