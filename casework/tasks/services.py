"""Making and closing tasks. Services flush; the caller's transaction commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.clock import utcnow
from casework.tasks.definitions import LadderDef, ladders
from casework.tasks.models import Reminder, ReminderState, Task, TaskSource, TaskState


def add_task(
    db: Session,
    *,
    title: str,
    source: TaskSource,
    agency_id: uuid.UUID,
    category: Category,
    due_at: datetime,
    person_id: uuid.UUID | None = None,
    source_id: uuid.UUID | None = None,
    source_key: str | None = None,
    user_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    at_risk_at: datetime | None = None,
    created_by_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    ladder: str | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Add a task and plan its escalation ladder's reminders (``ladder`` None: the default
    ladder of its source, if there is one)."""
    now = now or utcnow()
    chosen = ladders().get(ladder) if ladder else ladders().default_for(source)
    if ladder and chosen is None:
        raise LookupError(f"no escalation ladder {ladder!r}")
    task_id = uuid.uuid4()
    db.execute(
        insert(Task).values(
            id=task_id,
            title=title,
            person_id=person_id,
            source=source,
            source_id=source_id,
            source_key=source_key,
            category=category,
            agency_id=agency_id,
            team_id=team_id,
            user_id=user_id,
            due_at=due_at,
            at_risk_at=at_risk_at,
            state=TaskState.OPEN,
            details=details or {},
            created_at=now,
            created_by_id=created_by_id,
            version=1,
            ladder=chosen.key if chosen else None,
        )
    )
    if chosen is not None:
        plan_reminders(db, task_id=task_id, ladder=chosen, due_at=due_at, now=now)
    return task_id


def plan_reminders(
    db: Session, *, task_id: uuid.UUID, ladder: LadderDef, due_at: datetime, now: datetime
) -> int:
    """One reminder row per step of the ladder. A step before the due time that has already
    passed (a task made less than a day before it is due) is left out; a step after it is
    kept even when already past (a clock that started late still escalates)."""
    rows = [
        {
            "id": uuid.uuid4(),
            "task_id": task_id,
            "step": number,
            "due_at": due_at + step.after,
            "state": ReminderState.PENDING,
        }
        for number, step in enumerate(ladder.steps)
        if step.after.total_seconds() >= 0 or due_at + step.after > now
    ]
    if rows:
        db.execute(insert(Reminder), rows)
    return len(rows)


def close_source_tasks(
    db: Session,
    *,
    source_id: uuid.UUID,
    source_key: str | None,
    state: TaskState,
    closed_by_id: uuid.UUID,
) -> int:
    """Close the open tasks a record's stage (or every stage, ``source_key`` None) made."""
    conditions = [Task.source_id == source_id, Task.state == TaskState.OPEN]
    if source_key is not None:
        conditions.append(Task.source_key == source_key)
    result = db.execute(
        update(Task)
        .where(*conditions)
        .values(
            state=state, closed_at=utcnow(), closed_by_id=closed_by_id, version=Task.version + 1
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
