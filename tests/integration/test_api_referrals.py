"""The API's bookings, referrals and transitions: idempotency (retries and concurrent retries
book once), bad input as problem details, the access policy (404 as for a missing one) and
one audit row per read listing the people shown."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework import clock
from casework.access.roles import Role
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.db import Database
from casework.pathways.models import Referral
from casework.people.models import Person
from tests.conftest import Builders, Clock, booking_values
from tests.integration.api_support import Ends, Token, make_ends, make_token

BOOK = "/api/v1/required-assessments"


@pytest.fixture
def ends(build: Builders) -> Ends:
    return make_ends(build)


def _count(database: Database, model: type) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def _booking(ends: Ends, **person: object) -> dict[str, object]:
    return {
        "person": {
            "given_name": "Robin",
            "family_name": "Testperson",
            "date_of_birth": "1990-04-02",
            **person,
        },
        "to_agency_id": str(ends.treatment_id),
        "values": booking_values(clock.utcnow()),
    }


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    return body


def test_book_a_new_person_then_walk_transitions(
    client: FlaskClient, ends: Ends, database: Database, frozen_clock: Clock
) -> None:
    custody = make_token(database, ends.custody.id)
    response = client.post(BOOK, json=_booking(ends), headers=custody.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    booked = response.get_json()
    assert booked["stage"] == "booked"
    assert booked["reference"].startswith("RA-")

    assessor = make_token(database, ends.assessor.id)
    listing = client.get("/api/v1/referrals?to_my_agency=true", headers=assessor.headers)
    assert [item["id"] for item in listing.get_json()["items"]] == [booked["referral_id"]]
    url = f"/api/v1/referrals/{booked['referral_id']}"
    detail = client.get(url, headers=assessor.headers).get_json()
    assert detail["stage"] == "booked"
    assert "attend" in {t["key"] for t in detail["transitions"]}
    frozen_clock.advance(days=3)  # attendance is recorded once the appointment has come
    moved = client.post(
        f"{url}/transitions",
        json={"transition": "attend", "version": detail["version"]},
        headers=assessor.headers,
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["stage"] == "attended"
    # A stale version and an illegal transition are 409s; nothing changes.
    _problem(
        client.post(
            f"{url}/transitions",
            json={"transition": "suitable", "version": detail["version"]},
            headers=assessor.headers,
        ),
        409,
    )
    illegal = _problem(
        client.post(
            f"{url}/transitions", json={"transition": "complete"}, headers=assessor.headers
        ),
        409,
    )
    assert illegal["type"].endswith("transition-refused")


def test_a_retried_post_with_the_same_key_books_once(
    client: FlaskClient, ends: Ends, database: Database
) -> None:
    token = make_token(database, ends.custody.id)
    headers = {**token.headers, "Idempotency-Key": "booking-123"}
    body = _booking(ends)
    first = client.post(BOOK, json=body, headers=headers)
    again = client.post(BOOK, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(database, Referral) == 1
    assert _count(database, Person) == 1
    # The same key with another body is refused.
    other = _booking(ends, given_name="Someone")
    mismatch = _problem(client.post(BOOK, json=other, headers=headers), 422)
    assert "Idempotency-Key" in mismatch["errors"]
    assert _count(database, Referral) == 1


def test_concurrent_retries_book_once(app: Flask, ends: Ends, database: Database) -> None:
    token = make_token(database, ends.custody.id)
    headers = {**token.headers, "Idempotency-Key": f"race-{uuid.uuid4()}"}
    body = _booking(ends)
    statuses: list[int] = []
    bodies: list[object] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(BOOK, json=body, headers=headers)
        statuses.append(response.status_code)
        bodies.append(response.get_json())

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 4, bodies
    assert len({str(b) for b in bodies}) == 1
    assert _count(database, Referral) == 1


@pytest.mark.parametrize(
    ("data", "content_type", "status", "field"),
    [
        (b'{"person": ', "application/json", 400, None),
        (b"[1, 2]", "application/json", 422, None),
        (b'{"surprise": 1}', "application/json", 422, "surprise"),
        (b'{"to_agency_id": "not-a-uuid"}', "application/json", 422, "to_agency_id"),
    ],
)
def test_malformed_bodies_are_problems(
    client: FlaskClient,
    ends: Ends,
    database: Database,
    data: bytes,
    content_type: str,
    status: int,
    field: str | None,
) -> None:
    token = make_token(database, ends.custody.id)
    body = _problem(
        client.post(BOOK, data=data, content_type=content_type, headers=token.headers), status
    )
    if field:
        assert field in body["errors"]


def test_an_oversized_body_is_413(client: FlaskClient, ends: Ends, database: Database) -> None:
    token = make_token(database, ends.custody.id)
    huge = b'{"values": {"place": "' + b"x" * 2_000_000 + b'"}}'
    _problem(
        client.post(BOOK, data=huge, content_type="application/json", headers=token.headers), 413
    )


def test_bad_booking_values_are_422_and_write_nothing(
    client: FlaskClient, ends: Ends, database: Database
) -> None:
    token = make_token(database, ends.custody.id)
    past = _booking(ends)
    past["values"] = booking_values(clock.utcnow(), days_ahead=-2)
    body = _problem(client.post(BOOK, json=past, headers=token.headers), 422)
    assert "values.appointment_at" in body["errors"]
    young = _booking(ends, date_of_birth=date(clock.london_today().year - 16, 1, 1).isoformat())
    body = _problem(client.post(BOOK, json=young, headers=token.headers), 422)
    assert "person.date_of_birth" in body["errors"]
    both = {**_booking(ends), "person_id": str(uuid.uuid4())}
    _problem(client.post(BOOK, json=both, headers=token.headers), 422)
    assert _count(database, Referral) == 0
    assert _count(database, Person) == 0


def test_a_possible_duplicate_needs_confirming(
    client: FlaskClient, ends: Ends, build: Builders, database: Database
) -> None:
    build.person(ends.custody, "Robin", "Testperson", date_of_birth=date(1990, 4, 2))
    token = make_token(database, ends.custody.id)
    body = _problem(client.post(BOOK, json=_booking(ends), headers=token.headers), 409)
    assert body["type"].endswith("possible-duplicate")
    assert len(body["people"]) == 1
    confirmed = {**_booking(ends), "confirm_new_person": True}
    assert client.post(BOOK, json=confirmed, headers=token.headers).status_code == 201
    known = {**_booking(ends), "person_id": body["people"][0]}
    del known["person"]
    assert client.post(BOOK, json=known, headers=token.headers).status_code == 201


def test_another_agencys_referral_is_404_like_a_missing_one(
    client: FlaskClient, ends: Ends, build: Builders, database: Database
) -> None:
    person = build.person(ends.custody, "Sam", "Fictional")
    booked = build.referral(person, by=ends.custody, to=ends.assessor)
    outsider = build.user(Role.WORKER)
    token = make_token(database, outsider.id)
    seen = client.get(f"/api/v1/referrals/{booked.referral_id}", headers=token.headers)
    missing = client.get(f"/api/v1/referrals/{uuid.uuid4()}", headers=token.headers)
    assert _problem(seen, 404) == _problem(missing, 404)
    moved = client.post(
        f"/api/v1/referrals/{booked.referral_id}/transitions",
        json={"transition": "attend"},
        headers=token.headers,
    )
    _problem(moved, 404)
    assert client.get("/api/v1/referrals", headers=token.headers).get_json()["items"] == []
    # Booking for a person the token may not see: 404 too.
    secret = build.person(build.user(Role.WORKER), "Hidden", "Person")
    custody = make_token(database, ends.custody.id)
    body = {"person_id": str(secret), "to_agency_id": str(ends.treatment_id), "values": {}}
    _problem(client.post(BOOK, json=body, headers=custody.headers), 404)


def test_reads_are_audited_with_the_people_shown(
    client: FlaskClient, ends: Ends, build: Builders, database: Database
) -> None:
    person = build.person(ends.custody, "Sam", "Fictional")
    booked = build.referral(person, by=ends.custody, to=ends.assessor)
    token: Token = make_token(database, ends.assessor.id)
    assert client.get("/api/v1/referrals", headers=token.headers).status_code == 200
    assert (
        client.get(f"/api/v1/referrals/{booked.referral_id}", headers=token.headers).status_code
        == 200
    )
    with database.reading() as db:
        rows = db.execute(
            select(AuditEvent.action, AuditEvent.actor_user_id, AuditEventPerson.person_id)
            .join(AuditEventPerson, AuditEventPerson.event_id == AuditEvent.id)
            .where(AuditEvent.action.like("api.%"))
            .order_by(AuditEvent.occurred_at)
        ).all()
    assert {row.action for row in rows} == {"api.referrals.listed", "api.referral.viewed"}
    assert all(row.person_id == person and row.actor_user_id == ends.assessor.id for row in rows)
