"""Referral pages through the test client: a referral with its history and the transitions
the user may make, transitions by button and by form (errors on their fields), the 409s for a
stale version and an illegal move, 404 for another agency's referral, lists scoped by the
access policy and audited, an assessor's day, a person's referrals, making a referral (and
the consent it needs), and the timeline's line."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.clock import LONDON
from casework.db import Database
from casework.pathways.models import Referral
from tests.conftest import (
    Builders,
    Clock,
    MadeUser,
    booking_values,
    csrf_from,
    post_form,
    sign_in_directly,
)


class World:
    """A custody officer who booked a required assessment with a treatment provider's
    assessor, and an assessor of another treatment provider who has nothing to do with it."""

    def __init__(self, build: Builders) -> None:
        self.custody = build.user(
            Role.CUSTODY_OFFICER,
            agency=build.agency("Northgate Police", kind=AgencyKind.POLICE),
        )
        self.assessor = build.user(
            Role.ASSESSOR, agency=build.agency("Harbour Recovery"), full_name="Ash Assessor"
        )
        self.stranger = build.user(Role.ASSESSOR, agency=build.agency("Elsewhere Recovery"))
        self.person = build.person(self.custody, "Robin", "Fairweather")
        self.values: dict[str, Any] = booking_values(clock.utcnow(), days_ahead=2)
        outcome = build.referral(
            self.person, by=self.custody, to=self.assessor, **cast(dict[str, Any], self.values)
        )
        self.referral = outcome.referral_id
        self.reference = outcome.reference
        self.version = outcome.version


@pytest.fixture
def world(build: Builders, frozen_clock: Clock) -> World:
    made = World(build)
    # Attendance is recorded once the appointment has come: the tests start just after it.
    appointment = datetime.fromisoformat(str(made.values["appointment_at"])).replace(tzinfo=LONDON)
    frozen_clock.now = appointment.astimezone(UTC) + timedelta(minutes=5)
    return made


def _as(app: Flask, user: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return client


def _stage(database: Database, referral_id: uuid.UUID) -> tuple[str, int]:
    with database.reading() as db:
        referral = db.get_one(Referral, referral_id)
        return referral.stage, referral.version


def _latest(database: Database, action: str, user: MadeUser) -> Any:
    """The user's latest audit row of this kind, and the people it links to."""
    with database.reading() as db:
        event = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.actor_user_id == user.id)
            .order_by(AuditEvent.occurred_at.desc())
        ).first()
        assert event is not None, action
        event_id, details = event.id, dict(event.details or {})
        people = set(
            db.scalars(
                select(AuditEventPerson.person_id).where(AuditEventPerson.event_id == event_id)
            )
        )
        return details, people


