"""The audit log: who did what, to which record, when, and whether it was allowed.

Rows hold ids, codes and category names only, never decrypted values or free text.
Issue 4 adds per-row MACs, batch seals and the person link table on top of this table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_target", "target_type", "target_id"),
    )

    occurred_at: Mapped[datetime]
    #: Dotted code, e.g. "auth.sign_in", "admin.user.disable".
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
