"""Small-number suppression on random tables: no count from 1 to 4 is shown, and no hidden cell
can be worked out from a total by subtraction (every sum has none or at least two hidden)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from casework.reports.periods import Filters, Period
from casework.reports.queries import _grid
from casework.reports.suppression import hidden, suppress_table
from casework.reports.tables import Cell, CellKind, Row, Sum, Table, count, days, label, ratio

grids = st.lists(
    st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3),
    min_size=1,
    max_size=6,
)


def _table(values: list[list[int]]) -> Table:
    rows = [
        (f"Row {i}", [count(sum(row)), *(count(v) for v in row)]) for i, row in enumerate(values)
    ]
    return _grid(
        "t",
        "Test",
        "Row",
        [("total", "Total"), ("a", "A"), ("b", "B"), ("c", "C")],
        rows,
        total_column="total",
    )


@settings(max_examples=300)
@given(grids, st.sampled_from([3, 5, 10]))
def test_no_small_count_shown_and_none_derivable(values: list[list[int]], threshold: int) -> None:
    table = _table(values)
    suppress_table(table, threshold)
    for row in table.rows:
        for cell in row.cells:
            if cell.kind is CellKind.COUNT and not cell.suppressed:
                assert not 0 < cell.n < threshold
            if cell.kind is CellKind.COUNT and cell.suppressed:
                assert cell.shown == f"<{threshold}"
    for relation in table.sums:
        group = [table.cell(*relation.total), *(table.cell(*p) for p in relation.parts)]
        assert sum(1 for cell in group if cell.suppressed) != 1


def test_secondary_suppression_hides_the_next_smallest() -> None:
    table = _table([[2, 0, 9], [6, 7, 8]])
    suppress_table(table, 5)
    row = table.rows[0]
    # 2 is hidden, so the smallest other non-zero part (9) is too; the total 11 stays.
    assert [c.shown for c in row.cells[1:]] == ["11", "<5", "0", "<5"]
    # The column A (2 and 6, total 8) needs a second hidden cell too.
    assert table.cell(1, 2).suppressed or table.cell(2, 2).suppressed


def test_zero_shows_and_ratios_follow_their_counts() -> None:
    table = Table(
        "f",
        "Funnel",
        [],
        [
            Row([label("Start"), count(20), Cell(CellKind.TEXT, "")]),
            Row([label("Next"), count(3), ratio(3, 20, of=((1, 1), (0, 1)))]),
            Row([label("Last"), count(0), ratio(0, 3, of=((2, 1), (1, 1)))]),
        ],
    )
    suppress_table(table, 5)
    assert table.cell(1, 2).shown == "<5 of 20"
    assert table.cell(2, 1).shown == "0"
    assert table.cell(2, 2).shown == "0 of <5"
    assert hidden(table.cell(2, 2))


def test_medians_over_few_values_are_hidden_and_no_data_is_said() -> None:
    table = Table(
        "m", "Medians", [], [Row([label("x"), days(4.0, 3), days(None, 0), days(2.5, 9)])]
    )
    suppress_table(table, 5)
    assert [c.shown for c in table.rows[0].cells[1:]] == [
        "not shown (fewer than 5)",
        "no data",
        "2.5 days",
    ]


def test_ratio_of_nothing_is_no_data() -> None:
    assert ratio(0, 0).shown == "no data"
    assert ratio(17, 20).shown == "17 of 20 (85%)"
    assert ratio(1, 8).shown == "1 of 8 (13%)"  # 12.5 rounds half up


def test_a_group_whose_only_part_is_hidden_hides_its_total() -> None:
    table = Table("s", "Sums", [], [Row([label("a"), count(3)]), Row([label("total"), count(3)])])
    table.sums.append(Sum((1, 1), ((0, 1),)))
    suppress_table(table, 5)
    assert table.cell(1, 1).suppressed


def test_filters_round_trip_to_query_args() -> None:
    filters = Filters(period=Period(date(2026, 4, 1), date(2026, 9, 30)), waiting_days=7)
    assert filters.query_args() == {"from": "2026-04-01", "to": "2026-09-30", "waiting_days": "7"}
