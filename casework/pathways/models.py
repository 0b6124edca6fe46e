"""Referrals along a pathway, and the transitions that moved them.

A **referral** is one person's journey along one pathway (``config/pathways/<key>.toml``), from
a referring agency to a receiving agency. Its ``stage`` is the pathway's stage key; it is open
until it reaches an end stage (``closed_at`` set). An open referral addressed to an agency makes
that agency "involved" with the person (DECISIONS §3).

Each transition is a **referral event**: who, when, from which stage to which, and what it
recorded — codes, numbers and dates in plaintext (``data``), free text encrypted under the
person's key and bound to the event's row (``text_enc``). The referral keeps the merged
plaintext values (``data``) so that clocks, checks and reports read one row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person
from casework.users.models import User

_REFERENCED = (Person, User)
_OPEN = text("closed_at IS NULL")


class Referral(IdMixin, VersionedMixin, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        # "Referrals waiting for me" and the involvement rule: open referrals to an agency.
        Index(
            "ix_referrals_open_to_agency",
            "to_agency_id",
            "person_id",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(None, "person_id", "created_at"),
        Index(None, "from_agency_id", "created_at"),
        Index(None, "pathway", "created_at"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    pathway: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    #: The category of the current stage (who may see where the referral has got to).
    stage_category: Mapped[Category] = mapped_column(enum_column(Category, "stage_category"))
    #: The category of the fact of the referral: its starting stage's.
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    #: Read aloud and printed on notices: prefix, year and six unambiguous letters or digits.
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    from_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    to_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    closed_at: Mapped[datetime | None]
    #: The plaintext values recorded so far (codes, numbers, ISO dates), latest wins.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReferralEvent(IdMixin, Base):
    __tablename__ = "referral_events"
    __table_args__ = (
        Index(None, "referral_id", "occurred_at"),
        Index(None, "person_id", "occurred_at"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    transition: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(default=_now)
    notice: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The transition's free-text fields, as one JSON object, encrypted under the person's key.
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
