"""Every report builds for a manager and a partnership lead, on no data (no division errors:
"no data") and on a small world; a manager sees only what their agency may read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.reports import services
from casework.reports.definitions import REPORTS
from casework.reports.periods import Filters, Preset, preset_period
from casework.reports.tables import CellKind, Report
from tests.conftest import Builders, MadeUser


def build_report(build: Builders, user: MadeUser, name: str, **changes: object) -> Report:
    today = clock.to_london(clock.utcnow()).date()
    filters = Filters(period=preset_period(Preset.LAST_12_MONTHS, today), **changes)  # type: ignore[arg-type]
    with build.database.reading() as db:
        return services.build(db, build.viewer(user), name, filters, now=clock.utcnow())


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("role", [Role.MANAGER, Role.PARTNERSHIP_LEAD])
def test_every_report_builds_on_no_data(build: Builders, name: str, role: Role) -> None:
    user = build.user(role)
    report = build_report(build, user, name)
    assert report.sections
    for table in report.tables():
        for row in table.rows:
            for cell in row.cells:
                text = cell.shown
                if cell.kind is CellKind.RATIO:
                    assert text == "no data"
                if cell.kind is CellKind.COUNT:
                    assert text == "0"
    for section in report.sections:
        assert section.text.endswith(".")


def test_caseload_counts_the_agencys_open_cases_in_bands(
    build: Builders, frozen_clock: object
) -> None:
    agency = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    other = build.agency("Elsewhere Housing", AgencyKind.HOUSING)
    team = build.team(agency, "Outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Robin Worker")
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    outsider = build.user(Role.WORKER, agency=other)
    recent = build.person(worker, "Recent", "Contact")
    build.contact(recent, worker, occurred_at=clock.utcnow() - timedelta(days=3))
    old = build.person(worker, "Old", "Contact")
    build.contact(old, worker, occurred_at=clock.utcnow() - timedelta(days=40))
    build.person(worker, "Never", "Contacted")
    build.person(outsider, "Other", "Agency")
    report = build_report(build, manager, "caseload")
    table = report.table("open_cases")
    row = next(r for r in table.rows if r.heading == "Robin Worker")
    values = [c.value for c in row.cells[1:]]
    # open, 0-7, 8-14, 15-28, over 28, none
    assert values == [3, 1, 0, 0, 1, 1]
    assert table.rows[-1].total
    assert table.rows[-1].cells[1].value == 3
    teams = report.table("open_by_team")
    assert [(r.heading, r.cells[1].value) for r in teams.rows] == [("Outreach", 3)]
    # The partnership lead sees both agencies, suppressed (every count here is under 5).
    lead = build.user(Role.PARTNERSHIP_LEAD)
    partnership = build_report(build, lead, "caseload")
    cells = [c for r in partnership.table("open_cases").rows for c in r.cells[1:]]
    assert all(c.suppressed or c.n == 0 or c.n >= 5 for c in cells)
    assert {r.heading for r in partnership.table("open_cases").rows} >= {
        "Harbour Recovery",
        "Elsewhere Housing",
    }


def test_partnership_figures_and_unmet_need_from_episodes_recorded_by_the_services(
    build: Builders,
) -> None:
    from casework.audit.recorder import SYSTEM
    from casework.security.vault import Vault
    from casework.treatment import services as treatment
    from casework.treatment.models import DischargeReason, Modality, SubstanceGroup

    agency = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    worker = build.user(Role.WORKER, agency=agency)
    manager = build.user(Role.MANAGER, agency=agency)
    today = clock.london_today()
    plan = [  # started days ago, group, ended days ago, reason
        (400, SubstanceGroup.OPIATES_ONLY, None, None),  # in treatment, not new
        (100, SubstanceGroup.OPIATES_ONLY, None, None),  # new
        (50, SubstanceGroup.ALCOHOL_ONLY, 10, DischargeReason.DIED),  # new, died
        (30, SubstanceGroup.ALCOHOL_ONLY, 5, DischargeReason.COMPLETED),  # new
        (900, SubstanceGroup.CRACK_ONLY, 800, DischargeReason.DROPPED_OUT),  # before the period
    ]
    viewer = build.viewer(worker)
    for n, (started, group, ended, reason) in enumerate(plan):
        person = build.person(worker, "Episode", f"Person{n}", date_of_birth=date(1970, 1, 1))
        with build.database.transaction() as db:
            access = build._access_of(db, viewer, person)
            episode = treatment.start_episode(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                access,
                started_on=today - timedelta(days=started),
                substance_group=group,
                modality=Modality.PSYCHOSOCIAL,
            )
            if ended is not None:
                treatment.end_episode(
                    db,
                    SYSTEM,
                    viewer,
                    access,
                    episode,
                    version=1,
                    ended_on=today - timedelta(days=ended),
                    discharge_reason=reason,
                )
    with build.database.transaction() as db:
        treatment.save_estimate(
            db,
            SYSTEM,
            build.viewer(manager),
            substance_group=SubstanceGroup.OPIATES_ONLY,
            year=today.year,
            estimate=8,
            source="Fictional estimate",
            version=None,
        )
    report = build_report(build, manager, "partnership")
    figures = {r.heading: r.cells[1].value for r in report.table("treatment").rows}
    assert figures == {"Adults in treatment": 4, "New presentations": 3, "Deaths in treatment": 1}
    baseline = {r.heading: r.cells[2].value for r in report.table("treatment").rows}
    assert baseline["Adults in treatment"] == 1  # the episode started 400 days ago
    need = {r.heading: r for r in report.table("unmet_need").rows}
    assert need["Opiates only"].cells[1].value == 2
    assert need["Opiates only"].cells[3].shown == "75%"  # 1 - 2/8
    assert need["Alcohol only"].cells[3].shown == "no data"  # no estimate
    assert need["Crack only"].cells[1].value == 0
