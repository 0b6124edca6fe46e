"""Reading a user's in-app notifications: the list (newest first) and the unread count that
every page's navigation shows (one statement on the partial index of unread rows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from casework.notifications.models import Notification, OutboxMessage
from casework.users.models import User

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


# --- the outbox (admins) ----------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: uuid.UUID
    created_at: datetime
    channel: str
    state: str
    attempts: int
    recipient: str
    backend: str | None
    provider_ref: str | None
    sent_at: datetime | None
    next_attempt_at: datetime
    last_error: str | None


def outbox_rows(db: Session, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
    """The newest outside messages (content-free by construction), failed first when asked."""
    statement = (
        select(OutboxMessage, User.full_name)
        .join(User, User.id == OutboxMessage.user_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
        .limit(limit)
    )
    if state is not None:
        statement = statement.where(OutboxMessage.state == state)
    return [
        OutboxRow(
            id=row.id,
            created_at=row.created_at,
            channel=row.channel.value,
            state=row.state.value,
            attempts=row.attempts,
            recipient=name,
            backend=row.backend,
            provider_ref=row.provider_ref,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
        )
        for row, name in db.execute(statement).all()
    ]


def outbox_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    return {state.value: int(count) for state, count in rows}
