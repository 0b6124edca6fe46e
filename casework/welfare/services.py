"""Welfare-check schedules: make, change, pause, resume, end; record a check.

Each live schedule has one open occurrence: a task (source ``welfare_check``) whose ladder is
the schedule's kind, so reminders and escalation come from the one mechanism every due item
uses. Recording a check logs a contact (its note encrypted like every note), closes the
occurrence and makes the next one. Services flush; the caller's transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from casework.access.policy import PersonAccess, Viewer, may_log_contact
from casework.agencies.models import Agency, Team, TeamMembership
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import utcnow
from casework.contacts.services import ContactInput, log_contact
from casework.db import StaleVersion, check_version
from casework.family.models import Involvement
from casework.notifications.services import notify
from casework.people.codes import ContactKind, ContactOutcome, TimelineKind, information
from casework.people.models import Person
from casework.people.services import NotAllowed, PersonError, add_timeline
from casework.security.vault import Vault
from casework.tasks.definitions import LadderDef, Ladders, ladders
from casework.tasks.models import Task, TaskSource, TaskState
from casework.tasks.services import add_task
from casework.users.models import User
from casework.welfare.models import Pattern, ScheduleEvent, ScheduleState, WelfareSchedule
from casework.welfare.records import cancel_checks
from casework.welfare.rules import Recurrence, ScheduleProblem, next_occurrence, weekdays_from_code
from casework.workdays import WorkingDays, working_days

#: The outcomes a welfare check records (a contact of kind "welfare check").
CHECK_OUTCOMES = (
    ContactOutcome.SEEN_WELL,
    ContactOutcome.SEEN_CONCERNS,
    ContactOutcome.NOT_FOUND,
    ContactOutcome.DECLINED,
    ContactOutcome.NO_ANSWER,
)
#: Outcomes after which the team's managers are told (in the app; no details in the text).
TELL_MANAGERS = {
    ContactOutcome.SEEN_CONCERNS: "A welfare check found concerns",
    ContactOutcome.NOT_FOUND: "A welfare check could not find the person",
    ContactOutcome.NO_ANSWER: "A welfare check was attempted with no contact",
}
OCCURRENCE_KEY = "check"


@dataclass(frozen=True)
class ScheduleInput:
    kind: str
    reason: str
    pattern: Pattern
    at: time
    start: date
    end: date | None = None
    interval_days: int | None = None
    weekdays: frozenset[int] = field(default_factory=frozenset)
    working_days_only: bool = False
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    request_agency_id: uuid.UUID | None = None

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(
            pattern=self.pattern,
            at=self.at,
            start=self.start,
            end=self.end,
            interval_days=self.interval_days if self.pattern is Pattern.EVERY_N_DAYS else None,
            weekdays=self.weekdays if self.pattern is Pattern.WEEKDAYS else frozenset(),
            working_days_only=self.working_days_only,
        )


@dataclass(frozen=True)
class RecordedCheck:
    contact_id: uuid.UUID
    next_due_at: datetime | None


class CheckClosed(LookupError):  # noqa: N818 - reads better at call sites
    """The check was recorded (or cancelled) by someone else first."""


def recurrence_of(schedule: WelfareSchedule) -> Recurrence:
    return Recurrence(
        pattern=schedule.pattern,
        at=schedule.at_time,
        start=schedule.start_date,
        end=schedule.end_date,
        interval_days=schedule.interval_days,
        weekdays=weekdays_from_code(schedule.weekdays),
        working_days_only=schedule.working_days_only,
    )


# --- checks -----------------------------------------------------------------------------------


def _open_case(db: Session, viewer: Viewer, access: PersonAccess) -> None:
    """A schedule needs the person alive and an open case with the viewer's agency."""
    person = db.get(Person, access.person_id)
    if person is None:
        raise LookupError(str(access.person_id))
    if person.died_on is not None:
        raise PersonError("kind", "A death is recorded for this person: no checks can be scheduled")
    involved = db.scalar(
        select(func.count())
        .select_from(Involvement)
        .where(
            Involvement.person_id == access.person_id,
            Involvement.agency_id == viewer.agency_id,
            Involvement.ended_on.is_(None),
        )
    )
    if not involved:
        raise PersonError(
            "kind", "Your agency has no open case with this person: welfare checks need one"
        )


