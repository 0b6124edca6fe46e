"""Lawful bases for sharing a person's information between agencies (DECISIONS §3).

* A **sharing basis** is consent, or another lawful basis (vital interests, safeguarding, legal
  obligation). It names one receiving agency, or every agency of a kind, and the categories of
  information it covers; it covers items recorded by any other agency.
* A recorded basis is never edited. A correction (or a renewal) is a new row that
  **supersedes** it; withdrawal (consent) or an early end (another basis) and information
  governance's review are recorded on the row once, never changed afterwards.
* **Emergency access** ("break-glass") lets one user read one person's record for a few hours
  after giving a reason; every use lands in information governance's review queue.

Free text (purpose, justification, reasons, notes, the signed form's reference) is encrypted
under the person's key and bound to its row; everything else is codes, ids and dates, so the
access policy's checks are plain SQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.agencies.models import AgencyKind
from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person
from casework.users.models import User

# The foreign keys below take their column types from these tables, which must be known first:
# the access policy builds statements on these columns when it is imported.
_REFERENCED = (Person, User)


class BasisKind(StrEnum):
    CONSENT = "consent"
    VITAL_INTERESTS = "vital_interests"
    SAFEGUARDING = "safeguarding"
    LEGAL_OBLIGATION = "legal_obligation"


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC = "electronic"


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EmergencyReason(StrEnum):
    RISK_TO_LIFE = "risk_to_life"
    SAFEGUARDING = "safeguarding"
    CRISIS_OUT_OF_HOURS = "crisis_out_of_hours"
    OTHER = "other"


class EmergencyReview(StrEnum):
    PENDING = "pending"
    APPROPRIATE = "appropriate"
    CONCERN = "concern"


class SharingBasis(IdMixin, VersionedMixin, Base):
    __tablename__ = "sharing_bases"
    __table_args__ = (
        CheckConstraint(
            "(agency_id IS NULL) <> (agency_kind IS NULL)", name="names_one_agency_or_kind"
        ),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index(None, "person_id", "ends_on"),
        Index(None, "review_state", "recorded_at"),
        Index(None, "recorded_by_agency_id", "ends_on"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[BasisKind] = mapped_column(enum_column(BasisKind, "basis_kind"))
    #: The receiving agency, or (``agency_kind``) every agency of a kind.
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    agency_kind: Mapped[AgencyKind | None] = mapped_column(enum_column(AgencyKind, "agency_kind"))
    #: Encrypted: the purpose (consent) or the written justification (another basis).
    statement_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: Consent only: how it was given, and (encrypted) the reference of the signed form.
    method: Mapped[ConsentMethod | None] = mapped_column(enum_column(ConsentMethod, "method"))
    form_reference_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Consent: the day it was given. Another basis: the day it was recorded.
    starts_on: Mapped[date]
    #: Consent: its review date. Another basis: its end date. In force up to and including it.
    ends_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=_now)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_by_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    #: The record this one corrects or renews (that record is then superseded by this one).
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sharing_bases.id"), index=True
    )
    superseded_at: Mapped[datetime | None]
    #: Withdrawal of consent, or the early end of another basis.
    withdrawn_on: Mapped[date | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Another basis only: information governance's review (consent is not reviewed by IG).
    review_state: Mapped[ReviewState | None] = mapped_column(
        enum_column(ReviewState, "review_state")
    )
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    review_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class SharingBasisCategory(Base):
    """One category of information a sharing basis covers."""

    __tablename__ = "sharing_basis_categories"

    basis_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sharing_bases.id"), primary_key=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"), primary_key=True)


class EmergencyAccess(IdMixin, VersionedMixin, Base):
    """One user's time-limited emergency access to one person's record (DECISIONS §3 rule 3)."""

    __tablename__ = "emergency_accesses"
    __table_args__ = (
        Index(None, "user_id", "expires_at"),
        Index(None, "person_id", "started_at"),
        Index(None, "review_state", "started_at"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    reason: Mapped[EmergencyReason] = mapped_column(enum_column(EmergencyReason, "reason"))
    #: Encrypted: what the emergency is, in the user's words.
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    #: Set when the user ends it early.
    ended_at: Mapped[datetime | None]
    review_state: Mapped[EmergencyReview] = mapped_column(
        enum_column(EmergencyReview, "emergency_review")
    )
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    review_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
