"""A hand-made report for page, chart and export tests: every kind of cell, a total row, a
ratio column, a hidden count, a label that looks like a formula, and a drillable figure."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.reports.periods import Filters
from casework.reports.queries import Builder
from casework.reports.tables import (
    Cell,
    CellKind,
    Chart,
    ChartKind,
    Column,
    Drill,
    Report,
    Row,
    Scope,
    Section,
    Sum,
    Table,
    count,
    days,
    label,
    ratio,
)

SAMPLE_NAME = "caseload"


def sample_report(
    name: str = SAMPLE_NAME,
    *,
    filters: Filters,
    scope: Scope = Scope.AGENCY,
    now: datetime,
    workers: int = 3,
) -> Report:
    worker_rows = [
        Row(
            [
                label(f"Worker {index + 1}" if index else '=HYPERLINK("x")'),
                count(12 + index, Drill("open_cases", (("worker", f"w{index}"),))),
                count(3 if index == 1 else 0, Drill("new_cases", (("worker", f"w{index}"),))),
                ratio(2 + index, 12 + index, Drill("contacted", (("worker", f"w{index}"),))),
                days(4.5 + index, 12 + index),
                Cell(CellKind.DATE, date(2026, 11, 20 + index)),
            ]
        )
        for index in range(workers)
    ]
    total = Row(
        [
            label("Total"),
            count(sum(12 + i for i in range(workers)), Drill("open_cases")),
            count(3 if workers > 1 else 0, Drill("new_cases")),
            ratio(sum(2 + i for i in range(workers)), sum(12 + i for i in range(workers))),
            days(5.0, 40),
            Cell(CellKind.DATE, date(2026, 11, 20)),
        ],
        total=True,
    )
    workload = Table(
        key="workers",
        caption="Open cases per worker",
        columns=[
            Column("worker", "Worker", numeric=False),
            Column("open", "Open cases"),
            Column("new", "New cases"),
            Column("contacted", "Contacted in the last 28 days"),
            Column("since", "Median days since last contact"),
            Column("latest", "Latest contact", numeric=False),
        ],
        rows=[*worker_rows, total],
        sums=[Sum((workers, 2), tuple((i, 2) for i in range(workers)))],
    )
    teams = Table(
        key="teams",
        caption="Open cases per team",
        columns=[Column("team", "Team", numeric=False), Column("open", "Open cases")],
        rows=[
            Row([label("North team"), count(20, Drill("open_cases", (("team", "north"),)))]),
            Row([label("South team"), count(0, Drill("open_cases", (("team", "south"),)))]),
        ],
    )
    return Report(
        name=name,
        title="Caseload and workload",
        filters=filters,
        scope=scope,
        sections=[
            Section(
                key="workload",
                title="Workload",
                headline="Worker 2 has the most open cases.",
                tables=[workload],
                chart=Chart(
                    ChartKind.BAR,
                    "Open and new cases per worker",
                    [row.heading for row in worker_rows],
                    [
                        ("Open cases", [row.cells[1] for row in worker_rows]),
                        ("New cases", [row.cells[2] for row in worker_rows]),
                    ],
                    "Bar chart of open and new cases per worker; the data is in the table below.",
                ),
                notes=["An open case is an open involvement with a named worker."],
            ),
            Section(
                key="teams",
                title="Teams",
                headline="North team holds every open case.",
                tables=[teams],
                chart=Chart(
                    ChartKind.HBAR,
                    "Open cases per team",
                    ["North team", "South team"],
                    [("Open cases", [row.cells[1] for row in teams.rows])],
                    "Horizontal bar chart of open cases per team; the data is in the table below.",
                ),
            ),
        ],
        generated_at=now,
    )


def sample_builder(name: str = SAMPLE_NAME, *, workers: int = 3) -> Builder:
    def build(db: Session, viewer: Viewer, scope: Scope, filters: Filters, now: datetime) -> Report:
        return sample_report(name, filters=filters, scope=scope, now=now, workers=workers)

    return build
