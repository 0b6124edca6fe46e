"""Writing audit events (DECISIONS §4).

Writes share the action's transaction (no action without its audit row); refusals, and the
reads of a page on SQLite, get a short transaction of their own. Every row gets a keyed MAC of
its own content, computed here, and one link row per person it showed or changed, so "who has
seen this record" is one indexed query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from casework.audit.chain import row_payload
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.clock import utcnow
from casework.db import Database
from casework.security.macs import MacKeyring

#: Where a session finds the audit keyring (set by ``Database.configure_audit``).
KEYRING = "casework.audit_keyring"


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the services see it (no Flask objects)."""

    user_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    request_id: str | None = None
    ip_address: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Actor(user_id=None, agency_id=None, request_id="system")


class AuditUnavailableError(RuntimeError):
    """The session has no audit keyring: nothing may be written without its audit row."""


def enable_audit(database: Database, keyring: MacKeyring) -> None:
    """Let every session of ``database`` write audit rows, each with its MAC."""
    database.share_with_sessions(**{KEYRING: keyring})


def keyring_of(db: Session) -> MacKeyring:
    keyring = db.info.get(KEYRING)
    if not isinstance(keyring, MacKeyring):
        raise AuditUnavailableError("this database session cannot write audit rows (no audit key)")
    return keyring


def record(
    db: Session,
    actor: Actor,
    action: str,
    *,
    outcome: str = "allowed",
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
    people: Iterable[uuid.UUID] = (),
    revealed: Iterable[uuid.UUID] = (),
    categories: Iterable[str] = (),
    emergency_access_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add one audit row (a single Core insert, plus its person links) in ``db``'s transaction.

    ``people``: whose information the action showed or changed; an allowed action whose target
    is a person links that person too. ``revealed``: people shown only as "a matching person
    exists" (name and date of birth), for search. ``categories``: the categories shown or
    changed (codes).
    """
    keyring = keyring_of(db)
    linked: dict[uuid.UUID, bool] = {pid: True for pid in revealed}
    linked.update({pid: False for pid in people})
    if outcome == "allowed" and target_type == "person" and isinstance(target_id, uuid.UUID):
        linked[target_id] = False
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "occurred_at": utcnow(),
        "action": action,
        "outcome": outcome,
        "actor_user_id": actor.user_id,
        "actor_agency_id": actor.agency_id,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "request_id": actor.request_id,
        "ip_address": actor.ip_address,
        "details": details or {},
        "categories": sorted({str(category) for category in categories}),
        "emergency_access_id": emergency_access_id,
    }
    links = sorted(linked.items())
    row["mac"] = keyring.sign(row_payload(row, links))
    row["mac_key_id"] = keyring.key_id
    # Core statements built once, on the session's connection: a page view pays for two
    # small inserts, not for the ORM's unit of work (DECISIONS §4, the performance budget).
    conn = db.connection()
    conn.execute(_INSERT_EVENT, row)
    if links:
        conn.execute(
            _INSERT_LINK,
            [
                {"event_id": row["id"], "person_id": pid, "revealed": revealed_only}
                for pid, revealed_only in links
            ],
        )
    return row["id"]  # type: ignore[no-any-return]


_INSERT_EVENT = insert(AuditEvent)
_INSERT_LINK = insert(AuditEventPerson)
