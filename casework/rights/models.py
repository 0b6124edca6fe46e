"""Information-rights requests (issue 9): subject access, rectification, restriction, erasure.

A request is logged by information governance with the date it was received and how the
requester's identity was checked; it is due one calendar month later (a task says so). While a
request is open, the information-governance user handling it reads all of the person's items
for it, each read audited (DECISIONS §3 rule 4). Free text (the request's details, a decision's
reasons, an exemption's reason, a redaction's words) is encrypted under the person's key, so an
erasure makes it unreadable along with everything else.

A subject access request's pack is built by the job runner: it claims a queued pack, counts its
progress as it goes, and stores the HTML, PDF and JSON encrypted under the person's key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person
from casework.users.models import User

_REFERENCED = (Person, User)


class RequestKind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    ERASURE = "erasure"


class RequestState(StrEnum):
    #: Logged, being handled (rule 4 applies).
    OPEN = "open"
    #: Decided in the person's favour and carried out (pack sent, record erased, ...).
    COMPLETED = "completed"
    #: Refused with a lawful reason.
    REFUSED = "refused"
    #: Withdrawn by the requester.
    WITHDRAWN = "withdrawn"


class InformationRequest(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "information_requests"
    __table_args__ = (
        Index(None, "person_id", "state"),
        Index(None, "state", "due_on"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "request_kind"))
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, "request_state"), default=RequestState.OPEN
    )
    received_on: Mapped[date]
    #: One calendar month after ``received_on`` (UK GDPR Art 12(3)); may be extended.
    due_on: Mapped[date]
    #: How the requester's identity was checked (a configured code), and by whom.
    identity_check: Mapped[str] = mapped_column(String(40))
    logged_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    logged_by_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    #: The information-governance user handling it (rule 4 is theirs).
    handler_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: The due-date task.
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id"))
    #: Encrypted under the person's key: what was asked for, in the requester's words.
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The decision (restriction, erasure, rectification): a lawful-reason code, who, when.
    decision_ground: Mapped[str | None] = mapped_column(String(40))
    #: Encrypted under the person's key: the decision's reasons.
    decision_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class ExemptionGround(StrEnum):
    THIRD_PARTY = "third_party"
    SERIOUS_HARM = "serious_harm"
    POLICE_RESTRICTION = "police_restriction"


class SarExemption(IdMixin, Base):
    """One item left out of a subject access pack, with its ground and reason."""

    __tablename__ = "sar_exemptions"
    __table_args__ = (UniqueConstraint("request_id", "item_table", "item_id"),)

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("information_requests.id"))
    #: The item's table and id (``contacts``, ``notes``, ``referral_events``, ...).
    item_table: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[uuid.UUID]
    ground: Mapped[ExemptionGround] = mapped_column(
        enum_column(ExemptionGround, "exemption_ground")
    )
    #: Encrypted under the person's key.
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    made_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(default=_now)


class SarRedaction(IdMixin, Base):
    """Words (a third party's name) blacked out of one item's text in the pack."""

    __tablename__ = "sar_redactions"
    __table_args__ = (Index(None, "request_id", "item_table", "item_id"),)

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("information_requests.id"))
    item_table: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[uuid.UUID]
    #: Encrypted under the person's key: the words to redact.
    words_enc: Mapped[bytes] = mapped_column(LargeBinary)
    made_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(default=_now)


class PackState(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


_BUILDING = text("state IN ('queued', 'building')")


class SarPack(IdMixin, Base):
    """One build of a subject access pack, by the job runner."""

    __tablename__ = "sar_packs"
    __table_args__ = (
        # One build at a time per request.
        Index(
            "uq_sar_packs_building",
            "request_id",
            unique=True,
            sqlite_where=_BUILDING,
            postgresql_where=_BUILDING,
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("information_requests.id"))
    state: Mapped[PackState] = mapped_column(
        enum_column(PackState, "pack_state"), default=PackState.QUEUED
    )
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=_now)
    #: The runner that claimed it and until when (a dead runner's claim runs out).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    #: Progress: items done of items found.
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    #: A short code when it failed (never data).
    error: Mapped[str | None] = mapped_column(String(80))
    #: The pack, encrypted under the person's key (AAD binds each to this row and column).
    html_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    json_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
