"""API tokens and the idempotency keys of the requests made with them.

A token is a non-interactive credential (DECISIONS §6) that an administrator creates for a user
or for a **service account** (a ``users`` row flagged ``is_service_account``: it belongs to an
agency, holds one role and can never sign in interactively). Only the SHA-256 of the token is
stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, _now
from casework.users.models import User

_REFERENCED = (User,)


class ApiToken(IdMixin, Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: What the administrator called it ("Custody system, Northdale suite").
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The scopes it carries (codes from ``casework.access.rules.API_SCOPES``), sorted.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: Written at most once a minute, in a transaction of its own.
    last_used_at: Mapped[datetime | None]


class IdempotencyKey(IdMixin, Base):
    """One POST made with an ``Idempotency-Key``: the request's fingerprint and the response
    it got. Unique per token, so two concurrent retries cannot both do the work: the second
    waits for the first's row (PostgreSQL) or for the write lock (SQLite), then replays it."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"), Index(None, "created_at"))

    token_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the method, path and canonical JSON body.
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    #: The JSON response body replayed to a retry (ids, codes and the reference only).
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
