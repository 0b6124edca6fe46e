"""Reading referrals: lists (a person's, an agency's waiting list, today's bookings) and one
referral with its history. Every list is scoped by the access policy in SQL; a referral the
viewer may not see is simply not there (404 for one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from casework.access.policy import (
    PersonAccess,
    Viewer,
    accesses,
    may_read,
    readable_across,
    readable_across_params,
)
from casework.agencies.models import Agency
from casework.clock import LONDON, utcnow
from casework.pathways.definitions import FieldKind, PathwayDef, TransitionDef
from casework.pathways.models import Referral, ReferralEvent
from casework.pathways.rules import acting_on, available
from casework.people.models import Person
from casework.people.records import open_names
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskState
from casework.users.models import User

#: What a stage is shown as to someone who may not read its category.
HIDDEN_STAGE = "In progress (not shared with you)"
#: ... and once the referral has ended (that it ended is not hidden: ``closed_at`` is shown).
HIDDEN_ENDED = "Ended"


def readable_referrals() -> ColumnElement[bool]:
    """SQL filter on ``Referral``: the referrals the viewer may read — recorded by the viewer's
    agency, addressed to it, or shared with it by the access rule (pass
    :func:`readable_across_params`)."""
    from sqlalchemy import bindparam

    addressed = and_(
        Referral.to_agency_id == bindparam("viewer_agency_id"),
        Referral.category.in_(bindparam("readable_categories", expanding=True)),
    )
    return or_(
        readable_across(
            person_col=Referral.person_id,
            agency_col=Referral.from_agency_id,
            category_col=Referral.category,
        ),
        addressed,
    )


def may_read_referral(viewer: Viewer, access: PersonAccess | None, referral: Any) -> bool:
    """The single-record form of :func:`readable_referrals` (tests check they agree)."""
    if access is None:
        return False
    if referral.to_agency_id == viewer.agency_id and referral.category in viewer.categories:
        return True
    return may_read(viewer, access, agency_id=referral.from_agency_id, category=referral.category)


def stage_shown(viewer: Viewer, access: PersonAccess | None, referral: Any) -> bool:
    """May the viewer see where the referral has got to (the current stage's category)?"""
    if access is None or referral.stage_category not in viewer.categories:
        return False
    ends = (referral.from_agency_id, referral.to_agency_id)
    return viewer.agency_id in ends or referral.stage_category in access.shared


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    title: str
    due_at: datetime
    at_risk_at: datetime | None
    #: Set when the task is another agency's (the other end of the referral): its name.
    agency: str | None = None

    def state(self, now: datetime) -> str:
        if self.due_at < now:
            return "overdue"
        if self.due_at.astimezone(LONDON).date() == now.astimezone(LONDON).date():
            return "due_today"
        if self.at_risk_at is not None and self.at_risk_at <= now:
            return "at_risk"
        return "due"


@dataclass(frozen=True)
class ReferralSummary:
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    reference: str
    pathway: str
    pathway_name: str
    stage: str
    stage_label: str
    stage_shown: bool
    from_agency: str
    to_agency: str
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    created_at: datetime
    closed_at: datetime | None
    version: int
    clock: Clock | None = None
    quick: tuple[tuple[str, str], ...] = ()
    #: Quick transitions that need a few fields (failed to attend): a link to their page.
    quick_pages: tuple[tuple[str, str], ...] = ()
    #: On an assessor's day: the appointment's date and time.
    appointment_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


_FROM = aliased(Agency)
_TO = aliased(Agency)
#: The person's names, under an alias: ``readable_across``'s correlated checks on ``Person``
#: must not correlate to the outer query's person (they would lose their FROM clause).
_PERSON = aliased(Person)


def _base() -> Select[Referral, str, str, bytes]:
    return (
        select(
            Referral,
            _FROM.name.label("from_name"),
            _TO.name.label("to_name"),
            _PERSON.names_enc,
        )
        .join(_FROM, _FROM.id == Referral.from_agency_id)
        .join(_TO, _TO.id == Referral.to_agency_id)
        .join(_PERSON, _PERSON.id == Referral.person_id)
        .where(readable_referrals())
    )


def _clocks(
    db: Session, referral_ids: Sequence[uuid.UUID], agency_id: uuid.UUID
) -> dict[uuid.UUID, Clock]:
    """The next open deadline of each referral for the viewer's agency (``agency_id``). Only
    where the agency has none open: the other agency's next one, with that agency's name, so
    that a referrer still sees the receiving side's clock (and an assessor never sees the
    police's task as if it were theirs)."""
    if not referral_ids:
        return {}
    rows = db.execute(
        select(
            Task.source_id, Task.agency_id, Agency.name, Task.title, Task.due_at, Task.at_risk_at
        )
        .join(Agency, Agency.id == Task.agency_id)
        .where(Task.source_id.in_(referral_ids), Task.state == TaskState.OPEN)
        .order_by(Task.due_at, Task.id)
    ).all()
    found: dict[uuid.UUID, Clock] = {}
    for mine in (True, False):
        for source_id, task_agency, name, title, due_at, at_risk_at in rows:
            if source_id is None or source_id in found or (task_agency == agency_id) != mine:
                continue
            found[source_id] = Clock(title, due_at, at_risk_at, None if mine else name)
    return found


def _summaries(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    rows: Sequence[Any],
    pathways: Mapping[str, PathwayDef],
    *,
    now: datetime,
) -> list[ReferralSummary]:
    people = accesses(db, viewer, [row.Referral.person_id for row in rows], now=now)
    clocks = _clocks(db, [row.Referral.id for row in rows], viewer.agency_id)
    vault.prefetch(people)
    found: list[ReferralSummary] = []
    for row in rows:
        referral: Referral = row.Referral
        access = people.get(referral.person_id)
        pathway = pathways.get(referral.pathway)
        if access is None or pathway is None:
            continue
        shown = stage_shown(viewer, access, referral)
        acting = acting_on(viewer.agency_id, viewer.roles, referral)
        offered = (
            [(key, step) for key, step in available(pathway, referral.stage, acting) if step.quick]
            if shown and referral.closed_at is None
            else []
        )
        quick = tuple((key, step.button or step.label) for key, step in offered if not step.fields)
        quick_pages = tuple(
            (key, step.button or step.label) for key, step in offered if step.fields
        )
        found.append(
            ReferralSummary(
                id=referral.id,
                person_id=referral.person_id,
                person_name=open_names(vault, referral.person_id, row.names_enc).display,
                reference=referral.reference,
                pathway=referral.pathway,
                pathway_name=pathway.name,
                stage=referral.stage,
                stage_label=(
                    pathway.label_of(referral.stage)
                    if shown
                    else HIDDEN_STAGE
                    if referral.closed_at is None
                    else HIDDEN_ENDED
                ),
                stage_shown=shown,
                from_agency=row.from_name,
                to_agency=row.to_name,
                from_agency_id=referral.from_agency_id,
                to_agency_id=referral.to_agency_id,
                created_at=referral.created_at,
                closed_at=referral.closed_at,
                version=referral.version,
                clock=clocks.get(referral.id) if shown else None,
                quick=quick,
                quick_pages=quick_pages,
            )
        )
    return found


def referral_list(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    pathways: Mapping[str, PathwayDef],
    *,
    pathway: str | None = None,
    person_id: uuid.UUID | None = None,
    to_my_agency: bool = False,
    from_my_agency: bool = False,
    open_only: bool = False,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[ReferralSummary]:
    """Referrals the viewer may read, newest first."""
    if not viewer.works_with_cases:
        return []
    now = now or utcnow()
    statement = _base()
    if pathway is not None:
        statement = statement.where(Referral.pathway == pathway)
    if person_id is not None:
        statement = statement.where(Referral.person_id == person_id)
    if to_my_agency:
        statement = statement.where(Referral.to_agency_id == viewer.agency_id)
    if from_my_agency:
        statement = statement.where(Referral.from_agency_id == viewer.agency_id)
    if open_only:
        statement = statement.where(Referral.closed_at.is_(None))
    statement = (
        statement.order_by(Referral.created_at.desc(), Referral.id).limit(limit).offset(offset)
    )
    rows = db.execute(statement, readable_across_params(viewer, now=now)).all()
    return _summaries(db, vault, viewer, rows, pathways, now=now)


def count_waiting(db: Session, viewer: Viewer, *, now: datetime | None = None) -> int:
    """Open referrals addressed to the viewer's agency (the count in the navigation)."""
    if not viewer.works_with_cases:
        return 0
    statement = (
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.to_agency_id == viewer.agency_id,
            Referral.closed_at.is_(None),
            Referral.category.in_(sorted(viewer.categories)),
        )
    )
    return db.scalar(statement) or 0


def london_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=LONDON)
    return start, datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON)


