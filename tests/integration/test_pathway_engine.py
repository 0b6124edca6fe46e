"""The pathway engine through its services: a required assessment from booking to the end of
Fine Lines, what is refused and that refusals write nothing, sharing, tasks and audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from casework import clock
from casework.access.policy import person_access
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.models import AuditEvent
from casework.audit.recorder import SYSTEM
from casework.consent.models import BasisKind, SharingBasis
from casework.db import StaleVersion
from casework.family.models import Involvement
from casework.notifications.models import Notification
from casework.pathways.models import Referral, ReferralEvent
from casework.pathways.rules import TransitionInvalid, TransitionRefused
from casework.people import services as people_services
from casework.people.codes import TimelineKind
from casework.people.models import TimelineEntry
from casework.people.services import NotAllowed, PersonError
from casework.tasks.models import Task, TaskState
from tests.conftest import Builders, MadeUser, booking_values


@pytest.fixture
def ends(build: Builders) -> tuple[MadeUser, MadeUser]:
    police = build.agency("Northshire Police", AgencyKind.POLICE)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    assessor = build.user(Role.ASSESSOR, agency=treatment)
    return custody, assessor


def _after(outcome: Any, *, days: int = 3) -> Any:
    """A moment after the default booking's appointment (attendance is recorded from then)."""
    return clock.utcnow() + timedelta(days=days)


def _count(build: Builders, model: Any, *where: Any) -> int:
    with build.database.reading() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_booking_walks_the_main_path_to_completion(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody, "Sam", "Fictional")
    booked = build.referral(person, by=custody, to=assessor)
    assert booked.stage == "booked"
    assert booked.reference.startswith("RA-")

    # The treatment provider is involved through the open referral and reads the booking
    # under the legal-obligation basis the pathway recorded.
    with build.database.reading() as db:
        access = person_access(db, build.viewer(assessor), person)
        assert access is not None
        assert access.involved
        kinds = db.scalars(select(SharingBasis.kind).where(SharingBasis.person_id == person))
        assert set(kinds) == {BasisKind.LEGAL_OBLIGATION}
    assert _count(build, Task, Task.source_id == booked.referral_id, Task.state == "open") == 1

    steps = [
        "attend",
        "follow_up_not_needed",
        "suitable",
        "attend_group",
        "take_up_service",
        "complete",
    ]
    outcome = booked
    with pytest.raises(TransitionRefused):  # not before the appointment
        build.move(booked.referral_id, "attend", by=assessor)
    for step in steps:
        outcome = build.move(
            booked.referral_id, step, by=assessor, version=outcome.version, at=_after(booked)
        )
    assert outcome.stage == "completed"
    with build.database.reading() as db:
        referral = db.get_one(Referral, booked.referral_id)
        assert referral.closed_at is not None
        events = db.scalars(
            select(ReferralEvent.transition)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
        ).all()
        assert len(events) == 1 + len(steps)
    # Every transition is on the timeline and audited.
    assert _count(build, TimelineEntry, TimelineEntry.kind == TimelineKind.REFERRAL) == 7
    assert _count(build, AuditEvent, AuditEvent.action.like("referral.%")) == 7
    # The appointment's task was done when the person attended; nothing is left open.
    assert _count(build, Task, Task.source_id == booked.referral_id, Task.state == "open") == 0
    # Taking up service made the treatment provider part of the professional family: it still
    # sees the person now that the referral has ended.
    with build.database.reading() as db:
        after = person_access(db, build.viewer(assessor), person)
    assert after is not None
    assert after.involved
    with build.database.reading() as db:
        workers = db.scalars(
            select(Involvement.worker_id).where(
                Involvement.person_id == person, Involvement.agency_id == assessor.agency_id
            )
        ).all()
    assert workers == [assessor.id]  # on the caseload of whoever took the person on


def test_an_agency_that_never_took_the_person_on_loses_sight_when_the_referral_ends(
    build: Builders, ends
) -> None:
    custody, assessor = ends
    person = build.person(custody)
    booked = build.referral(person, by=custody, to=assessor)
    build.move(booked.referral_id, "attend", by=assessor, at=_after(booked))
    build.move(booked.referral_id, "follow_up_not_needed", by=assessor, at=_after(booked))
    build.move(
        booked.referral_id, "not_suitable", by=assessor, at=_after(booked), reason="no_problem_use"
    )
    with build.database.reading() as db:
        assert person_access(db, build.viewer(assessor), person) is None


