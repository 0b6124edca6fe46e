"""Quick-logging contacts, append-only note revisions and "my agency only" notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import to_london
from casework.contacts.models import Contact, Note
from casework.db import Database
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, sign_in_directly


def _count(database: Database, model: Any) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_quick_log_saves_a_contact_with_defaults_for_time(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    html = client.get(f"/people/{person}/contacts/new").get_data(as_text=True)
    time_now = re.search(r'name="occurred_time"[^>]*value="([^"]+)"', html)
    assert time_now is not None
    response = client.post(
        f"/people/{person}/contacts/new",
        data={
            "kind": "outreach",
            "outcome": "seen_concerns",
            "note": "Found by the canal, thin, asked for a food parcel.",
            "occurred_on": re.findall(r'name="occurred_on"[^>]*value="([^"]*)"', html),
            "occurred_time": time_now.group(1),
            "place": "Canal towpath",
            "csrf_token": csrf_from(html),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "Found by the canal, thin, asked for a food parcel." in page
    assert "Canal towpath" in page
    assert _count(database, Contact) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": ""}, "Select what kind of contact it was"),
        ({"outcome": "lost"}, "Select the outcome"),
        ({"occurred_time": "25:99"}, "Enter a time like 14:30"),
        ({"occurred_on": ["30", "2", "2026"]}, "Date must be a real date"),
        ({"duration_minutes": "9999"}, "Duration must be between 0 and 1,440 minutes"),
        ({"duration_minutes": "ten"}, "Not a valid integer value"),
        ({"note": "x" * 20_001}, "Note must be 20,000 characters or fewer"),
    ],
)
def test_quick_log_refuses_bad_input_on_the_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    database: Database,
    data: dict[str, Any],
    message: str,
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    response = post_form(
        client,
        f"/people/{person}/contacts/new",
        {"kind": "phone", "outcome": "seen_well", "occurred_on": ["1", "6", "2026"], **data},
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(database, Contact) == 0


def test_a_contact_in_the_future_is_refused(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, frozen_clock: Clock
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    tomorrow = to_london(frozen_clock.now + timedelta(days=1))
    response = post_form(
        client,
        f"/people/{person}/contacts/new",
        {
            "kind": "phone",
            "outcome": "seen_well",
            "occurred_on": [str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)],
            "occurred_time": "10:00",
        },
    )
    assert "The contact must be now or in the past" in response.get_data(as_text=True)


def test_revising_a_note_keeps_every_version(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    contact = build.contact(person, me, note="first version")
    url = f"/people/{person}/contacts/{contact}/note"
    response = post_form(client, url, {"note": "second version", "version": "1"})
    assert response.status_code == 302
    page = client.get(f"/people/{person}/contacts/{contact}").get_data(as_text=True)
    assert "second version" in page
    assert "first version" in page
    assert "Earlier versions" in page
    assert _count(database, Note) == 2


def test_a_stale_note_revision_is_refused_and_the_typed_text_kept(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    contact = build.contact(person, me, note="original")
    url = f"/people/{person}/contacts/{contact}/note"
    html = client.get(url).get_data(as_text=True)
    token = csrf_from(html)
    assert (
        client.post(url, data={"note": "theirs", "version": "1", "csrf_token": token}).status_code
        == 302
    )
    clash = client.post(
        url, data={"note": "mine, typed slowly", "version": "1", "csrf_token": token}
    )
    body = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "Someone else saved a new version" in body
    assert "mine, typed slowly" in body
    assert "theirs" in body


def test_my_agency_only_notes_are_hidden_from_partners_but_the_contact_is_not(
    client: FlaskClient, app: Any, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(treatment)
    build.involve(person, housing, by=treatment)
    build.consent(person, by=treatment, to=housing)
    build.contact(person, treatment, note="shared words")
    build.contact(person, treatment, note="secret words", agency_only=True)
    sign_in_directly(app, client, housing)
    page = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "shared words" in page
    assert "secret words" not in page
    assert page.count("Face to face") == 2


def test_partners_cannot_revise_another_agencys_note(
    client: FlaskClient, app: Any, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(treatment)
    build.involve(person, housing, by=treatment)
    build.consent(person, by=treatment, to=housing)
    contact = build.contact(person, treatment, note="treatment's note")
    sign_in_directly(app, client, housing)
    assert client.get(f"/people/{person}/contacts/{contact}/note").status_code == 403
