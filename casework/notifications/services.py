"""Writing in-app notifications and marking them read. Services flush; the caller commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from casework.clock import utcnow
from casework.notifications.models import Notification, OutboxMessage, OutboxState


def notify(
    db: Session,
    *,
    user_ids: Iterable[uuid.UUID],
    kind: str,
    subject: str,
    link: str | None = None,
    person_id: uuid.UUID | None = None,
) -> int:
    """One notification per user (each user once). The subject holds no person's details."""
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "kind": kind,
            "subject": subject[:200],
            "link": link,
            "person_id": person_id,
            "created_at": now,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        db.execute(insert(Notification), rows)
    return len(rows)


def mark_read(db: Session, *, user_id: uuid.UUID, ids: Iterable[uuid.UUID] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    conditions = [Notification.user_id == user_id, Notification.read_at.is_(None)]
    if ids is not None:
        conditions.append(Notification.id.in_(list(ids)))
    result = db.execute(
        update(Notification)
        .where(*conditions)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry_failed(db: Session, outbox_ids: Iterable[uuid.UUID]) -> int:
    """Queue failed outside messages again (an admin, once the address or provider is fixed):
    the same rows, so each still goes once more at most."""
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(outbox_ids)), OutboxMessage.state == OutboxState.FAILED)
        .values(state=OutboxState.QUEUED, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
