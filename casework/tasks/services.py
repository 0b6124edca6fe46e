"""Making and closing tasks. Services flush; the caller's transaction commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import Viewer
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import utcnow
from casework.db import check_version
from casework.people.services import NotAllowed
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


def complete_task(
    db: Session, actor: Actor, viewer: Viewer, *, task_id: uuid.UUID, expected_version: int | None
) -> None:
    """Mark a task done by hand (one assigned to the viewer's agency)."""
    task = db.get(Task, task_id, with_for_update=True)
    if task is None or task.agency_id != viewer.agency_id:
        raise LookupError(str(task_id))
    if task.state is not TaskState.OPEN:
        raise NotAllowed("task is closed")
    check_version(task, expected_version)
    task.state = TaskState.DONE
    task.closed_at = utcnow()
    task.closed_by_id = viewer.user_id
    db.flush()
    recorder.record(
        db,
        actor,
        "task.done",
        target_type="person" if task.person_id else None,
        target_id=task.person_id,
        details={"task_id": str(task.id), "source": task.source.value},
    )


def open_task_ids(db: Session, source_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        db.scalars(select(Task.id).where(Task.source_id == source_id, Task.state == "open"))
    )
