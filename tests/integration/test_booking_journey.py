"""The custody booking journey: one question per page, check your answers, book once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.db import Database
from casework.pathways.models import Referral
from casework.people.models import Person
from casework.workdays import working_days
from tests.conftest import Builders, MadeUser, csrf_from, sign_in_directly

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def custody(build: Builders) -> MadeUser:
    police = build.agency("Northdale Police", kind=AgencyKind.POLICE)
    return build.user(Role.CUSTODY_OFFICER, agency=police)


@pytest.fixture
def provider(build: Builders):
    return build.agency("Harbour Recovery Service", kind=AgencyKind.TREATMENT)


@pytest.fixture
def officer(app: Flask, custody: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, custody)
    return client


def post(client: FlaskClient, path: str, data: Mapping[str, object]) -> TestResponse:
    html = client.get(path).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": csrf_from(html)})


def counts(database: Database) -> tuple[int, int]:
    with database.reading() as db:
        return (
            db.scalar(select(func.count(Person.id))) or 0,
            db.scalar(select(func.count(Referral.id))) or 0,
        )


def _day(name: str, day: date) -> dict[str, list[str]]:
    """A GOV.UK date input as the browser sends it: three boxes under one name."""
    return {name: [str(day.day), str(day.month), str(day.year)]}


def _dob(born: date) -> dict[str, list[str]]:
    return _day("date_of_birth", born)


def walk_to_check(client: FlaskClient, provider_id: uuid.UUID, *, disputed: bool = False) -> None:
    """Answer every question for a new person, up to "Check your answers"."""
    today = clock.london_today()
    assert client.get("/bookings/new").status_code == 302
    r = post(
        client,
        "/bookings/new/person",
        {"given_name": "Robin", "family_name": "Quillfeather", **_dob(date(1990, 4, 2))},
    )
    assert r.status_code == 302
    assert r.location.endswith("/bookings/new/match")
    r = post(client, "/bookings/new/match", {"person": "new"})
    assert r.location.endswith("/bookings/new/test-result"), r.location
    assert post(client, "/bookings/new/test-result", {"answer": "cocaine"}).status_code == 302
    assert post(client, "/bookings/new/test-date", _day("answer", today)).status_code == 302
    assert post(client, "/bookings/new/offence", {"answer": "theft"}).status_code == 302
    assert (
        post(
            client, "/bookings/new/custody-suite", {"answer": "Northgate custody suite"}
        ).status_code
        == 302
    )
    r = post(client, "/bookings/new/disputed", {"answer": "yes" if disputed else "no"})
    if disputed:
        assert r.location.endswith("/bookings/new/sample-sent")
        assert post(client, "/bookings/new/sample-sent", _day("answer", today)).status_code == 302
    assert post(client, "/bookings/new/provider", {"answer": str(provider_id)}).status_code == 302
    ahead = working_days().add(today, 7)
    r = post(client, "/bookings/new/appointment", {**_day("day", ahead), "time": "10:30"})
    assert r.status_code == 302, r.get_data(as_text=True)
    r = post(client, "/bookings/new/place", {"answer": "Harbour Recovery Service, 4 Mill Lane"})
    assert r.location.endswith("/bookings/new/check")


def errors_of(html: str) -> list[str]:
    return re.findall(
        r'govuk-error-message[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>\s*([^<]+)',
        html,
    )


def test_a_new_person_is_booked_once_and_nothing_is_written_before(
    officer: FlaskClient, provider, database: Database
) -> None:
    before = counts(database)
    walk_to_check(officer, provider.id)
    page = officer.get("/bookings/new/check").get_data(as_text=True)
    assert "Robin Quillfeather (new record)" in page
    assert "Check your answers" in page
    assert counts(database) == before, "nothing is written before the final submit"
    token = re.search(r'name="journey"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="journey"', page
    )
    assert token
    data = {"journey": token.group(1), "csrf_token": csrf_from(page)}
    first = officer.post("/bookings/new/check", data=data)
    assert first.status_code == 302
    assert "/booked" in first.location
    assert counts(database) == (before[0] + 1, before[1] + 1)
    # The same journey submitted again (a double click, or the form replayed): booked once.
    with officer.session_transaction() as sess:
        sess.pop("booking_journey", None)
    again = officer.post("/bookings/new/check", data=data)
    assert again.status_code == 302
    assert counts(database) == (before[0] + 1, before[1] + 1)
    confirmation = officer.get(first.location).get_data(as_text=True)
    with database.reading() as db:
        reference = db.scalar(select(Referral.reference))
    assert reference
    assert reference in confirmation
    notice_link = re.search(r'href="(/referrals/[^"]+/notices/RA1)"', confirmation)
    assert notice_link
    notice = officer.get(notice_link.group(1))
    assert notice.status_code == 200
    text = notice.get_data(as_text=True)
    assert "Robin" in text
    assert "2 April 1990" in text
    assert reference in text
    assert "offence" in text
    # The journey's answers are gone: a new journey starts empty.
    assert "Quillfeather" not in officer.get("/bookings/new/check", follow_redirects=True).get_data(
        as_text=True
    )


def test_replaying_the_pre_submit_cookie_books_once(
    app: Flask, custody: MadeUser, provider, database: Database
) -> None:
    client = app.test_client()
    sign_in_directly(app, client, custody)
    walk_to_check(client, provider.id)
    page = client.get("/bookings/new/check").get_data(as_text=True)
    with client.session_transaction() as sess:
        saved = sess["booking_journey"]
    token = re.search(r'name="journey"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="journey"', page
    )
    assert token is not None
    data = {"journey": token.group(1), "csrf_token": csrf_from(page)}
    before = counts(database)
    assert client.post("/bookings/new/check", data=data).status_code == 302
    with client.session_transaction() as sess:
        sess["booking_journey"] = saved
    assert client.post("/bookings/new/check", data=data).status_code == 302
    assert counts(database)[1] == before[1] + 1


def test_each_question_says_what_is_missing(officer: FlaskClient, provider) -> None:
    officer.get("/bookings/new")
    r = post(officer, "/bookings/new/person", {})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<title>Error:" in html
    assert "govuk-error-summary" in html
    assert "Enter the person&#39;s given name" in html
    assert "Enter date of birth" in html
    post(
        officer,
        "/bookings/new/person",
        {"given_name": "Robin", "family_name": "Quillfeather", **_dob(date(1990, 4, 2))},
    )
    assert "Select the person, or add a new person" in post(
        officer, "/bookings/new/match", {}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/match", {"person": "new"})
    assert "Select what the drug test found" in post(
        officer, "/bookings/new/test-result", {}
    ).get_data(as_text=True)
    assert "Select what the drug test found" in post(
        officer, "/bookings/new/test-result", {"answer": "cannabis"}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/test-result", {"answer": "cocaine"})
    tomorrow = clock.london_today() + timedelta(days=1)
    html = post(officer, "/bookings/new/test-date", _day("answer", tomorrow)).get_data(as_text=True)
    assert "Date of the test must be today or in the past" in html
    html = post(officer, "/bookings/new/test-date", {"answer": ["31", "2", "2026"]}).get_data(
        as_text=True
    )
    assert "Date of the test must be a real date" in html
    post(officer, "/bookings/new/test-date", _day("answer", clock.london_today()))
    assert "Select the trigger offence" in post(officer, "/bookings/new/offence", {}).get_data(
        as_text=True
    )
    post(officer, "/bookings/new/offence", {"answer": "theft"})
    assert "Enter the custody suite" in post(
        officer, "/bookings/new/custody-suite", {"answer": "  "}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/custody-suite", {"answer": "Northgate"})
    assert "Select yes if the person disputes" in post(
        officer, "/bookings/new/disputed", {}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/disputed", {"answer": "no"})
    assert "Select the treatment provider" in post(
        officer, "/bookings/new/provider", {"answer": str(uuid.uuid4())}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/provider", {"answer": str(provider.id)})
    html = post(officer, "/bookings/new/appointment", {}).get_data(as_text=True)
    assert "Enter date of the initial assessment" in html
    assert "Enter the time" in html
    html = post(
        officer,
        "/bookings/new/appointment",
        {**_day("day", clock.london_today() + timedelta(days=2)), "time": "25:99"},
    ).get_data(as_text=True)
    assert "Enter a time like 14:30 or 2:30pm" in html
    yesterday = clock.london_today() - timedelta(days=1)
    html = post(
        officer, "/bookings/new/appointment", {**_day("day", yesterday), "time": "10:00"}
    ).get_data(as_text=True)
    assert "Date and time of the initial assessment must be in the future" in html
    post(
        officer,
        "/bookings/new/appointment",
        {**_day("day", clock.london_today() + timedelta(days=2)), "time": "2:30pm"},
    )
    assert "Enter where the assessment will be held" in post(
        officer, "/bookings/new/place", {}
    ).get_data(as_text=True)


def test_under_18_is_refused_on_the_date_of_birth(officer: FlaskClient) -> None:
    officer.get("/bookings/new")
    today = clock.london_today()
    young = date(today.year - 17, today.month, 1)
    html = post(
        officer,
        "/bookings/new/person",
        {"given_name": "Sam", "family_name": "Young", **_dob(young)},
    ).get_data(as_text=True)
    assert (
        "The person is under 18: a required assessment is only for people aged 18 or over" in html
    )
    assert 'href="#date_of_birth' in html  # the error summary links to the date of birth


def test_a_disputed_test_needs_5_working_days_after_the_sample(
    officer: FlaskClient, provider
) -> None:
    walk_to_check(officer, provider.id, disputed=True)
    soon = working_days().add(clock.london_today(), 2)
    html = post(
        officer, "/bookings/new/appointment", {**_day("day", soon), "time": "10:00"}
    ).get_data(as_text=True)
    assert "at least 5 working days after the sample was sent" in html


def test_questions_cannot_be_skipped(officer: FlaskClient) -> None:
    officer.get("/bookings/new")
    r = officer.get("/bookings/new/check")
    assert r.status_code == 302
    assert r.location.endswith("/bookings/new/person")
    fresh = officer.application.test_client()
    sign_in = officer  # noqa: F841 - the first client keeps its journey
    assert fresh.get("/bookings/new/place").status_code == 302


def test_an_existing_person_is_offered_by_name_and_date_of_birth(
    officer: FlaskClient, build: Builders, provider, database: Database
) -> None:
    worker = build.user(Role.WORKER, agency=provider)
    known = build.person(worker, "Robin", "Quillfeather", date_of_birth=date(1990, 4, 2))
    officer.get("/bookings/new")
    post(
        officer,
        "/bookings/new/person",
        {"given_name": "Robyn", "family_name": "Quillfeather", **_dob(date(1990, 4, 2))},
    )
    html = officer.get("/bookings/new/match").get_data(as_text=True)
    assert "Quillfeather, Robin" in html
    assert "Known to another agency" in html
    assert "None of these" in html
    # A person who was not offered cannot be picked by editing the form.
    assert "Select the person" in post(
        officer, "/bookings/new/match", {"person": str(uuid.uuid4())}
    ).get_data(as_text=True)
    post(officer, "/bookings/new/match", {"person": str(known)})
    before = counts(database)
    walk_rest: list[tuple[str, Mapping[str, object]]] = [
        ("/bookings/new/test-result", {"answer": "both"}),
        ("/bookings/new/test-date", _day("answer", clock.london_today())),
        ("/bookings/new/offence", {"answer": "burglary"}),
        ("/bookings/new/custody-suite", {"answer": "Northgate"}),
        ("/bookings/new/disputed", {"answer": "no"}),
        ("/bookings/new/provider", {"answer": str(provider.id)}),
        (
            "/bookings/new/appointment",
            {**_day("day", clock.london_today() + timedelta(days=3)), "time": "09:15"},
        ),
        ("/bookings/new/place", {"answer": "Harbour Recovery Service"}),
    ]
    for path, data in walk_rest:
        assert post(officer, path, data).status_code == 302, path
    page = officer.get("/bookings/new/check").get_data(as_text=True)
    token = re.search(r'value="([0-9a-f-]{36})"', page)
    assert token is not None
    r = officer.post(
        "/bookings/new/check", data={"journey": token.group(1), "csrf_token": csrf_from(page)}
    )
    assert r.status_code == 302
    assert "/booked" in r.location
    after = counts(database)
    assert after == (before[0], before[1] + 1), "no second record for a known person"
    with database.reading() as db:
        assert db.scalar(select(Referral.person_id)) == known


def test_change_links_return_to_check_your_answers(officer: FlaskClient, provider) -> None:
    walk_to_check(officer, provider.id)
    officer.get("/bookings/new/offence?change=1")
    r = post(officer, "/bookings/new/offence", {"answer": "fraud"})
    assert r.location.endswith("/bookings/new/check")
    assert "Fraud or deception" in officer.get("/bookings/new/check").get_data(as_text=True)


def test_other_roles_get_403(app: Flask, build: Builders) -> None:
    client = app.test_client()
    sign_in_directly(app, client, build.user(Role.WORKER))
    for path in ("/bookings/new", "/bookings/new/person", "/bookings/new/check"):
        assert client.get(path).status_code == 403, path


def test_another_agencys_notice_is_404(
    app: Flask, build: Builders, custody: MadeUser, provider
) -> None:
    person = build.person(custody, "Robin", "Quillfeather", date_of_birth=date(1990, 4, 2))
    outcome = build.referral(person, by=custody, to=provider)
    outsider = build.user(Role.WORKER)  # an agency with no part in it
    client = app.test_client()
    sign_in_directly(app, client, outsider)
    assert client.get(f"/referrals/{outcome.referral_id}/notices/RA1").status_code == 404
    assert client.get(f"/referrals/{uuid.uuid4()}/notices/RA1").status_code == 404
    # The treatment provider may print it; RA2 (no change of appointment yet) is 404.
    assessor = build.user(Role.ASSESSOR, agency=provider)
    client = app.test_client()
    sign_in_directly(app, client, assessor)
    assert client.get(f"/referrals/{outcome.referral_id}/notices/RA1").status_code == 200
    assert client.get(f"/referrals/{outcome.referral_id}/notices/RA2").status_code == 404
