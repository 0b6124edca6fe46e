"""Changes to user accounts. Services flush; the caller's transaction commits."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.agencies.models import Agency
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.auth.models import RevokeReason
from casework.auth.services import revoke_all_sessions
from casework.clock import utcnow
from casework.db import check_version
from casework.security.kit import SecurityKit
from casework.security.passwords import password_problem
from casework.users.models import User, UserRole


class UserError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_email(email: str) -> str:
    return email.strip().lower()


#: Letters and digits that cannot be mistaken for each other when read out or copied by hand
#: (no 0/o, 1/l/i).
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password(kit: SecurityKit, *, email: str = "") -> str:
    """A random password an administrator passes on once, e.g. ``k7pq-x2mv-9hta-3wzd``.

    Four groups of four (about 79 bits), more groups if the minimum length asks for them; it
    always passes :func:`password_problem`. The caller shows it once and never logs it.
    """
    settings = kit.settings
    groups = max(4, -(-(settings.password_min_length + 1) // 5))
    while True:
        candidate = "-".join(
            "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(groups)
        )
        problem = password_problem(
            candidate,
            email=normalise_email(email),
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
        )
        if problem is None:
            return candidate


def create_user(
    db: Session,
    kit: SecurityKit,
    actor: Actor,
    *,
    email: str,
    full_name: str,
    agency: Agency,
    roles: Iterable[Role],
    password: str,
    must_change_password: bool = True,
) -> User:
    """Create an account. The password is a one-time password unless ``must_change_password``
    is false (the CLI and demo data); the user also enrols MFA at first sign-in."""
    email = normalise_email(email)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError("email", "A user with this email address already exists")
    if not agency.active:
        raise UserError("agency_id", "Choose an agency that is active")
    role_set = set(roles)
    if not role_set:
        raise UserError("roles", "Select at least one role")
    settings = kit.settings
    problem = password_problem(
        password,
        email=email,
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
    )
    if problem:
        raise UserError("password", problem)
    user = User(
        id=uuid.uuid4(),
        email=email,
        full_name=" ".join(full_name.split()),
        agency_id=agency.id,
        active=True,
        password_hash=kit.passwords.hash(password),
        password_changed_at=utcnow(),
        must_change_password=must_change_password,
    )
    user.role_rows = [UserRole(role=role) for role in sorted(role_set)]
    db.add(user)
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.user.create",
        target_type="user",
        target_id=user.id,
        details={"roles": sorted(str(r) for r in role_set), "agency_id": str(agency.id)},
    )
    return user


def update_user(
    db: Session,
    actor: Actor,
    user: User,
    *,
    full_name: str,
    roles: Iterable[Role],
    version: int | None,
) -> None:
    check_version(user, version)
    role_set = set(roles)
    if not role_set:
        raise UserError("roles", "Select at least one role")
    if actor.user_id == user.id and Role.ADMIN in user.roles and Role.ADMIN not in role_set:
        raise UserError("roles", "You cannot remove your own administrator role")
    before = user.roles
    user.full_name = " ".join(full_name.split())
    user.role_rows = [row for row in user.role_rows if row.role in role_set]
    for role in sorted(role_set - before):
        user.role_rows.append(UserRole(role=role))
    user.updated_at = utcnow()  # always UPDATE the row, so the version moves on
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.user.update",
        target_type="user",
        target_id=user.id,
        details={
            "added_roles": sorted(str(r) for r in role_set - before),
            "removed_roles": sorted(str(r) for r in before - role_set),
        },
    )


def set_user_active(
    db: Session, actor: Actor, user: User, *, active: bool, version: int | None
) -> None:
    """Disable (ends every session at once) or re-enable an account."""
    check_version(user, version)
    if not active and actor.user_id == user.id:
        raise UserError("confirm", "You cannot disable your own account")
    user.active = active
    user.disabled_at = None if active else utcnow()
    if not active:
        revoke_all_sessions(db, user.id, RevokeReason.ACCOUNT_DISABLED)
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.user.enable" if active else "admin.user.disable",
        target_type="user",
        target_id=user.id,
    )


def reset_credentials(
    db: Session,
    kit: SecurityKit,
    actor: Actor,
    user: User,
    *,
    temporary_password: str,
    version: int | None,
) -> None:
    """Admin reset: a one-time password, MFA enrolment again, every session ended."""
    check_version(user, version)
    if actor.user_id == user.id:
        raise UserError(
            "confirm", "You cannot reset your own account. Change your password from Your account"
        )
    settings = kit.settings
    problem = password_problem(
        temporary_password,
        email=user.email,
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
    )
    if problem:
        raise UserError("temporary_password", problem)
    user.password_hash = kit.passwords.hash(temporary_password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.totp_secret_encrypted = None
    user.totp_last_timestep = None
    user.mfa_enrolled_at = None
    revoke_all_sessions(db, user.id, RevokeReason.ADMIN_RESET)
    db.flush()
    recorder.record(
        db, actor, "admin.user.reset_credentials", target_type="user", target_id=user.id
    )