def _appointments_on(viewer: Viewer, day: date) -> Any:
    """Each referral's earliest appointment with the viewer's agency on ``day``."""
    start, end = london_day(day)
    return (
        select(Task.source_id, func.min(Task.due_at).label("due_at"))
        .where(
            Task.agency_id == viewer.agency_id,
            Task.state.in_((TaskState.OPEN, TaskState.DONE)),
            Task.source_key.like("stage:%"),
            Task.due_at >= start,
            Task.due_at < end,
        )
        .group_by(Task.source_id)
        .subquery()
    )


def count_bookings_on(
    db: Session, viewer: Viewer, day: date, *, now: datetime | None = None
) -> int:
    """How many referrals :func:`bookings_on` lists for ``day`` (a home page's figure: no
    names are read)."""
    if not viewer.works_with_cases:
        return 0
    due = _appointments_on(viewer, day)
    statement = (
        select(func.count())
        .select_from(Referral)
        .join(due, due.c.source_id == Referral.id)
        .where(Referral.to_agency_id == viewer.agency_id, readable_referrals())
    )
    return db.scalar(statement, readable_across_params(viewer, now=now or utcnow())) or 0


def bookings_on(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    pathways: Mapping[str, PathwayDef],
    day: date,
    *,
    now: datetime | None = None,
) -> list[ReferralSummary]:
    """Referrals addressed to the viewer's agency with an appointment (a stage clock set by a
    date and time) on ``day``, earliest first: an assessor's day. An appointment already
    recorded (attended: its task done) stays on the day, at its new stage, so the assessor
    can go on from there; a changed (cancelled) one does not."""
    if not viewer.works_with_cases:
        return []
    now = now or utcnow()
    due = _appointments_on(viewer, day)
    statement = (
        _base()
        .add_columns(due.c.due_at.label("appointment_at"))
        .join(due, due.c.source_id == Referral.id)
        .where(Referral.to_agency_id == viewer.agency_id)
        .order_by(due.c.due_at, Referral.id)
        .limit(200)
    )
    rows = db.execute(statement, readable_across_params(viewer, now=now)).all()
    times = {row.Referral.id: row.appointment_at for row in rows}
    return [
        replace(summary, appointment_at=times.get(summary.id))
        for summary in _summaries(db, vault, viewer, rows, pathways, now=now)
    ]


