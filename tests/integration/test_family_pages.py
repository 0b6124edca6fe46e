"""The professional family: add an agency, change the lead, end an involvement — each on the
timeline — and caseloads for workers and team managers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import london_today
from casework.db import Database
from casework.family.models import Involvement
from tests.conftest import Builders, MadeUser, post_form, sign_in_directly


def _involvements(database: Database, person: Any) -> list[Any]:
    with database.reading() as db:
        return list(
            db.execute(
                select(
                    Involvement.id, Involvement.agency_id, Involvement.is_lead, Involvement.version
                ).where(Involvement.person_id == person)
            ).all()
        )


def test_adding_an_agency_changing_the_lead_and_ending_are_on_the_timeline(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    housing = build.agency("Northdale Housing Test", kind=AgencyKind.HOUSING)
    person = build.person(me)
    today = client.get(f"/people/{person}/family/add").get_data(as_text=True)
    assert "Add an agency to the professional family" in today
    added = post_form(
        client,
        f"/people/{person}/family/add",
        {
            "agency": str(housing.id),
            "role": "housing_officer",
            "started_on": ["1", "1", "2026"],
            "make_lead": "y",
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    rows = _involvements(database, person)
    lead = [row for row in rows if row.is_lead]
    assert [row.agency_id for row in lead] == [housing.id]

    mine = next(row for row in rows if row.agency_id == me.agency_id)
    response = post_form(
        client,
        f"/people/{person}/family/{mine.id}/lead",
        {"version": str(mine.version)},
        page=f"/people/{person}/family",
    )
    assert response.status_code == 302
    assert [row.agency_id for row in _involvements(database, person) if row.is_lead] == [
        me.agency_id
    ]

    mine = next(row for row in _involvements(database, person) if row.agency_id == me.agency_id)
    today_date = london_today()
    ended = post_form(
        client,
        f"/people/{person}/family/{mine.id}/end",
        {
            "reason": "moved_away",
            "ended_on": [str(today_date.day), str(today_date.month), str(today_date.year)],
            "version": str(mine.version),
        },
    )
    assert ended.status_code == 302, ended.get_data(as_text=True)
    timeline = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    for words in ("Agency joined", "Lead professional changed", "Involvement ended", "Moved away"):
        assert words in timeline


def test_only_the_agency_itself_can_end_its_involvement(
    client: FlaskClient, app: Any, build: Builders, database: Database
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(treatment)
    build.involve(person, housing, by=treatment)
    build.consent(person, by=treatment, to=housing)
    theirs = next(
        row for row in _involvements(database, person) if row.agency_id == treatment.agency_id
    )
    sign_in_directly(app, client, housing)
    assert client.get(f"/people/{person}/family/{theirs.id}/end").status_code == 403


def test_family_shows_each_agency_worker_and_last_contact(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER, full_name="Pat Outreach")
    person = build.person(me)
    build.contact(person, me)
    html = client.get(f"/people/{person}/family").get_data(as_text=True)
    assert "Pat Outreach" in html
    assert "Lead professional" in html
    assert "None recorded" not in html


def test_a_manager_sees_the_team_caseload(client: FlaskClient, app: Any, build: Builders) -> None:
    agency = build.agency()
    team = build.team(agency, "HOPE team")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Sam Worker")
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    build.person(worker, "Kit", "Marsden")
    sign_in_directly(app, client, manager)
    mine = client.get("/caseload").get_data(as_text=True)
    assert "Nobody is on this caseload" in mine
    teams = client.get("/caseload").get_data(as_text=True)
    assert "HOPE team" in teams
    team_page = client.get(f"/caseload?team={team.id}").get_data(as_text=True)
    assert "Marsden, Kit" in team_page
    assert "Sam Worker" in team_page
    assert client.get("/caseload?team=not-a-team").status_code == 404
    assert client.get("/caseload?sort=shoe-size").status_code == 404


def test_the_agency_that_adds_a_partner_still_sees_it_in_the_family(
    client: FlaskClient, app: Any, build: Builders
) -> None:
    """An involvement is the involved agency's fact, but the lead that added it recorded it:
    the lead sees it without any consent, though not the partner's contacts."""
    lead = build.user(Role.WORKER, agency=build.agency("Added By Lead"))
    housing = build.user(Role.WORKER, agency=build.agency("Added Housing", kind=AgencyKind.HOUSING))
    person = build.person(lead)
    sign_in_directly(app, client, lead)
    added = post_form(
        client,
        f"/people/{person}/family/add",
        {
            "agency": str(housing.agency_id),
            "worker": "",
            "role": "housing_officer",
            "started_on": ["1", "1", "2026"],
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    build.contact(person, housing, note="a housing visit")
    family = client.get(f"/people/{person}/family").get_data(as_text=True)
    row = family.split("Added Housing", 1)[1].split("</tr>", 1)[0]
    assert "None recorded" not in row  # its contacts are not shared: no date at all
    assert "a housing visit" not in client.get(f"/people/{person}/timeline").get_data(as_text=True)
