"""Sign-in, multi-factor authentication and server-side sessions (no Flask imports).

Throttling: each password or code check first *reserves* an attempt row in its own short
transaction, counting the failures (and still-pending attempts) of the last window for the
account identifier and for the IP address. Only then is the password hash checked. Because the
count and the reservation happen in one serialised write transaction (``BEGIN IMMEDIATE`` on
SQLite, a row lock on the account's throttle key on PostgreSQL), the limit holds across every
worker process: at most N verifications per account per window, however many arrive at once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.auth.models import (
    AttemptKind,
    AttemptOutcome,
    LoginAttempt,
    RevokeReason,
    UserSession,
)
from casework.clock import utcnow
from casework.db import Database
from casework.security import totp
from casework.security.crypto import DecryptionError, associated_data, key_id_of
from casework.security.kit import SecurityKit
from casework.security.passwords import password_problem
from casework.security.tokens import new_token, token_hash
from casework.users.models import User

log = logging.getLogger(__name__)


class SignInResult(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignInOutcome:
    result: SignInResult
    user_id: uuid.UUID | None = None


class SessionState(StrEnum):
    ACTIVE = "active"
    MISSING = "missing"
    REVOKED = "revoked"
    IDLE_EXPIRED = "idle_expired"
    ABSOLUTE_EXPIRED = "absolute_expired"
    USER_DISABLED = "user_disabled"


@dataclass(frozen=True)
class LoadedSession:
    state: SessionState
    session_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    mfa_verified: bool = False
    created_at: datetime | None = None
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class SessionExpiry:
    """When a live session ends if nothing more happens: ``idle_at`` unless it is used again
    first, ``absolute_at`` whatever happens (it counts from sign-in and is never extended)."""

    idle_at: datetime
    absolute_at: datetime


class PasswordChangeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- throttling -----------------------------------------------------------------------------


def _reserve_attempt(
    database: Database,
    kit: SecurityKit,
    *,
    kind: AttemptKind,
    identifier: str,
    ip_address: str,
    user_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """Reserve a check; None if the account or address is over its limit (recorded too)."""
    settings = kit.settings
    identifier_hmac = kit.identifier_hmac(identifier)
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    counted = (AttemptOutcome.FAILED, AttemptOutcome.PENDING)
    with database.transaction() as db:
        if not database.is_sqlite:
            # Serialise reservations for this identifier across processes (PostgreSQL).
            db.execute(select(func.pg_advisory_xact_lock(func.hashtext(identifier_hmac))))
        account_failures = db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.identifier_hmac == identifier_hmac,
                LoginAttempt.kind == kind,
                LoginAttempt.attempted_at >= since,
                LoginAttempt.outcome.in_(counted),
            )
        )
        ip_failures = db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.ip_address == ip_address,
                LoginAttempt.attempted_at >= since,
                LoginAttempt.outcome.in_(counted),
            )
        )
        limit = settings.login_max_failures_per_account
        over = (account_failures or 0) >= limit or (ip_failures or 0) >= (
            settings.login_max_failures_per_ip
        )
        attempt = LoginAttempt(
            id=uuid.uuid4(),
            attempted_at=now,
            kind=kind,
            outcome=AttemptOutcome.THROTTLED if over else AttemptOutcome.PENDING,
            identifier_hmac=identifier_hmac,
            user_id=user_id,
            ip_address=ip_address,
        )
        db.add(attempt)
        return None if over else attempt.id


def _settle_attempt(database: Database, attempt_id: uuid.UUID, succeeded: bool) -> None:
    with database.transaction() as db:
        db.execute(
            update(LoginAttempt)
            .where(LoginAttempt.id == attempt_id)
            .values(outcome=AttemptOutcome.SUCCEEDED if succeeded else AttemptOutcome.FAILED)
        )


# --- password step --------------------------------------------------------------------------


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def check_password(
    database: Database, kit: SecurityKit, *, email: str, password: str, ip_address: str
) -> SignInOutcome:
    """The password step of sign-in, throttled and audited. Creates no session."""
    with database.reading() as db:
        user = find_user_by_email(db, email)
        user_id = user.id if user else None
        agency_id = user.agency_id if user else None
        disabled = bool(user and not user.active)
        # A service account never signs in interactively: its (absent) password never matches.
        interactive = bool(user and user.active and not user.is_service_account)
        stored_hash = user.password_hash if user and interactive else None
    actor = Actor(user_id=user_id, agency_id=agency_id, ip_address=ip_address)

    if len(password) > kit.settings.password_max_length:
        return _refuse(database, actor, SignInResult.BAD_CREDENTIALS, "password_too_long")

    attempt_id = _reserve_attempt(
        database,
        kit,
        kind=AttemptKind.PASSWORD,
        identifier=email,
        ip_address=ip_address,
        user_id=user_id,
    )
    if attempt_id is None:
        return _refuse(database, actor, SignInResult.THROTTLED, "throttled")

    ok = kit.passwords.verify(stored_hash, password)
    _settle_attempt(database, attempt_id, ok)
    if not ok:
        reason = "disabled" if disabled else "bad_credentials"
        return _refuse(database, actor, SignInResult.BAD_CREDENTIALS, reason)
    if user_id is None:  # no account, yet the dummy hash matched: impossible, but refuse
        return _refuse(database, actor, SignInResult.BAD_CREDENTIALS, "bad_credentials")
    if stored_hash and kit.passwords.needs_rehash(stored_hash):
        with database.transaction() as db:
            db.execute(
                update(User)
                .where(User.id == user_id)
                .values(password_hash=kit.passwords.hash(password))
            )
    return SignInOutcome(SignInResult.OK, user_id)


def _refuse(database: Database, actor: Actor, result: SignInResult, reason: str) -> SignInOutcome:
    with database.transaction() as db:
        recorder.record(
            db,
            actor,
            "auth.password",
            outcome="denied",
            target_type="user" if actor.user_id else None,
            target_id=actor.user_id,
            details={"reason": reason},
        )
    return SignInOutcome(result, None)


# --- sessions -------------------------------------------------------------------------------


def start_session(
    db: Session,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    mfa_verified: bool,
    user_agent: str | None,
) -> str:
    """Create a server-side session; returns the token for the signed cookie."""
    token = new_token()
    now = utcnow()
    db.add(
        UserSession(
            id=uuid.uuid4(),
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            mfa_verified_at=now if mfa_verified else None,
            ip_address=actor.ip_address,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    recorder.record(
        db,
        actor,
        "auth.session.start",
        target_type="user",
        target_id=user_id,
        details={"mfa": mfa_verified},
    )
    return token


def session_state(
    kit: SecurityKit,
    *,
    created_at: datetime,
    last_seen_at: datetime,
    revoked_at: datetime | None,
    user_active: bool,
    now: datetime | None = None,
) -> SessionState:
    """Whether a stored session may still be used now (pure: the rule in one place)."""
    now = utcnow() if now is None else now
    settings = kit.settings
    if revoked_at is not None:
        return SessionState.REVOKED
    if not user_active:
        return SessionState.USER_DISABLED
    if now - created_at >= timedelta(hours=settings.session_absolute_hours):
        return SessionState.ABSOLUTE_EXPIRED
    if now - last_seen_at >= timedelta(minutes=settings.session_idle_minutes):
        return SessionState.IDLE_EXPIRED
    return SessionState.ACTIVE


def touch_session(database: Database, kit: SecurityKit, session_id: uuid.UUID) -> None:
    """Record activity (idle timer), at most once per ``session_touch_seconds``."""
    now = utcnow()
    stale_before = now - timedelta(seconds=kit.settings.session_touch_seconds)
    with database.transaction() as db:
        db.execute(
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.revoked_at.is_(None),
                UserSession.last_seen_at < stale_before,
            )
            .values(last_seen_at=now)
        )


def needs_touch(kit: SecurityKit, last_seen_at: datetime, *, now: datetime | None = None) -> bool:
    moment = utcnow() if now is None else now
    return moment - last_seen_at >= timedelta(seconds=kit.settings.session_touch_seconds)


def session_expiry(
    kit: SecurityKit, *, created_at: datetime, last_seen_at: datetime
) -> SessionExpiry:
    """When a session last used at ``last_seen_at`` ends (pure; the limits of session_state)."""
    settings = kit.settings
    return SessionExpiry(
        idle_at=last_seen_at + timedelta(minutes=settings.session_idle_minutes),
        absolute_at=created_at + timedelta(hours=settings.session_absolute_hours),
    )


def keep_session_alive(
    db: Session, kit: SecurityKit, session_id: uuid.UUID
) -> SessionExpiry | None:
    """The person chose to stay signed in: record activity now, whatever
    ``session_touch_seconds`` says. Only the idle timer restarts; the absolute limit still
    counts from sign-in. None if the session has ended (revoked, idle or too old)."""
    now = utcnow()
    settings = kit.settings
    created_at = db.scalar(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
            UserSession.created_at > now - timedelta(hours=settings.session_absolute_hours),
        )
        .values(last_seen_at=now)
        .returning(UserSession.created_at)
        .execution_options(synchronize_session=False)
    )
    if created_at is None:
        return None
    return session_expiry(kit, created_at=created_at, last_seen_at=now)


def revoke_session(db: Session, session_id: uuid.UUID, reason: RevokeReason) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_all_sessions(
    db: Session,
    user_id: uuid.UUID,
    reason: RevokeReason,
    *,
    except_session_id: uuid.UUID | None = None,
) -> int:
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if except_session_id is not None:
        statement = statement.where(UserSession.id != except_session_id)
    return db.execute(statement).rowcount  # type: ignore[attr-defined,no-any-return]


def sign_out(db: Session, actor: Actor, session_id: uuid.UUID, *, everywhere: bool) -> None:
    if everywhere and actor.user_id is not None:
        count = revoke_all_sessions(db, actor.user_id, RevokeReason.SIGNED_OUT_EVERYWHERE)
        recorder.record(
            db,
            actor,
            "auth.sign_out_everywhere",
            target_type="user",
            target_id=actor.user_id,
            details={"sessions": count},
        )
    else:
        revoke_session(db, session_id, RevokeReason.SIGNED_OUT)
        recorder.record(db, actor, "auth.sign_out", target_type="user", target_id=actor.user_id)


def expire_session(database: Database, session_id: uuid.UUID, state: SessionState) -> None:
    reason = (
        RevokeReason.IDLE_TIMEOUT
        if state is SessionState.IDLE_EXPIRED
        else RevokeReason.ABSOLUTE_TIMEOUT
    )
    with database.transaction() as db:
        revoke_session(db, session_id, reason)


# --- multi-factor authentication ------------------------------------------------------------


def encrypt_totp_secret(kit: SecurityKit, user_id: uuid.UUID, secret: str) -> bytes:
    return kit.user_secrets.encrypt(
        secret.encode(), associated_data("users", "totp_secret_encrypted", user_id)
    )


def decrypt_totp_secret(kit: SecurityKit, user_id: uuid.UUID, blob: bytes) -> str:
    return kit.user_secrets.decrypt(
        blob, associated_data("users", "totp_secret_encrypted", user_id)
    ).decode()


def reencrypt_totp_secrets(db: Session, kit: SecurityKit) -> int:
    """Re-encrypt, under the current CASEWORK_KEK, the two-factor secrets still under an
    earlier one (part of ``casework keys rotate``). Returns how many were re-encrypted."""
    done = 0
    rows = db.execute(
        select(User.id, User.totp_secret_encrypted).where(User.totp_secret_encrypted.is_not(None))
    ).all()
    for user_id, blob in rows:
        if blob is None or kit.user_secrets.is_current(blob):
            continue
        secret = decrypt_totp_secret(kit, user_id, blob)
        db.execute(
            update(User)
            .where(User.id == user_id)
            .values(totp_secret_encrypted=encrypt_totp_secret(kit, user_id, secret))
        )
        done += 1
    return done


def totp_secrets_under(db: Session, kek_id: str) -> int:
    """How many two-factor secrets are still encrypted under the key ``kek_id``."""
    blobs = db.scalars(
        select(User.totp_secret_encrypted).where(User.totp_secret_encrypted.is_not(None))
    )
    return len([blob for blob in blobs if blob is not None and key_id_of(blob) == kek_id])


def _refuse_code(db: Session, actor: Actor, user_id: uuid.UUID, reason: str) -> None:
    recorder.record(
        db,
        actor,
        "auth.mfa",
        outcome="denied",
        target_type="user",
        target_id=user_id,
        details={"reason": reason},
    )


def check_totp(
    database: Database,
    kit: SecurityKit,
    actor: Actor,
    user_id: uuid.UUID,
    code: str,
    *,
    enrolling_secret: str | None = None,
) -> bool:
    """Check a code (throttled, single use). On enrolment, also stores the new secret."""
    with database.reading() as db:
        user = db.get(User, user_id)
        if user is None or not user.active:
            return False
        email = user.email
        last_step = None if enrolling_secret else user.totp_last_timestep
        blob = user.totp_secret_encrypted
    if enrolling_secret:
        secret = enrolling_secret
    elif blob is not None:
        try:
            secret = decrypt_totp_secret(kit, user_id, blob)
        except DecryptionError:
            # Usually a changed or lost CASEWORK_KEK: every enrolled user is now locked out.
            log.error("stored two-factor secret for user %s cannot be decrypted", user_id)
            return False
    else:
        return False

    attempt_id = _reserve_attempt(
        database,
        kit,
        kind=AttemptKind.TOTP,
        identifier=email,
        ip_address=actor.ip_address or "unknown",
        user_id=user_id,
    )
    if attempt_id is None:
        with database.transaction() as db:
            _refuse_code(db, actor, user_id, "throttled")
        return False
    step = totp.matching_timestep(secret, code, utcnow(), after=last_step)
    _settle_attempt(database, attempt_id, step is not None)
    with database.transaction() as db:
        if step is None:
            _refuse_code(db, actor, user_id, "bad_code")
            return False
        values: dict[str, object] = {"totp_last_timestep": step}
        if enrolling_secret:
            values["totp_secret_encrypted"] = encrypt_totp_secret(kit, user_id, enrolling_secret)
            values["mfa_enrolled_at"] = utcnow()
        # Single use, even against a concurrent request with the same code.
        result = db.execute(
            update(User)
            .where(
                User.id == user_id,
                or_(User.totp_last_timestep.is_(None), User.totp_last_timestep < step),
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            _refuse_code(db, actor, user_id, "code_reused")
            return False
        recorder.record(
            db,
            actor,
            "auth.mfa.enrol" if enrolling_secret else "auth.mfa",
            target_type="user",
            target_id=user_id,
        )
    return True


# --- passwords ------------------------------------------------------------------------------


def change_password(
    db: Session,
    kit: SecurityKit,
    actor: Actor,
    user: User,
    *,
    current_password: str | None,
    new_password: str,
    current_session_id: uuid.UUID | None,
) -> None:
    """Set a new password and end every other session of the user."""
    if current_password is not None and not kit.passwords.verify(
        user.password_hash, current_password
    ):
        raise PasswordChangeError("current_password", "Your current password is not correct")
    settings = kit.settings
    problem = password_problem(
        new_password,
        email=user.email,
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
    )
    if problem:
        raise PasswordChangeError("new_password", problem)
    if user.password_hash and kit.passwords.verify(user.password_hash, new_password):
        raise PasswordChangeError("new_password", "Enter a password you have not used here before")
    user.password_hash = kit.passwords.hash(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    revoke_all_sessions(
        db, user.id, RevokeReason.PASSWORD_CHANGED, except_session_id=current_session_id
    )
    recorder.record(db, actor, "auth.password.change", target_type="user", target_id=user.id)


# --- notification preferences (the account page) -------------------------------------------


def normalise_mobile(value: str) -> str | None:
    """A UK mobile number as +447xxxxxxxxx, or None when it is not one (07xxxxxxxxx or
    +447xxxxxxxxx, spaces, dashes and brackets ignored)."""
    digits = "".join(ch for ch in value if ch not in " -()")
    if digits.startswith("+447") and len(digits) == 13 and digits[1:].isdigit():
        return digits
    if digits.startswith("07") and len(digits) == 11 and digits.isdigit():
        return "+44" + digits[1:]
    return None


def set_notification_preferences(
    db: Session,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    by_email: bool,
    by_sms: bool,
    mobile_number: str,
) -> None:
    """Whether in-app notifications are also sent by email and text message, and the work
    mobile number texts go to. Messages outside the app never carry names or case details."""
    mobile = normalise_mobile(mobile_number) if mobile_number else None
    if mobile_number and mobile is None:
        raise ValueError("mobile_number")
    if by_sms and mobile is None:
        raise ValueError("mobile_number")
    db.execute(
        update(User)
        .where(User.id == user_id)
        .values(notify_by_email=by_email, notify_by_sms=by_sms, mobile_number=mobile)
        .execution_options(synchronize_session=False)
    )
    recorder.record(
        db,
        actor,
        "account.notifications_changed",
        target_type="user",
        target_id=user_id,
        details={"email": by_email, "sms": by_sms, "mobile_set": mobile is not None},
    )
