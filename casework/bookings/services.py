"""Booking a required assessment from custody: the checks each question page makes, and the
final submit, which creates the person (if new) and starts the referral in one transaction.

Services flush; the request's transaction commits. The pathway engine
(:mod:`casework.pathways.rules`) owns every rule about the booking's values: the question pages
ask it about their own fields, so a page says exactly what the final submit would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.audit.recorder import Actor
from casework.bookings.journey import Journey
from casework.bookings.queries import booked_by_journey
from casework.clock import to_london, utcnow
from casework.consent.rules import SharingRules
from casework.pathways.definitions import PathwayDef
from casework.pathways.rules import TransitionInvalid, age_on, parse_values
from casework.pathways.services import Outcome, start_referral
from casework.people.codes import FamilyRole, Sex
from casework.people.records import Details, Names, PersonFields
from casework.people.services import NewInvolvement, PersonError, create_person
from casework.security.blind_index import BlindIndex
from casework.security.vault import Vault
from casework.workdays import WorkingDays, working_days

PATHWAY = "required_assessment"
TRANSITION = "book"


class AlreadyBooked(Exception):  # noqa: N818 - reads better at call sites
    """This journey has booked already (a second submit, or a replayed form)."""

    def __init__(self, referral_id: uuid.UUID) -> None:
        super().__init__(str(referral_id))
        self.referral_id = referral_id


@dataclass(frozen=True)
class Problem:
    """What stops the booking, on one question page's field."""

    field: str
    message: str


def age_problem(pathway: PathwayDef, born: date | None, today: date) -> str | None:
    """The pathway's minimum age (18 for a required assessment) on the day of booking."""
    if pathway.minimum_age is None:
        return None
    if born is None:
        return (
            "Enter the date of birth: a required assessment is only for people aged "
            f"{pathway.minimum_age} or over"
        )
    if born > today:
        return "Date of birth must be in the past"
    if age_on(born, today) < pathway.minimum_age:
        return (
            f"The person is under {pathway.minimum_age}: a required assessment is only for "
            f"people aged {pathway.minimum_age} or over"
        )
    return None


def check_fields(
    pathway: PathwayDef,
    names: Iterable[str],
    answers: Mapping[str, str],
    *,
    now: datetime | None = None,
    workdays: WorkingDays | None = None,
) -> dict[str, str]:
    """The engine's problems with these fields of the booking (one question page), given
    everything answered so far: the same checks, and words, as the final submit.

    The page's fields are checked with the fields its cross-checks need (the appointment is
    checked against the date the sample was sent), using the other answers as they stand."""
    step = pathway.transitions[TRANSITION]
    wanted = set(names)
    needed = set(wanted)
    for check in step.checks:
        if check.field in wanted:
            needed |= {check.after, *([check.when] if check.when else [])}
    for spec in step.fields:
        if spec.name in wanted and spec.required_when:
            needed.add(spec.required_when)
    partial = step.model_copy(
        update={
            "fields": [spec for spec in step.fields if spec.name in needed],
            "checks": [check for check in step.checks if check.field in wanted],
        }
    )
    raw = {name: answers[name] for name in needed if answers.get(name)}
    try:
        parse_values(
            partial, raw, known={}, now=now or utcnow(), workdays=workdays or working_days()
        )
    except TransitionInvalid as invalid:
        return {name: message for name, message in invalid.problems.items() if name in wanted}
    return {}


@dataclass(frozen=True)
class NewPerson:
    """The minimal record for someone nobody knows yet: names and date of birth."""

    given_name: str
    family_name: str
    born: date | None


def book_assessment(
    db: Session,
    vault: Vault,
    blind: BlindIndex,
    actor: Actor,
    viewer: Viewer,
    *,
    pathway: PathwayDef,
    person_id: uuid.UUID | None,
    new_person: NewPerson | None,
    to_agency_id: object,
    values: Mapping[str, object],
    rules: SharingRules,
    referral_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Book the initial assessment for a known person or a new one (the pages' journey and the
    API both come here): the age and every value are checked before anything is written (the
    new person's key included), then the person is created and the referral started in a
    savepoint, so a refusal leaves nothing behind in the request's transaction."""
    now = now or utcnow()
    today = to_london(now).date()
    if new_person is not None:
        problem = age_problem(pathway, new_person.born, today)
        if problem:
            raise PersonError("date_of_birth", problem)
    elif person_id is None:
        raise PersonError("person", "Select the person, or add a new person")
    step = pathway.transitions[TRANSITION]
    parse_values(step, values, known={}, now=now, workdays=working_days())
    with db.begin_nested():
        if new_person is not None:
            person_id = create_person(
                db,
                vault=vault,
                blind=blind,
                actor=actor,
                viewer=viewer,
                fields=PersonFields(
                    names=Names(new_person.given_name, new_person.family_name),
                    details=Details(date_of_birth=new_person.born),
                    sex=Sex.NOT_KNOWN,
                ),
                involvement=NewInvolvement(FamilyRole.POLICE_CONTACT, None),
            )
        assert person_id is not None  # noqa: S101 - set on both branches above
        return start_referral(
            db,
            vault,
            actor,
            viewer,
            person_id=person_id,
            pathway=pathway,
            transition=TRANSITION,
            to_agency_id=to_agency_id,
            values=values,
            rules=rules,
            now=now,
            referral_id=referral_id,
        )


def book(
    db: Session,
    vault: Vault,
    blind: BlindIndex,
    actor: Actor,
    viewer: Viewer,
    *,
    pathway: PathwayDef,
    journey: Journey,
    rules: SharingRules,
    now: datetime | None = None,
) -> Outcome:
    """The custody journey's final submit: :func:`book_assessment`, with the journey's token as
    the referral's id so that a second submit of the same journey cannot book twice.

    Raises ``PersonError`` or :class:`TransitionInvalid` (the fields to show again),
    ``NotAllowed`` (403), :class:`AlreadyBooked` (this journey booked already: show its
    confirmation), ``LookupError`` (the chosen person is gone)."""
    token = uuid.UUID(journey.token)
    earlier = booked_by_journey(db, viewer, token)
    if earlier is not None:
        raise AlreadyBooked(earlier)
    try:
        return book_assessment(
            db,
            vault,
            blind,
            actor,
            viewer,
            pathway=pathway,
            person_id=journey.person_id,
            new_person=(
                NewPerson(journey.given_name, journey.family_name, journey.born)
                if journey.new_person
                else None
            ),
            to_agency_id=_uuid_or_none(journey.to_agency_id),
            values=journey.values(),
            rules=rules,
            referral_id=token,
            now=now,
        )
    except IntegrityError:
        # Two submits of one journey at once (PostgreSQL): the other one's referral won.
        earlier = booked_by_journey(db, viewer, token)
        if earlier is None:
            raise
        raise AlreadyBooked(earlier) from None


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


__all__ = [
    "AlreadyBooked",
    "PersonError",
    "Problem",
    "TransitionInvalid",
    "age_problem",
    "book",
    "book_assessment",
    "check_fields",
]
