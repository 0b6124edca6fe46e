"""Reading tasks: the open tasks of the viewer's agency, soonest due first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer, accesses
from casework.clock import utcnow
from casework.pathways.queries import Clock
from casework.people.models import Person
from casework.people.records import open_names
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskSource, TaskState


@dataclass(frozen=True)
class TaskItem:
    id: uuid.UUID
    clock: Clock
    source: TaskSource
    source_id: uuid.UUID | None
    #: Set only when the viewer may see the person (then a link to them is shown).
    person_id: uuid.UUID | None
    person_name: str | None
    #: The task is about someone the viewer may not see (their name is not shown).
    person_hidden: bool

    @property
    def referral_id(self) -> uuid.UUID | None:
        """A pathway task's source is its referral."""
        return self.source_id if self.source is TaskSource.PATHWAY else None


def _open_of(viewer: Viewer) -> ColumnElement[bool]:
    return and_(Task.agency_id == viewer.agency_id, Task.state == TaskState.OPEN)


def count_open(db: Session, viewer: Viewer) -> int:
    """Open tasks of the viewer's agency (the count on the tab)."""
    if not viewer.works_with_cases:
        return 0
    return db.scalar(select(func.count()).select_from(Task).where(_open_of(viewer))) or 0


def open_tasks(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    *,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[TaskItem]:
    """The open tasks assigned to the viewer's agency, soonest due first, in one query, with
    the names of the people the viewer may see (decrypted for those only)."""
    if not viewer.works_with_cases:
        return []
    now = now or utcnow()
    rows = db.execute(
        select(Task, Person.names_enc)
        .outerjoin(Person, Person.id == Task.person_id)
        .where(_open_of(viewer))
        .order_by(Task.due_at, Task.id)
        .limit(limit)
        .offset(offset)
    ).all()
    visible = accesses(
        db, viewer, [row.Task.person_id for row in rows if row.Task.person_id], now=now
    )
    vault.prefetch(visible)
    found: list[TaskItem] = []
    for task, names_enc in rows:
        shown = task.person_id is not None and task.person_id in visible
        found.append(
            TaskItem(
                id=task.id,
                clock=Clock(task.title, task.due_at, task.at_risk_at),
                source=task.source,
                source_id=task.source_id,
                person_id=task.person_id if shown else None,
                person_name=(
                    open_names(vault, task.person_id, names_enc).display
                    if shown and task.person_id is not None and names_enc is not None
                    else None
                ),
                person_hidden=task.person_id is not None and not shown,
            )
        )
    return found
