"""Reads for API tokens, service accounts and idempotency keys (no Flask)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, aliased

from casework.access.policy import Viewer
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.api.models import ApiToken, IdempotencyKey
from casework.security.tokens import token_hash
from casework.users.models import User, UserRole

#: What a token needs to look like: our prefix, then 43 URL-safe characters.
TOKEN_PREFIX = "cw_"  # noqa: S105 - a prefix, not a secret
MAX_TOKEN_LENGTH = 100


class TokenState(StrEnum):
    OK = "ok"
    MISSING = "missing"
    REVOKED = "revoked"
    EXPIRED = "expired"
    USER_DISABLED = "user_disabled"


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a valid token acts as: its user (or service account) with the user's roles."""

    token_id: uuid.UUID
    user_id: uuid.UUID
    agency_id: uuid.UUID
    agency_kind: AgencyKind
    roles: frozenset[Role]
    scopes: frozenset[str]
    service_account: bool
    last_used_at: datetime | None

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.user_id, self.agency_id, self.agency_kind, self.roles)


@dataclass(frozen=True)
class TokenCheck:
    state: TokenState
    principal: TokenPrincipal | None = None
    token_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


_TOKEN_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.user_id,
        ApiToken.scopes,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        User.active,
        User.is_service_account,
        User.agency_id,
        Agency.kind.label("agency_kind"),
        Agency.active.label("agency_active"),
    )
    .join(User, User.id == ApiToken.user_id)
    .join(Agency, Agency.id == User.agency_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
_ROLES_OF_USER = select(UserRole.role).where(UserRole.user_id == bindparam("user_id"))


def check_token(db: Session | Connection, raw: str, *, now: datetime) -> TokenCheck:
    """The API's per-request read: is this bearer token live, and whom does it act for?"""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        return TokenCheck(TokenState.MISSING)
    row = db.execute(_TOKEN_BY_HASH, {"token_hash": token_hash(raw)}).first()
    if row is None:
        return TokenCheck(TokenState.MISSING)
    if row.revoked_at is not None:
        return TokenCheck(TokenState.REVOKED, token_id=row.id, user_id=row.user_id)
    if row.expires_at <= now:
        return TokenCheck(TokenState.EXPIRED, token_id=row.id, user_id=row.user_id)
    if not row.active or not row.agency_active:
        return TokenCheck(TokenState.USER_DISABLED, token_id=row.id, user_id=row.user_id)
    roles = frozenset(db.scalars(_ROLES_OF_USER, {"user_id": row.user_id}).all())
    principal = TokenPrincipal(
        token_id=row.id,
        user_id=row.user_id,
        agency_id=row.agency_id,
        agency_kind=row.agency_kind,
        roles=roles,
        scopes=frozenset(row.scopes or ()),
        service_account=row.is_service_account,
        last_used_at=row.last_used_at,
    )
    return TokenCheck(TokenState.OK, principal, token_id=row.id, user_id=row.user_id)


@dataclass(frozen=True)
class TokenRow:
    id: uuid.UUID
    name: str
    user_id: uuid.UUID
    user_name: str
    agency_name: str
    service_account: bool
    scopes: tuple[str, ...]
    created_at: datetime
    created_by_name: str | None
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


def list_tokens(db: Session) -> list[TokenRow]:
    creator = aliased(User)
    rows = db.execute(
        select(
            ApiToken,
            User.full_name,
            User.is_service_account,
            Agency.name,
            creator.full_name.label("creator_name"),
        )
        .join(User, User.id == ApiToken.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .outerjoin(creator, creator.id == ApiToken.created_by_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    ).all()
    return [
        TokenRow(
            id=token.id,
            name=token.name,
            user_id=token.user_id,
            user_name=user_name,
            agency_name=agency_name,
            service_account=service,
            scopes=tuple(token.scopes or ()),
            created_at=token.created_at,
            created_by_name=creator_name,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )
        for token, user_name, service, agency_name, creator_name in rows
    ]


def get_token(db: Session, token_id: uuid.UUID) -> ApiToken | None:
    return db.get(ApiToken, token_id)


@dataclass(frozen=True)
class HolderChoice:
    """A user or service account a token may be made for."""

    id: uuid.UUID
    label: str


def token_holders(db: Session) -> list[HolderChoice]:
    """Active accounts that may hold a token (every active user with a role; administrators'
    own tokens are pointless — the API has no admin endpoints — so they are left out)."""
    rows = db.execute(
        select(User.id, User.full_name, User.email, User.is_service_account, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), Agency.active.is_(True))
        .order_by(User.is_service_account.desc(), Agency.name, User.full_name)
    ).all()
    admins = set(db.scalars(select(UserRole.user_id).where(UserRole.role == Role.ADMIN)))
    return [
        HolderChoice(
            row.id,
            f"{row.full_name} ({'service account' if row.is_service_account else row.email}),"
            f" {row.name}",
        )
        for row in rows
        if row.id not in admins
    ]


def find_idempotency_key(db: Session, token_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return db.scalar(
        select(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
    )
