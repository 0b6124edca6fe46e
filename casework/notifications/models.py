"""In-app notifications: a message to one user, read or not.

The subject is written for the inside of the app but still holds no person's details: a
reference number and what happened ("Referral GR-2026-7KQ3MX was declined"). The page it links
to applies the access policy when it is opened. ``dedupe_key`` (unique) lets a sweep write a
reminder exactly once (issue 7).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, _now
from casework.users.models import User

_REFERENCED = (User,)
_UNREAD = text("read_at IS NULL")


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
