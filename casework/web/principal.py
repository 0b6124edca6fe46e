"""The signed-in person for one request: a plain snapshot, loaded once by the gate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.auth.models import UserSession
from casework.auth.services import LoadedSession, SessionState, needs_touch, session_state
from casework.clock import utcnow
from casework.consent.models import EmergencyAccess
from casework.security.kit import SecurityKit
from casework.security.tokens import token_hash
from casework.users.models import User, UserRole


@dataclass(frozen=True)
class Principal:
    """What Flask-Login calls the user. ``get_id`` is the session token, not the user id, so a
    revoked server-side session can never be resumed from a cookie."""

    session_token: str
    session_id: uuid.UUID
    id: uuid.UUID
    email: str
    full_name: str
    agency_id: uuid.UUID
    agency_name: str
    agency_kind: AgencyKind
    roles: frozenset[Role]
    mfa_verified: bool
    mfa_enrolled: bool
    must_change_password: bool
    #: When this server-side session started (the absolute limit counts from here).
    session_created_at: datetime
    #: The last activity the database holds once the gate is done with this request: now if
    #: the gate's once-a-minute touch is due, otherwise the stored value (the idle timer).
    session_last_seen_at: datetime
    #: When the user's latest open emergency access ends (None: none open). Every page says so.
    emergency_until: datetime | None = None

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    def has_role(self, *wanted: Role) -> bool:
        return bool(self.roles.intersection(wanted))

    @property
    def viewer(self) -> Viewer:
        """The user as the access policy sees them."""
        return Viewer(self.id, self.agency_id, self.agency_kind, self.roles)

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles]


#: Built once: constructing a statement costs more than running it on this hot path.
_SESSION_BY_TOKEN = (
    select(
        UserSession.id.label("session_id"),
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.mfa_verified_at,
        UserSession.revoked_at,
        User.id.label("user_id"),
        User.email,
        User.full_name,
        User.agency_id,
        User.active,
        User.must_change_password,
        User.mfa_enrolled_at,
        User.totp_secret_encrypted.is_not(None).label("has_totp"),
        Agency.name.label("agency_name"),
        Agency.kind.label("agency_kind"),
        select(func.max(EmergencyAccess.expires_at))
        .where(
            EmergencyAccess.user_id == User.id,
            EmergencyAccess.ended_at.is_(None),
            EmergencyAccess.expires_at > bindparam("now"),
        )
        .scalar_subquery()
        .label("emergency_until"),
    )
    .join(User, User.id == UserSession.user_id)
    .join(Agency, Agency.id == User.agency_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)
_ROLES_OF_USER = select(UserRole.role).where(UserRole.user_id == bindparam("user_id"))


def load_for_token(
    db: Session | Connection, kit: SecurityKit, token: str
) -> tuple[LoadedSession, Principal | None]:
    """The gate's per-request read: session, user and agency in one query, roles in another."""
    now = utcnow()
    row = db.execute(_SESSION_BY_TOKEN, {"token_hash": token_hash(token), "now": now}).first()
    if row is None:
        return LoadedSession(SessionState.MISSING), None
    loaded = LoadedSession(
        state=session_state(
            kit,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            revoked_at=row.revoked_at,
            user_active=row.active,
            now=now,
        ),
        session_id=row.session_id,
        user_id=row.user_id,
        mfa_verified=row.mfa_verified_at is not None,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
    )
    if loaded.state is not SessionState.ACTIVE:
        return loaded, None
    # The gate touches the session right after this when the touch is due (same rule).
    last_seen = now if needs_touch(kit, row.last_seen_at, now=now) else row.last_seen_at
    roles = db.scalars(_ROLES_OF_USER, {"user_id": row.user_id}).all()
    return loaded, Principal(
        session_token=token,
        session_id=row.session_id,
        id=row.user_id,
        email=row.email,
        full_name=row.full_name,
        agency_id=row.agency_id,
        agency_name=row.agency_name,
        agency_kind=row.agency_kind,
        roles=frozenset(roles),
        mfa_verified=loaded.mfa_verified,
        mfa_enrolled=bool(row.has_totp and row.mfa_enrolled_at is not None),
        must_change_password=row.must_change_password,
        session_created_at=row.created_at,
        session_last_seen_at=last_seen,
        emergency_until=row.emergency_until,
    )
