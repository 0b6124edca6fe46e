"""Making and closing tasks. Services flush; the caller's transaction commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.clock import utcnow
from casework.tasks.models import Task, TaskSource, TaskState


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
) -> uuid.UUID:
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
            created_at=utcnow(),
            created_by_id=created_by_id,
            version=1,
        )
    )
    return task_id


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
