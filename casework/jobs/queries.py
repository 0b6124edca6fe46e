"""What the sweeps read, batch by batch: one query per kind of fact, never one per row."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.access.roles import CASE_ROLES, Role
from casework.agencies.models import Agency, AgencyKind, TeamMembership
from casework.family.models import Involvement
from casework.jobs.models import JobRun
from casework.notifications.models import OutboxMessage, OutboxState
from casework.pathways.models import Referral
from casework.people.models import Person
from casework.tasks.models import Reminder, ReminderState, Task
from casework.users.models import User, UserRole


@dataclass(frozen=True)
class TaskFacts:
    id: uuid.UUID
    state: str
    ladder: str | None
    source: str
    source_id: uuid.UUID | None
    person_id: uuid.UUID | None
    agency_id: uuid.UUID
    team_id: uuid.UUID | None
    user_id: uuid.UUID | None
    due_at: datetime
    red_since: datetime | None
    person_died_on: date | None
    person_created_by_agency_id: uuid.UUID | None


def task_facts(db: Session, task_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, TaskFacts]:
    rows = db.execute(
        select(
            Task.id,
            Task.state,
            Task.ladder,
            Task.source,
            Task.source_id,
            Task.person_id,
            Task.agency_id,
            Task.team_id,
            Task.user_id,
            Task.due_at,
            Task.red_since,
            Person.died_on,
            Person.created_by_agency_id,
        )
        .outerjoin(Person, Person.id == Task.person_id)
        .where(Task.id.in_(list(task_ids)))
    ).all()
    return {row[0]: TaskFacts(*tuple(row)) for row in rows}


def agencies_involved(
    db: Session, pairs: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Of these (person, agency) pairs, the ones where the agency is involved now: an open
    involvement, or an open referral addressed to it (the policy's "involved")."""
    if not pairs:
        return set()
    people = list({person for person, _agency in pairs})
    found = set(
        db.execute(
            select(Involvement.person_id, Involvement.agency_id).where(
                Involvement.person_id.in_(people), Involvement.ended_on.is_(None)
            )
        )
    )
    found |= set(
        db.execute(
            select(Referral.person_id, Referral.to_agency_id).where(
                Referral.person_id.in_(people), Referral.closed_at.is_(None)
            )
        )
    )
    return {pair for pair in pairs if pair in found}


@dataclass(frozen=True)
class Recipient:
    id: uuid.UUID
    agency_id: uuid.UUID
    active: bool
    roles: frozenset[Role]
    by_email: bool
    by_sms: bool
    has_mobile: bool

    @property
    def works_with_cases(self) -> bool:
        return bool(self.roles & CASE_ROLES)


def recipients(db: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Recipient]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    roles: dict[uuid.UUID, set[Role]] = defaultdict(set)
    for user_id, role in db.execute(
        select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(ids))
    ):
        roles[user_id].add(role)
    rows = db.execute(
        select(
            User.id,
            User.agency_id,
            User.active,
            User.notify_by_email,
            User.notify_by_sms,
            User.mobile_number,
        ).where(User.id.in_(ids))
    ).all()
    return {
        row[0]: Recipient(
            id=row[0],
            agency_id=row[1],
            active=row[2],
            roles=frozenset(roles.get(row[0], ())),
            by_email=row[3],
            by_sms=row[4],
            has_mobile=bool(row[5]),
        )
        for row in rows
    }


def team_members(
    db: Session, team_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, bool]]]:
    """Each team's members, with whether each is one of its managers."""
    ids = list(set(team_ids))
    found: dict[uuid.UUID, list[tuple[uuid.UUID, bool]]] = defaultdict(list)
    if ids:
        for team_id, user_id, manager in db.execute(
            select(TeamMembership.team_id, TeamMembership.user_id, TeamMembership.is_manager).where(
                TeamMembership.team_id.in_(ids)
            )
        ):
            found[team_id].append((user_id, manager))
    return found


def teams_of_users(db: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    ids = list(set(user_ids))
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if ids:
        for user_id, team_id in db.execute(
            select(TeamMembership.user_id, TeamMembership.team_id).where(
                TeamMembership.user_id.in_(ids)
            )
        ):
            found[user_id].append(team_id)
    return found


def agency_users_with_roles(
    db: Session, agency_ids: Iterable[uuid.UUID], roles: Collection[Role]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    ids = list(set(agency_ids))
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if ids and roles:
        for agency_id, user_id in db.execute(
            select(User.agency_id, User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id.in_(ids), User.active.is_(True), UserRole.role.in_(list(roles)))
            .distinct()
        ):
            found[agency_id].append(user_id)
    return found


def agency_kind(db: Session, agency_id: uuid.UUID) -> AgencyKind | None:
    return db.scalar(select(Agency.kind).where(Agency.id == agency_id))


# --- status -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    reminders_due: int
    outbox_queued: int
    outbox_failed: int
    oldest_due_reminder: datetime | None


def queue_figures(db: Session, now: datetime) -> QueueFigures:
    due = db.execute(
        select(func.count(), func.min(Reminder.due_at)).where(
            Reminder.state == ReminderState.PENDING, Reminder.due_at <= now
        )
    ).one()
    outbox = dict(
        db.execute(
            select(OutboxMessage.state, func.count())
            .where(
                OutboxMessage.state.in_(
                    [OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED]
                )
            )
            .group_by(OutboxMessage.state)
        ).all()
    )
    return QueueFigures(
        reminders_due=int(due[0] or 0),
        outbox_queued=int(outbox.get(OutboxState.QUEUED, 0) + outbox.get(OutboxState.SENDING, 0)),
        outbox_failed=int(outbox.get(OutboxState.FAILED, 0)),
        oldest_due_reminder=due[1],
    )


def job_runs(db: Session) -> list[JobRun]:
    """Every sweep's row, detached (usable once the reading session ends)."""
    found = list(db.scalars(select(JobRun).order_by(JobRun.name)))
    for run in found:
        db.expunge(run)
    return found


def last_sweep_finished(db: Session) -> datetime | None:
    """When the runner last finished the reminders sweep (the one that must not fall behind)."""
    return db.scalar(select(JobRun.last_finished_at).where(JobRun.name == "reminders"))
