"""Server-side sessions and sign-in attempts.

The browser holds only a signed cookie with a random session token; the database holds its
SHA-256 hash. Revoking the row ends the session at once, so a replayed cookie gets nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, enum_column


class RevokeReason(StrEnum):
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason code
    MFA_COMPLETED = "mfa_completed"
    ACCOUNT_DISABLED = "account_disabled"
    ADMIN_RESET = "admin_reset"
    IDLE_TIMEOUT = "idle_timeout"
    ABSOLUTE_TIMEOUT = "absolute_timeout"


class UserSession(IdMixin, Base):
    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    #: When the second factor was checked in this session; None = password step only.
    mfa_verified_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[RevokeReason | None] = mapped_column(
        enum_column(RevokeReason, "revoked_reason")
    )
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class AttemptKind(StrEnum):
    PASSWORD = "password"  # noqa: S105 - a kind of attempt, not a password
    TOTP = "totp"


class AttemptOutcome(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    THROTTLED = "throttled"


class LoginAttempt(IdMixin, Base):
    """One sign-in step. Counted to throttle guessing across every worker process.

    ``identifier_hmac`` is a keyed hash of the normalised email typed, so attempts on unknown
    accounts are throttled too without storing what was typed.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_identifier_at", "identifier_hmac", "attempted_at"),
        Index("ix_login_attempts_ip_at", "ip_address", "attempted_at"),
    )

    attempted_at: Mapped[datetime]
    kind: Mapped[AttemptKind] = mapped_column(enum_column(AttemptKind, "attempt_kind"))
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome, "attempt_outcome"))
    identifier_hmac: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    ip_address: Mapped[str] = mapped_column(String(64))
