"""A manager's figures cover only what their agency may read (DECISIONS §3, rules 1-2); a
partnership lead's cover the partnership, always suppressed; filters the viewer may not use
are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.reports import services
from casework.reports.definitions import REPORTS
from casework.reports.periods import Filters, Preset, preset_period
from casework.reports.tables import CellKind, Report
from tests.conftest import Builders, MadeUser, booking_values


def _build(build: Builders, user: MadeUser, name: str, *, export: bool = False) -> Report:
    today = clock.to_london(clock.utcnow()).date()
    filters = Filters(period=preset_period(Preset.LAST_12_MONTHS, today))
    with build.database.reading() as db:
        return services.build(
            db, build.viewer(user), name, filters, now=clock.utcnow(), export=export
        )


def _counts(report: Report) -> list[int]:
    return [
        cell.n
        for table in report.tables()
        for row in table.rows
        for cell in row.cells
        if cell.kind is CellKind.COUNT
    ]


def test_a_manager_sees_nothing_of_a_world_their_agency_is_not_part_of(build: Builders) -> None:
    police = build.agency(kind=AgencyKind.POLICE)
    treatment = build.agency(kind=AgencyKind.TREATMENT)
    housing = build.agency(kind=AgencyKind.HOUSING)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    assessor = build.user(Role.ASSESSOR, agency=treatment)
    worker = build.user(Role.WORKER, agency=treatment)
    for n in range(6):
        person = build.person(custody, "Scope", f"Person{n}")
        build.referral(
            person, by=custody, to=assessor, values=booking_values(clock.utcnow(), days_ahead=1)
        )
        build.contact(person, custody, occurred_at=clock.utcnow() - timedelta(days=2))
        other = build.person(worker, "Treatment", f"Client{n}")
        build.consent(other, by=worker, to=custody)
    outsider = build.user(Role.MANAGER, agency=housing)
    for name in REPORTS:
        assert set(_counts(_build(build, outsider, name))) <= {0}, name
    # The treatment manager sees the bookings sent to them and their own cases.
    manager = build.user(Role.MANAGER, agency=treatment)
    referrals = _build(build, manager, "referrals").table("by_pathway")
    assert referrals.rows[-1].cells[1].value == 6
    caseload = _build(build, manager, "caseload").table("open_cases")
    assert caseload.rows[-1].cells[1].value == 6


def test_exports_and_partnership_figures_show_no_small_counts(build: Builders) -> None:
    treatment = build.agency(kind=AgencyKind.TREATMENT)
    worker = build.user(Role.WORKER, agency=treatment)
    for n in range(3):
        build.person(worker, "Small", f"Number{n}")
    manager = build.user(Role.MANAGER, agency=treatment)
    page = _build(build, manager, "caseload")
    assert page.table("open_cases").rows[-1].cells[1].shown == "3"
    export = _build(build, manager, "caseload", export=True)
    lead = _build(build, build.user(Role.PARTNERSHIP_LEAD), "caseload")
    # Headlines are worked out from the suppressed cells: no small count in words either.
    for section in lead.sections:
        assert re.search(r"(?<![\d<,.])[1-4](?![\d,.%])", section.text) is None, section.text
    assert lead.sections[0].text.startswith("<5 open cases")
    for report in (export, lead):
        for table in report.tables():
            for row in table.rows:
                for cell in row.cells:
                    if cell.kind is CellKind.COUNT and not cell.suppressed:
                        assert not 0 < cell.n < 5


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"from": "2026-04-01"}, "to"),
        ({"from": "yesterday", "to": "2026-04-01"}, "from"),
        ({"agency": "not-an-id"}, "agency"),
        ({"preset": "forever"}, "preset"),
        ({"pathway": "nonsense"}, "pathway"),
        ({"waiting_days": "0"}, "waiting_days"),
    ],
)
def test_bad_filters_name_their_field(build: Builders, args: dict[str, str], field: str) -> None:
    manager = build.user(Role.MANAGER)
    with build.database.reading() as db, pytest.raises(services.FilterError) as raised:
        services.check_filters(db, build.viewer(manager), args, today=clock.london_today())
    assert raised.value.field == field


def test_a_manager_may_not_filter_by_another_agency_or_its_workers(build: Builders) -> None:
    mine = build.agency()
    theirs = build.agency()
    manager = build.user(Role.MANAGER, agency=mine)
    stranger = build.user(Role.WORKER, agency=theirs)
    today = clock.london_today()
    with build.database.reading() as db:
        viewer = build.viewer(manager)
        for args in ({"agency": str(theirs.id)}, {"worker": str(stranger.id)}):
            with pytest.raises(services.FilterError):
                services.check_filters(db, viewer, args, today=today)
        assert (
            services.check_filters(db, viewer, {"agency": str(mine.id)}, today=today).agency_id
            == mine.id
        )
    worker = build.user(Role.WORKER, agency=mine)
    assert services.scope_for(build.viewer(worker)) is None
