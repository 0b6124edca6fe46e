"""Every view of a person's information is audited (DECISIONS §4): one row per page view,
list or download, linking every person shown, with the categories and the emergency access it
relied on; refusals are audited and change nothing; the audit row is written before the
response, and a request whose audit cannot be written fails; no audit row holds note text or
other typed values; the client address is the one the configured trusted proxy saw."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit import recorder
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.consent.models import SharingBasis
from casework.db import Database
from tests.conftest import Builders, csrf_from, post_form, sign_in_directly


def _events(database: Database) -> list[Any]:
    with database.reading() as db:
        table = AuditEvent.__table__
        return list(db.execute(select(table).order_by(table.c.occurred_at)).all())


def _links(database: Database, event_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    with database.reading() as db:
        return {
            row.person_id: row.revealed
            for row in db.execute(
                select(AuditEventPerson.person_id, AuditEventPerson.revealed).where(
                    AuditEventPerson.event_id == event_id
                )
            )
        }


def _new_events(database: Database, before: set[uuid.UUID]) -> list[Any]:
    return [event for event in _events(database) if event.id not in before]


def _ids(database: Database) -> set[uuid.UUID]:
    return {event.id for event in _events(database)}


PERSON_PAGES = [
    ("", "person.viewed"),
    ("/timeline", "person.timeline_viewed"),
    ("/family", "family.viewed"),
    ("/sharing", "read.consent.index"),
    ("/edit", "read.people.edit"),
    ("/needs", "read.people.edit_needs"),
    ("/death", "read.people.record_death"),
    ("/contacts/new", "read.contacts.quick_log"),
    ("/alerts/new", "read.people.add_alert"),
    ("/sharing/consent/new", "read.consent.new_consent"),
    ("/sharing/basis/new", "read.consent.new_basis"),
]


def test_each_person_page_view_is_one_audit_row_linking_the_person(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker, "Ada", "Audited")
    sign_in_directly(app, client, worker)
    for suffix, action in PERSON_PAGES:
        before = _ids(database)
        assert client.get(f"/people/{person}{suffix}").status_code == 200, suffix
        new = _new_events(database, before)
        assert [event.action for event in new] == [action], suffix
        (event,) = new
        assert event.actor_user_id == worker.id
        assert event.outcome == "allowed"
        assert "identity" in event.categories
        assert event.mac
        assert event.mac_key_id
        assert _links(database, event.id) == {person: False}, suffix


def test_lists_are_one_row_each_linking_everyone_shown(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER)
    others = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    mine = [build.person(worker, f"Given{i}", "Listington") for i in range(3)]
    theirs = build.person(others, "Hidden", "Listington")
    sign_in_directly(app, client, worker)

    before = _ids(database)
    assert client.get("/caseload").status_code == 200
    (event,) = _new_events(database, before)
    assert event.action == "caseload.viewed"
    assert _links(database, event.id) == dict.fromkeys(mine, False)

    before = _ids(database)
    page = client.get(
        "/people/?name=Listington&date_of_birth=17&date_of_birth=5&date_of_birth=1980"
    )
    assert page.status_code == 200
    (event,) = _new_events(database, before)
    assert event.action == "people.searched"
    # The match held by another agency is revealed (name and date of birth), marked as such.
    assert _links(database, event.id) == {**dict.fromkeys(mine, False), theirs: True}
    assert "Hidden" in page.get_data(as_text=True)

    before = _ids(database)
    client.get("/people/?name=Listington")  # a name alone: counted, not revealed
    (event,) = _new_events(database, before)
    assert _links(database, event.id) == dict.fromkeys(mine, False)


def test_refusals_are_audited_and_change_nothing(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(treatment, "Ida", "Refused")
    mine = build.person(housing, "Own", "Person")
    contact = build.contact(person, treatment, note="not for housing")
    sign_in_directly(app, client, housing)

    # A person of another agency (a tampered id): 404, as for a missing one; audited.
    for url in (
        f"/people/{person}",
        f"/people/{person}/contacts/{contact}",
        f"/people/{uuid.uuid4()}",
    ):
        before = _ids(database)
        assert client.get(url).status_code == 404
        (event,) = _new_events(database, before)
        assert (event.action, event.outcome) == ("access.refused", "denied")
        assert event.details["reason"] == "not_found"
        assert _links(database, event.id) == {}  # a refusal is not "has seen"

    # Someone else's contact id under the user's own person: 404 too.
    before = _ids(database)
    assert client.get(f"/people/{mine}/contacts/{contact}").status_code == 404
    assert [e.action for e in _new_events(database, before)] == ["access.refused"]

    # A form refused on a field: audited with the field's name only; nothing saved.
    before = _ids(database)
    response = post_form(
        client,
        f"/people/{mine}/sharing/consent/new",
        {
            "share_with": f"agency:{uuid.uuid4()}",
            "categories": ["identity"],
            "purpose": "x",
            "given_on": ["1", "1", "2020"],
            "method": "verbal",
            "review_on": ["1", "1", "2099"],
        },
    )
    assert response.status_code == 200
    assert "Select the agency, or the kind of agency, to share with" in response.get_data(
        as_text=True
    )
    refusals = [e for e in _new_events(database, before) if e.action == "access.refused"]
    assert len(refusals) == 1
    assert refusals[0].details["fields"] == ["share_with"]
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(SharingBasis)) == 0


def test_a_request_whose_audit_cannot_be_written_fails(
    app: Flask, client: FlaskClient, build: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker, "Fay", "Failing")
    sign_in_directly(app, client, worker)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("disk full"))

    monkeypatch.setattr(recorder, "record", broken)
    response = client.get(f"/people/{person}")
    assert response.status_code == 500
    assert "Failing" not in response.get_data(as_text=True)


def test_audit_rows_hold_no_typed_values(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker, "Zed", "Secretive", address="11 Hiddenwell Road")
    build.contact(person, worker, note="a note about sentinelqx", place="sentinelplace")
    build.consent(person, by=worker, to=worker)
    sign_in_directly(app, client, worker)
    for suffix in ("", "/timeline", "/sharing"):
        client.get(f"/people/{person}{suffix}")
    client.get("/people/?name=Secretive")
    with database.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM audit_events")))
    for value in ("sentinelqx", "sentinelplace", "Hiddenwell", "Secretive", "To coordinate"):
        assert value not in dump


def test_client_address_comes_from_the_trusted_proxy_only(
    make_app: Callable[..., Flask], build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker)
    spoof = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    for hops, expected in ((0, "192.0.2.1"), (1, "203.0.113.9"), (2, "198.51.100.7")):
        app = make_app(trusted_proxy_hops=hops)
        client = app.test_client()
        sign_in_directly(app, client, worker)
        before = _ids(database)
        client.get(f"/people/{person}", headers=spoof, environ_base={"REMOTE_ADDR": "192.0.2.1"})
        (event,) = _new_events(database, before)
        assert event.ip_address == expected, hops


def test_reads_during_emergency_access_name_it(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    treatment = build.user(Role.WORKER)
    outsider = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.VOLUNTARY))
    person = build.person(treatment, "Eve", "Emergency")
    access_id = build.emergency(person, outsider)
    sign_in_directly(app, client, outsider)
    before = _ids(database)
    assert client.get(f"/people/{person}/timeline").status_code == 200
    (event,) = _new_events(database, before)
    assert event.emergency_access_id == access_id


def test_a_page_that_forgets_to_declare_its_read_is_still_audited(
    make_app: Callable[..., Flask], build: Builders, database: Database
) -> None:
    from casework.access.rules import CASE_WORK, access
    from casework.people import queries
    from casework.web import context

    app = make_app()

    @app.route("/test/undeclared/<uuid:person_id>")
    @access(CASE_WORK)
    def undeclared(person_id: uuid.UUID) -> str:
        header = queries.person_header(context.db(), context.vault(), context.viewer(), person_id)
        return header.names.full

    worker = build.user(Role.WORKER)
    person = build.person(worker, "Una", "Undeclared")
    client = app.test_client()
    sign_in_directly(app, client, worker)
    before = _ids(database)
    assert "Undeclared" in client.get(f"/test/undeclared/{person}").get_data(as_text=True)
    (event,) = _new_events(database, before)
    assert event.action == "read.undeclared.undeclared"
    assert _links(database, event.id) == {person: False}


def test_a_post_that_changes_a_record_writes_its_change_row_only(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker)
    sign_in_directly(app, client, worker)
    page = client.get(f"/people/{person}/contacts/new").get_data(as_text=True)
    before = _ids(database)
    response = client.post(
        f"/people/{person}/contacts/new",
        data={
            "csrf_token": csrf_from(page),
            "kind": "phone",
            "outcome": "seen_well",
            "note": "Rang to check in",
            "occurred_on": ["1", "12", "2026"],
            "occurred_time": "10:00",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [e.action for e in _new_events(database, before)] == ["contact.logged"]


def test_the_audit_tables_refuse_updates_and_deletes(database: Database, build: Builders) -> None:
    worker = build.user(Role.WORKER)
    build.person(worker)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_event_people"):
        with pytest.raises(Exception, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))
