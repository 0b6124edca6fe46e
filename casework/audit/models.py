"""The audit log: who did what, or saw what, of which record, when, and whether it was allowed.

Rows hold ids, codes and category names only, never decrypted values or free text (a reason
lives encrypted in its own record, referenced by id). The log is append-only: database triggers
refuse UPDATE and DELETE on these tables, each row carries a keyed MAC of its own content
(including the people it links), and rows are sealed in batches whose MACs are chained
(``casework.audit.chain``), so ``casework audit verify`` detects an edited, deleted or reordered
row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_target", "target_type", "target_id"),
    )

    occurred_at: Mapped[datetime]
    #: Dotted code, e.g. "auth.sign_in", "admin.user.disable", "person.viewed".
    action: Mapped[str] = mapped_column(String(80))
    #: "allowed", "denied" or "failed".
    outcome: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: Codes and ids only (e.g. changed field names, role codes); never values typed by a user.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The categories of information the action showed or changed (codes).
    categories: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: The emergency access the action relied on (its reason is encrypted there).
    emergency_access_id: Mapped[uuid.UUID | None]
    #: HMAC-SHA256 of the row's content and its linked people (``casework.audit.chain``).
    #: Empty only on rows written before audit MACs existed.
    mac: Mapped[str | None] = mapped_column(String(64))
    #: The id of the audit key that made ``mac``.
    mac_key_id: Mapped[str | None] = mapped_column(String(12))


class AuditEventPerson(Base):
    """A person whose information an audited action showed or changed ("who has seen this
    record"). ``revealed``: only that a matching person exists (name and date of birth)."""

    __tablename__ = "audit_event_people"
    __table_args__ = (Index(None, "person_id", "event_id"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    #: No foreign key: the audit log outlives the person's record.
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    revealed: Mapped[bool] = mapped_column(default=False)


class AuditSeal(Base):
    """A batch of audit rows sealed together: an HMAC over the previous seal's MAC, the sorted
    (row id, row MAC) pairs it covers and their count. ``event_ids`` is that id list."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sealed_at: Mapped[datetime]
    previous_mac: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int]
    event_ids: Mapped[list[str]] = mapped_column(JSON)
    mac: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(12))


class AuditSealMember(Base):
    """Which seal covers an audit row (an index of ``AuditSeal.event_ids``: finds unsealed
    rows with an anti-join, and makes sealing a row twice impossible)."""

    __tablename__ = "audit_seal_members"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    seal_seq: Mapped[int] = mapped_column(ForeignKey("audit_seals.seq"), index=True)


#: The append-only tables (triggers refuse UPDATE and DELETE on each).
APPEND_ONLY_TABLES = ("audit_events", "audit_event_people", "audit_seals", "audit_seal_members")
