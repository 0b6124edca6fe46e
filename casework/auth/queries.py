"""Reads for sign-in and the account page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.agencies.models import Team, TeamMembership
from casework.auth.models import UserSession
from casework.users.models import User


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


@dataclass(frozen=True)
class NotificationPreferences:
    by_email: bool
    by_sms: bool
    mobile_number: str


def notification_preferences(db: Session, user_id: uuid.UUID) -> NotificationPreferences:
    row = db.execute(
        select(User.notify_by_email, User.notify_by_sms, User.mobile_number).where(
            User.id == user_id
        )
    ).one()
    return NotificationPreferences(bool(row[0]), bool(row[1]), row[2] or "")