def _kind(found: Ladders, data: ScheduleInput) -> LadderDef:
    ladder = found.get(data.kind)
    if ladder is None or ladder.applies_to is not TaskSource.WELFARE_CHECK:
        raise PersonError("kind", "Select the kind of check")
    if data.reason not in ladder.reasons:
        raise PersonError("reason", "Select a reason from the list")
    return ladder


def _assignment(db: Session, viewer: Viewer, data: ScheduleInput) -> None:
    if data.user_id is None and data.team_id is None:
        raise PersonError("assignee", "Select who will do the checks: a worker or a team")
    if data.user_id is not None:
        user = db.get(User, data.user_id)
        if user is None or user.agency_id != viewer.agency_id or not user.active:
            raise PersonError("assignee", "Select a worker from your agency")
    if data.team_id is not None:
        team = db.get(Team, data.team_id)
        if team is None or team.agency_id != viewer.agency_id:
            raise PersonError("assignee", "Select a team of your agency")


def _request_agency(db: Session, ladder: LadderDef, chosen: uuid.UUID | None) -> uuid.UUID | None:
    """The partner asked for a welfare visit: the one chosen, else the first of its kinds."""
    if not ladder.has_welfare_request:
        return None
    if chosen is not None:
        agency = db.get(Agency, chosen)
        if agency is None or not agency.active or agency.kind not in ladder.request_agency_kinds:
            raise PersonError("request_agency", "Select a partner agency from the list")
        return agency.id
    return db.scalar(
        select(Agency.id)
        .where(Agency.active.is_(True), Agency.kind.in_(ladder.request_agency_kinds))
        .order_by(Agency.name)
        .limit(1)
    )


def _first_due(rule: Recurrence, now: datetime, workdays: WorkingDays) -> datetime:
    try:
        rule.check()
    except ScheduleProblem as exc:
        raise PersonError(exc.field, exc.message) from exc
    # A check at a time already past today is not due in the past: the first is from now on.
    due = next_occurrence(rule, after=now - timedelta(seconds=1), workdays=workdays)
    if due is None:
        field_name = "end_date" if rule.end is not None else "start_date"
        raise PersonError(field_name, "No check falls between the start and end dates from now")
    return due


# --- writing ----------------------------------------------------------------------------------


