"""Writing audit events. Writes share the action's transaction; refusals get their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from casework.audit.models import AuditEvent
from casework.clock import utcnow


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the services see it (no Flask objects)."""

    user_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    request_id: str | None = None
    ip_address: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Actor(user_id=None, agency_id=None, request_id="system")


def record(
    db: Session,
    actor: Actor,
    action: str,
    *,
    outcome: str = "allowed",
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit row in ``db``'s transaction (a single Core insert: cheap)."""
    db.execute(
        insert(AuditEvent).values(
            id=uuid.uuid4(),
            occurred_at=utcnow(),
            action=action,
            outcome=outcome,
            actor_user_id=actor.user_id,
            actor_agency_id=actor.agency_id,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            request_id=actor.request_id,
            ip_address=actor.ip_address,
            details=details or {},
        )
    )
