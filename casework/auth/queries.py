"""Reads for sign-in and the account page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.agencies.models import Team, TeamMembership
from casework.auth.models import UserSession


def active_sessions(db: Session, user_id: uuid.UUID) -> Sequence[UserSession]:
    return db.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id)
    ).all()


def team_names_for(db: Session, user_id: uuid.UUID) -> Sequence[str]:
    return db.scalars(
        select(Team.name)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id)
        .order_by(Team.name)
    ).all()