def _event(
    db: Session,
    schedule_id: uuid.UUID,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    db.execute(
        insert(ScheduleEvent).values(
            id=uuid.uuid4(),
            schedule_id=schedule_id,
            action=action,
            occurred_at=now,
            actor_id=actor_id,
            details=details or {},
        )
    )


def _record(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    schedule: WelfareSchedule,
    action: str,
    *,
    now: datetime,
    details: dict[str, str] | None = None,
) -> None:
    """History row, timeline entry and audit row for one change to a schedule."""
    _event(db, schedule.id, action, actor_id=viewer.user_id, now=now, details=details)
    add_timeline(
        db,
        person_id=schedule.person_id,
        kind=TimelineKind.WELFARE_SCHEDULE,
        category=schedule.category,
        agency_id=schedule.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details={"action": action, "kind": schedule.kind, **(details or {})},
    )
    recorder.record(
        db,
        actor,
        f"welfare.{action}",
        target_type="person",
        target_id=schedule.person_id,
        categories=[schedule.category],
        details={"schedule_id": str(schedule.id)},
    )


def _open_occurrence(
    db: Session,
    schedule: WelfareSchedule,
    ladder: LadderDef,
    due: datetime,
    *,
    by: uuid.UUID | None,
    now: datetime,
) -> None:
    add_task(
        db,
        title=ladder.label,
        source=TaskSource.WELFARE_CHECK,
        source_id=schedule.id,
        source_key=OCCURRENCE_KEY,
        agency_id=schedule.agency_id,
        team_id=schedule.team_id,
        user_id=schedule.user_id,
        category=schedule.category,
        person_id=schedule.person_id,
        due_at=due,
        created_by_id=by,
        details={"schedule_id": str(schedule.id)},
        ladder=ladder.key,
        now=now,
    )
    schedule.next_due_at = due


def create_schedule(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    data: ScheduleInput,
    *,
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Schedule welfare checks on a person for the viewer's agency; the first check is due at
    the first occurrence from now on."""
    now = now or utcnow()
    if viewer.works_with_cases and access.visible:
        _open_case(db, viewer, access)  # a closed case or a death: said on the form
    if not may_log_contact(viewer, access):
        raise NotAllowed("welfare")
    ladder = _kind(ladders(), data)
    _assignment(db, viewer, data)
    due = _first_due(data.recurrence, now, workdays or working_days())
    rule = data.recurrence
    schedule = WelfareSchedule(
        id=uuid.uuid4(),
        person_id=access.person_id,
        agency_id=viewer.agency_id,
        user_id=data.user_id,
        team_id=data.team_id,
        kind=ladder.key,
        reason=data.reason,
        category=information().agency_category(viewer.agency_kind),
        pattern=rule.pattern,
        interval_days=rule.interval_days,
        weekdays=rule.weekdays_code,
        at_time=rule.at,
        working_days_only=rule.working_days_only,
        start_date=rule.start,
        end_date=rule.end,
        request_agency_id=_request_agency(db, ladder, data.request_agency_id),
        state=ScheduleState.ACTIVE,
        created_at=now,
        created_by_id=viewer.user_id,
        updated_at=now,
    )
    db.add(schedule)
    db.flush()
    _open_occurrence(db, schedule, ladder, due, by=viewer.user_id, now=now)
    _record(db, actor, viewer, schedule, "created", now=now)
    db.flush()
    return schedule.id


def _locked_schedule(
    db: Session,
    viewer: Viewer,
    access: PersonAccess,
    schedule_id: uuid.UUID,
    expected_version: int | None,
) -> WelfareSchedule:
    """The schedule, locked, if it is the viewer's agency's and unchanged since the form."""
    schedule = db.get(WelfareSchedule, schedule_id, with_for_update=True)
    if schedule is None or schedule.person_id != access.person_id:
        raise LookupError(str(schedule_id))
    if schedule.agency_id != viewer.agency_id or not may_log_contact(viewer, access):
        raise NotAllowed("welfare")
    check_version(schedule, expected_version)
    return schedule


_TRACKED = (
    "kind",
    "reason",
    "pattern",
    "interval_days",
    "weekdays",
    "at_time",
    "working_days_only",
    "start_date",
    "end_date",
    "user_id",
    "team_id",
    "request_agency_id",
)


def _snapshot(schedule: WelfareSchedule) -> dict[str, str]:
    return {
        name: "" if getattr(schedule, name) is None else str(getattr(schedule, name))
        for name in _TRACKED
    }


def change_schedule(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    schedule_id: uuid.UUID,
    data: ScheduleInput,
    expected_version: int | None,
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
) -> None:
    """Change a live schedule: the open check moves to the new schedule's next occurrence."""
    now = now or utcnow()
    schedule = _locked_schedule(db, viewer, access, schedule_id, expected_version)
    if schedule.state is ScheduleState.ENDED:
        raise PersonError("kind", "This schedule has ended: make a new one")
    ladder = _kind(ladders(), data)
    _open_case(db, viewer, access)
    _assignment(db, viewer, data)
    rule = data.recurrence
    due = _first_due(rule, now, workdays or working_days())
    before = _snapshot(schedule)
    schedule.kind = ladder.key
    schedule.reason = data.reason
    schedule.pattern = rule.pattern
    schedule.interval_days = rule.interval_days
    schedule.weekdays = rule.weekdays_code
    schedule.at_time = rule.at
    schedule.working_days_only = rule.working_days_only
    schedule.start_date = rule.start
    schedule.end_date = rule.end
    schedule.user_id = data.user_id
    schedule.team_id = data.team_id
    schedule.request_agency_id = _request_agency(db, ladder, data.request_agency_id)
    schedule.updated_at = now
    after = _snapshot(schedule)
    changed = sorted(name for name in _TRACKED if before[name] != after[name])
    if not changed:
        return
    if schedule.state is ScheduleState.ACTIVE:
        cancel_checks(db, [schedule.id], by=viewer.user_id, now=now)
        db.flush()
        _open_occurrence(db, schedule, ladder, due, by=viewer.user_id, now=now)
    db.flush()
    _event(
        db,
        schedule.id,
        "changed",
        actor_id=viewer.user_id,
        now=now,
        details={
            "before": {n: before[n] for n in changed},
            "after": {n: after[n] for n in changed},
        },
    )
    add_timeline(
        db,
        person_id=schedule.person_id,
        kind=TimelineKind.WELFARE_SCHEDULE,
        category=schedule.category,
        agency_id=schedule.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details={"action": "changed", "kind": schedule.kind, "fields": ",".join(changed)},
    )
    recorder.record(
        db,
        actor,
        "welfare.changed",
        target_type="person",
        target_id=schedule.person_id,
        categories=[schedule.category],
        details={"schedule_id": str(schedule.id), "fields": changed},
    )


def pause_schedule(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    schedule_id: uuid.UUID,
    expected_version: int | None,
    now: datetime | None = None,
) -> None:
    """Pause: the open check is cancelled and nothing is reminded until it is resumed."""
    now = now or utcnow()
    schedule = _locked_schedule(db, viewer, access, schedule_id, expected_version)
    if schedule.state is not ScheduleState.ACTIVE:
        raise PersonError("state", "Only an active schedule can be paused")
    schedule.state = ScheduleState.PAUSED
    schedule.next_due_at = None
    schedule.updated_at = now
    cancel_checks(db, [schedule.id], by=viewer.user_id, now=now)
    db.flush()
    _record(db, actor, viewer, schedule, "paused", now=now)


def resume_schedule(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    schedule_id: uuid.UUID,
    expected_version: int | None,
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
) -> None:
    """Resume a paused schedule: the next check is its next occurrence from now."""
    now = now or utcnow()
    schedule = _locked_schedule(db, viewer, access, schedule_id, expected_version)
    if schedule.state is not ScheduleState.PAUSED:
        raise PersonError("state", "Only a paused schedule can be resumed")
    _open_case(db, viewer, access)
    ladder = ladders().get(schedule.kind)
    if ladder is None:
        raise PersonError("kind", "This kind of check is no longer configured: change the kind")
    due = _first_due(recurrence_of(schedule), now, workdays or working_days())
    schedule.state = ScheduleState.ACTIVE
    schedule.updated_at = now
    db.flush()
    _open_occurrence(db, schedule, ladder, due, by=viewer.user_id, now=now)
    _record(db, actor, viewer, schedule, "resumed", now=now)


def end_schedule(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    schedule_id: uuid.UUID,
    expected_version: int | None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    schedule = _locked_schedule(db, viewer, access, schedule_id, expected_version)
    if schedule.state is ScheduleState.ENDED:
        raise PersonError("state", "This schedule has already ended")
    schedule.state = ScheduleState.ENDED
    schedule.ended_at = now
    schedule.end_reason = "ended_by_worker"
    schedule.next_due_at = None
    schedule.updated_at = now
    cancel_checks(db, [schedule.id], by=viewer.user_id, now=now)
    db.flush()
    _record(db, actor, viewer, schedule, "ended", now=now)


# --- recording a check --------------------------------------------------------------------


def record_check(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    task_id: uuid.UUID,
    outcome: ContactOutcome,
    note: str = "",
    occurred_at: datetime | None = None,
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
) -> RecordedCheck:
    """Record the due check: a welfare-check contact, the occurrence done, the next one made.

    Two people recording the same check at once: the second gets :class:`CheckClosed`
    (nothing of theirs is written; the page tells them it was recorded already)."""
    now = now or utcnow()
    task = db.get(Task, task_id)
    if (
        task is None
        or task.source is not TaskSource.WELFARE_CHECK
        or task.person_id != access.person_id
        or task.source_id is None
    ):
        raise LookupError(str(task_id))
    if task.agency_id != viewer.agency_id:
        raise NotAllowed("welfare")
    if outcome not in CHECK_OUTCOMES:
        raise PersonError("outcome", "Select what happened")
    closed = db.execute(
        update(Task)
        .where(Task.id == task_id, Task.state == TaskState.OPEN)
        .values(
            state=TaskState.DONE,
            closed_at=now,
            closed_by_id=viewer.user_id,
            version=Task.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if not closed.rowcount:  # type: ignore[attr-defined]
        raise CheckClosed(str(task_id))
    contact_id = log_contact(
        db,
        vault=vault,
        actor=actor,
        viewer=viewer,
        access=access,
        data=ContactInput(
            occurred_at=occurred_at or now,
            kind=ContactKind.WELFARE_CHECK,
            outcome=outcome,
            note=note,
        ),
    )
    schedule = db.get(WelfareSchedule, task.source_id, with_for_update=True)
    if schedule is None:
        raise LookupError(str(task.source_id))
    _event(
        db,
        schedule.id,
        "check_recorded",
        actor_id=viewer.user_id,
        now=now,
        details={
            "outcome": outcome.value,
            "task_id": str(task_id),
            "due_at": task.due_at.isoformat(),
        },
    )
    next_due: datetime | None = None
    ladder = ladders().get(schedule.kind)
    if schedule.state is ScheduleState.ACTIVE and ladder is not None:
        next_due = next_occurrence(
            recurrence_of(schedule),
            after=max(task.due_at, now),
            workdays=workdays or working_days(),
        )
        if next_due is None:
            schedule.state = ScheduleState.ENDED
            schedule.ended_at = now
            schedule.end_reason = "completed"
            schedule.next_due_at = None
            _event(
                db,
                schedule.id,
                "ended",
                actor_id=viewer.user_id,
                now=now,
                details={"reason": "completed"},
            )
        else:
            _open_occurrence(db, schedule, ladder, next_due, by=viewer.user_id, now=now)
        schedule.updated_at = now
    if outcome in TELL_MANAGERS:
        notify(
            db,
            user_ids=managers_of(
                db, team_id=schedule.team_id, user_id=schedule.user_id, agency_id=schedule.agency_id
            ),
            kind="welfare_outcome",
            subject=TELL_MANAGERS[outcome],
            link=f"/people/{schedule.person_id}",
            person_id=schedule.person_id,
        )
    db.flush()
    return RecordedCheck(contact_id=contact_id, next_due_at=next_due)


def managers_of(
    db: Session, *, team_id: uuid.UUID | None, user_id: uuid.UUID | None, agency_id: uuid.UUID
) -> list[uuid.UUID]:
    """The managers to tell about a team's (or a worker's) work: the team's managers; for a
    worker, the managers of their teams; failing both, the agency's users with the manager role."""
    from casework.access.roles import Role
    from casework.users.models import UserRole

    teams: list[uuid.UUID] = []
    if team_id is not None:
        teams = [team_id]
    elif user_id is not None:
        teams = list(
            db.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id))
        )
    found: list[uuid.UUID] = []
    if teams:
        found = list(
            db.scalars(
                select(TeamMembership.user_id)
                .join(User, User.id == TeamMembership.user_id)
                .where(
                    TeamMembership.team_id.in_(teams),
                    TeamMembership.is_manager.is_(True),
                    User.active.is_(True),
                )
                .distinct()
            )
        )
    if not found:
        found = list(
            db.scalars(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .where(
                    User.agency_id == agency_id,
                    User.active.is_(True),
                    UserRole.role == Role.MANAGER,
                )
            )
        )
    return [uid for uid in found if uid != user_id] or found


__all__ = [
    "CHECK_OUTCOMES",
    "CheckClosed",
    "RecordedCheck",
    "ScheduleInput",
    "StaleVersion",
    "change_schedule",
    "create_schedule",
    "end_schedule",
    "managers_of",
    "pause_schedule",
    "record_check",
    "resume_schedule",
]
