"""The worker's inbox ("My work") and the manager's team view: due and overdue welfare checks,
the open tasks of the viewer (or their teams), and the count in the navigation.

Every list is of the viewer's agency's own tasks; a person's name is shown only when the
viewer may see the person (the access policy's ``accesses``), as on the agency's task list.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import Viewer, accesses
from casework.agencies.models import Team, TeamMembership
from casework.clock import utcnow
from casework.people.models import Person
from casework.people.records import open_names
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskSource, TaskState
from casework.users.models import User
from casework.welfare import labels
from casework.welfare.models import WelfareSchedule

_assignee = aliased(User)
_team = aliased(Team)


@dataclass(frozen=True)
class WorkItem:
    """One open task as the inbox lists it."""

    task_id: uuid.UUID
    source: TaskSource
    source_id: uuid.UUID | None
    title: str
    due_at: datetime
    red_since: datetime | None
    #: Set only when the viewer may see the person.
    person_id: uuid.UUID | None
    person_name: str | None
    person_hidden: bool
    assignee: str
    category: Category
    reason_label: str = ""

    @property
    def red(self) -> bool:
        return self.red_since is not None

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now


def _my_teams(user_id: uuid.UUID) -> object:
    return select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)


def _mine(viewer: Viewer) -> ColumnElement[bool]:
    """Assigned to the viewer, or to one of their teams."""
    return or_(Task.user_id == viewer.user_id, Task.team_id.in_(_my_teams(viewer.user_id)))  # type: ignore[arg-type]


def _teams(team_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """Assigned to one of these teams, or to one of their members."""
    if not team_ids:
        return false()
    members = select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids))
    return or_(Task.team_id.in_(team_ids), Task.user_id.in_(members))


#: The badge on "My work": the viewer's (and their teams') open work due by the end of today,
#: one count on the open-task indexes.
_COUNT_MINE = (
    select(func.count())
    .select_from(Task)
    .where(
        Task.agency_id == bindparam("agency_id"),
        Task.state == TaskState.OPEN,
        Task.due_at < bindparam("until"),
        or_(
            Task.user_id == bindparam("user_id"),
            Task.team_id.in_(
                select(TeamMembership.team_id).where(TeamMembership.user_id == bindparam("user_id"))
            ),
        ),
    )
)


def count_due(db: Session, viewer: Viewer, *, now: datetime | None = None) -> int:
    """The viewer's due and overdue work (the number beside "My work")."""
    if not viewer.works_with_cases:
        return 0
    until = labels.end_of_london_day(now or utcnow())
    found = db.connection().execute(
        _COUNT_MINE,
        {"agency_id": viewer.agency_id, "user_id": viewer.user_id, "until": until},
    )
    return int(found.scalar() or 0)


def _items(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    now: datetime,
) -> list[WorkItem]:
    rows = db.execute(
        select(
            Task,
            Person.names_enc,
            _assignee.full_name.label("user_name"),
            _team.name.label("team_name"),
            WelfareSchedule.kind,
            WelfareSchedule.reason,
        )
        .outerjoin(Person, Person.id == Task.person_id)
        .outerjoin(_assignee, _assignee.id == Task.user_id)
        .outerjoin(_team, _team.id == Task.team_id)
        .outerjoin(
            WelfareSchedule,
            and_(Task.source == TaskSource.WELFARE_CHECK, WelfareSchedule.id == Task.source_id),
        )
        .where(Task.agency_id == viewer.agency_id, Task.state == TaskState.OPEN, *where)
        # Red (escalated) first, then the longest overdue.
        .order_by(Task.red_since.is_(None), Task.due_at, Task.id)
        .limit(limit)
    ).all()
    visible = accesses(db, viewer, [r.Task.person_id for r in rows if r.Task.person_id], now=now)
    vault.prefetch(visible)
    found: list[WorkItem] = []
    for row in rows:
        task: Task = row.Task
        shown = task.person_id is not None and task.person_id in visible
        found.append(
            WorkItem(
                task_id=task.id,
                source=task.source,
                source_id=task.source_id,
                title=task.title,
                due_at=task.due_at,
                red_since=task.red_since,
                person_id=task.person_id if shown else None,
                person_name=(
                    open_names(vault, task.person_id, row.names_enc).display
                    if shown and task.person_id is not None and row.names_enc is not None
                    else None
                ),
                person_hidden=task.person_id is not None and not shown,
                category=task.category,
                assignee=row.user_name or (f"{row.team_name} (team)" if row.team_name else ""),
                reason_label=(
                    labels.reason_label(row.kind, row.reason) if row.kind and row.reason else ""
                ),
            )
        )
    return found


def my_checks(
    db: Session, vault: Vault, viewer: Viewer, *, now: datetime | None = None, limit: int = 100
) -> list[WorkItem]:
    """Welfare checks due today or overdue, assigned to the viewer or their teams: red first."""
    if not viewer.works_with_cases:
        return []
    now = now or utcnow()
    where = [
        Task.source == TaskSource.WELFARE_CHECK,
        Task.due_at < labels.end_of_london_day(now),
        _mine(viewer),
    ]
    return _items(db, vault, viewer, where, limit=limit, now=now)


def my_tasks(
    db: Session, vault: Vault, viewer: Viewer, *, now: datetime | None = None, limit: int = 50
) -> list[WorkItem]:
    """Other open tasks assigned to the viewer or their teams (any due date), soonest first."""
    if not viewer.works_with_cases:
        return []
    now = now or utcnow()
    where = [Task.source != TaskSource.WELFARE_CHECK, _mine(viewer)]
    return _items(db, vault, viewer, where, limit=limit, now=now)


def team_checks(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    team_ids: Sequence[uuid.UUID],
    *,
    now: datetime | None = None,
    limit: int = 200,
) -> list[WorkItem]:
    """The managed teams' welfare checks due today or overdue (the team's, and each member's):
    escalated (red) first."""
    if not viewer.works_with_cases or not team_ids:
        return []
    now = now or utcnow()
    where = [
        Task.source == TaskSource.WELFARE_CHECK,
        Task.due_at < labels.end_of_london_day(now),
        _teams(team_ids),
    ]
    return _items(db, vault, viewer, where, limit=limit, now=now)
