"""The hospital, domestic-abuse and prison-release pathways through the real services: each
main path, what each refuses (and that a refusal writes nothing), the DASH alert and its
MARAC and IDVA tasks, and the 21-day continuity-of-care clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from casework import clock
from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.audit.models import AuditEvent
from casework.pathways.models import Referral, ReferralEvent
from casework.pathways.queries import Clock
from casework.pathways.rules import TransitionInvalid, TransitionRefused
from casework.pathways.services import Outcome
from casework.people.models import PersonAlert
from casework.people.services import NotAllowed, PersonError
from casework.tasks.models import Task, TaskState
from tests.conftest import Builders, MadeUser

LONDON = clock.LONDON
HIGH_RISK_ALERT = "domestic_abuse_high_risk"


def _count(build: Builders, model: Any, *where: Any) -> int:
    with build.database.reading() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _open_tasks(build: Builders, referral_id: uuid.UUID) -> list[Task]:
    with build.database.reading() as db:
        rows = db.scalars(
            select(Task)
            .where(Task.source_id == referral_id, Task.state == TaskState.OPEN)
            .order_by(Task.due_at, Task.title)
        ).all()
        for row in rows:
            db.expunge(row)
        return list(rows)


def _today() -> date:
    return clock.london_today()


# --- hospital on-ward referral --------------------------------------------------------------


@pytest.fixture
def ward(build: Builders) -> tuple[MadeUser, MadeUser]:
    hospital = build.agency("Riverside Infirmary", AgencyKind.HEALTH)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    nurse = build.user(Role.WORKER, agency=hospital)
    worker = build.user(Role.WORKER, agency=treatment)
    return nurse, worker


def _hospital_values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "ward": "gastro",
        "admitted_on": (_today() - timedelta(days=2)).isoformat(),
        "need": "alcohol",
        "summary": "Alcohol withdrawal on the ward; wants help.",
    }
    values.update(changes)
    return values


def _hospital_referral(
    build: Builders, nurse: MadeUser, worker: MadeUser, **changes: object
) -> tuple[uuid.UUID, Outcome]:
    person = build.person(nurse, "Rowan", "Fictional")
    build.consent(person, by=nurse, to=worker, categories=[Category.HEALTH, Category.IDENTITY])
    sent = build.referral(
        person,
        by=nurse,
        to=worker,
        pathway="hospital",
        transition="refer",
        values=_hospital_values(**changes),
    )
    return person, sent


def test_a_hospital_referral_walks_to_engagement(build: Builders, ward) -> None:
    nurse, worker = ward
    _person, sent = _hospital_referral(build, nurse, worker)
    assert sent.stage == "referred"
    assert sent.reference.startswith("HOS-")
    [seen_task] = _open_tasks(build, sent.referral_id)
    assert seen_task.agency_id == worker.agency_id
    assert seen_task.title == "See the person on the ward before discharge"

    today = _today().isoformat()
    seen = build.move(sent.referral_id, "see_on_ward", by=worker, seen_on=today)
    assert _open_tasks(build, sent.referral_id) == []
    # The ward records the discharge; the community clock counts a week from it.
    out = build.move(
        sent.referral_id,
        "discharge",
        by=nurse,
        version=seen.version,
        discharged_on=today,
        discharged_to="hostel",
    )
    assert out.stage == "discharged"
    [community] = _open_tasks(build, sent.referral_id)
    assert community.due_at.astimezone(LONDON).date() == _today() + timedelta(days=7)
    done = build.move(sent.referral_id, "engage", by=worker, engaged_on=today)
    assert done.stage == "engaged"
    with build.database.reading() as db:
        referral = db.get_one(Referral, sent.referral_id)
        assert referral.closed_at is not None
        assert referral.data["ward"] == "gastro"
        assert referral.data["discharged_to"] == "hostel"
        assert referral.category == Category.HEALTH
    assert _open_tasks(build, sent.referral_id) == []
    assert _count(build, AuditEvent, AuditEvent.action.like("referral.%")) == 4


def test_a_hospital_referral_can_go_to_the_detox_house(build: Builders, ward) -> None:
    nurse, worker = ward
    _person, sent = _hospital_referral(build, nurse, worker, ward="emergency")
    today = _today().isoformat()
    build.move(sent.referral_id, "see_on_ward", by=worker, seen_on=today, wants_detox_house="yes")
    detox = build.move(sent.referral_id, "discharge_to_detox", by=worker, discharged_on=today)
    assert detox.stage == "detox_house"
    [meet] = _open_tasks(build, sent.referral_id)
    assert meet.title == "Meet the person at the detox house"
    assert meet.due_at.astimezone(LONDON).date() == _today() + timedelta(days=2)
    ended = build.move(sent.referral_id, "not_engage", by=worker, reason="left_detox")
    assert ended.stage == "not_engaged"


def test_the_hospital_pathway_refuses_what_it_should(build: Builders, ward) -> None:
    nurse, worker = ward
    person = build.person(nurse)
    # No consent or basis for health information with the treatment service.
    with pytest.raises(PersonError) as uncovered:
        build.referral(
            person, by=nurse, to=worker, pathway="hospital", transition="refer",
            values=_hospital_values(),
        )  # fmt: skip
    assert uncovered.value.field == "to_agency"
    build.consent(person, by=nurse, to=worker, categories=[Category.HEALTH])
    with pytest.raises(TransitionInvalid) as bad:
        build.referral(
            person, by=nurse, to=worker, pathway="hospital", transition="refer",
            values=_hospital_values(ward="cardiology", admitted_on=""),
        )  # fmt: skip
    assert set(bad.value.problems) == {"ward", "admitted_on"}
    # Only a health agency refers from the ward, and only its workers and managers.
    with pytest.raises(NotAllowed):
        build.referral(
            person, by=worker, to=nurse, pathway="hospital", transition="refer",
            values=_hospital_values(),
        )  # fmt: skip
    assessor = build.user(Role.ASSESSOR, agency=build_agency_of(build, nurse))
    with pytest.raises(NotAllowed):
        build.referral(
            person, by=assessor, to=worker, pathway="hospital", transition="refer",
            values=_hospital_values(),
        )  # fmt: skip
    assert _count(build, Referral) == 0

    sent = build.referral(
        person, by=nurse, to=worker, pathway="hospital", transition="refer",
        values=_hospital_values(),
    )  # fmt: skip
    before = _count(build, AuditEvent)
    # The ward may not record that the treatment service saw the person.
    with pytest.raises(NotAllowed):
        build.move(sent.referral_id, "see_on_ward", by=nurse, seen_on=_today().isoformat())
    with pytest.raises(TransitionInvalid) as no_reason:
        build.move(sent.referral_id, "not_seen", by=worker)
    assert set(no_reason.value.problems) == {"reason"}
    with pytest.raises(TransitionRefused):
        build.move(sent.referral_id, "engage", by=worker, engaged_on=_today().isoformat())
    assert _count(build, AuditEvent) == before
    assert _count(build, ReferralEvent) == 1
    build.move(sent.referral_id, "not_seen", by=worker, reason="self_discharged")
    # Once ended, nothing more is recorded (the ward still sees its own referral).
    with pytest.raises(TransitionRefused):
        build.move(sent.referral_id, "withdraw", by=nurse, reason="made_in_error")


def build_agency_of(build: Builders, user: MadeUser) -> Agency:
    with build.database.reading() as db:
        agency = db.get_one(Agency, user.agency_id)
        db.expunge(agency)
        return agency


# --- domestic abuse: DASH, MARAC and IDVA ---------------------------------------------------


@pytest.fixture
def da(build: Builders) -> tuple[MadeUser, MadeUser]:
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    service = build.agency("Lantern Refuge", AgencyKind.DOMESTIC_ABUSE)
    worker = build.user(Role.WORKER, agency=treatment)
    idva = build.user(Role.WORKER, agency=service)
    return worker, idva


def _dash(score: object, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "dash_score": score,
        "dash_completed_on": _today().isoformat(),
        "safe_to_phone": "no",
        "summary": "Safe to meet at the hub on Tuesdays.",
    }
    values.update(changes)
    return values


def _da_person(build: Builders, worker: MadeUser, idva: MadeUser) -> uuid.UUID:
    person = build.person(worker, "Jo", "Fictional")
    build.consent(person, by=worker, to=idva, categories=[Category.DOMESTIC_ABUSE])
    return person


def _alerts(build: Builders, person: uuid.UUID) -> list[PersonAlert]:
    with build.database.reading() as db:
        rows = db.scalars(
            select(PersonAlert).where(
                PersonAlert.person_id == person, PersonAlert.alert_type == HIGH_RISK_ALERT
            )
        ).all()
        for row in rows:
            db.expunge(row)
        return list(rows)


def test_a_high_dash_score_raises_the_alert_once_and_asks_for_marac_and_an_idva(
    build: Builders, da
) -> None:
    worker, idva = da
    person = _da_person(build, worker, idva)
    sent = build.referral(
        person, by=worker, to=idva, pathway="domestic_abuse", transition="refer", values=_dash("16")
    )
    assert sent.stage == "referred"
    assert sent.reference.startswith("DA-")
    assert any("MARAC" in prompt and "IDVA" in prompt for prompt in sent.prompts)
    [alert] = _alerts(build, person)
    assert alert.category == Category.DOMESTIC_ABUSE
    assert alert.ended_at is None
    assert alert.agency_id == worker.agency_id
    tasks = {task.title: task.agency_id for task in _open_tasks(build, sent.referral_id)}
    assert tasks == {
        "Make safe contact with the person": idva.agency_id,
        "Refer to the MARAC (DASH 14 or more)": worker.agency_id,
        "Allocate an IDVA (DASH 14 or more)": idva.agency_id,
    }
    with build.database.reading() as db:
        assert db.get_one(Referral, sent.referral_id).data["dash_score"] == 16

    # A second high score (another referral for the same person) raises no second alert.
    again = build.referral(
        person, by=worker, to=idva, pathway="domestic_abuse", transition="refer", values=_dash(20)
    )
    assert len(_alerts(build, person)) == 1
    build.move(again.referral_id, "withdraw", by=worker, reason="made_in_error")

    # The stages: IDVA, MARAC referral, MARAC heard, support ended. Each task is done when
    # the referral reaches its stage.
    today = _today().isoformat()
    build.move(sent.referral_id, "allocate_idva", by=idva, idva_allocated_on=today)
    assert {t.title for t in _open_tasks(build, sent.referral_id)} == {
        "Refer to the MARAC (DASH 14 or more)"
    }
    marac_day = _today() + timedelta(days=9)
    build.move(
        sent.referral_id,
        "refer_to_marac",
        by=worker,
        marac_referred_on=today,
        marac_on=marac_day.isoformat(),
    )
    [prepare] = _open_tasks(build, sent.referral_id)
    assert prepare.title == "Prepare the case for the MARAC"
    assert prepare.agency_id == idva.agency_id
    assert prepare.due_at.astimezone(LONDON).date() == marac_day
    build.move(sent.referral_id, "heard_at_marac", by=idva, heard_on=today)
    ended = build.move(sent.referral_id, "close", by=idva, reason="safer")
    assert ended.stage == "closed"
    assert _open_tasks(build, sent.referral_id) == []
    with build.database.reading() as db:
        states = db.scalars(
            select(Task.state).where(Task.source_id == sent.referral_id, Task.title.like("%DASH%"))
        ).all()
    assert sorted(states) == [TaskState.DONE, TaskState.DONE]
    assert len(_alerts(build, person)) == 1


def test_a_dash_score_under_14_is_standard_support_until_a_new_score_reaches_14(
    build: Builders, da
) -> None:
    worker, idva = da
    person = _da_person(build, worker, idva)
    sent = build.referral(
        person, by=worker, to=idva, pathway="domestic_abuse", transition="refer", values=_dash(13)
    )
    assert sent.prompts == ()
    assert _alerts(build, person) == []
    assert [t.title for t in _open_tasks(build, sent.referral_id)] == [
        "Make safe contact with the person"
    ]
    build.move(sent.referral_id, "support", by=idva)
    low = build.move(
        sent.referral_id, "reassess", by=idva, dash_score=9, dash_completed_on=_today().isoformat()
    )
    assert low.stage == "supported"
    assert low.prompts == ()
    assert _alerts(build, person) == []
    high = build.move(
        sent.referral_id, "reassess", by=idva, dash_score=14, dash_completed_on=_today().isoformat()
    )
    assert high.prompts
    assert len(_alerts(build, person)) == 1
    assert {t.title for t in _open_tasks(build, sent.referral_id)} == {
        "Allocate an IDVA (DASH 14 or more)",
        "Refer to the MARAC (DASH 14 or more)",
    }
    build.move(
        sent.referral_id, "reassess", by=idva, dash_score=15, dash_completed_on=_today().isoformat()
    )
    assert len(_alerts(build, person)) == 1
    build.move(sent.referral_id, "allocate_idva", by=idva, idva_allocated_on=_today().isoformat())
    assert {t.title for t in _open_tasks(build, sent.referral_id)} == {
        "Refer to the MARAC (DASH 14 or more)"
    }


@pytest.mark.parametrize("score", ["25", "-1", 25, -1, "twelve", "", "13.5"])
def test_a_dash_score_outside_0_to_24_is_refused(build: Builders, da, score: object) -> None:
    worker, idva = da
    person = _da_person(build, worker, idva)
    before = _count(build, AuditEvent)
    with pytest.raises(TransitionInvalid) as refused:
        build.referral(
            person, by=worker, to=idva, pathway="domestic_abuse", transition="refer",
            values=_dash(score),
        )  # fmt: skip
    assert set(refused.value.problems) == {"dash_score"}
    assert _count(build, Referral) == 0
    assert _alerts(build, person) == []
    assert _count(build, AuditEvent) == before


def test_the_domestic_abuse_pathway_refuses_the_wrong_side_and_role(build: Builders, da) -> None:
    worker, idva = da
    person = _da_person(build, worker, idva)
    police = build.agency("Northshire Police", AgencyKind.POLICE)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    with pytest.raises(NotAllowed):  # custody officers cannot read domestic abuse
        build.referral(
            person, by=custody, to=idva, pathway="domestic_abuse", transition="refer",
            values=_dash(16),
        )  # fmt: skip
    refuge = build.agency("Second Refuge", AgencyKind.DOMESTIC_ABUSE)
    other_service = build.user(Role.WORKER, agency=refuge)
    with pytest.raises(NotAllowed):  # a domestic-abuse service does not refer on this pathway
        build.referral(
            person, by=idva, to=other_service, pathway="domestic_abuse", transition="refer",
            values=_dash(16),
        )  # fmt: skip
    sent = build.referral(
        person, by=worker, to=idva, pathway="domestic_abuse", transition="refer", values=_dash(16)
    )
    with pytest.raises(NotAllowed):  # the referrer does not allocate the service's IDVA
        build.move(
            sent.referral_id, "allocate_idva", by=worker, idva_allocated_on=_today().isoformat()
        )
    with pytest.raises(TransitionInvalid) as no_reason:
        build.move(sent.referral_id, "not_engage", by=idva)
    assert set(no_reason.value.problems) == {"reason"}
    with pytest.raises(TransitionRefused):
        build.move(sent.referral_id, "heard_at_marac", by=idva, heard_on=_today().isoformat())


# --- prison release: the 21-day clock ---------------------------------------------------------


@pytest.fixture
def release(build: Builders) -> tuple[MadeUser, MadeUser]:
    prison = build.agency("HMP Greystone", AgencyKind.PRISON)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    officer = build.user(Role.WORKER, agency=prison)
    worker = build.user(Role.WORKER, agency=treatment)
    return officer, worker


def _released(
    build: Builders, officer: MadeUser, worker: MadeUser, release_date: date
) -> tuple[uuid.UUID, Outcome]:
    person = build.person(officer, "Kit", "Fictional")
    build.consent(
        person, by=officer, to=worker, categories=[Category.OFFENDING, Category.SUBSTANCE_USE]
    )
    sent = build.referral(
        person,
        by=officer,
        to=worker,
        pathway="prison_release",
        transition="refer",
        release_date=release_date.isoformat(),
        treatment_need="opiates_and_crack",
        on_prescription="yes",
    )
    return person, sent


def _clock_of(build: Builders, referral_id: uuid.UUID) -> Clock:
    [task] = _open_tasks(build, referral_id)
    return Clock(task.title, task.due_at, task.at_risk_at)


def test_the_release_date_starts_a_21_day_clock_at_risk_from_day_14(
    build: Builders, release, frozen_clock
) -> None:
    officer, worker = release
    released_on = _today()
    _person, sent = _released(build, officer, worker, released_on)
    assert sent.stage == "awaiting_pickup"
    assert sent.reference.startswith("PRL-")
    with build.database.reading() as db:
        assert db.get_one(Referral, sent.referral_id).category == Category.OFFENDING
    [task] = _open_tasks(build, sent.referral_id)
    assert task.agency_id == worker.agency_id
    assert task.due_at == datetime.combine(released_on + timedelta(days=21), time(17), LONDON)
    assert task.at_risk_at == datetime.combine(released_on + timedelta(days=14), time(0), LONDON)

    def state_on(day: int) -> str:
        moment = datetime.combine(released_on + timedelta(days=day), time(11), LONDON)
        frozen_clock.now = moment.astimezone(UTC)
        return _clock_of(build, sent.referral_id).state(clock.utcnow())

    assert state_on(1) == "due"
    assert state_on(13) == "due"
    assert state_on(14) == "at_risk"
    assert state_on(15) == "at_risk"
    assert state_on(21) == "due_today"
    assert state_on(22) == "overdue"


def test_booking_keeps_the_clock_and_attending_is_picked_up(
    build: Builders, release, frozen_clock
) -> None:
    officer, worker = release
    released_on = _today() - timedelta(days=3)
    _person, sent = _released(build, officer, worker, released_on)
    first = _clock_of(build, sent.referral_id)
    appointment = clock.to_london(frozen_clock.now + timedelta(days=5)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    booked = build.move(
        sent.referral_id,
        "book_appointment",
        by=worker,
        first_appointment_at=appointment.strftime("%Y-%m-%dT%H:%M"),
    )
    assert booked.stage == "appointment_booked"
    with build.database.reading() as db:
        assert db.get_one(Referral, sent.referral_id).stage_category == Category.SUBSTANCE_USE
    kept = _clock_of(build, sent.referral_id)
    assert (kept.due_at, kept.at_risk_at) == (first.due_at, first.at_risk_at)

    frozen_clock.advance(days=6)  # day 9 after release
    picked = build.move(sent.referral_id, "pick_up", by=worker, attended_on=_today().isoformat())
    assert picked.stage == "picked_up"
    assert _open_tasks(build, sent.referral_id) == []
    with build.database.reading() as db:
        referral = db.get_one(Referral, sent.referral_id)
        assert referral.closed_at is not None
        assert referral.data["attended_on"] == _today().isoformat()
        assert (referral.data["release_date"], referral.data["treatment_need"]) == (
            released_on.isoformat(),
            "opiates_and_crack",
        )


def test_the_prison_release_pathway_refuses_what_it_should(build: Builders, release) -> None:
    officer, worker = release
    person = build.person(officer)
    # Offending information (the release) needs consent or a basis for the treatment service.
    with pytest.raises(PersonError):
        build.referral(
            person, by=officer, to=worker, pathway="prison_release", transition="refer",
            release_date=_today().isoformat(), treatment_need="opiates", on_prescription="no",
        )  # fmt: skip
    build.consent(person, by=officer, to=worker, categories=[Category.OFFENDING])
    with pytest.raises(TransitionInvalid) as missing:
        build.referral(
            person, by=officer, to=worker, pathway="prison_release", transition="refer",
            treatment_need="heroin", on_prescription="no",
        )  # fmt: skip
    assert set(missing.value.problems) == {"release_date", "treatment_need"}
    with pytest.raises(NotAllowed):  # treatment does not refer itself for continuity of care
        build.referral(
            person, by=worker, to=officer, pathway="prison_release", transition="refer",
            release_date=_today().isoformat(), treatment_need="opiates", on_prescription="no",
        )  # fmt: skip
    sent = build.referral(
        person, by=officer, to=worker, pathway="prison_release", transition="refer",
        release_date=_today().isoformat(), treatment_need="opiates", on_prescription="no",
    )  # fmt: skip
    with pytest.raises(NotAllowed):  # only the treatment service records the pick-up
        build.move(sent.referral_id, "pick_up", by=officer, attended_on=_today().isoformat())
    with pytest.raises(TransitionInvalid) as no_reason:
        build.move(sent.referral_id, "not_pick_up", by=worker)
    assert set(no_reason.value.problems) == {"reason"}
    assert _count(build, ReferralEvent) == 1
    ended = build.move(sent.referral_id, "not_pick_up", by=worker, reason="recalled")
    assert ended.stage == "not_picked_up"
    assert _open_tasks(build, sent.referral_id) == []
    with build.database.reading() as db:
        cancelled = db.scalars(select(Task.state).where(Task.source_id == sent.referral_id)).all()
    assert list(cancelled) == [TaskState.DONE]
