"""Reading welfare-check schedules: a person's, one with its history, a due check, and the
choices the schedule form offers. Every read is scoped by the access policy: a schedule is an
item recorded by its agency with its category (a partner reads it only when that category is
shared with it now)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, may_read, readable, readable_params
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind, Team
from casework.clock import utcnow
from casework.people.queries import NotFoundError
from casework.tasks.definitions import ladders
from casework.tasks.models import Task, TaskSource, TaskState
from casework.users.models import User, UserRole
from casework.welfare import labels
from casework.welfare.models import Pattern, ScheduleEvent, ScheduleState, WelfareSchedule
from casework.welfare.rules import weekdays_from_code

#: Roles whose users can be given welfare checks.
ASSIGNABLE_ROLES = (Role.WORKER, Role.MANAGER, Role.ASSESSOR)

_assignee = aliased(User)
_team = aliased(Team)
_open_task = aliased(Task)


@dataclass(frozen=True)
class ScheduleSummary:
    id: uuid.UUID
    person_id: uuid.UUID
    agency_id: uuid.UUID
    agency_name: str
    #: The viewer's agency's own schedule (it may change, pause and end it).
    own: bool
    kind: str
    kind_label: str
    reason_label: str
    pattern_words: str
    assignee: str
    state: ScheduleState
    category: Category
    version: int
    next_due_at: datetime | None
    #: The open occurrence (the due check), if any, and since when it is shown red.
    task_id: uuid.UUID | None
    red_since: datetime | None
    end_reason: str | None

    @property
    def state_label(self) -> str:
        return labels.STATE_LABELS[self.state.value]

    @property
    def end_reason_label(self) -> str:
        return labels.END_REASONS.get(self.end_reason or "", "")


@dataclass(frozen=True)
class ScheduleFields:
    """What the change form starts from."""

    kind: str
    reason: str
    pattern: Pattern
    interval_days: int | None
    weekdays: frozenset[int]
    at_time: time
    working_days_only: bool
    start_date: date
    end_date: date | None
    user_id: uuid.UUID | None
    team_id: uuid.UUID | None
    request_agency_id: uuid.UUID | None


@dataclass(frozen=True)
class HistoryLine:
    occurred_at: datetime
    action: str
    title: str
    actor: str
    lines: list[str]


@dataclass(frozen=True)
class ScheduleDetail:
    summary: ScheduleSummary
    fields: ScheduleFields
    history: list[HistoryLine]
    request_agency: str


def _statement() -> Any:
    return (
        select(
            WelfareSchedule,
            Agency.name.label("agency_name"),
            _assignee.full_name.label("user_name"),
            _team.name.label("team_name"),
            _open_task.id.label("task_id"),
            _open_task.red_since,
            _open_task.due_at.label("task_due_at"),
        )
        .join(Agency, Agency.id == WelfareSchedule.agency_id)
        .outerjoin(_assignee, _assignee.id == WelfareSchedule.user_id)
        .outerjoin(_team, _team.id == WelfareSchedule.team_id)
        .outerjoin(
            _open_task,
            and_(
                _open_task.source == TaskSource.WELFARE_CHECK,
                _open_task.source_id == WelfareSchedule.id,
                _open_task.state == TaskState.OPEN,
            ),
        )
    )


def _assignee_words(user_name: str | None, team_name: str | None) -> str:
    if user_name:
        return user_name
    if team_name:
        return f"{team_name} (team)"
    return "Nobody"


def _summary(viewer: Viewer, row: Any) -> ScheduleSummary:
    schedule: WelfareSchedule = row.WelfareSchedule
    return ScheduleSummary(
        id=schedule.id,
        person_id=schedule.person_id,
        agency_id=schedule.agency_id,
        agency_name=row.agency_name,
        own=schedule.agency_id == viewer.agency_id,
        kind=schedule.kind,
        kind_label=labels.kind_label(schedule.kind),
        reason_label=labels.reason_label(schedule.kind, schedule.reason),
        pattern_words=labels.pattern_words(
            schedule.pattern,
            at=schedule.at_time,
            start=schedule.start_date,
            interval_days=schedule.interval_days,
            weekdays=schedule.weekdays,
            working_days_only=schedule.working_days_only,
        ),
        assignee=_assignee_words(row.user_name, row.team_name),
        state=schedule.state,
        category=schedule.category,
        version=schedule.version,
        # The open check's own due time (the schedule keeps the same value).
        next_due_at=row.task_due_at or schedule.next_due_at,
        task_id=row.task_id,
        red_since=row.red_since,
        end_reason=schedule.end_reason,
    )


_STATE_ORDER = {ScheduleState.ACTIVE: 0, ScheduleState.PAUSED: 1, ScheduleState.ENDED: 2}


def person_schedules(db: Session, viewer: Viewer, access: PersonAccess) -> list[ScheduleSummary]:
    """The person's schedules the viewer may read: live ones first, soonest due first."""
    if not viewer.works_with_cases:
        return []
    rows = db.execute(
        _statement().where(
            WelfareSchedule.person_id == access.person_id,
            readable(agency_col=WelfareSchedule.agency_id, category_col=WelfareSchedule.category),
        ),
        readable_params(viewer, access),
    ).all()
    found = [_summary(viewer, row) for row in rows]
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    found.sort(key=lambda s: (_STATE_ORDER[s.state], s.next_due_at or far, s.kind_label))
    return found


