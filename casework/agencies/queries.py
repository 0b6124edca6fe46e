"""Reads for the agency and team administration pages. Every list is ordered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.agencies.models import Agency, Team, TeamMembership
from casework.users.models import User


class NotFoundError(LookupError):
    """No record with that id (or not under that parent). The admin blueprints answer 404.

    Queries may not import werkzeug (see the import-linter contracts in ``pyproject.toml``),
    so this stands in for ``werkzeug.exceptions.NotFound``.
    """


@dataclass(frozen=True)
class AgencySummary:
    agency: Agency
    active_users: int
    teams: int


@dataclass(frozen=True)
class TeamSummary:
    team: Team
    members: int
    managers: int


@dataclass(frozen=True)
class TeamMember:
    user: User
    is_manager: bool


def get_agency(db: Session, agency_id: uuid.UUID, *, lock: bool = False) -> Agency:
    """The agency; with ``lock``, its row is locked until the transaction ends (PostgreSQL)."""
    agency = db.get(Agency, agency_id, with_for_update=lock or None)
    if agency is None:
        raise NotFoundError(f"agency {agency_id}")
    return agency


def get_team(db: Session, agency_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    """The team, only if it belongs to ``agency_id`` (otherwise it is not found)."""
    team = db.get(Team, team_id)
    if team is None or team.agency_id != agency_id:
        raise NotFoundError(f"team {team_id} of agency {agency_id}")
    return team


def list_agencies(db: Session, *, active_only: bool = False) -> Sequence[Agency]:
    query = select(Agency).order_by(func.lower(Agency.name), Agency.id)
    if active_only:
        query = query.where(Agency.active.is_(True))
    return db.scalars(query).all()


def agency_summaries(db: Session) -> Sequence[AgencySummary]:
    active_users = (
        select(func.count())
        .select_from(User)
        .where(User.agency_id == Agency.id, User.active.is_(True))
        .scalar_subquery()
    )
    teams = select(func.count()).select_from(Team).where(Team.agency_id == Agency.id)
    rows = db.execute(
        select(Agency, active_users, teams.scalar_subquery()).order_by(
            func.lower(Agency.name), Agency.id
        )
    ).all()
    return [AgencySummary(agency, users or 0, count or 0) for agency, users, count in rows]


def count_active_users(db: Session, agency_id: uuid.UUID) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(User)
            .where(User.agency_id == agency_id, User.active.is_(True))
        )
        or 0
    )


def team_summaries(db: Session, agency_id: uuid.UUID) -> Sequence[TeamSummary]:
    """The agency's teams with their numbers of active members and of managers."""
    members = (
        select(func.count())
        .select_from(TeamMembership)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id == Team.id, User.active.is_(True))
        .scalar_subquery()
    )
    managers = (
        select(func.count())
        .select_from(TeamMembership)
        .join(User, User.id == TeamMembership.user_id)
        .where(
            TeamMembership.team_id == Team.id,
            TeamMembership.is_manager.is_(True),
            User.active.is_(True),
        )
        .scalar_subquery()
    )
    rows = db.execute(
        select(Team, members, managers)
        .where(Team.agency_id == agency_id)
        .order_by(func.lower(Team.name), Team.id)
    ).all()
    return [TeamSummary(team, m or 0, mg or 0) for team, m, mg in rows]


def team_members(db: Session, team_id: uuid.UUID) -> Sequence[TeamMember]:
    """Everyone in the team (disabled accounts too, so they can be removed), by name."""
    rows = db.execute(
        select(User, TeamMembership.is_manager)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id)
        .order_by(func.lower(User.full_name), User.email, User.id)
    ).all()
    return [TeamMember(user, is_manager) for user, is_manager in rows]


def find_membership(db: Session, team_id: uuid.UUID, user_id: uuid.UUID) -> TeamMembership | None:
    return db.get(TeamMembership, (team_id, user_id))


def users_who_could_join(db: Session, team: Team) -> Sequence[User]:
    """Active users of the team's agency who are not in the team yet, by name."""
    already = select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)
    return db.scalars(
        select(User)
        .where(
            User.agency_id == team.agency_id,
            User.active.is_(True),
            User.id.not_in(already),
        )
        .order_by(func.lower(User.full_name), User.email, User.id)
    ).all()