# --- one referral -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


@dataclass(frozen=True)
class EventView:
    id: uuid.UUID
    transition: str
    label: str
    stage_label: str
    occurred_at: datetime
    agency: str
    actor: str
    notice: str | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class ReferralDetail:
    summary: ReferralSummary
    access: PersonAccess
    pathway: PathwayDef
    events: tuple[EventView, ...]
    #: What the referral holds so far (plaintext codes and dates) that the viewer may see.
    data: Mapping[str, Any]
    #: Transitions this user may make now.
    transitions: tuple[tuple[str, TransitionDef], ...] = ()
    tasks: tuple[Clock, ...] = field(default=())

    def notice_event(self, notice: str) -> EventView | None:
        for event in reversed(self.events):
            if event.notice == notice:
                return event
        return None


def _display(spec_kind: FieldKind, choices: Mapping[str, str], value: object) -> str:
    if spec_kind is FieldKind.CHOICE:
        return choices.get(str(value), str(value))
    if spec_kind is FieldKind.YES_NO:
        return "Yes" if value else "No"
    if spec_kind is FieldKind.DATE and isinstance(value, str):
        return date.fromisoformat(value).strftime("%-d %B %Y")
    if spec_kind is FieldKind.DATETIME and isinstance(value, str):
        return (
            datetime.fromisoformat(value)
            .strftime("%-d %B %Y at %-I:%M%p")
            .replace("AM", "am")
            .replace("PM", "pm")
        )
    return str(value)


