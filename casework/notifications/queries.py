"""Reading a user's in-app notifications: the list (newest first) and the unread count that
every page's navigation shows (one statement on the partial index of unread rows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from casework.notifications.models import Notification

#: Built once: every page of every signed-in user runs it (ADR 0022).
_UNREAD_COUNT = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
)


@dataclass(frozen=True)
class NotificationView:
    id: uuid.UUID
    kind: str
    subject: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def unread_count(db: Session, user_id: uuid.UUID) -> int:
    return int(db.connection().execute(_UNREAD_COUNT, {"user_id": user_id}).scalar_one())


def notifications_for(
    db: Session, user_id: uuid.UUID, *, limit: int = 50, offset: int = 0
) -> list[NotificationView]:
    """The user's notifications, newest first (only their own: the user id is the filter)."""
    rows = db.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.subject,
            Notification.link,
            Notification.created_at,
            Notification.read_at,
        )
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
        .offset(offset)
    )
    return [NotificationView(*row) for row in rows]


def count_for(db: Session, user_id: uuid.UUID) -> int:
    return int(
        db.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user_id)
        )
        or 0
    )


def notification_of(
    db: Session, user_id: uuid.UUID, notification_id: uuid.UUID
) -> NotificationView | None:
    """One of the user's notifications (another user's is None: answer 404)."""
    row = db.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.subject,
            Notification.link,
            Notification.created_at,
            Notification.read_at,
        ).where(Notification.id == notification_id, Notification.user_id == user_id)
    ).first()
    return NotificationView(*row) if row is not None else None
