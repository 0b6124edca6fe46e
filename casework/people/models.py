"""A person supported by the partnership: one record across every agency (DECISIONS §1).

Personal values are stored only encrypted under the person's own data key (columns ending
``_enc``; see ``casework.security.vault``); codes, dates and ids are plaintext so that lists
and reports are set-based SQL (DECISIONS §2). Search goes through keyed blind-index tokens.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, _now, enum_column
from casework.people.codes import ErasureState, HousingStatus, Sex, TimelineKind
from casework.security.blind_index import TokenKind


class Person(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "people"
    #: The access rule's "created by the agency" as an index-only read (reports, lists).
    __table_args__ = (Index(None, "created_by_agency_id", "id"),)

    #: Encrypted JSON: given name, family name, known as, aliases.
    names_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: Encrypted JSON: date of birth, identifiers, phone, email, address lines, postcode.
    details_enc: Mapped[bytes] = mapped_column(LargeBinary)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    year_of_birth: Mapped[int | None]
    postcode_district: Mapped[str | None] = mapped_column(String(8))
    housing_status: Mapped[HousingStatus] = mapped_column(
        enum_column(HousingStatus, "housing_status")
    )
    died_on: Mapped[date | None]
    created_by_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: Restricted processing (UK GDPR Art 18, issue 9): the record is read-only while set.
    restricted_at: Mapped[datetime | None]
    #: The information-rights request that restricted it.
    restricted_by_request_id: Mapped[uuid.UUID | None]
    #: Erasure (issue 9): "erasing" while the steps run (resumable), then "erased". The row
    #: stays as a tombstone id so that the audit log still verifies; its key is destroyed.
    erasure_state: Mapped[ErasureState | None] = mapped_column(
        enum_column(ErasureState, "erasure_state")
    )
    erased_at: Mapped[datetime | None]
    #: Set when this record was merged into another (issue 9): it is no longer shown.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))

    @property
    def live(self) -> bool:
        """Neither erased nor merged into another record."""
        return self.erasure_state is None and self.merged_into_id is None


class PersonRevision(IdMixin, Base):
    """The identity and contact details as they were before a correction (DECISIONS §2:
    corrections are versioned). Encrypted under the person's key, bound to this row; read by
    information governance only (rectification, subject access)."""

    __tablename__ = "person_revisions"
    __table_args__ = (Index(None, "person_id", "version"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    #: The version of the person record these values belonged to.
    version: Mapped[int]
    names_enc: Mapped[bytes] = mapped_column(LargeBinary)
    details_enc: Mapped[bytes] = mapped_column(LargeBinary)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    housing_status: Mapped[HousingStatus] = mapped_column(
        enum_column(HousingStatus, "housing_status")
    )
    replaced_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    replaced_by_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    replaced_at: Mapped[datetime] = mapped_column(default=_now)


class PersonAlert(IdMixin, Base):
    """A warning shown wherever the person appears. Types and categories are configured."""

    __tablename__ = "person_alerts"
    __table_args__ = (Index(None, "person_id", "ended_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    alert_type: Mapped[str] = mapped_column(String(40))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(default=_now)
    #: Encrypted short detail (optional).
    detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class PersonNeed(IdMixin, Base):
    __tablename__ = "person_needs"
    __table_args__ = (Index(None, "person_id", "ended_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    need: Mapped[str] = mapped_column(String(40))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=_now)
    ended_at: Mapped[datetime | None]


class SearchToken(Base):
    """A keyed blind-index token (HMAC) of one normalised name part, phonetic code, date of
    birth or identifier of a person."""

    __tablename__ = "person_search_tokens"
    __table_args__ = (Index(None, "kind", "token"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind, "token_kind"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(12))


class TimelineEntry(IdMixin, Base):
    """One event in a person's chronology. Holds codes and ids only; text lives encrypted in
    the record it points at (a contact and its note)."""

    __tablename__ = "timeline_entries"
    __table_args__ = (Index(None, "person_id", "occurred_at", "id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[TimelineKind] = mapped_column(enum_column(TimelineKind, "timeline_kind"))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    #: Set for events about a "my agency only" note: other agencies never see them.
    agency_only: Mapped[bool] = mapped_column(default=False)
    #: Codes and ids that describe the event (never free text or personal values).
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=_now)