def _names_of(db: Session, ids: set[str]) -> dict[str, str]:
    """Names of the users, teams and agencies a history mentions (by id as text)."""
    wanted: list[uuid.UUID] = []
    for value in ids:
        try:
            wanted.append(uuid.UUID(value))
        except ValueError:
            continue
    if not wanted:
        return {}
    names: dict[str, str] = {}
    for found_id, name in db.execute(select(User.id, User.full_name).where(User.id.in_(wanted))):
        names[str(found_id)] = name
    for found_id, name in db.execute(select(Team.id, Team.name).where(Team.id.in_(wanted))):
        names[str(found_id)] = f"{name} (team)"
    for found_id, name in db.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted))):
        names[str(found_id)] = name
    return names


def _history(db: Session, schedule: WelfareSchedule) -> list[HistoryLine]:
    rows = db.execute(
        select(ScheduleEvent, User.full_name)
        .outerjoin(User, User.id == ScheduleEvent.actor_id)
        .where(ScheduleEvent.schedule_id == schedule.id)
        .order_by(ScheduleEvent.occurred_at.desc(), ScheduleEvent.id)
    ).all()
    mentioned: set[str] = set()
    for event, _name in rows:
        for side in ("before", "after"):
            values = event.details.get(side) or {}
            mentioned.update(
                str(values[key])
                for key in ("user_id", "team_id", "request_agency_id")
                if values.get(key)
            )
    names = _names_of(db, mentioned)
    return [_history_line(event, actor, names, schedule.kind) for event, actor in rows]


def _history_line(
    event: ScheduleEvent, actor: str | None, names: dict[str, str], kind: str
) -> HistoryLine:
    details = event.details or {}
    lines: list[str] = []
    title = labels.ACTION_LABELS.get(event.action, event.action)
    if event.action == "changed":
        before, after = details.get("before") or {}, details.get("after") or {}
        for field_name in sorted(
            after,
            key=lambda n: list(labels.FIELD_LABELS).index(n) if n in labels.FIELD_LABELS else 99,
        ):
            was = labels.field_value(field_name, str(before.get(field_name, "")), names, kind)
            now = labels.field_value(field_name, str(after.get(field_name, "")), names, kind)
            lines.append(f"{labels.FIELD_LABELS.get(field_name, field_name)}: {was} → {now}")
    elif event.action == "check_recorded":
        title = f"Check recorded: {labels.outcome_label(str(details.get('outcome', '')))}"
        try:
            due = datetime.fromisoformat(str(details.get("due_at", "")))
        except ValueError:
            due = None
        if due is not None:
            from casework.clock import to_london

            lines.append(f"The check due {to_london(due).strftime('%-d %B %Y at %H:%M')}")
    elif event.action == "ended" and details.get("reason"):
        lines.append(labels.END_REASONS.get(str(details["reason"]), str(details["reason"])))
    return HistoryLine(
        occurred_at=event.occurred_at,
        action=event.action,
        title=title,
        actor=actor or "Casework (automatically)",
        lines=lines,
    )


def schedule_detail(
    db: Session, viewer: Viewer, access: PersonAccess, schedule_id: uuid.UUID
) -> ScheduleDetail:
    """One schedule of the person with its history, or :class:`NotFoundError` (missing, another
    person's, or not readable by the viewer)."""
    row = db.execute(
        _statement().where(
            WelfareSchedule.id == schedule_id,
            WelfareSchedule.person_id == access.person_id,
            readable(agency_col=WelfareSchedule.agency_id, category_col=WelfareSchedule.category),
        ),
        readable_params(viewer, access),
    ).first()
    if row is None or not viewer.works_with_cases:
        raise NotFoundError(str(schedule_id))
    schedule: WelfareSchedule = row.WelfareSchedule
    request_agency = ""
    if schedule.request_agency_id is not None:
        request_agency = (
            db.scalar(select(Agency.name).where(Agency.id == schedule.request_agency_id)) or ""
        )
    return ScheduleDetail(
        summary=_summary(viewer, row),
        fields=ScheduleFields(
            kind=schedule.kind,
            reason=schedule.reason,
            pattern=schedule.pattern,
            interval_days=schedule.interval_days,
            weekdays=weekdays_from_code(schedule.weekdays),
            at_time=schedule.at_time,
            working_days_only=schedule.working_days_only,
            start_date=schedule.start_date,
            end_date=schedule.end_date,
            user_id=schedule.user_id,
            team_id=schedule.team_id,
            request_agency_id=schedule.request_agency_id,
        ),
        history=_history(db, schedule),
        request_agency=request_agency,
    )