def _error_on(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip()


# --- one referral -----------------------------------------------------------------------------


def test_the_referral_page_shows_the_referral_and_is_audited(
    app: Flask, world: World, database: Database
) -> None:
    page = _as(app, world.assessor).get(f"/referrals/{world.referral}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (
        "Fairweather, Robin",
        "Required assessment and Fine Lines",
        world.reference,
        "Initial assessment booked",
        "Northgate Police",
        "Harbour Recovery",
        "Hold the required assessment",
        "Book the initial assessment",  # the history
        "Print notice RA1",
        f"/referrals/{world.referral}/notices/RA1",
        "Attended",  # a button
        f"/referrals/{world.referral}/transitions/fail_to_attend",  # a page
    ):
        assert text in html, text
    details, people = _latest(database, "referral.viewed", world.assessor)
    assert people == {world.person}
    assert details["referral_id"] == str(world.referral)


def test_another_agencys_referral_answers_404(app: Flask, world: World) -> None:
    client = _as(app, world.stranger)
    assert client.get(f"/referrals/{world.referral}").status_code == 404
    assert client.get(f"/referrals/{world.referral}/transitions/attend").status_code == 404
    assert client.get(f"/referrals/{uuid.uuid4()}").status_code == 404


def test_a_button_records_the_transition(app: Flask, world: World, database: Database) -> None:
    client = _as(app, world.assessor)
    page = post_form(
        client,
        f"/referrals/{world.referral}/transitions/attend",
        {"version": world.version},
        page=f"/referrals/{world.referral}",
        follow_redirects=True,
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Attended the initial assessment" in html
    assert _stage(database, world.referral) == ("attended", world.version + 1)


def test_a_button_from_todays_bookings_returns_there(app: Flask, world: World) -> None:
    client = _as(app, world.assessor)
    day = world.values["appointment_at"][:10]
    back = f"/referrals/today?day={day}"
    page = client.get(back)
    html = page.get_data(as_text=True)
    assert "Fairweather, Robin" in html
    assert world.reference in html
    answer = client.post(
        f"/referrals/{world.referral}/transitions/attend",
        data={"version": world.version, "csrf_token": csrf_from(html), "next": back},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(back)
    # An address outside the referral pages is never followed.
    answer = post_form(
        client,
        f"/referrals/{world.referral}/transitions/follow_up_not_needed",
        {"version": world.version + 1, "next": "//evil.example/"},
        page=back,
    )
    assert answer.headers["Location"].endswith(f"/referrals/{world.referral}")


def test_a_form_puts_each_problem_on_its_field(
    app: Flask, world: World, database: Database
) -> None:
    client = _as(app, world.assessor)
    url = f"/referrals/{world.referral}/transitions/fail_to_attend"
    page = post_form(client, url, {"version": world.version, "contact_attempts": " "})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "There is a problem" in html
    assert _error_on(html, "what_happened") == "Select what happened"
    assert _error_on(html, "contact_attempts").startswith("Enter what was done")
    assert _stage(database, world.referral) == ("booked", world.version)

    page = post_form(
        client,
        url,
        {
            "version": world.version,
            "what_happened": "did_not_attend",
            "contact_attempts": "Called twice at 10:40 and 11:00, no answer",
        },
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert _stage(database, world.referral) == ("failed_to_attend", world.version + 1)
    assert "Called twice at 10:40 and 11:00, no answer" in page.get_data(as_text=True)


def test_a_date_and_time_field_reports_a_bad_time_on_the_time_box(
    app: Flask, world: World, database: Database
) -> None:
    client = _as(app, world.assessor)
    url = f"/referrals/{world.referral}/transitions/rebook"
    later = date.fromisoformat(world.values["appointment_at"][:10])
    form = {
        "version": world.version,
        "appointment_at": [str(later.day), str(later.month), str(later.year)],
        "appointment_at_time": "25:99",
        "place": "Harbour Recovery, 4 Mill Lane",
        "reason": "provider",
    }
    page = client.get(url).get_data(as_text=True)
    assert 'Time<span class="govuk-visually-hidden"> ' in page, "real markup, not escaped"
    assert "&lt;span" not in page
    html = post_form(client, url, form).get_data(as_text=True)
    assert _error_on(html, "appointment_at_time") == "Enter a real time, like 9:30am or 14:15"
    form["appointment_at_time"] = "2:15pm"
    assert post_form(client, url, form).status_code == 302
    with database.reading() as db:
        assert db.get_one(Referral, world.referral).data["appointment_at"].endswith("T14:15")


def test_a_stale_version_answers_409_and_changes_nothing(
    app: Flask, world: World, database: Database, build: Builders
) -> None:
    client = _as(app, world.assessor)
    html = client.get(f"/referrals/{world.referral}").get_data(as_text=True)
    build.move(world.referral, "attend", by=world.assessor)  # someone else records first
    answer = client.post(
        f"/referrals/{world.referral}/transitions/attend",
        data={"version": world.version, "csrf_token": csrf_from(html)},
    )
    assert answer.status_code == 409
    assert _stage(database, world.referral) == ("attended", world.version + 1)


def test_an_illegal_transition_is_refused_clearly(
    app: Flask, world: World, database: Database
) -> None:
    client = _as(app, world.assessor)
    answer = post_form(
        client,
        f"/referrals/{world.referral}/transitions/complete",
        {"version": world.version},
        page=f"/referrals/{world.referral}",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "That cannot be recorded now" in html
    assert "Initial assessment booked" in html
    assert _stage(database, world.referral) == ("booked", world.version)
    # The custody officer may see the referral but not record the assessment's outcomes.
    custody = _as(app, world.custody)
    answer = post_form(
        custody,
        f"/referrals/{world.referral}/transitions/attend",
        {"version": world.version},
        page=f"/referrals/{world.referral}",
    )
    assert answer.status_code == 403
    assert _stage(database, world.referral) == ("booked", world.version)


# --- lists ---------------------------------------------------------------------------------------


def test_waiting_lists_are_scoped_by_the_policy_and_audited(
    app: Flask, world: World, database: Database
) -> None:
    html = _as(app, world.assessor).get("/referrals").get_data(as_text=True)
    assert world.reference in html
    assert "Fairweather, Robin" in html
    assert re.search(r'moj-notification-badge">1<', html), "the count in the menu"
    _, people = _latest(database, "referrals.listed", world.assessor)
    assert people == {world.person}

    stranger = _as(app, world.stranger).get("/referrals").get_data(as_text=True)
    assert world.reference not in stranger
    assert "No open referrals are waiting" in stranger
    _, people = _latest(database, "referrals.listed", world.stranger)
    assert people == set()

    sent = _as(app, world.custody).get("/referrals?show=sent").get_data(as_text=True)
    assert world.reference in sent
    waiting = _as(app, world.custody).get("/referrals").get_data(as_text=True)
    assert world.reference not in waiting


def test_todays_bookings_list_the_day_with_its_buttons(
    app: Flask, world: World, database: Database
) -> None:
    client = _as(app, world.assessor)
    day = world.values["appointment_at"][:10]
    html = client.get(f"/referrals/today?day={day}").get_data(as_text=True)
    assert "10:30am" in html
    assert "Fairweather, Robin" in html
    assert f"/referrals/{world.referral}/transitions/attend" in html
    assert f"/referrals/{world.referral}/transitions/fail_to_attend?next=" in html
    _, people = _latest(database, "referrals.bookings_listed", world.assessor)
    assert people == {world.person}
    other_day = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    assert world.reference not in client.get(f"/referrals/today?day={other_day}").get_data(
        as_text=True
    )
    assert world.reference not in (
        _as(app, world.stranger).get(f"/referrals/today?day={day}").get_data(as_text=True)
    )
    # The custody officer holds no bookings.
    assert _as(app, world.custody).get("/referrals/today").status_code == 403


def test_a_persons_referrals_and_the_timeline_line(
    app: Flask, world: World, build: Builders
) -> None:
    build.move(world.referral, "attend", by=world.assessor)
    client = _as(app, world.assessor)
    html = client.get(f"/people/{world.person}/referrals").get_data(as_text=True)
    assert world.reference in html
    assert "Attended the initial assessment" in html
    timeline = client.get(f"/people/{world.person}/timeline").get_data(as_text=True)
    assert "Required assessment and Fine Lines: Attended" in timeline
    assert f'href="/referrals/{world.referral}"' in timeline
    assert _as(app, world.stranger).get(f"/people/{world.person}/referrals").status_code == 404


# --- making a referral --------------------------------------------------------------------------


def test_making_a_referral_needs_consent_and_a_decline_tells_the_referrer(
    app: Flask, build: Builders, database: Database
) -> None:
    worker = build.user(Role.WORKER, agency=build.agency("Harbour Treatment"))
    housing = build.user(
        Role.WORKER, agency=build.agency("Council Housing", kind=AgencyKind.HOUSING)
    )
    person = build.person(worker, "Sam", "Rowe")
    client = _as(app, worker)
    url = f"/people/{person}/referrals/new?pathway=general"
    form: dict[str, object] = {
        "to_agency": str(housing.agency_id),
        "reason": "housing",
    }

    html = post_form(client, url, {"reason": "housing"}).get_data(as_text=True)
    assert _error_on(html, "to_agency") == "Select the agency to refer to"

    html = post_form(client, url, form).get_data(as_text=True)
    assert "not covered by consent or another lawful basis" in _error_on(html, "to_agency")
    assert f"/people/{person}/sharing/consent/new" in html

    build.consent(person, by=worker, to=housing)
    made = post_form(client, url, form, follow_redirects=True)
    assert made.status_code == 200
    assert "Waiting for an answer" in made.get_data(as_text=True)
    with database.reading() as db:
        referral_id, reference, version = db.execute(
            select(Referral.id, Referral.reference, Referral.version).where(
                Referral.person_id == person
            )
        ).one()

    receiving = _as(app, housing)
    html = receiving.get("/referrals").get_data(as_text=True)
    assert reference in html
    declined = post_form(
        receiving,
        f"/referrals/{referral_id}/transitions/decline",
        {"version": version, "reason": "no_capacity"},
    )
    assert declined.status_code == 302

    page = client.get("/notifications").get_data(as_text=True)
    assert reference in page
    assert re.search(r'moj-notification-badge">1<', page), "the unread count in the menu"


def test_make_a_referral_offers_the_pathways_of_the_agencys_kind(
    app: Flask, build: Builders, database: Database
) -> None:
    nurse = build.user(
        Role.WORKER, agency=build.agency("Northdale General", kind=AgencyKind.HEALTH)
    )
    treatment = build.user(Role.WORKER, agency=build.agency("Harbour Treatment"))
    build.agency("Council Housing", kind=AgencyKind.HOUSING)
    person = build.person(nurse, "Alex", "Ward")
    client = _as(app, nurse)
    url = f"/people/{person}/referrals/new"

    html = client.get(url).get_data(as_text=True)
    assert "Hospital on-ward referral" in html
    assert "Domestic abuse referral (DASH)" in html
    assert "Required assessment" not in html, "custody books through its own journey"
    assert 'value="hospital"' in html
    assert "Select the kind of referral" in client.get(f"{url}?pathway=nope").get_data(as_text=True)

    html = client.get(f"{url}?pathway=hospital").get_data(as_text=True)
    assert "Which ward is the person on?" in html
    assert "Harbour Treatment" in html
    assert "Council Housing" not in html, "only agencies of the pathway's receiving kinds"

    # Every problem at once: the agency and the fields.
    html = post_form(client, url, {"pathway": "hospital"}).get_data(as_text=True)
    assert _error_on(html, "to_agency") == "Select the agency to refer to"
    assert _error_on(html, "ward")
    assert _error_on(html, "need")

    build.consent(person, by=nurse, to=treatment)
    today = clock.london_today()
    made = post_form(
        client,
        url,
        {
            "pathway": "hospital",
            "to_agency": str(treatment.agency_id),
            "ward": "gastro",
            "admitted_on": [str(today.day), str(today.month), str(today.year)],
            "need": "alcohol",
        },
    )
    assert made.status_code == 302
    with database.reading() as db:
        assert db.scalars(select(Referral.pathway).where(Referral.person_id == person)).all() == [
            "hospital"
        ]


def test_the_clock_is_my_agencys_task_else_the_other_agencys_named(
    app: Flask, world: World, build: Builders
) -> None:
    build.move(
        world.referral,
        "fail_to_attend",
        by=world.assessor,
        what_happened="did_not_attend",
        contact_attempts="Called twice, no answer",
    )
    sent = _as(app, world.custody).get("/referrals?show=sent").get_data(as_text=True)
    assert 'margin-bottom-0">Prepare an evidential statement' in sent, "the police's own task"
    waiting = _as(app, world.assessor).get("/referrals").get_data(as_text=True)
    assert "Northgate Police: Prepare an evidential statement" in waiting, "named as theirs"


def test_an_ended_referral_whose_stage_is_not_shared_says_ended(
    app: Flask, world: World, build: Builders
) -> None:
    build.move(world.referral, "attend", by=world.assessor)
    build.move(world.referral, "follow_up_not_needed", by=world.assessor)
    build.move(world.referral, "not_suitable", by=world.assessor, reason="declined")
    client = _as(app, world.custody)
    html = client.get(f"/referrals/{world.referral}").get_data(as_text=True)
    assert "Not appropriate for Fine Lines" not in html, "the stage stays hidden"
    assert "In progress (not shared with you)" not in html
    assert re.search(r'Stage</dt><dd class="govuk-summary-list__value"><span[^>]*>Ended ', html)
    listed = client.get(f"/people/{world.person}/referrals").get_data(as_text=True)
    assert "In progress (not shared with you)" not in listed


def test_the_tasks_tab_lists_my_agencys_open_tasks_and_is_audited(
    app: Flask, world: World, build: Builders, database: Database
) -> None:
    build.move(
        world.referral,
        "fail_to_attend",
        by=world.assessor,
        what_happened="did_not_attend",
        contact_attempts="Called twice, no answer",
    )
    client = _as(app, world.custody)
    html = client.get("/referrals/tasks").get_data(as_text=True)
    assert "Prepare an evidential statement for failing to attend" in html
    assert "Fairweather, Robin" in html
    assert f'href="/referrals/{world.referral}"' in html
    assert re.search(r"Tasks <span[^>]*>1<", html), "the count on the tab"
    details, people = _latest(database, "tasks.listed", world.custody)
    assert people == {world.person}
    assert len(details["tasks"]) == 1

    # The assessor's agency has no open task here: the police's is not on its list.
    other = _as(app, world.assessor).get("/referrals/tasks").get_data(as_text=True)
    assert "Prepare an evidential statement" not in other
    assert "Your agency has no open tasks." in other


# --- home pages ---------------------------------------------------------------------------------


def test_home_pages_say_what_is_booked_waiting_and_due(
    app: Flask, world: World, build: Builders, database: Database
) -> None:
    html = _as(app, world.custody).get("/home/custody").get_data(as_text=True)
    assert world.reference in html, "the custody suite's recent booking"
    assert "not made any bookings" not in html
    assert 'href="/referrals/tasks"' in html
    details, people = _latest(database, "referrals.listed", world.custody)
    assert people == {world.person}
    assert details["show"] == "home"

    day = date.fromisoformat(world.values["appointment_at"][:10])
    html = _as(app, world.assessor).get("/home/assessor").get_data(as_text=True)
    assert "Referrals waiting for your service: 1" in html
    assert 'href="/referrals/today"' in html
    with app.app_context():
        from casework.pathways import queries

        with database.reading() as db:
            assert queries.count_bookings_on(db, build.viewer(world.assessor), day) == 1

    worker = build.user(Role.WORKER, agency=build.agency("Quiet Treatment"))
    html = _as(app, worker).get("/home/worker").get_data(as_text=True)
    assert "No referrals are waiting for your agency." in html
    assert "referrals waiting and tasks will appear" not in html
