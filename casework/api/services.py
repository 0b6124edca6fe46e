"""Changes to API tokens, service accounts and idempotency keys (no Flask; flush, never commit).

Every creation and revocation is audited in the same transaction. A token's value is returned
once, by :func:`create_token`, and only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.access.rules import API_SCOPES
from casework.agencies.models import Agency
from casework.api.models import ApiToken, IdempotencyKey
from casework.api.queries import TOKEN_PREFIX
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import utcnow
from casework.security.tokens import new_token, token_hash
from casework.users.models import User, UserRole

#: The longest a token may live; administrators choose a shorter life when they can.
MAX_TOKEN_DAYS = 366
#: Roles a service account may act with: the case roles an outside system needs.
SERVICE_ROLES = (Role.CUSTODY_OFFICER, Role.ASSESSOR, Role.WORKER)
#: "Last used" is written at most this often.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A refused token or service account change, for one form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def create_service_account(
    db: Session, actor: Actor, *, agency_id: uuid.UUID, name: str, role: Role
) -> uuid.UUID:
    """A ``users`` row for a system: one agency, one role, no password, no authenticator."""
    name = name.strip()
    if not name or len(name) > 200:
        raise TokenError("name", "Enter a name for the service account, up to 200 characters")
    if role not in SERVICE_ROLES:
        raise TokenError("role", "Choose the role the service account acts with")
    agency = db.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise TokenError("agency", "Choose an active agency")
    user_id = uuid.uuid4()
    user = User(
        id=user_id,
        email=f"service-{user_id.hex[:16]}@service-account.invalid",
        full_name=name,
        agency_id=agency_id,
        active=True,
        password_hash=None,
        must_change_password=False,
        is_service_account=True,
    )
    user.role_rows = [UserRole(role=role)]
    db.add(user)
    db.flush()
    recorder.record(
        db,
        actor,
        "api.service_account.created",
        target_type="user",
        target_id=user_id,
        details={"agency_id": str(agency_id), "role": str(role)},
    )
    return user_id


def create_token(
    db: Session,
    actor: Actor,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: frozenset[str],
    expires_at: datetime,
    now: datetime | None = None,
) -> tuple[uuid.UUID, str]:
    """A new token for a user or service account. Returns its id and its value (shown once)."""
    now = now or utcnow()
    name = name.strip()
    if not name or len(name) > 120:
        raise TokenError("name", "Enter a name for the token, up to 120 characters")
    unknown = scopes - API_SCOPES.keys()
    if not scopes or unknown:
        raise TokenError("scopes", "Choose at least one scope")
    if expires_at <= now:
        raise TokenError("expires_on", "The expiry date must be in the future")
    if expires_at > now + timedelta(days=MAX_TOKEN_DAYS):
        raise TokenError("expires_on", f"A token can last at most {MAX_TOKEN_DAYS} days")
    user = db.get(User, user_id)
    if user is None or not user.active:
        raise TokenError("user", "Choose an active user or service account")
    if Role.ADMIN in user.roles:
        raise TokenError("user", "Administrators cannot hold API tokens")
    value = TOKEN_PREFIX + new_token()
    token_id = uuid.uuid4()
    db.add(
        ApiToken(
            id=token_id,
            user_id=user_id,
            name=name,
            token_hash=token_hash(value),
            scopes=sorted(scopes),
            created_at=now,
            created_by_id=actor.user_id,
            expires_at=expires_at,
        )
    )
    db.flush()
    recorder.record(
        db,
        actor,
        "api.token.created",
        target_type="api_token",
        target_id=token_id,
        details={
            "user_id": str(user_id),
            "scopes": sorted(scopes),
            "expires_at": expires_at.isoformat(),
            "service_account": user.is_service_account,
        },
    )
    return token_id, value


def revoke_token(
    db: Session, actor: Actor, token_id: uuid.UUID, *, now: datetime | None = None
) -> bool:
    """Revoke a token at once (its next request gets 401). False if it was already revoked."""
    token = db.get(ApiToken, token_id, with_for_update=True)
    if token is None:
        raise LookupError("no such token")
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    token.revoked_by_id = actor.user_id
    db.flush()
    recorder.record(
        db,
        actor,
        "api.token.revoked",
        target_type="api_token",
        target_id=token_id,
        details={"user_id": str(token.user_id)},
    )
    return True


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


def touch_token(db: Session, token_id: uuid.UUID, now: datetime) -> None:
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


# --- idempotency ---------------------------------------------------------------------------


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the method, path and body; a JSON body is canonicalised first, so the same
    object sent with other spacing or key order counts as the same request."""
    try:
        canonical: bytes = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", canonical):
        digest.update(part)
    return digest.hexdigest()


def claim_idempotency_key(
    db: Session, *, token_id: uuid.UUID, key: str, fingerprint: str
) -> uuid.UUID:
    """Insert the key's row in the request's transaction, before the work. A concurrent
    request with the same key fails here on the unique constraint (after waiting for the
    first to commit, on PostgreSQL) and replays the first one's response instead."""
    row_id = uuid.uuid4()
    db.add(IdempotencyKey(id=row_id, token_id=token_id, key=key, request_hash=fingerprint))
    db.flush()
    return row_id


def store_idempotent_response(
    db: Session, row_id: uuid.UUID, *, status_code: int, body: dict[str, Any]
) -> None:
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id)
        .values(status_code=status_code, response=body)
    )