# --- a due check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCheckTask:
    task_id: uuid.UUID
    person_id: uuid.UUID
    agency_id: uuid.UUID
    category: Category
    schedule_id: uuid.UUID
    open: bool
    due_at: datetime
    red_since: datetime | None
    kind_label: str
    reason_label: str
    pattern_words: str


def check_person(db: Session, task_id: uuid.UUID) -> uuid.UUID:
    """The person a welfare check is about (404 for anything else): the page then asks the
    policy whether the viewer may see them."""
    person_id = db.scalar(
        select(Task.person_id).where(
            Task.id == task_id,
            Task.source == TaskSource.WELFARE_CHECK,
            Task.source_id.is_not(None),
        )
    )
    if person_id is None:
        raise NotFoundError(str(task_id))
    return person_id


def due_check(
    db: Session, viewer: Viewer, access: PersonAccess, task_id: uuid.UUID
) -> DueCheckTask:
    """A welfare check (occurrence) of a visible person, readable by the viewer, else 404."""
    row = db.execute(
        select(Task, WelfareSchedule)
        .join(WelfareSchedule, WelfareSchedule.id == Task.source_id)
        .where(
            Task.id == task_id,
            Task.source == TaskSource.WELFARE_CHECK,
            Task.person_id == access.person_id,
        )
    ).first()
    if row is None:
        raise NotFoundError(str(task_id))
    task: Task = row.Task
    schedule: WelfareSchedule = row.WelfareSchedule
    if not may_read(viewer, access, agency_id=task.agency_id, category=task.category):
        raise NotFoundError(str(task_id))
    return DueCheckTask(
        task_id=task.id,
        person_id=access.person_id,
        agency_id=task.agency_id,
        category=task.category,
        schedule_id=schedule.id,
        open=task.state is TaskState.OPEN,
        due_at=task.due_at,
        red_since=task.red_since,
        kind_label=labels.kind_label(schedule.kind),
        reason_label=labels.reason_label(schedule.kind, schedule.reason),
        pattern_words=labels.pattern_words(
            schedule.pattern,
            at=schedule.at_time,
            start=schedule.start_date,
            interval_days=schedule.interval_days,
            weekdays=schedule.weekdays,
            working_days_only=schedule.working_days_only,
        ),
    )


# --- the form's choices -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    kinds: list[tuple[str, str, str]]
    """(key, label, description) of each welfare kind."""
    reasons: dict[str, list[tuple[str, str]]]
    """Each kind's reasons (code, label)."""
    workers: list[tuple[uuid.UUID, str]]
    teams: list[tuple[uuid.UUID, str]]
    request_agencies: list[tuple[uuid.UUID, str]]
    request_kinds: frozenset[str]
    """Kinds whose ladder ends with a welfare request to a partner."""


def form_choices(db: Session, viewer: Viewer) -> Choices:
    kinds = ladders().welfare_kinds()
    workers = db.execute(
        select(User.id, User.full_name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.agency_id == viewer.agency_id,
            User.active.is_(True),
            UserRole.role.in_(ASSIGNABLE_ROLES),
        )
        .distinct()
        .order_by(User.full_name)
    ).all()
    teams = db.execute(
        select(Team.id, Team.name)
        .where(Team.agency_id == viewer.agency_id, Team.active.is_(True))
        .order_by(Team.name)
    ).all()
    partner_kinds: set[AgencyKind] = {k for ladder in kinds for k in ladder.request_agency_kinds}
    partners = (
        db.execute(
            select(Agency.id, Agency.name)
            .where(Agency.active.is_(True), Agency.kind.in_(sorted(partner_kinds)))
            .order_by(Agency.name)
        ).all()
        if partner_kinds
        else []
    )
    return Choices(
        kinds=[(ladder.key, ladder.label, ladder.description) for ladder in kinds],
        reasons={ladder.key: list(ladder.reasons.items()) for ladder in kinds},
        workers=[(row.id, row.full_name) for row in workers],
        teams=[(row.id, row.name) for row in teams],
        request_agencies=[(row.id, row.name) for row in partners],
        request_kinds=frozenset(ladder.key for ladder in kinds if ladder.has_welfare_request),
    )
