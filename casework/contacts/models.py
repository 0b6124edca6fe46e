"""Contacts with a person, and their notes (append-only revisions)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, _now, enum_column
from casework.people.codes import ContactKind, ContactOutcome


class Contact(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "contacts"
    #: Covers "latest contact per person" (caseloads, by readable category) and "per agency"
    #: (the family): read from the index alone, not from the (large) table.
    __table_args__ = (Index(None, "person_id", "category", "occurred_at", "agency_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    #: The worker who had the contact.
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind, "contact_kind"))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_column(ContactOutcome, "contact_outcome"))
    duration_minutes: Mapped[int | None]
    #: Encrypted free text: where it happened.
    place_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The category of the fact of this contact (the recording agency's kind).
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    #: The revision number of the current note (0: no note).
    note_revision: Mapped[int] = mapped_column(default=0)


class Note(IdMixin, Base):
    """One revision of a contact's note. Never updated or deleted: an edit adds a revision."""

    __tablename__ = "notes"
    __table_args__ = (UniqueConstraint("contact_id", "revision"),)

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int]
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: "My agency only": other agencies never see this note's text (DECISIONS §3).
    agency_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class LatestContact(Base):
    """Each agency's latest contact with a person, per category: kept by the contact service
    as contacts are logged, so caseloads and families read a handful of rows instead of
    aggregating every contact (ADR 0022). ``rebuild_latest_contacts`` remakes it in bulk."""

    __tablename__ = "latest_contacts"
    #: The caseload report: an agency's last contact with each person, read from the index.
    __table_args__ = (Index(None, "agency_id", "person_id", "occurred_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"), primary_key=True)
    occurred_at: Mapped[datetime]
