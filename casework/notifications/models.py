"""In-app notifications: a message to one user, read or not.

The subject is written for the inside of the app but still holds no person's details: a
reference number and what happened ("Referral GR-2026-7KQ3MX was declined"). The page it links
to applies the access policy when it is opened. ``dedupe_key`` (unique) lets a sweep write a
reminder exactly once (issue 7).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, _now, enum_column
from casework.users.models import User

_REFERENCED = (User,)
_UNREAD = text("read_at IS NULL")
_QUEUED = text("state IN ('queued', 'sending')")


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(
            "ix_notifications_unread",
            "user_id",
            sqlite_where=_UNREAD,
            postgresql_where=_UNREAD,
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    #: A path inside the app (``/referrals/<id>``), checked when followed.
    link: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    read_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxState(StrEnum):
    QUEUED = "queued"
    #: Claimed by a runner that is handing it to the provider (its lease ends at
    #: ``next_attempt_at``; a runner that died part-way leaves it to be tried again).
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(IdMixin, Base):
    """A message to go outside the app (email or SMS), written exactly once per reminder and
    channel (``dedupe_key`` is unique) and delivered at least once, with its id as the
    provider's reference so that a repeat is detectable.

    ``body`` is one of the fixed, content-free texts ("You have welfare checks due in
    Casework. Sign in to view them."): never a name, address, risk or note. The address is
    looked up when sending (a changed email address is used; a removed one fails the message).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_queued_next",
            "next_attempt_at",
            sqlite_where=_QUEUED,
            postgresql_where=_QUEUED,
        ),
        Index(None, "state", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "outbox_channel"))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(String(300))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.QUEUED
    )
    created_at: Mapped[datetime] = mapped_column(default=_now)
    next_attempt_at: Mapped[datetime] = mapped_column(default=_now)
    attempts: Mapped[int] = mapped_column(default=0)
    #: The backend that took it (log, smtp, notify) and its reference for the message.
    backend: Mapped[str | None] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    #: The last failure, as the provider put it (never the message or the address).
    last_error: Mapped[str | None] = mapped_column(String(300))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
