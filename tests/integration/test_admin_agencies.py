"""Agency and team administration as an administrator uses it: create and change agencies,
disable and enable them, create teams and manage their members and managers.

All names and email addresses are fictional."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.roles import Role
from casework.agencies import services
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.agencies.services import AgencyError
from casework.audit.models import AuditEvent
from casework.audit.recorder import SYSTEM
from casework.db import Database
from casework.users.models import User
from tests.conftest import Builders, MadeUser, csrf_from, post_form, sign_in_directly

# --- helpers ---------------------------------------------------------------------------------


def load_agency(database: Database, agency_id: uuid.UUID) -> Agency:
    with database.reading() as db:
        agency = db.get(Agency, agency_id)
        assert agency is not None
        db.expunge_all()  # keep what was loaded (closing a read session expires it)
        return agency


def memberships(database: Database, team_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    with database.reading() as db:
        rows = db.execute(
            select(TeamMembership.user_id, TeamMembership.is_manager).where(
                TeamMembership.team_id == team_id
            )
        ).all()
    return {user_id: manager for user_id, manager in rows}


def count(database: Database, model: type[Agency] | type[Team]) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(database: Database, prefix: str = "admin.") -> list[str]:
    """The audit actions recorded, sorted (the test clock stands still, so no order)."""
    with database.reading() as db:
        return sorted(
            db.scalars(select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%")))
        )


def field_error(html: str, field_id: str, message: str) -> None:
    """The message is in the error summary, linked to the field, and on the field itself."""
    assert "<title>Error:" in html
    assert f'href="#{field_id}"' in html
    assert html.count(message) >= 2, f"{message!r} should be in the summary and on the field"


def disable(database: Database, agency: Agency) -> None:
    with database.transaction() as db:
        row = db.get(Agency, agency.id)
        assert row is not None
        row.active = False


# --- who may use the pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.WORKER, Role.INFORMATION_GOVERNANCE, Role.MANAGER, Role.CUSTODY_OFFICER]
)
def test_other_roles_are_refused_every_agency_admin_url(
    client: FlaskClient, build: Builders, signed_in: Callable[..., MadeUser], role: Role
) -> None:
    app, database = client.application, build.database
    agency = build.agency("Example Housing")
    team = build.team(agency, "Outreach")
    member = build.user(Role.WORKER, agency=agency, team=team)
    joiner = build.user(Role.WORKER, agency=agency)
    signed_in(role)
    ids: dict[str, Any] = {"agency_id": agency.id, "team_id": team.id, "user_id": member.id}
    urls: list[tuple[str, str]] = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("agencies."):
                url = url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})
                urls.extend((m, url) for m in ("GET", "POST") if m in (rule.methods or ()))
    assert len([u for u in urls if u[0] == "POST"]) >= 8
    payload = {
        "csrf_token": csrf_from(client.get("/account").get_data(as_text=True)),
        "version": str(load_agency(database, agency.id).version),
        "name": "Renamed By Outsider",
        "kind": "police",
        "user_id": str(joiner.id),
        "manager": "yes",
        "is_manager": "y",
    }
    for method, url in sorted(urls):
        response = client.open(url, method=method, data=payload if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    after = load_agency(database, agency.id)
    assert (after.name, after.kind, after.active) == ("Example Housing", AgencyKind.TREATMENT, True)
    assert memberships(database, team.id) == {member.id: False}
    assert count(database, Agency) == 2  # theirs and this one
    assert count(database, Team) == 1
    assert audit_actions(database) == []


def test_every_agency_page_renders_for_an_administrator(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing", AgencyKind.HOUSING)
    team = build.team(agency, "Outreach")
    build.user(Role.WORKER, agency=agency, team=team, manager=True, full_name="Jo Sample")
    closed = build.agency("Closed Example Service")
    disable(database, closed)
    pages = {
        "/admin/agencies/": "Create an agency",
        "/admin/agencies/new": "Kind of agency",
        f"/admin/agencies/{agency.id}": "Outreach",
        f"/admin/agencies/{agency.id}/edit": "Change Example Housing's details",
        f"/admin/agencies/{agency.id}/disable": "disable Example Housing?",
        f"/admin/agencies/{agency.id}/teams/new": "Create a team",
        f"/admin/agencies/{agency.id}/teams/{team.id}": "Jo Sample",
        f"/admin/agencies/{closed.id}/enable": "enable Closed Example Service?",
    }
    for path, text in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.get_data(as_text=True), path
    listing = client.get("/admin/agencies/").get_data(as_text=True)
    row = listing[listing.index("Example Housing") :].split("</tr>", 1)[0]
    assert "Housing</td>" in row  # the kind's label
    assert "Active</strong>" in row
    closed_row = listing[listing.index("Closed Example Service") :].split("</tr>", 1)[0]
    assert "Disabled</strong>" in closed_row


def test_unknown_ids_and_teams_of_another_agency_are_not_found(
    client: FlaskClient, build: Builders, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing")
    other = build.agency("Example Police")
    team = build.team(other, "Response")
    member = build.user(Role.WORKER, agency=other, team=team)
    missing = uuid.uuid4()
    token = csrf_from(client.get("/admin/agencies/new").get_data(as_text=True))
    gets = [
        f"/admin/agencies/{missing}",
        f"/admin/agencies/{missing}/edit",
        f"/admin/agencies/{missing}/disable",
        f"/admin/agencies/{missing}/teams/new",
        f"/admin/agencies/{agency.id}/teams/{missing}",
        f"/admin/agencies/{agency.id}/teams/{team.id}",  # a team of another agency
    ]
    for path in gets:
        assert client.get(path).status_code == 404, path
    posts = [
        f"/admin/agencies/{missing}/edit",
        f"/admin/agencies/{agency.id}/teams/{team.id}/members",
        f"/admin/agencies/{agency.id}/teams/{team.id}/members/{member.id}",
        f"/admin/agencies/{agency.id}/teams/{team.id}/members/{member.id}/remove",
        f"/admin/agencies/{other.id}/teams/{team.id}/members/{missing}/remove",
    ]
    for path in posts:
        response = client.post(path, data={"csrf_token": token, "manager": "yes"})
        assert response.status_code == 404, path
    assert client.get(f"/admin/agencies/{other.id}/teams/{team.id}").status_code == 200


# --- agencies ----------------------------------------------------------------------------------


def test_creating_an_agency(
    client: FlaskClient, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    admin = signed_in(Role.ADMIN)
    response = post_form(
        client,
        "/admin/agencies/new",
        {"name": "  Northdale   Recovery Service ", "kind": "treatment"},
    )
    assert response.status_code == 302
    with database.reading() as db:
        agency = db.scalar(select(Agency).where(Agency.name == "Northdale Recovery Service"))
        assert agency is not None
        assert agency.kind is AgencyKind.TREATMENT
        assert agency.active
        agency_id = agency.id
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "admin.agency.create"))
        assert event is not None
        assert (event.target_id, event.actor_user_id) == (str(agency_id), admin.id)
    assert response.location == f"/admin/agencies/{agency_id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Northdale Recovery Service has been created" in page
    assert "Drug and alcohol treatment" in page


@pytest.mark.parametrize(
    "case",
    [
        ({"name": "  ", "kind": "housing"}, "name", "Enter the agency&#39;s name"),
        ({"name": "Example Housing Two"}, "kind", "Select the kind of agency"),
        ({"name": "Example Housing Two", "kind": "bank"}, "kind", "Select the kind of agency"),
        ({"name": "x" * 201, "kind": "housing"}, "name", "200 characters or fewer"),
        (
            {"name": "Example  Housing", "kind": "other"},
            "name",
            "An agency with this name already exists",
        ),
        (
            {"name": "example HOUSING", "kind": "other"},
            "name",
            "An agency with this name already exists",
        ),
    ],
    ids=["no name", "no kind", "unknown kind", "too long", "duplicate", "duplicate in other case"],
)
def test_agency_form_errors_name_the_field_and_save_nothing(
    client: FlaskClient,
    build: Builders,
    signed_in: Callable[..., MadeUser],
    case: tuple[dict[str, object], str, str],
) -> None:
    form, field_id, message = case
    database = build.database
    signed_in(Role.ADMIN)
    build.agency("Example Housing")
    response = post_form(client, "/admin/agencies/new", form)
    assert response.status_code == 400
    field_error(response.get_data(as_text=True), field_id, message)
    assert count(database, Agency) == 2
    assert audit_actions(database) == []


def test_changing_an_agency_and_a_stale_form_gets_409(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    build.agency("Example Police")
    agency = build.agency("Example Housing", AgencyKind.HOUSING)
    second = app.test_client()
    sign_in_directly(app, second, build.user(Role.ADMIN))
    url = f"/admin/agencies/{agency.id}/edit"
    version = load_agency(database, agency.id).version
    page = client.get(url).get_data(as_text=True)
    assert f'name="version" type="hidden" value="{version}"' in page
    other_page = second.get(url).get_data(as_text=True)

    taken = client.post(
        url,
        data={
            "name": "Example Police",
            "kind": "housing",
            "version": version,
            "csrf_token": csrf_from(page),
        },
    )
    assert taken.status_code == 400
    field_error(taken.get_data(as_text=True), "name", "An agency with this name already exists")

    saved = client.post(
        url,
        data={
            "name": "Example Homes",
            "kind": "voluntary",
            "version": version,
            "csrf_token": csrf_from(page),
        },
    )
    assert saved.status_code == 302
    late = second.post(
        url,
        data={
            "name": "Example Shelter",
            "kind": "housing",
            "version": version,
            "csrf_token": csrf_from(other_page),
        },
    )
    assert late.status_code == 409
    after = load_agency(database, agency.id)
    assert (after.name, after.kind) == ("Example Homes", AgencyKind.VOLUNTARY)
    assert audit_actions(database) == ["admin.agency.update"]


def test_disabling_an_agency_keeps_its_users_and_says_so(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing")
    staff = [build.user(Role.WORKER, agency=agency) for _ in range(2)]
    build.user(Role.WORKER, agency=agency, active=False)
    theirs = app.test_client()
    sign_in_directly(app, theirs, staff[0])

    page = client.get(f"/admin/agencies/{agency.id}/disable").get_data(as_text=True)
    assert "does not disable its users" in page
    assert "has 2 active users" in page
    version = load_agency(database, agency.id).version
    response = post_form(client, f"/admin/agencies/{agency.id}/disable", {"version": version})
    assert response.status_code == 302
    assert not load_agency(database, agency.id).active
    with database.reading() as db:
        active = db.scalar(
            select(func.count())
            .select_from(User)
            .where(User.agency_id == agency.id, User.active.is_(True))
        )
    assert active == 2
    assert theirs.get("/account").status_code == 200  # their sessions carry on
    # No longer offered for new accounts; a team cannot be added.
    client.get(response.location)  # (the confirmation banner)
    assert str(agency.id) not in client.get("/admin/users/new").get_data(as_text=True)
    refused = post_form(client, f"/admin/agencies/{agency.id}/teams/new", {"name": "Outreach"})
    assert refused.status_code == 400
    assert count(database, Team) == 0

    # A second click on an old form changes nothing.
    again = post_form(
        client,
        f"/admin/agencies/{agency.id}/disable",
        {"version": version},
        page=f"/admin/agencies/{agency.id}",
    )
    assert again.status_code == 409

    version = load_agency(database, agency.id).version
    enabled = post_form(client, f"/admin/agencies/{agency.id}/enable", {"version": version})
    assert enabled.status_code == 302
    assert load_agency(database, agency.id).active
    assert audit_actions(database) == ["admin.agency.disable", "admin.agency.enable"]


def test_agencies_list_counts_active_users_and_teams(
    client: FlaskClient, build: Builders, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing")
    build.team(agency, "Outreach")
    build.team(agency, "Tenancy support")
    for active in (True, True, True, False):
        build.user(Role.WORKER, agency=agency, active=active)
    html = client.get("/admin/agencies/").get_data(as_text=True)
    row = html[html.index("Example Housing") :].split("</tr>", 1)[0]
    numbers = [cell.split("<", 1)[0] for cell in row.split('govuk-table__cell--numeric">')[1:]]
    assert numbers == ["3", "2"]
    page = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert f"/admin/users/?agency={agency.id}" in page  # its users, as a filtered list


# --- teams ---------------------------------------------------------------------------------------


def test_creating_teams_names_are_unique_within_an_agency(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    housing = build.agency("Example Housing")
    police = build.agency("Example Police")
    created = post_form(client, f"/admin/agencies/{housing.id}/teams/new", {"name": "Outreach"})
    assert created.status_code == 302
    with database.reading() as db:
        team = db.scalar(select(Team).where(Team.agency_id == housing.id))
        assert team is not None
        assert team.name == "Outreach"
        team_id = team.id
    assert created.location == f"/admin/agencies/{housing.id}/teams/{team_id}"

    duplicate = post_form(client, f"/admin/agencies/{housing.id}/teams/new", {"name": "Outreach"})
    assert duplicate.status_code == 400
    field_error(
        duplicate.get_data(as_text=True), "name", "This agency already has a team with this name"
    )
    empty = post_form(client, f"/admin/agencies/{housing.id}/teams/new", {"name": " "})
    assert empty.status_code == 400
    field_error(empty.get_data(as_text=True), "name", "Enter the team&#39;s name")
    elsewhere = post_form(client, f"/admin/agencies/{police.id}/teams/new", {"name": "Outreach"})
    assert elsewhere.status_code == 302
    assert count(database, Team) == 2
    assert audit_actions(database) == ["admin.team.create", "admin.team.create"]


def test_team_members_are_added_made_managers_and_removed(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing")
    team = build.team(agency, "Outreach")
    existing = build.user(Role.WORKER, agency=agency, team=team, full_name="Lee Placeholder")
    joiner = build.user(Role.WORKER, agency=agency, full_name="Kit Fictional")
    build.user(Role.WORKER, agency=agency, active=False, full_name="Kim Gone")
    build.user(Role.WORKER, full_name="Sam Sample")  # another agency
    url = f"/admin/agencies/{agency.id}/teams/{team.id}"

    page = client.get(url).get_data(as_text=True)
    select_html = page[page.index('<select class="govuk-select') :].split("</select>", 1)[0]
    assert "Kit Fictional" in select_html
    for absent in ("Lee Placeholder", "Kim Gone", "Sam Sample"):  # member, disabled, other agency
        assert absent not in select_html

    added = post_form(
        client, f"{url}/members", {"user_id": str(joiner.id), "is_manager": "y"}, page=url
    )
    assert added.status_code == 302
    assert added.location == url
    assert memberships(database, team.id) == {existing.id: False, joiner.id: True}
    page = client.get(url).get_data(as_text=True)
    assert "Kit Fictional is now a manager of Outreach" in page
    row = page[page.index(">Kit Fictional</a>") :].split("</tr>", 1)[0]
    assert ">Yes</td>" in row

    unmade = post_form(client, f"{url}/members/{joiner.id}", {"manager": "no"}, page=url)
    assert unmade.status_code == 302
    assert memberships(database, team.id)[joiner.id] is False
    made = post_form(client, f"{url}/members/{existing.id}", {"manager": "yes"}, page=url)
    assert made.status_code == 302
    assert memberships(database, team.id)[existing.id] is True
    bad = post_form(client, f"{url}/members/{existing.id}", {"manager": "maybe"}, page=url)
    assert bad.status_code == 400
    assert memberships(database, team.id)[existing.id] is True

    removed = post_form(client, f"{url}/members/{existing.id}/remove", {}, page=url)
    assert removed.status_code == 302
    assert memberships(database, team.id) == {joiner.id: False}
    again = post_form(client, f"{url}/members/{existing.id}/remove", {}, page=url)
    assert again.status_code == 404
    assert audit_actions(database) == ["admin.team.member.remove"] + ["admin.team.member.set"] * 3


@pytest.mark.parametrize("who", ["other agency", "disabled", "already a member", "unknown", ""])
def test_adding_a_user_not_on_the_list_is_refused_and_saves_nothing(
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
    who: str,
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Housing")
    team = build.team(agency, "Outreach")
    member = build.user(Role.WORKER, agency=agency, team=team)
    build.user(Role.WORKER, agency=agency)  # someone who could join, so the form is shown
    candidates = {
        "other agency": str(build.user(Role.WORKER, agency=build.agency("Example Police")).id),
        "disabled": str(build.user(Role.WORKER, agency=agency, active=False).id),
        "already a member": str(member.id),
        "unknown": str(uuid.uuid4()),
        "": "",
    }
    url = f"/admin/agencies/{agency.id}/teams/{team.id}"
    response = post_form(
        client, f"{url}/members", {"user_id": candidates[who], "is_manager": "y"}, page=url
    )
    assert response.status_code == 400
    field_error(response.get_data(as_text=True), "user_id", "Select a user to add to the team")
    assert memberships(database, team.id) == {member.id: False}
    assert audit_actions(database) == []


def test_the_membership_service_refuses_a_user_of_another_agency(
    build: Builders, database: Database
) -> None:
    agency = build.agency("Example Housing")
    team = build.team(agency, "Outreach")
    outsider = build.user(Role.WORKER, agency=build.agency("Example Police"))
    with database.transaction() as db:
        team_row = db.get(Team, team.id)
        user_row = db.get(User, outsider.id)
        assert team_row is not None
        assert user_row is not None
        with pytest.raises(AgencyError) as refused:
            services.set_membership(db, SYSTEM, team_row, user_row, member=True)
    assert refused.value.field == "user_id"
    assert memberships(database, team.id) == {}


def test_team_names_are_unique_in_an_agency_whatever_their_case(build: Builders) -> None:
    agency_id = build.agency("Example Outreach").id
    with build.database.transaction() as db:
        services.create_team(db, SYSTEM, db.get_one(Agency, agency_id), name="Outreach team")
    with pytest.raises(AgencyError, match="already has a team"), build.database.transaction() as db:
        services.create_team(db, SYSTEM, db.get_one(Agency, agency_id), name="OUTREACH  team")
