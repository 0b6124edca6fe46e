"""Figures for the role home pages (no case content: that arrives with people, issue 3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.agencies.models import Agency, Team, TeamMembership
from casework.audit.models import AuditEvent
from casework.clock import utcnow
from casework.users.models import User


@dataclass(frozen=True)
class TeamSummary:
    name: str
    members: int
    is_manager: bool


def teams_of(db: Session, user_id: uuid.UUID) -> Sequence[TeamSummary]:
    member_count = (
        select(func.count())
        .select_from(TeamMembership)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id == Team.id, User.active.is_(True))
        .scalar_subquery()
    )
    rows = db.execute(
        select(Team.name, member_count, TeamMembership.is_manager)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id)
        .order_by(Team.name)
    ).all()
    return [TeamSummary(name, count, manager) for name, count, manager in rows]


@dataclass(frozen=True)
class AdminFigures:
    active_users: int
    disabled_users: int
    users_without_mfa: int
    active_agencies: int


def admin_figures(db: Session) -> AdminFigures:
    def count(*where: object) -> int:
        return db.scalar(select(func.count()).select_from(User).where(*where)) or 0  # type: ignore[arg-type]

    return AdminFigures(
        active_users=count(User.active.is_(True)),
        disabled_users=count(User.active.is_(False)),
        users_without_mfa=count(User.active.is_(True), User.mfa_enrolled_at.is_(None)),
        active_agencies=db.scalar(
            select(func.count()).select_from(Agency).where(Agency.active.is_(True))
        )
        or 0,
    )


@dataclass(frozen=True)
class SecuritySummary:
    failed_sign_ins_24h: int
    failed_codes_24h: int
    sign_ins_24h: int


def security_summary(db: Session) -> SecuritySummary:
    since = utcnow() - timedelta(hours=24)

    def count(action: str, outcome: str) -> int:
        return (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == action,
                    AuditEvent.outcome == outcome,
                    AuditEvent.occurred_at >= since,
                )
            )
            or 0
        )

    return SecuritySummary(
        failed_sign_ins_24h=count("auth.password", "denied"),
        failed_codes_24h=count("auth.mfa", "denied"),
        sign_ins_24h=count("auth.sign_in", "allowed"),
    )


def agencies_by_kind(db: Session) -> Sequence[tuple[str, int]]:
    rows = db.execute(
        select(Agency.kind, func.count())
        .where(Agency.active.is_(True))
        .group_by(Agency.kind)
        .order_by(Agency.kind)
    ).all()
    return sorted((kind.label, count) for kind, count in rows)
