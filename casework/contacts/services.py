"""Logging contacts and revising their notes. Notes are append-only: a revision is a new row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, may_log_contact
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import utcnow
from casework.contacts.models import Contact, LatestContact, Note
from casework.db import check_version
from casework.people.codes import ContactKind, ContactOutcome, TimelineKind, information
from casework.people.services import NotAllowed, PersonError, add_timeline
from casework.people.validation import text_problem
from casework.security.vault import Vault
from casework.users.models import User

NOTE_MAX = 20_000
PLACE_MAX = 200
MAX_DURATION_MINUTES = 24 * 60


@dataclass(frozen=True)
class ContactInput:
    occurred_at: datetime
    kind: ContactKind
    outcome: ContactOutcome
    place: str = ""
    duration_minutes: int | None = None
    note: str = ""
    agency_only: bool = False
    worker_id: uuid.UUID | None = None


def _check(data: ContactInput) -> None:
    if data.occurred_at > utcnow() + timedelta(minutes=5):
        raise PersonError("occurred_at", "The contact must be now or in the past")
    if data.occurred_at < utcnow() - timedelta(days=366 * 2):
        raise PersonError("occurred_at", "The contact must be within the last 2 years")
    if data.duration_minutes is not None and not 0 <= data.duration_minutes <= MAX_DURATION_MINUTES:
        raise PersonError("duration_minutes", "Duration must be between 0 and 1,440 minutes")
    for field, value, limit, what in (
        ("place", data.place, PLACE_MAX, "Place"),
        ("note", data.note, NOTE_MAX, "Note"),
    ):
        problem = text_problem(value, max_length=limit, what=what)
        if problem:
            raise PersonError(field, problem)


def log_contact(
    db: Session,
    *,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    data: ContactInput,
) -> uuid.UUID:
    if not may_log_contact(viewer, access):
        raise NotAllowed("contact")
    _check(data)
    worker_id = data.worker_id or viewer.user_id
    if worker_id != viewer.user_id:
        worker = db.get(User, worker_id)
        if worker is None or worker.agency_id != viewer.agency_id:
            raise PersonError("worker", "Select a worker from your agency")
    contact_id = uuid.uuid4()
    person_id = access.person_id
    category = information().agency_category(viewer.agency_kind)
    place = data.place.strip()
    note = data.note.strip()
    db.add(
        Contact(
            id=contact_id,
            person_id=person_id,
            agency_id=viewer.agency_id,
            worker_id=worker_id,
            recorded_by_id=viewer.user_id,
            occurred_at=data.occurred_at,
            kind=data.kind,
            outcome=data.outcome,
            duration_minutes=data.duration_minutes,
            place_enc=vault.seal(person_id, "contacts", "place_enc", contact_id, place)
            if place
            else None,
            category=category,
            note_revision=1 if note else 0,
        )
    )
    db.flush()
    if note:
        _add_note(db, vault, viewer, person_id, contact_id, 1, note, data.agency_only)
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.CONTACT,
        category=category,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        occurred_at=data.occurred_at,
        contact_id=contact_id,
        details={"kind": data.kind.value, "outcome": data.outcome.value},
    )
    _keep_latest(db, person_id, viewer.agency_id, category, data.occurred_at)
    recorder.record(
        db,
        actor,
        "contact.logged",
        target_type="person",
        target_id=person_id,
        categories=[category, *([Category.CASE_NOTES] if note else [])],
        emergency_access_id=access.emergency_access_id,
        details={"contact_id": str(contact_id)},
    )
    return contact_id


def _add_note(  # noqa: PLR0917 - a private helper called twice, positionally
    db: Session,
    vault: Vault,
    viewer: Viewer,
    person_id: uuid.UUID,
    contact_id: uuid.UUID,
    revision: int,
    body: str,
    agency_only: bool,
) -> None:
    note_id = uuid.uuid4()
    db.add(
        Note(
            id=note_id,
            contact_id=contact_id,
            person_id=person_id,
            agency_id=viewer.agency_id,
            author_id=viewer.user_id,
            revision=revision,
            body_enc=vault.seal(person_id, "notes", "body_enc", note_id, body),
            agency_only=agency_only,
            created_at=utcnow(),
        )
    )
    db.flush()


def revise_note(
    db: Session,
    *,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    contact_id: uuid.UUID,
    body: str,
    agency_only: bool,
    expected_version: int | None,
) -> int:
    """Add a revision of a contact's note (the agency's own contacts only). Raises
    ``StaleVersion`` if someone else revised it first. Returns the new revision number."""
    contact = db.get(Contact, contact_id, with_for_update=True)
    if contact is None or contact.person_id != access.person_id:
        raise LookupError(str(contact_id))
    if contact.agency_id != viewer.agency_id or not may_log_contact(viewer, access):
        raise NotAllowed("note")
    check_version(contact, expected_version)
    body = body.strip()
    if not body:
        raise PersonError("note", "Enter the note")
    problem = text_problem(body, max_length=NOTE_MAX, what="Note")
    if problem:
        raise PersonError("note", problem)
    revision = contact.note_revision + 1
    contact.note_revision = revision
    db.flush()  # bumps the version: a concurrent reviser fails here or at check_version
    _add_note(db, vault, viewer, access.person_id, contact_id, revision, body, agency_only)
    add_timeline(
        db,
        person_id=access.person_id,
        kind=TimelineKind.NOTE_REVISED,
        category=Category.CASE_NOTES,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        contact_id=contact_id,
        agency_only=agency_only,
        details={"revision": str(revision)},
    )
    recorder.record(
        db,
        actor,
        "note.revised",
        target_type="person",
        target_id=access.person_id,
        details={"contact_id": str(contact_id), "revision": revision},
    )
    return revision


def _keep_latest(
    db: Session,
    person_id: uuid.UUID,
    agency_id: uuid.UUID,
    category: Category,
    occurred_at: datetime,
) -> None:
    """Move the agency's latest contact (per category) forward, atomically on both databases
    (two contacts logged at once cannot both win with the older time)."""
    values = {
        "person_id": person_id,
        "agency_id": agency_id,
        "category": category,
        "occurred_at": occurred_at,
    }
    if db.get_bind().dialect.name == "postgresql":
        pg = postgresql_insert(LatestContact).values(**values)
        db.execute(
            pg.on_conflict_do_update(
                index_elements=["person_id", "agency_id", "category"],
                set_={"occurred_at": func.greatest(LatestContact.occurred_at, occurred_at)},
            )
        )
        return
    lite = sqlite_insert(LatestContact).values(**values)
    db.execute(
        lite.on_conflict_do_update(
            index_elements=["person_id", "agency_id", "category"],
            set_={"occurred_at": func.max(LatestContact.occurred_at, lite.excluded.occurred_at)},
        )
    )


def rebuild_latest_contacts(db: Session) -> None:
    """Remake ``latest_contacts`` from every contact (after bulk loads that bypass the service)."""
    db.execute(delete(LatestContact))
    db.execute(
        insert(LatestContact).from_select(
            ["person_id", "agency_id", "category", "occurred_at"],
            select(
                Contact.person_id,
                Contact.agency_id,
                Contact.category,
                func.max(Contact.occurred_at),
            ).group_by(Contact.person_id, Contact.agency_id, Contact.category),
        )
    )