def test_illegal_transitions_are_refused_and_write_nothing(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    booked = build.referral(person, by=custody, to=assessor)
    before = _count(build, AuditEvent)
    with pytest.raises(TransitionRefused):
        build.move(booked.referral_id, "complete", by=assessor)
    with pytest.raises(TransitionRefused):
        build.move(booked.referral_id, "no_such_step", by=assessor)
    # Custody staff may not record attendance (the receiving end does).
    with pytest.raises(NotAllowed):
        build.move(booked.referral_id, "attend", by=custody)
    assert _count(build, AuditEvent) == before
    assert _count(build, ReferralEvent) == 1


def test_a_stale_version_loses(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    booked = build.referral(person, by=custody, to=assessor)
    build.move(booked.referral_id, "attend", by=assessor, version=booked.version, at=_after(booked))
    with pytest.raises((StaleVersion, TransitionRefused)):
        build.move(
            booked.referral_id,
            "fail_to_attend",
            by=assessor,
            version=booked.version,
            at=_after(booked),
            what_happened="did_not_attend",
            contact_attempts="Called twice",
        )


def test_bad_booking_values_name_their_fields(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    now = clock.utcnow()
    with pytest.raises(TransitionInvalid) as refused:
        build.referral(
            person,
            by=custody,
            to=assessor,
            values=booking_values(now, days_ahead=-1, test_result="cannabis", surprise="x"),
        )
    assert set(refused.value.problems) == {"appointment_at", "test_result", "surprise"}
    with pytest.raises(TransitionInvalid) as missing:
        build.referral(person, by=custody, to=assessor, values=booking_values(now, place=""))
    assert set(missing.value.problems) == {"place"}
    assert _count(build, Referral) == 0


def test_a_disputed_test_needs_five_working_days(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    now = clock.utcnow()
    today = clock.to_london(now).date()
    with pytest.raises(TransitionInvalid) as no_date:
        build.referral(person, by=custody, to=assessor, values=booking_values(now, disputed="yes"))
    assert "sample_sent_on" in no_date.value.problems
    with pytest.raises(TransitionInvalid) as too_soon:
        build.referral(
            person,
            by=custody,
            to=assessor,
            values=booking_values(
                now, days_ahead=2, disputed="yes", sample_sent_on=today.isoformat()
            ),
        )
    assert "working days" in too_soon.value.problems["appointment_at"]
    booked = build.referral(
        person,
        by=custody,
        to=assessor,
        values=booking_values(now, days_ahead=12, disputed="yes", sample_sent_on=today.isoformat()),
    )
    assert booked.stage == "booked"


def test_under_18s_and_unknown_ages_are_refused(build: Builders, ends) -> None:
    custody, assessor = ends
    today = clock.to_london(clock.utcnow()).date()
    young = build.person(custody, date_of_birth=today.replace(year=today.year - 17))
    with pytest.raises(PersonError) as refused:
        build.referral(young, by=custody, to=assessor)
    assert refused.value.field == "date_of_birth"
    unknown = build.person(custody, date_of_birth=None)
    with pytest.raises(PersonError):
        build.referral(unknown, by=custody, to=assessor)
    assert _count(build, Referral) == 0


def test_failing_to_attend_gives_the_police_a_task(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    booked = build.referral(person, by=custody, to=assessor)
    build.move(
        booked.referral_id,
        "fail_to_attend",
        by=assessor,
        at=_after(booked),
        what_happened="did_not_attend",
        contact_attempts="Called twice and waited 30 minutes",
    )
    with build.database.reading() as db:
        tasks = db.execute(
            select(Task.agency_id, Task.title).where(
                Task.source_id == booked.referral_id, Task.state == "open"
            )
        ).all()
    assert [agency for agency, _title in tasks] == [custody.agency_id]
    assert tasks[0].title.startswith("Prepare an evidential statement")
    # The custody officer who booked it is told at once, with what happened.
    with build.database.reading() as db:
        told = db.scalars(
            select(Notification.subject).where(Notification.user_id == custody.id)
        ).all()
    assert told == [
        f"Required assessment and Fine Lines {booked.reference}: failed to attend or to remain "
        "(Did not attend)"
    ]


def test_a_general_referral_needs_consent_and_a_decline_tells_the_referrer(
    build: Builders,
) -> None:
    housing = build.agency("Quayside Housing", AgencyKind.HOUSING)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    worker = build.user(Role.WORKER, agency=housing)
    receiver = build.user(Role.WORKER, agency=treatment)
    person = build.person(worker)
    with pytest.raises(PersonError) as refused:
        build.referral(
            person, by=worker, to=receiver, pathway="general", transition="refer", reason="support"
        )
    assert refused.value.field == "to_agency"
    build.consent(person, by=worker, to=receiver)
    sent = build.referral(
        person, by=worker, to=receiver, pathway="general", transition="refer", reason="support"
    )
    with pytest.raises(TransitionInvalid):
        build.move(sent.referral_id, "decline", by=receiver)
    build.move(sent.referral_id, "decline", by=receiver, reason="no_capacity")
    with build.database.reading() as db:
        told = db.scalars(
            select(Notification.subject).where(Notification.user_id == worker.id)
        ).all()
    assert len(told) == 1
    assert sent.reference in told[0]


def test_a_death_ends_open_referrals_and_cancels_their_tasks(build: Builders, ends) -> None:
    custody, assessor = ends
    person = build.person(custody)
    booked = build.referral(person, by=custody, to=assessor)
    with build.database.transaction() as db:
        viewer = build.viewer(assessor)
        access = person_access(db, viewer, person)
        assert access is not None
        people_services.record_death(
            db,
            SYSTEM,
            viewer,
            access,
            died_on=clock.to_london(clock.utcnow()).date(),
            expected_version=None,
        )
    with build.database.reading() as db:
        assert db.get_one(Referral, booked.referral_id).closed_at is not None
    assert _count(build, Task, Task.person_id == person, Task.state == TaskState.OPEN) == 0
    # The treatment provider was involved only through the referral: now it cannot see it.
    with pytest.raises(LookupError):
        build.move(booked.referral_id, "attend", by=assessor)