def _answers(
    pathway: PathwayDef, transition: str, data: Mapping[str, Any], texts: Mapping[str, str]
) -> tuple[Answer, ...]:
    step = pathway.transitions.get(transition)
    if step is None:
        return ()
    found: list[Answer] = []
    for spec in step.fields:
        value: object = texts.get(spec.name) if spec.kind is FieldKind.TEXT else data.get(spec.name)
        if value is None or value == "":
            continue
        found.append(Answer(spec.label.rstrip("?"), _display(spec.kind, spec.choices, value)))
    return tuple(found)


def referral_detail(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    pathways: Mapping[str, PathwayDef],
    referral_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> ReferralDetail | None:
    """One referral with the events the viewer may read, or None (answer 404)."""
    if not viewer.works_with_cases:
        return None
    now = now or utcnow()
    row = db.execute(
        _base().where(Referral.id == referral_id), readable_across_params(viewer, now=now)
    ).first()
    if row is None:
        return None
    summaries = _summaries(db, vault, viewer, [row], pathways, now=now)
    if not summaries:
        return None
    summary = summaries[0]
    referral: Referral = row.Referral
    pathway = pathways[referral.pathway]
    access = accesses(db, viewer, [referral.person_id], now=now)[referral.person_id]
    events = _events(
        db, vault=vault, viewer=viewer, access=access, pathway=pathway, referral=referral
    )
    readable = {event.transition for event in events}
    shown_data = {
        spec.name: referral.data[spec.name]
        for key, step in pathway.transitions.items()
        if key in readable
        for spec in step.fields
        if spec.name in referral.data
    }
    acting = acting_on(viewer.agency_id, viewer.roles, referral)
    transitions = (
        tuple(available(pathway, referral.stage, acting))
        if referral.closed_at is None and summary.stage_shown
        else ()
    )
    tasks = (
        tuple(
            Clock(title, due_at, at_risk_at, None if agency_id == viewer.agency_id else name)
            for title, due_at, at_risk_at, agency_id, name in db.execute(
                select(Task.title, Task.due_at, Task.at_risk_at, Task.agency_id, Agency.name)
                .join(Agency, Agency.id == Task.agency_id)
                .where(Task.source_id == referral.id, Task.state == TaskState.OPEN)
                .order_by(Task.due_at)
            )
        )
        if summary.stage_shown
        else ()
    )
    return ReferralDetail(summary, access, pathway, events, shown_data, transitions, tasks)


def _events(
    db: Session,
    *,
    vault: Vault,
    viewer: Viewer,
    access: PersonAccess,
    pathway: PathwayDef,
    referral: Referral,
) -> tuple[EventView, ...]:
    rows = db.execute(
        select(ReferralEvent, Agency.name, User.full_name)
        .join(Agency, Agency.id == ReferralEvent.agency_id)
        .join(User, User.id == ReferralEvent.actor_id)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
    ).all()
    found: list[EventView] = []
    for event, agency_name, actor_name in rows:
        if not _event_readable(viewer, access, referral, event):
            continue
        texts: dict[str, str] = {}
        if event.text_enc is not None:
            texts = json.loads(
                vault.open(event.person_id, "referral_events", "text_enc", event.id, event.text_enc)
            )
        step = pathway.transitions.get(event.transition)
        found.append(
            EventView(
                id=event.id,
                transition=event.transition,
                label=step.label if step else event.transition,
                stage_label=pathway.label_of(event.to_stage),
                occurred_at=event.occurred_at,
                agency=agency_name,
                actor=actor_name,
                notice=event.notice,
                answers=_answers(pathway, event.transition, event.data, texts),
            )
        )
    return tuple(found)


def _event_readable(
    viewer: Viewer, access: PersonAccess, referral: Referral, event: ReferralEvent
) -> bool:
    """Rule 1 (the viewer's agency recorded it) or rule 2 (its category is shared with the
    viewer's agency: for the other end of a referral, by the basis the referral relies on)."""
    if event.category not in viewer.categories:
        return False
    return event.agency_id == viewer.agency_id or event.category in access.shared
