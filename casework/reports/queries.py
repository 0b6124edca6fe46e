"""The measures behind every report, as set-based SQL narrowed by the access policy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.agencies.models import Agency, Team
from casework.pathways.definitions import pathways
from casework.reports.periods import Filters
from casework.reports.tables import Drill, Report, Scope
from casework.users.models import User

Builder = Callable[[Session, Viewer, Scope, Filters, datetime], Report]
BUILDERS: dict[str, Builder] = {}


def agencies(db: Session) -> list[tuple[uuid.UUID, str]]:
    rows = db.execute(select(Agency.id, Agency.name).order_by(Agency.name)).all()
    return [(row.id, row.name) for row in rows]


def teams(db: Session, agency_id: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    statement = select(Team.id, Team.name).order_by(Team.name)
    if agency_id is not None:
        statement = statement.where(Team.agency_id == agency_id)
    return [(row.id, row.name) for row in db.execute(statement).all()]


def workers(db: Session, agency_id: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    statement = select(User.id, User.full_name).where(User.is_service_account.is_(False))
    if agency_id is not None:
        statement = statement.where(User.agency_id == agency_id)
    rows = db.execute(statement.order_by(User.full_name)).all()
    return [(row.id, row.full_name) for row in rows]


def pathway_choices() -> list[tuple[str, str]]:
    return [(p.key, p.name) for p in pathways().by_key.values()]


def people_behind(
    db: Session, viewer: Viewer, name: str, filters: Filters, drill: Drill, *, now: datetime
) -> tuple[list[uuid.UUID], int, str]:
    raise NotImplementedError
