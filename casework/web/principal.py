"""The signed-in person for one request: a plain snapshot, loaded once by the gate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.users.models import User


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

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    def has_role(self, *wanted: Role) -> bool:
        return bool(self.roles.intersection(wanted))

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles]


def load_principal(
    db: Session,
    *,
    token: str,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    mfa_verified: bool,
) -> Principal | None:
    user = db.scalar(select(User).where(User.id == user_id))
    if user is None or not user.active:
        return None
    return Principal(
        session_token=token,
        session_id=session_id,
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        agency_id=user.agency_id,
        agency_name=user.agency.name,
        agency_kind=user.agency.kind,
        roles=user.roles,
        mfa_verified=mfa_verified,
        mfa_enrolled=user.mfa_enrolled,
        must_change_password=user.must_change_password,
    )
