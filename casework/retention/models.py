"""Retention (UK GDPR Art 5(1)(e), issue 9): a person record past its retention date waits in
information governance's review queue. Confirmed, the job runner anonymises it (the erasure
steps); extended, it comes back on the new date. Rules live in ``config/retention.toml``.

Only codes, dates and counts are kept here, so "what was removed" is a count report.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person

_REFERENCED = (Person,)


class ReviewState(StrEnum):
    #: In the queue, waiting for information governance.
    PENDING = "pending"
    #: Confirmed: the runner anonymises the record.
    CONFIRMED = "confirmed"
    #: Kept longer, with a reason, until ``extended_until``.
    EXTENDED = "extended"
    #: The runner anonymised the record.
    REMOVED = "removed"
    #: No longer due (the person came back into service before review).
    CANCELLED = "cancelled"


_WAITING = text("state IN ('pending', 'confirmed')")


class RetentionReview(IdMixin, VersionedMixin, Base):
    __tablename__ = "retention_reviews"
    __table_args__ = (
        Index(None, "state", "due_on"),
        # One review waiting per person, however many sweeps run at once.
        Index(
            "uq_retention_reviews_waiting",
            "person_id",
            unique=True,
            sqlite_where=_WAITING,
            postgresql_where=_WAITING,
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    #: The rule (its key in config/retention.toml) and the date it gave.
    rule: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[date]
    state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState, "retention_review_state"), default=ReviewState.PENDING
    )
    found_at: Mapped[datetime] = mapped_column(default=_now)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    extended_until: Mapped[date | None]
    #: Encrypted under the person's key: why it is kept longer.
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    removed_at: Mapped[datetime | None]
