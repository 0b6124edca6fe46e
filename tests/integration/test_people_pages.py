"""The person pages as a worker uses them: create with a duplicate check, view, correct with
conflict detection, alerts, needs, timeline, caseload; and 404 for people of other agencies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.db import Database
from casework.people.codes import HousingStatus
from casework.people.models import Person
from tests.conftest import Builders, MadeUser, csrf_from, post_form, sign_in_directly

NEW_PERSON: dict[str, Any] = {
    "given_name": "Jordan",
    "family_name": "Whitaker",
    "known_as": "Jord",
    "aliases": "",
    "date_of_birth": ["14", "2", "1988"],
    "sex": "male",
    "nhs_number": "943 476 5919",
    "pnc_id": "",
    "local_id": "",
    "phone": "07700 900123",
    "email": "",
    "address": "Flat 2\n10 Mill Lane",
    "postcode": "nx1 4ab",
    "housing_status": "no_fixed_abode",
}


def _people(database: Database) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(Person)) or 0


def _create(client: FlaskClient, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    return post_form(client, "/people/new", {**NEW_PERSON, **(data or {}), **extra})


def test_a_worker_creates_a_person_and_sees_their_record(
    client: FlaskClient, signed_in: Callable[..., MadeUser], database: Database
) -> None:
    signed_in(Role.WORKER)
    response = _create(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    assert "Whitaker, Jordan (Jord)" in page
    assert "943 476 5919" in page
    assert "NX1 4AB" in page
    assert "No fixed abode" in page
    assert "Record created" in page
    assert "Lead" in page


def test_creating_a_likely_duplicate_warns_first_and_keeps_what_was_typed(
    client: FlaskClient, signed_in: Callable[..., MadeUser], database: Database
) -> None:
    signed_in(Role.WORKER)
    assert _create(client).status_code == 302
    warned = _create(client, {"given_name": "Jordon", "nhs_number": ""})
    html = warned.get_data(as_text=True)
    assert warned.status_code == 200
    assert "This person may already have a record" in html
    assert "Whitaker, Jordan (Jord)" in html
    assert 'value="Jordon"' in html
    assert _people(database) == 1
    confirmed = client.post(
        "/people/new",
        data={
            **NEW_PERSON,
            "given_name": "Jordon",
            "nhs_number": "",
            "confirmed": "yes",
            "csrf_token": csrf_from(html),
        },
    )
    assert confirmed.status_code == 302
    assert _people(database) == 2


def test_a_duplicate_held_by_another_agency_is_revealed_by_name_and_date_of_birth_only(
    app: Any, client: FlaskClient, build: Builders, database: Database
) -> None:
    other = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    build.person(other, "Jordan", "Whitaker", date_of_birth=date(1988, 2, 14), phone="07700 900777")
    sign_in_directly(app, client, build.user(Role.CUSTODY_OFFICER))
    warned = _create(client, {"nhs_number": ""})
    html = warned.get_data(as_text=True)
    assert warned.status_code == 200
    assert "Already known to other agencies" in html
    assert "Whitaker, Jordan, born 14 February 1988" in html
    assert "07700 900777" not in html
    assert _people(database) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "Enter a valid NHS number"),
        ("date_of_birth", ["31", "2", "1990"], "Date of birth (optional) must be a real date"),
        ("date_of_birth", ["1", "1", "2999"], "Date of birth must be in the past"),
        ("date_of_birth", ["1", "1", "1850"], "within the last 120 years"),
        ("date_of_birth", ["", "3", "1990"], "must include a day"),
        ("given_name", "x" * 101, "Given name must be 100 characters or fewer"),
        ("family_name", "", "Enter a family name"),
        ("postcode", "NOT A POSTCODE", "Enter a real postcode"),
        ("pnc_id", "banana", "Enter a PNC ID like"),
        ("sex", "robot", "Select their sex"),
    ],
)
def test_bad_details_get_an_error_on_the_field_and_nothing_is_written(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    database: Database,
    field: str,
    value: Any,
    message: str,
) -> None:
    signed_in(Role.WORKER)
    response = _create(client, {field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "govuk-error-summary" in html
    assert _people(database) == 0


def test_html_in_any_field_is_shown_as_text(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.WORKER)
    response = _create(client, {"known_as": "<script>alert(1)</script>"})
    page = client.get(response.location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_people_of_other_agencies_answer_404_everywhere(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    other = build.user(Role.WORKER)
    person = build.person(other, "Casey", "Holt")
    contact = build.contact(person, other, note="private")
    signed_in(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    for url in (
        f"/people/{person}",
        f"/people/{person}/timeline",
        f"/people/{person}/edit",
        f"/people/{person}/family",
        f"/people/{person}/needs",
        f"/people/{person}/alerts/new",
        f"/people/{person}/contacts/new",
        f"/people/{person}/contacts/{contact}",
        f"/people/{uuid.uuid4()}",
    ):
        assert client.get(url).status_code == 404, url


def test_an_administrator_sees_no_person(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker)
    signed_in(Role.ADMIN, agency=build.agency())
    assert client.get(f"/people/{person}").status_code == 403


def _edit_form(client: FlaskClient, person: uuid.UUID) -> dict[str, Any]:
    html = client.get(f"/people/{person}/edit").get_data(as_text=True)
    fields = dict(re.findall(r'name="(version|baseline|csrf_token)"[^>]*value="([^"]*)"', html))
    return {
        **NEW_PERSON,
        "given_name": "Alex",
        "family_name": "Example",
        "known_as": "",
        "address": "",
        "nhs_number": "",
        "phone": "",
        "postcode": "",
        "date_of_birth": ["17", "5", "1980"],
        "sex": "not_known",
        "housing_status": "not_known",
        "version": fields["version"],
        "baseline": fields["baseline"].replace("&#34;", '"'),
        "csrf_token": fields["csrf_token"],
    }


def test_two_people_editing_at_once_the_second_is_told_what_changed_and_loses_nothing(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, app: Any
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    mine = _edit_form(client, person)
    theirs = _edit_form(client, person)

    first = client.post(f"/people/{person}/edit", data={**theirs, "phone": "07700 900456"})
    assert first.status_code == 302
    second = client.post(f"/people/{person}/edit", data={**mine, "known_as": "Lex"})
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else changed this record" in html
    assert "07700 900456" in html  # what they changed is shown
    assert 'value="Lex"' in html  # what I typed is still in the form
    page = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Known as Lex" not in page
    assert "07700 900456" in page


def test_alerts_show_on_every_person_page_and_in_the_caseload(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me, "Robin", "Lowe")
    response = post_form(
        client,
        f"/people/{person}/alerts/new",
        {"alert_type": "cuckooing", "detail": "Flat used by a county line"},
    )
    assert response.status_code == 302
    for url in (f"/people/{person}", f"/people/{person}/timeline", f"/people/{person}/family"):
        html = client.get(url).get_data(as_text=True)
        assert 'aria-label="Alerts"' in html, url
        assert "Criminal exploitation or cuckooing" in html, url
    caseload = client.get("/caseload").get_data(as_text=True)
    assert "Lowe, Robin" in caseload
    assert "Criminal exploitation or cuckooing" in caseload


def test_timeline_filters_by_kind_and_agency_and_pages(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    for number in range(55):
        build.contact(person, me, note=f"note number {number}")
    first = client.get(f"/people/{person}/timeline?kind=contact").get_data(as_text=True)
    assert first.count("moj-timeline__item") == 50
    assert "Older" in first
    second = client.get(f"/people/{person}/timeline?kind=contact&page=2").get_data(as_text=True)
    assert second.count("moj-timeline__item") == 5
    other = build.agency()
    empty = client.get(f"/people/{person}/timeline?agency={other.id}").get_data(as_text=True)
    assert "Nothing to show" in empty
    assert client.get(f"/people/{person}/timeline?agency=nonsense").status_code == 404


def test_search_by_sound_alike_name_identifier_and_date_of_birth(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    build.person(me, "John", "Smith", nhs_number="9434765919", pnc_id="12/3456789A")
    build.person(me, "Mary", "Jones")
    assert client.get("/people/").status_code == 200
    by_sound = client.get("/people/?name=Jon+Smyth").get_data(as_text=True)
    assert "Smith, John" in by_sound
    assert "Jones, Mary" not in by_sound
    one_box = client.get("/people/?name=943+476+5919").get_data(as_text=True)
    assert "Smith, John" in one_box
    pnc = client.get("/people/?identifier=12%2F3456789a").get_data(as_text=True)
    assert "Smith, John" in pnc
    dob = client.get(
        "/people/?name=Smith&date_of_birth=17&date_of_birth=5&date_of_birth=1980"
    ).get_data(as_text=True)
    assert "Smith, John" in dob
    wrong_dob = client.get(
        "/people/?name=Smith&date_of_birth=18&date_of_birth=5&date_of_birth=1980"
    ).get_data(as_text=True)
    assert "0 people found" in wrong_dob
    bad = client.get("/people/?name=&date_of_birth=40&date_of_birth=5&date_of_birth=1980")
    assert bad.status_code == 200
    assert "Date of birth must be a real date" in bad.get_data(as_text=True)
    blank = client.get("/people/?name=---").get_data(as_text=True)
    assert "Enter a name, date of birth or identifier" in blank


def test_recording_a_death_closes_every_involvement_and_partners_return_to_their_caseload(
    client: FlaskClient, app: Any, build: Builders, database: Database
) -> None:
    creator = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(creator, "Lee", "Parry")
    build.involve(person, housing, by=creator)
    sign_in_directly(app, client, housing)
    response = post_form(
        client, f"/people/{person}/death", {"died_on": ["1", "1", "2026"], "version": "1"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/caseload")
    assert "Death recorded for Lee Parry" in client.get(response.location).get_data(as_text=True)
    assert client.get(f"/people/{person}").status_code == 404
    sign_in_directly(app, client, creator)
    page = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Closed: died on 1 January 2026" in page
    assert "Log a contact" not in page
    family = client.get(f"/people/{person}/family").get_data(as_text=True)
    assert "No agency is involved now" in family
    assert "Died" in family


def test_a_death_in_the_future_is_refused(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    response = post_form(
        client, f"/people/{person}/death", {"died_on": ["1", "1", "2999"], "version": "1"}
    )
    assert response.status_code == 200
    assert "Date of death must be today or in the past" in response.get_data(as_text=True)


def test_a_custody_officer_never_sees_housing_or_health_needs(
    client: FlaskClient, app: Any, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    custody = build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))
    person = build.person(treatment, "Rae", "Quinn", housing=HousingStatus.NO_FIXED_ABODE)
    build.involve(person, custody, by=treatment)
    # Even with consent to share everything, a custody officer's role reads no housing or health.
    build.consent(person, by=treatment, to=custody)
    sign_in_directly(app, client, treatment)
    assert (
        post_form(
            client, f"/people/{person}/needs", {"needs": ["mental_health", "offending"]}
        ).status_code
        == 302
    )
    sign_in_directly(app, client, custody)
    for url in (f"/people/{person}", f"/people/{person}/edit", f"/people/{person}/timeline"):
        html = client.get(url).get_data(as_text=True)
        assert "No fixed abode" not in html, url
        assert "Mental health" not in html, url
    timeline = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "Offending" in timeline
    # Saving the form without a housing field keeps the housing as it was.
    saved = post_form(
        client,
        f"/people/{person}/edit",
        {
            "given_name": "Rae",
            "family_name": "Quinn",
            "sex": "not_known",
            "date_of_birth": ["17", "5", "1980"],
            "version": "1",
            "baseline": "{}",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    sign_in_directly(app, client, treatment)
    assert "No fixed abode" in client.get(f"/people/{person}").get_data(as_text=True)


def test_a_correction_keeps_the_earlier_details_encrypted_in_the_history(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    from casework.people.models import PersonRevision
    from casework.people.records import open_names
    from casework.people.services import REVISIONS
    from casework.security.vault import Vault

    me = signed_in(Role.WORKER)
    person = build.person(me, "Alex", "Example")
    form = _edit_form(client, person)
    assert (
        client.post(f"/people/{person}/edit", data={**form, "family_name": "Newname"}).status_code
        == 302
    )
    with database.reading() as db:
        (revision,) = db.execute(
            select(PersonRevision.id, PersonRevision.version, PersonRevision.names_enc).where(
                PersonRevision.person_id == person
            )
        ).all()
    names = open_names(
        Vault(build.kit.keystore), person, revision.names_enc, table=REVISIONS, row_id=revision.id
    )
    assert (names.given, names.family, revision.version) == ("Alex", "Example", 1)
    assert "Newname" in client.get(f"/people/{person}").get_data(as_text=True)
