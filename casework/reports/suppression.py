"""Small-number suppression: counts from 1 to ``threshold - 1`` are hidden (shown "<5"), and
enough other cells with them that no hidden count can be worked out from a total, a difference
or a percentage.

* **Primary**: a count from 1 to threshold - 1; a median over fewer values than the threshold;
  a ratio's numerator or denominator in that range.
* **Secondary**: wherever a table says a cell is the sum of others (``Table.sums``), a group
  with exactly one hidden cell hides one more — the smallest shown non-zero part, or the total
  when no part is left — until no group has a single hidden cell.
* Ratios that point at counts in the same table (``Cell.of``) follow those counts; a share
  worked out from a row's counts is hidden with any of them.

Zero is shown: "none" discloses nothing about an individual. Plain functions, no database.
"""

from __future__ import annotations

from casework.reports.tables import Cell, CellKind, Report, Table

_COUNTED = (CellKind.COUNT,)


def _small(value: int | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def _primary(table: Table, threshold: int) -> None:
    for row in table.rows:
        for cell in row.cells:
            cell.threshold = threshold
            if cell.kind is CellKind.COUNT:
                cell.suppressed = _small(cell.n, threshold)
            elif cell.kind is CellKind.RATIO:
                cell.suppressed = _small(cell.n, threshold)
                cell.denominator_suppressed = _small(cell.denominator, threshold)
            elif cell.kind is CellKind.DAYS:
                cell.suppressed = cell.value is not None and (cell.denominator or 0) < threshold


def _one_more(table: Table, group: list[tuple[int, int]]) -> bool:
    """Hide one more cell of a group that has exactly one hidden; True if one was hidden."""
    cells = [table.cell(*position) for position in group]
    hidden = [cell for cell in cells if cell.suppressed]
    if len(hidden) != 1:
        return False
    parts = [cell for cell in cells[1:] if not cell.suppressed and cell.n > 0]
    if parts:
        min(parts, key=lambda cell: cell.n).suppressed = True
        return True
    total = cells[0]
    if not total.suppressed and total.n > 0:
        total.suppressed = True
        return True
    return False


def _secondary(table: Table) -> None:
    changed = True
    while changed:
        changed = False
        for relation in table.sums:
            if _one_more(table, [relation.total, *relation.parts]):
                changed = True


def _follow(table: Table) -> None:
    for row in table.rows:
        counts_hidden = any(c.suppressed for c in row.cells if c.kind is CellKind.COUNT)
        for cell in row.cells:
            if cell.kind is CellKind.RATIO and cell.of is not None:
                top, bottom = (table.cell(*position) for position in cell.of)
                cell.suppressed = cell.suppressed or top.suppressed
                cell.denominator_suppressed = cell.denominator_suppressed or bottom.suppressed
            elif cell.kind is CellKind.PERCENT and counts_hidden:
                cell.suppressed = True


def suppress_table(table: Table, threshold: int) -> None:
    _primary(table, threshold)
    _secondary(table)
    _follow(table)


def suppress(report: Report, threshold: int) -> None:
    """Suppress every table of the report (and so its charts, which share the cells)."""
    for table in report.tables():
        suppress_table(table, threshold)
    report.suppressed = True
    report.threshold = threshold


def hidden(cell: Cell) -> bool:
    return cell.suppressed or (cell.kind is CellKind.RATIO and cell.denominator_suppressed)
