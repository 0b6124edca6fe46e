"""Reads of one contact and its note's revisions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, may_read
from casework.agencies.models import Agency
from casework.contacts.models import Contact, Note
from casework.people.codes import ContactKind, ContactOutcome
from casework.people.queries import NotFoundError
from casework.security.vault import Vault
from casework.users.models import User


@dataclass(frozen=True)
class NoteRevision:
    revision: int
    body: str
    agency_only: bool
    author_name: str
    created_at: datetime


@dataclass(frozen=True)
class ContactView:
    id: uuid.UUID
    version: int
    agency_id: uuid.UUID
    agency_name: str
    worker_name: str
    recorded_by_name: str
    occurred_at: datetime
    kind: ContactKind
    outcome: ContactOutcome
    duration_minutes: int | None
    place: str
    #: Newest first; only the revisions the viewer may read.
    revisions: list[NoteRevision]
    own: bool
    category: Category

    @property
    def note(self) -> NoteRevision | None:
        return self.revisions[0] if self.revisions else None


def contact_view(
    db: Session, vault: Vault, viewer: Viewer, access: PersonAccess, contact_id: uuid.UUID
) -> ContactView:
    worker = aliased(User)
    recorder = aliased(User)
    row = db.execute(
        select(Contact, Agency.name, worker.full_name, recorder.full_name)
        .join(Agency, Agency.id == Contact.agency_id)
        .join(worker, worker.id == Contact.worker_id)
        .join(recorder, recorder.id == Contact.recorded_by_id)
        .where(Contact.id == contact_id, Contact.person_id == access.person_id)
    ).first()
    if row is None:
        raise NotFoundError(str(contact_id))
    contact, agency_name, worker_name, recorded_by_name = row
    if not may_read(viewer, access, agency_id=contact.agency_id, category=contact.category):
        raise NotFoundError(str(contact_id))
    author = aliased(User)
    revisions = []
    for note, author_name in db.execute(
        select(Note, author.full_name)
        .join(author, author.id == Note.author_id)
        .where(Note.contact_id == contact_id)
        .order_by(Note.revision.desc())
    ).all():
        if not may_read(
            viewer,
            access,
            agency_id=note.agency_id,
            category=Category.CASE_NOTES,
            agency_only=note.agency_only,
        ):
            continue
        revisions.append(
            NoteRevision(
                revision=note.revision,
                body=vault.open(access.person_id, "notes", "body_enc", note.id, note.body_enc),
                agency_only=note.agency_only,
                author_name=author_name,
                created_at=note.created_at,
            )
        )
    pid = access.person_id
    return ContactView(
        id=contact.id,
        version=contact.version,
        agency_id=contact.agency_id,
        agency_name=agency_name,
        worker_name=worker_name,
        recorded_by_name=recorded_by_name,
        occurred_at=contact.occurred_at,
        kind=contact.kind,
        outcome=contact.outcome,
        duration_minutes=contact.duration_minutes,
        place=vault.open(pid, "contacts", "place_enc", contact.id, contact.place_enc)
        if contact.place_enc is not None
        else "",
        revisions=revisions,
        own=contact.agency_id == viewer.agency_id,
        category=contact.category,
    )
