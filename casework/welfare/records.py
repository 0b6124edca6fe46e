"""Stopping a person's welfare-check schedules when their case closes or they die.

Used by the services that record a death and that end an involvement (DECISIONS §1: a death
stops every schedule and clock). The job runner re-checks at send time as well, so a path that
forgets to call this still sends nothing about a closed case.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from casework.tasks.models import Task, TaskSource, TaskState
from casework.welfare.models import ScheduleEvent, ScheduleState, WelfareSchedule


def stop_schedules(
    db: Session,
    *,
    person_id: uuid.UUID,
    reason: str,
    now: datetime,
    agency_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> int:
    """End the person's live schedules (of one agency, or all) and cancel their open checks."""
    conditions = [
        WelfareSchedule.person_id == person_id,
        WelfareSchedule.state != ScheduleState.ENDED,
    ]
    if agency_id is not None:
        conditions.append(WelfareSchedule.agency_id == agency_id)
    ids = list(db.scalars(select(WelfareSchedule.id).where(*conditions)))
    if not ids:
        return 0
    db.execute(
        update(WelfareSchedule)
        .where(WelfareSchedule.id.in_(ids))
        .values(
            state=ScheduleState.ENDED,
            ended_at=now,
            end_reason=reason,
            next_due_at=None,
            updated_at=now,
            version=WelfareSchedule.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    cancel_checks(db, ids, by=actor_id, now=now)
    db.execute(
        insert(ScheduleEvent),
        [
            {
                "id": uuid.uuid4(),
                "schedule_id": schedule_id,
                "action": "ended",
                "occurred_at": now,
                "actor_id": actor_id,
                "details": {"reason": reason},
            }
            for schedule_id in ids
        ],
    )
    return len(ids)


def cancel_checks(
    db: Session, schedule_ids: list[uuid.UUID], *, by: uuid.UUID | None, now: datetime
) -> None:
    """Cancel the schedules' open checks (their reminders then stop at send time)."""
    db.execute(
        update(Task)
        .where(
            Task.source == TaskSource.WELFARE_CHECK,
            Task.source_id.in_(schedule_ids),
            Task.state == TaskState.OPEN,
        )
        .values(state=TaskState.CANCELLED, closed_at=now, closed_by_id=by, version=Task.version + 1)
        .execution_options(synchronize_session=False)
    )
