"""Helpers for the welfare-check and job-runner tests: schedules through the real services,
and running the sweeps as the job runner does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit.recorder import SYSTEM
from casework.clock import london_today
from casework.consent.rules import SharingRules
from casework.db import Database
from casework.jobs import services as jobs
from casework.jobs.runner import Runner
from casework.notifications.models import Notification, OutboxMessage
from casework.notifications.senders import Outgoing
from casework.people.codes import ContactOutcome
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskSource, TaskState
from casework.welfare import services as welfare
from casework.welfare.models import Pattern
from tests.conftest import Builders, MadeUser

T = TypeVar("T")


def schedule(
    build: Builders,
    person_id: uuid.UUID,
    *,
    by: MadeUser,
    at: time = time(10, 0),
    pattern: Pattern = Pattern.EVERY_N_DAYS,
    interval_days: int | None = 1,
    start: date | None = None,
    end: date | None = None,
    kind: str = "welfare_standard",
    reason: str = "overdose_risk",
    user_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    request_agency_id: uuid.UUID | None = None,
    weekdays: Iterable[int] = (),
) -> uuid.UUID:
    data = welfare.ScheduleInput(
        kind=kind,
        reason=reason,
        pattern=pattern,
        at=at,
        start=start or london_today(),
        end=end,
        interval_days=interval_days if pattern is Pattern.EVERY_N_DAYS else None,
        weekdays=frozenset(weekdays),
        user_id=user_id or (None if team_id else by.id),
        team_id=team_id,
        request_agency_id=request_agency_id,
    )
    with build.database.transaction() as db:
        viewer = build.viewer(by)
        return welfare.create_schedule(
            db, SYSTEM, viewer, build._access_of(db, viewer, person_id), data
        )


def _detached(db: Session, found: list[T]) -> list[T]:
    """Rows to read after the reading session ends (its rollback would expire them)."""
    for row in found:
        db.expunge(row)
    return found


def open_check(database: Database, schedule_id: uuid.UUID) -> Task | None:
    with database.reading() as db:
        found = db.scalars(
            select(Task).where(
                Task.source == TaskSource.WELFARE_CHECK,
                Task.source_id == schedule_id,
                Task.state == TaskState.OPEN,
            )
        ).all()
        return next(iter(_detached(db, list(found))), None)


def record(
    build: Builders,
    person_id: uuid.UUID,
    task_id: uuid.UUID,
    *,
    by: MadeUser,
    outcome: ContactOutcome = ContactOutcome.SEEN_WELL,
    note: str = "",
) -> welfare.RecordedCheck:
    with build.database.transaction() as db:
        viewer = build.viewer(by)
        return welfare.record_check(
            db,
            Vault(build.kit.keystore),
            SYSTEM,
            viewer,
            build._access_of(db, viewer, person_id),
            task_id=task_id,
            outcome=outcome,
            note=note,
        )


class Captured:
    """A sender that keeps what it was given (the outside world, for tests)."""

    name = "captured"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        return f"captured:{message.outbox_id}"


def sweep(database: Database, kit: SecurityKit, *, now: datetime | None = None) -> jobs.SweepResult:
    """One reminders sweep, as the runner runs it."""
    return jobs.sweep_reminders(
        database,
        Vault(kit.keystore),
        SharingRules.from_settings(kit.settings),
        runner="test",
        now=now,
    )


def runner(database: Database, kit: SecurityKit, sender: Captured | None = None) -> Runner:
    return Runner(database, kit, name="test-runner", sender=sender or Captured())


def notifications(database: Database, user_id: uuid.UUID | None = None) -> list[Notification]:
    with database.reading() as db:
        statement = select(Notification).order_by(Notification.created_at)
        if user_id is not None:
            statement = statement.where(Notification.user_id == user_id)
        return _detached(db, list(db.scalars(statement)))


def outbox(database: Database) -> list[OutboxMessage]:
    with database.reading() as db:
        return _detached(
            db, list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))
        )
