"""The Fine Lines funnel, driven through the pathway services the pages use: fictional people
are booked by custody and moved through the required assessment and the programme, and every
stage's count and percentage in the report is checked against the numbers driven."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.reports import services
from casework.reports.periods import Filters, Preset, preset_period
from casework.reports.tables import Report
from tests.conftest import Builders, Clock, MadeUser, booking_values

#: How many people take each route (the plan the test drives, and the numbers it expects).
#: Route: the transitions after booking, in order.
ROUTES: list[tuple[int, list[str]]] = [
    (6, ["fail_to_attend"]),
    (4, ["attend", "follow_up_not_needed", "not_suitable:declined"]),
    (2, ["attend", "require_follow_up", "attend_follow_up", "not_suitable:risk"]),
    (3, ["attend", "follow_up_not_needed", "suitable", "leave_early:disengaged"]),
    (
        3,
        [
            "attend",
            "require_follow_up",
            "attend_follow_up",
            "suitable",
            "attend_group",
            "leave_early:moved",
        ],
    ),
    (
        3,
        [
            "attend",
            "follow_up_not_needed",
            "suitable",
            "attend_group",
            "take_up_service",
            "leave_early:custody",
        ],
    ),
    (
        9,
        [
            "attend",
            "follow_up_not_needed",
            "suitable",
            "attend_group",
            "take_up_service",
            "complete",
        ],
    ),
]
#: main path stage -> how many reach it
EXPECTED = {
    "booked": 30,
    "attended": 24,
    "suitable": 18,
    "group_attended": 15,
    "service_taken_up": 12,
    "completed": 9,
}


@dataclass
class World:
    custody: MadeUser
    assessor: MadeUser
    manager: MadeUser
    other_manager: MadeUser


def _values(transition: str, reason: str | None, now: object) -> dict[str, object]:
    if transition == "fail_to_attend":
        return {"what_happened": "did_not_attend", "contact_attempts": "Two calls"}
    if transition == "require_follow_up":
        when = clock.to_london(clock.utcnow() + timedelta(days=3)).replace(hour=11, minute=0)
        return {"follow_up_at": when.strftime("%Y-%m-%dT%H:%M"), "place": "Mill Lane"}
    if reason is not None:
        return {"reason": reason}
    return {}


def drive(build: Builders, frozen_clock: Clock, world: World) -> None:
    n = 0
    for how_many, route in ROUTES:
        for _ in range(how_many):
            n += 1
            person = build.person(world.custody, "Funnel", f"Person{n}")
            outcome = build.referral(
                person,
                by=world.custody,
                to=world.assessor,
                values=booking_values(clock.utcnow(), days_ahead=1),
            )
            referral = outcome.referral_id
            start = clock.utcnow()
            for step, move in enumerate(route, start=1):
                transition, _, reason = move.partition(":")
                # Each step a day after the one before: medians of 1 day between stages, except
                # attendance (the appointment is the next day at 10:30).
                frozen_clock.now = start + timedelta(days=step + 1)
                by = world.assessor
                build.move(referral, transition, by=by, **_values(transition, reason or None, None))  # type: ignore[arg-type]
                if transition == "require_follow_up":
                    frozen_clock.now = start + timedelta(days=step + 5)
                    start = start + timedelta(days=4)
            frozen_clock.now = start


@pytest.fixture
def world(build: Builders) -> World:
    police = build.agency("Northgate Police", AgencyKind.POLICE)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    other = build.agency("Elsewhere Housing", AgencyKind.HOUSING)
    return World(
        custody=build.user(Role.CUSTODY_OFFICER, agency=police),
        assessor=build.user(Role.ASSESSOR, agency=treatment),
        manager=build.user(Role.MANAGER, agency=treatment),
        other_manager=build.user(Role.MANAGER, agency=other),
    )


def funnel(build: Builders, user: MadeUser, *, export: bool = False) -> Report:
    today = clock.to_london(clock.utcnow()).date()
    filters = Filters(
        period=preset_period(Preset.LAST_12_MONTHS, today), pathway="required_assessment"
    )
    with build.database.reading() as db:
        return services.build(
            db, build.viewer(user), "funnel", filters, now=clock.utcnow(), export=export
        )


def test_funnel_counts_every_stage_driven_through_the_services(
    build: Builders, frozen_clock: Clock, world: World
) -> None:
    drive(build, frozen_clock, world)
    report = funnel(build, world.manager)
    table = report.table("funnel_required_assessment")
    rows = {row.heading: row for row in table.rows}
    from casework.pathways.definitions import pathways

    stages = pathways()["required_assessment"].stages
    start = EXPECTED["booked"]
    previous = None
    for stage, expected in EXPECTED.items():
        row = rows[stages[stage].label]
        assert row.cells[1].value == expected, stage
        if previous is not None:
            assert (
                row.cells[2].shown
                == f"{expected} of {previous} ({round(100 * expected / previous)}%)"
            )
            assert row.cells[3].shown == f"{expected} of {start} ({round(100 * expected / start)}%)"
        previous = expected
    side = {
        row.heading: row.cells[1].value for row in report.table("branches_required_assessment").rows
    }
    assert side["Failed to attend or to remain"] == 6
    assert side["Not appropriate for Fine Lines"] == 6
    assert side["Not appropriate for Fine Lines: The person declined"] == 4
    assert side["Not appropriate for Fine Lines: Risk to the group or to the person"] == 2
    assert side["Left the programme early"] == 9
    assert side["Follow-up assessment required"] == 5
    assert side["Follow-up assessment not required"] == 19
    # Medians: one day between programme stages.
    assert rows[stages["group_attended"].label].cells[4].shown == "1 day"


def test_funnel_export_is_suppressed_without_derivable_cells(
    build: Builders, frozen_clock: Clock, world: World
) -> None:
    drive(build, frozen_clock, world)
    report = funnel(build, world.manager, export=True)
    side = report.table("branches_required_assessment")
    shown = {row.heading: row.cells[1].shown for row in side.rows}
    assert shown["Not appropriate for Fine Lines: Risk to the group or to the person"] == "<5"
    # 6 = 4 + 2: with "2" hidden, "4" must be hidden too, or 6 - 4 gives it away.
    assert shown["Not appropriate for Fine Lines: The person declined"] == "<5"
    for row in side.rows:
        for cell in row.cells[1:]:
            assert cell.suppressed or not 0 < cell.n < 5


def test_another_agencys_manager_sees_none_of_it(
    build: Builders, frozen_clock: Clock, world: World
) -> None:
    drive(build, frozen_clock, world)
    report = funnel(build, world.other_manager)
    table = report.table("funnel_required_assessment")
    assert all(row.cells[1].value == 0 for row in table.rows)
    assert table.rows[1].cells[2].shown == "no data"
    _ = uuid


def test_drill_down_lists_only_people_the_manager_may_see(
    build: Builders, frozen_clock: Clock, world: World
) -> None:
    drive(build, frozen_clock, world)
    report = funnel(build, world.manager)
    table = report.table("funnel_required_assessment")
    completed = table.rows[-1].cells[1]
    assert completed.drill is not None
    with build.database.reading() as db:
        viewer = build.viewer(world.manager)
        result = services.drill_down(
            db, viewer, "funnel", report.filters, completed.drill, now=clock.utcnow()
        )
        assert result.total == 9
        first = table.rows[0].cells[1].drill
        assert first is not None
        booked = services.drill_down(
            db, viewer, "funnel", report.filters, first, now=clock.utcnow()
        )
        from casework.access.policy import person_access

        # 30 were booked, but after a referral closes the treatment agency no longer sees the
        # person unless they joined its caseload: the list shows only those it may see.
        assert booked.total < 30
        for person_id in booked.person_ids:
            access = person_access(db, viewer, person_id, now=clock.utcnow())
            assert access is not None
            assert access.visible
        with pytest.raises(PermissionError):
            services.drill_down(
                db,
                build.viewer(build.user(Role.PARTNERSHIP_LEAD)),
                "funnel",
                report.filters,
                completed.drill,
                now=clock.utcnow(),
            )


def test_the_page_the_csv_and_the_xlsx_show_the_numbers_driven(
    app: Flask, build: Builders, frozen_clock: Clock, world: World
) -> None:
    import csv
    import io

    import openpyxl

    from tests.conftest import sign_in_directly

    drive(build, frozen_clock, world)
    client = app.test_client()
    sign_in_directly(app, client, world.manager)
    query = {"pathway": "required_assessment"}
    page = client.get("/reports/funnel", query_string=query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    stages = list(EXPECTED.items())
    start = stages[0][1]
    for (_, before), (_, here) in itertools.pairwise(stages):
        assert f"{here} of {before} ({round(100 * here / before)}%)" in html
        assert f"{here} of {start} ({round(100 * here / start)}%)" in html

    table = "funnel_required_assessment"
    exported = client.get("/reports/funnel/export.csv", query_string={**query, "table": table})
    assert exported.status_code == 200
    text = exported.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    counts = [int(row[1]) for row in body]
    assert counts == [n for _, n in stages]
    share = header.index(next(h for h in header if "start" in h.lower() and "%" in h))
    assert [row[share] for row in body[1:]] == [str(round(100 * n / start)) for _, n in stages[1:]]

    workbook = client.get("/reports/funnel/export.xlsx", query_string=query)
    assert workbook.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.get_data()), read_only=True)
    sheet = sheets.worksheets[0]  # the first table's sheet: the main path
    values = list(sheet.iter_rows(values_only=True))
    assert [row[1] for row in values[1:7]] == [n for _, n in stages]
    pct = values[0].index(header[share])
    # A real number formatted as a percentage: 80% is 0.8.
    assert [round(100 * float(row[pct]), 6) for row in values[2:7]] == [
        float(round(100 * n / start)) for _, n in stages[1:]
    ]
