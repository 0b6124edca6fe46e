"""Demo welfare-check schedules, so that `make run` shows reminders at once: on the HOPE
worker's caseload, a check overdue (it turns red when the runner sweeps), a high-risk check
overdue long enough that the team manager is told, one due later today, one tomorrow and a
weekly team check. Made through the services, as a worker would, at earlier times."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer, person_access
from casework.agencies.models import TeamMembership
from casework.audit.recorder import SYSTEM
from casework.clock import to_london, utcnow
from casework.family.models import Involvement
from casework.people.models import Person
from casework.users.models import User
from casework.welfare.models import Pattern
from casework.welfare.services import ScheduleInput, create_schedule


def _at(moment: datetime) -> time:
    return to_london(moment).time().replace(second=0, microsecond=0)


def _viewer(user: User) -> Viewer:
    return Viewer(user.id, user.agency_id, user.agency.kind, user.roles)


def load(db: Session, *, worker_email: str) -> int:
    worker = db.scalars(select(User).where(User.email == worker_email)).one()
    viewer = _viewer(worker)
    people = list(
        db.scalars(
            select(Involvement.person_id)
            .join(Person, Person.id == Involvement.person_id)
            .where(
                Involvement.worker_id == worker.id,
                Involvement.ended_on.is_(None),
                Person.died_on.is_(None),
            )
            .order_by(Involvement.started_on.desc(), Involvement.person_id)
            .limit(5)
        )
    )
    team_id = db.scalar(select(TeamMembership.team_id).where(TeamMembership.user_id == worker.id))
    now = utcnow()
    plans = [
        # (kind, reason, made this long ago, due this long after it was made, pattern)
        (
            "welfare_standard",
            "overdose_risk",
            timedelta(hours=6),
            timedelta(hours=1),
            Pattern.EVERY_N_DAYS,
        ),
        (
            "welfare_high_risk",
            "recent_release",
            timedelta(hours=8),
            timedelta(hours=1),
            Pattern.EVERY_N_DAYS,
        ),
        (
            "welfare_standard",
            "housing_crisis",
            timedelta(0),
            timedelta(hours=2),
            Pattern.EVERY_N_DAYS,
        ),
        ("welfare_standard", "health", timedelta(0), timedelta(days=1), Pattern.EVERY_N_DAYS),
        ("welfare_standard", "exploitation", timedelta(0), timedelta(days=3), Pattern.WEEKDAYS),
    ]
    made = 0
    for person_id, (kind, reason, ago, after, pattern) in zip(people, plans, strict=False):
        when = now - ago
        due = when + after
        access = person_access(db, viewer, person_id, now=when)
        if access is None:
            continue
        create_schedule(
            db,
            SYSTEM,
            viewer,
            access,
            ScheduleInput(
                kind=kind,
                reason=reason,
                pattern=pattern,
                at=_at(due),
                start=to_london(due).date(),
                interval_days=2 if pattern is Pattern.EVERY_N_DAYS else None,
                weekdays=frozenset({to_london(due).weekday()}),
                user_id=None if pattern is Pattern.WEEKDAYS and team_id else worker.id,
                team_id=team_id if pattern is Pattern.WEEKDAYS else None,
            ),
            now=when,
        )
        made += 1
    return made
