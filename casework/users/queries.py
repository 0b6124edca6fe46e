"""Reads for the user administration pages. Every list is ordered."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.agencies.models import Team, TeamMembership
from casework.agencies.queries import NotFoundError
from casework.users.models import User, UserRole

__all__ = [
    "PAGE_SIZE",
    "NotFoundError",
    "UserFilters",
    "UserPage",
    "UserTeam",
    "get_user",
    "list_users",
    "teams_of_user",
]

PAGE_SIZE = 50


@dataclass(frozen=True)
class UserFilters:
    #: A piece of the name or email address (case-insensitive).
    text: str = ""
    agency_id: uuid.UUID | None = None
    role: Role | None = None
    include_disabled: bool = False


@dataclass(frozen=True)
class UserPage:
    users: Sequence[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return min(self.total, self.page * self.per_page)


@dataclass(frozen=True)
class UserTeam:
    team: Team
    is_manager: bool


def get_user(db: Session, user_id: uuid.UUID, *, lock: bool = False) -> User:
    """The user; with ``lock``, their row is locked until the transaction ends (PostgreSQL), so
    a concurrent change waits, then sees the new version and is refused as stale."""
    query = select(User).where(User.id == user_id)
    if lock:
        query = query.with_for_update(of=User).execution_options(populate_existing=True)
    user = db.scalars(query).first()
    if user is None:
        raise NotFoundError(f"user {user_id}")
    return user


def _conditions(filters: UserFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    text = " ".join(filters.text.split())
    if text:
        where.append(
            or_(
                User.full_name.icontains(text, autoescape=True),
                User.email.icontains(text, autoescape=True),
            )
        )
    if filters.agency_id is not None:
        where.append(User.agency_id == filters.agency_id)
    if filters.role is not None:
        where.append(User.role_rows.any(UserRole.role == filters.role))
    if not filters.include_disabled:
        where.append(User.active.is_(True))
    return where


def list_users(
    db: Session, filters: UserFilters, *, page: int = 1, per_page: int = PAGE_SIZE
) -> UserPage:
    """One page of users matching ``filters``, by name (then email)."""
    where = _conditions(filters)
    total = db.scalar(select(func.count()).select_from(User).where(*where)) or 0
    users = db.scalars(
        select(User)
        .where(*where)
        .order_by(func.lower(User.full_name), User.email, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return UserPage(users=users, total=total, page=page, per_page=per_page)


def teams_of_user(db: Session, user_id: uuid.UUID) -> Sequence[UserTeam]:
    rows = db.execute(
        select(Team, TeamMembership.is_manager)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id)
        .order_by(func.lower(Team.name), Team.id)
    ).all()
    return [UserTeam(team, is_manager) for team, is_manager in rows]
