"""The sweeps the job runner runs. Each takes a :class:`~casework.db.Database` (it makes its
own short transactions) and returns what it did, in counts.

**Reminders fire exactly once.** A sweep claims a batch of due reminder rows with one
``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) AND state = 'pending'`` (on
SQLite the write transaction starts with ``BEGIN IMMEDIATE``, so the conditional update is
the claim) and, in the same transaction, writes each reminder's effects: in-app
notifications, outbox rows (each with a unique key), the red flag, a welfare request. A
runner killed part-way through rolls back claim and effects together; the next sweep, by any
runner, takes the rows again. So no reminder is sent twice and none is skipped.

**At send time** each reminder is re-checked: the task still open; the person alive and the
task's agency still involved with them; each recipient active, in that agency and working
with cases. A welfare request to a partner also needs consent or another basis in force that
covers sharing with it (checked by the pathway engine when the request starts).

**The outbox is delivered at least once**: rows are leased (``sending`` until a deadline),
handed to the sender outside any transaction, then marked sent with the provider's
reference; a failure is tried again with back-off, then marked failed for admins to see.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.access.roles import Role
from casework.audit.recorder import Actor
from casework.clock import LONDON, utcnow
from casework.consent.models import BasisKind, SharingBasis
from casework.consent.rules import SharingRules
from casework.db import Database
from casework.jobs import queries
from casework.jobs.models import JobRun
from casework.jobs.queries import TaskFacts
from casework.notifications.models import Channel, Notification, OutboxMessage, OutboxState
from casework.notifications.senders import Outgoing, PermanentFailure, Sender, TemporaryFailure
from casework.pathways.definitions import pathways
from casework.people.services import NotAllowed, PersonError
from casework.security.vault import Vault
from casework.tasks.definitions import LadderDef, Notify, StepDef, ladders
from casework.tasks.models import Reminder, ReminderState, Task, TaskSource, TaskState
from casework.tasks.services import add_task, plan_reminders
from casework.users.models import User
from casework.welfare.models import WelfareSchedule

log = logging.getLogger("casework.jobs")

REMINDER_BATCH = 500
OUTBOX_BATCH = 100
#: How long a runner may hold outbox rows it is sending before another may take them.
OUTBOX_LEASE = timedelta(minutes=5)
#: Back-off after the n-th failed attempt: 1, 2, 4 ... minutes, at most 6 hours.
MAX_BACKOFF = timedelta(hours=6)
NOT_COVERED_SUBJECT = (
    "An overdue welfare check could not be passed to a partner: sharing with them is not "
    "covered by consent or another lawful basis"
)
NO_PARTNER_SUBJECT = "An overdue welfare check has no partner agency to ask for a welfare visit"


def runner_name() -> str:
    """This process, for claims and leases (host and process id, never a secret)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass
class SweepResult:
    name: str
    counts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if not self.counts:
            return "nothing to do"
        return ", ".join(f"{value} {key}" for key, value in sorted(self.counts.items()))[:200]


def _upsert_ignore(db: Session, model: type[Any], rows: list[dict[str, Any]], key: str) -> None:
    """Insert rows, leaving out any whose unique ``key`` is already there."""
    if not rows:
        return
    dialect_insert = (
        postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    db.execute(dialect_insert(model).on_conflict_do_nothing(index_elements=[key]), rows)


# --- job bookkeeping --------------------------------------------------------------------------


def take_lease(
    database: Database, name: str, runner: str, *, ttl: timedelta, now: datetime
) -> bool:
    """Take the named sweep's lease (a conditional update): False when another runner holds
    it. The row is made on first use."""
    with database.transaction() as db:
        _upsert_ignore(db, JobRun, [{"name": name, "runs": 0}], "name")
        result = db.execute(
            update(JobRun)
            .where(
                JobRun.name == name,
                or_(
                    JobRun.lease_until.is_(None),
                    JobRun.lease_until < now,
                    JobRun.lease_owner == runner,
                ),
            )
            .values(lease_owner=runner, lease_until=now + ttl)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def record_run(
    database: Database,
    name: str,
    runner: str,
    *,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    summary: str,
    error: str | None = None,
    release: bool = False,
) -> None:
    with database.transaction() as db:
        _upsert_ignore(db, JobRun, [{"name": name, "runs": 0}], "name")
        values: dict[str, Any] = {
            "last_started_at": started_at,
            "last_finished_at": finished_at,
            "last_outcome": outcome,
            "last_summary": summary[:200],
            "last_error": (error or "")[:200] or None,
            "runs": JobRun.runs + 1,
        }
        if release:
            values.update(lease_owner=None, lease_until=None)
        db.execute(update(JobRun).where(JobRun.name == name).values(**values))


# --- reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    task_id: uuid.UUID
    step: int


def _claim_reminders(db: Session, runner: str, now: datetime, limit: int) -> list[_Claimed]:
    due = (
        select(Reminder.id)
        .where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = db.execute(
        update(Reminder)
        .where(Reminder.id.in_(due.scalar_subquery()), Reminder.state == ReminderState.PENDING)
        .values(state=ReminderState.SENT, claimed_by=runner, done_at=now, outcome="sent")
        .returning(Reminder.id, Reminder.task_id, Reminder.step)
        .execution_options(synchronize_session=False)
    ).all()
    return [_Claimed(*row) for row in rows]


class _Batch:
    """One claimed batch: the facts it needs, read once, and the rows it writes."""

    def __init__(self, db: Session, claimed: list[_Claimed], now: datetime) -> None:
        self.db = db
        self.now = now
        self.claimed = claimed
        self.tasks = queries.task_facts(db, {row.task_id for row in claimed})
        pairs = {(task.person_id, task.agency_id) for task in self.tasks.values() if task.person_id}
        self.involved = queries.agencies_involved(db, pairs)
        self.notifications: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.red: set[uuid.UUID] = set()
        self.stopped: dict[str, list[uuid.UUID]] = defaultdict(list)
        self.requests: list[tuple[_Claimed, TaskFacts, LadderDef, StepDef]] = []
        self._load_people()

    def _load_people(self) -> None:
        tasks = self.tasks.values()
        self.members = queries.team_members(self.db, {t.team_id for t in tasks if t.team_id})
        self.user_teams = queries.teams_of_users(self.db, {t.user_id for t in tasks if t.user_id})
        manager_teams = {team for teams in self.user_teams.values() for team in teams}
        self.members.update(queries.team_members(self.db, manager_teams - set(self.members)))
        roles = {role for ladder in ladders().all() for role in ladder.agency_roles} | {
            Role.MANAGER
        }
        self.agency_users = queries.agency_users_with_roles(
            self.db, {t.agency_id for t in tasks}, roles
        )
        everyone = {t.user_id for t in tasks if t.user_id}
        everyone |= {uid for members in self.members.values() for uid, _m in members}
        everyone |= {uid for users in self.agency_users.values() for uid in users}
        self.people = queries.recipients(self.db, everyone)

    # -- who ----------------------------------------------------------------------------------

    def _in_roles(self, agency_id: uuid.UUID, roles: Iterable[Role]) -> list[uuid.UUID]:
        wanted = set(roles)
        return [
            uid
            for uid in self.agency_users.get(agency_id, [])
            if uid in self.people and self.people[uid].roles & wanted
        ]

    def assignees(self, task: TaskFacts, ladder: LadderDef) -> list[uuid.UUID]:
        if task.user_id is not None:
            return [task.user_id]
        if task.team_id is not None:
            return [uid for uid, _manager in self.members.get(task.team_id, [])]
        return self._in_roles(task.agency_id, ladder.agency_roles)

    def managers(self, task: TaskFacts) -> list[uuid.UUID]:
        teams = (
            [task.team_id]
            if task.team_id
            else self.user_teams.get(task.user_id or uuid.UUID(int=0), [])
        )
        found = [uid for team in teams for uid, manager in self.members.get(team, []) if manager]
        if not found:
            found = self._in_roles(task.agency_id, [Role.MANAGER])
        return list(dict.fromkeys(uid for uid in found if uid != task.user_id)) or found

    def eligible(self, task: TaskFacts, user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        """The recipients who may still see this work: active, of the task's agency, working
        with cases."""
        found = []
        for uid in dict.fromkeys(user_ids):
            person = self.people.get(uid)
            if (
                person
                and person.active
                and person.agency_id == task.agency_id
                and person.works_with_cases
            ):
                found.append(uid)
        return found

    # -- what ---------------------------------------------------------------------------------

    def why_not(self, task: TaskFacts | None) -> str | None:
        if task is None:
            return "task_missing"
        if task.state != TaskState.OPEN:
            return "task_closed"
        if task.person_id is not None:
            if task.person_died_on is not None:
                return "person_died"
            if (task.person_id, task.agency_id) not in self.involved and (
                task.person_created_by_agency_id != task.agency_id
            ):
                return "case_closed"
        return None

    def tell(
        self,
        reminder: _Claimed,
        *,
        task: TaskFacts,
        ladder: LadderDef,
        subject: str,
        users: Iterable[uuid.UUID],
        kind: str = "reminder",
    ) -> int:
        told = self.eligible(task, users)
        for uid in told:
            self.notifications.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": uid,
                    "kind": kind,
                    "subject": subject[:200],
                    "link": link_for(task),
                    "person_id": task.person_id,
                    "created_at": self.now,
                    "dedupe_key": f"reminder:{reminder.id}:{uid}",
                }
            )
            person = self.people[uid]
            channels = [Channel.EMAIL] * person.by_email + [Channel.SMS] * (
                person.by_sms and person.has_mobile
            )
            for channel in channels:
                self.outbox.append(
                    {
                        "id": uuid.uuid4(),
                        "user_id": uid,
                        "channel": channel,
                        "kind": kind,
                        "body": ladder.outside_message,
                        "dedupe_key": f"reminder:{reminder.id}:{uid}:{channel.value}",
                        "state": OutboxState.QUEUED,
                        "created_at": self.now,
                        "next_attempt_at": self.now,
                        "attempts": 0,
                    }
                )
        return len(told)

    def process(self, result: SweepResult) -> None:
        for reminder in self.claimed:
            task = self.tasks.get(reminder.task_id)
            reason = self.why_not(task)
            ladder = ladders().get(task.ladder) if task else None
            if reason is None and (ladder is None or reminder.step >= len(ladder.steps)):
                reason = "no_such_step"
            if reason is not None or task is None or ladder is None:
                self.stopped[reason or "task_missing"].append(reminder.id)
                result.counts[f"stopped ({reason})"] += 1
                continue
            step = ladder.steps[reminder.step]
            if step.red and task.red_since is None:
                self.red.add(task.id)
            if step.welfare_request:
                self.requests.append((reminder, task, ladder, step))
                continue
            if step.notify is not None and step.subject:
                users = (
                    self.assignees(task, ladder)
                    if step.notify is Notify.ASSIGNEE
                    else self.managers(task)
                )
                if not self.tell(
                    reminder, task=task, ladder=ladder, subject=step.subject, users=users
                ):
                    result.counts["sent to nobody"] += 1
            result.counts["reminders sent"] += 1

    def write(self) -> None:
        db = self.db
        _upsert_ignore(db, Notification, self.notifications, "dedupe_key")
        _upsert_ignore(db, OutboxMessage, self.outbox, "dedupe_key")
        if self.red:
            db.execute(
                update(Task)
                .where(Task.id.in_(list(self.red)), Task.red_since.is_(None))
                .values(red_since=self.now)
                .execution_options(synchronize_session=False)
            )
        for outcome, ids in self.stopped.items():
            db.execute(
                update(Reminder)
                .where(Reminder.id.in_(ids))
                .values(state=ReminderState.STOPPED, outcome=outcome)
                .execution_options(synchronize_session=False)
            )


def link_for(task: TaskFacts) -> str:
    """Where a reminder takes its reader (the page applies the access policy when opened)."""
    if task.source == TaskSource.WELFARE_CHECK:
        return f"/welfare/checks/{task.id}"
    if task.source == TaskSource.PATHWAY and task.source_id is not None:
        return f"/referrals/{task.source_id}"
    if task.source == TaskSource.CONSENT_REVIEW and task.person_id is not None:
        return f"/people/{task.person_id}/sharing"
    return "/home/worker"


def _request_welfare_visit(
    db: Session,
    vault: Vault,
    batch: _Batch,
    item: tuple[_Claimed, TaskFacts, LadderDef, StepDef],
    rules: SharingRules,
) -> str:
    """Start a welfare-visit request to the schedule's partner, if sharing is covered; tell the
    managers either way. Returns the reminder's outcome code."""
    reminder, task, ladder, step = item
    managers = batch.managers(task)
    schedule = db.get(WelfareSchedule, task.source_id) if task.source_id else None
    if schedule is None or schedule.request_agency_id is None or task.person_id is None:
        batch.tell(
            reminder,
            task=task,
            ladder=ladder,
            subject=NO_PARTNER_SUBJECT,
            users=managers,
            kind="welfare_request",
        )
        return "no_partner"
    acting = _acting_viewer(db, batch, task)
    if acting is None:
        batch.tell(
            reminder,
            task=task,
            ladder=ladder,
            subject=NO_PARTNER_SUBJECT,
            users=managers,
            kind="welfare_request",
        )
        return "nobody_to_act"
    from casework.pathways.services import start_referral

    pathway = pathways().by_key.get(ladder.request_pathway)
    if pathway is None:
        return "no_pathway"
    try:
        with db.begin_nested():
            start_referral(
                db,
                vault,
                Actor(
                    user_id=acting.user_id,
                    agency_id=acting.agency_id,
                    request_id=f"reminder:{reminder.id}",
                ),
                acting,
                person_id=task.person_id,
                pathway=pathway,
                transition=next(key for key, t in pathway.starting()),
                to_agency_id=schedule.request_agency_id,
                values={},
                rules=rules,
                now=batch.now,
            )
    except (PersonError, NotAllowed, LookupError) as exc:
        log.info("welfare request for task %s not made: %s", task.id, type(exc).__name__)
        batch.tell(
            reminder,
            task=task,
            ladder=ladder,
            subject=NOT_COVERED_SUBJECT,
            users=managers,
            kind="welfare_request",
        )
        return "request_not_covered"
    batch.tell(
        reminder,
        task=task,
        ladder=ladder,
        subject=step.subject or "",
        users=managers,
        kind="welfare_request",
    )
    return "request_made"


def _acting_viewer(db: Session, batch: _Batch, task: TaskFacts) -> Viewer | None:
    """The request is made in the name of the assigned worker, else one of the managers."""
    kind = queries.agency_kind(db, task.agency_id)
    if kind is None:
        return None
    for uid in [*([task.user_id] if task.user_id else []), *batch.managers(task)]:
        person = batch.people.get(uid)
        if (
            person
            and person.active
            and person.agency_id == task.agency_id
            and person.roles & {Role.WORKER, Role.MANAGER}
        ):
            return Viewer(
                user_id=uid, agency_id=task.agency_id, agency_kind=kind, roles=person.roles
            )
    return None


def sweep_reminders(
    database: Database,
    vault: Vault,
    rules: SharingRules,
    *,
    runner: str,
    now: datetime | None = None,
    batch_size: int = REMINDER_BATCH,
    max_batches: int | None = None,
    after_claim: Callable[[int], None] | None = None,
) -> SweepResult:
    """Send every reminder due by ``now``, a batch per transaction. ``after_claim`` is called
    with the batch's size inside its transaction (tests use it to kill a runner there)."""
    result = SweepResult("reminders")
    batches = 0
    while max_batches is None or batches < max_batches:
        moment = now or utcnow()
        with database.transaction() as db:
            claimed = _claim_reminders(db, runner, moment, batch_size)
            if not claimed:
                break
            if after_claim is not None:
                after_claim(len(claimed))
            batch = _Batch(db, claimed, moment)
            batch.process(result)
            outcomes: dict[str, list[uuid.UUID]] = defaultdict(list)
            for item in batch.requests:
                outcome = _request_welfare_visit(db, vault, batch, item, rules)
                outcomes[outcome].append(item[0].id)
                result.counts[f"welfare requests ({outcome})"] += 1
            batch.write()
            for outcome, ids in outcomes.items():
                db.execute(
                    update(Reminder)
                    .where(Reminder.id.in_(ids))
                    .values(outcome=outcome)
                    .execution_options(synchronize_session=False)
                )
        batches += 1
    return result


# --- planning reminders for older tasks -------------------------------------------------------


def plan_missing_reminders(
    database: Database, *, now: datetime | None = None, batch_size: int = 500
) -> SweepResult:
    """Open tasks made before they had ladders (before this release), or whose ladder was set
    later: give them the default ladder of their source and plan its reminders."""
    result = SweepResult("pathway_clocks")
    now = now or utcnow()
    found = ladders()
    while True:
        with database.transaction() as db:
            rows = db.execute(
                select(Task.id, Task.source, Task.due_at)
                .where(Task.state == TaskState.OPEN, Task.ladder.is_(None))
                .order_by(Task.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            planned = 0
            for task_id, source, due_at in rows:
                ladder = found.default_for(source)
                # A task of a source with no default ladder is marked so it is not read again.
                db.execute(
                    update(Task)
                    .where(Task.id == task_id)
                    .values(ladder=ladder.key if ladder else "")
                )
                if ladder is not None:
                    plan_reminders(db, task_id=task_id, ladder=ladder, due_at=due_at, now=now)
                    planned += 1
            result.counts["tasks given reminders"] += planned
        if len(rows) < batch_size:
            break
    return result


# --- consent reviews --------------------------------------------------------------------------


def plan_consent_reviews(
    database: Database, rules: SharingRules, *, now: datetime | None = None
) -> SweepResult:
    """A review task for each consent (or other basis) in force that ends within the expiring
    window and has none yet, for the agency and worker who recorded it; review tasks of
    records withdrawn, superseded or renewed are closed."""
    result = SweepResult("consent_reviews")
    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    horizon = today + timedelta(days=rules.expiring_days)
    with database.transaction() as db:
        has_task = select(Task.id).where(
            Task.source == TaskSource.CONSENT_REVIEW, Task.source_id == SharingBasis.id
        )
        rows = db.execute(
            select(
                SharingBasis.id,
                SharingBasis.person_id,
                SharingBasis.kind,
                SharingBasis.ends_on,
                SharingBasis.recorded_by_agency_id,
                SharingBasis.recorded_by_id,
            ).where(
                SharingBasis.ends_on <= horizon,
                SharingBasis.ends_on >= today,
                SharingBasis.withdrawn_on.is_(None),
                SharingBasis.superseded_at.is_(None),
                ~has_task.exists(),
            )
        ).all()
        users = queries.recipients(db, {row.recorded_by_id for row in rows})
        for basis_id, person_id, kind, ends_on, agency_id, recorded_by in rows:
            worker = users.get(recorded_by)
            assigned = (
                recorded_by if worker and worker.active and worker.agency_id == agency_id else None
            )
            try:
                with db.begin_nested():
                    add_task(
                        db,
                        title="Review consent"
                        if kind is BasisKind.CONSENT
                        else "Review the lawful basis",
                        source=TaskSource.CONSENT_REVIEW,
                        source_id=basis_id,
                        source_key=kind.value,
                        agency_id=agency_id,
                        user_id=assigned,
                        category=_identity(),
                        person_id=person_id,
                        due_at=datetime.combine(ends_on, time(9, 0), tzinfo=LONDON).astimezone(
                            now.tzinfo
                        ),
                        details={"basis_id": str(basis_id)},
                        now=now,
                    )
                result.counts["review tasks made"] += 1
            except IntegrityError:
                result.counts["already made"] += 1
        ended = select(SharingBasis.id).where(
            or_(SharingBasis.withdrawn_on.is_not(None), SharingBasis.superseded_at.is_not(None))
        )
        closed = db.execute(
            update(Task)
            .where(
                Task.source == TaskSource.CONSENT_REVIEW,
                Task.state == TaskState.OPEN,
                Task.source_id.in_(ended.scalar_subquery()),
            )
            .values(state=TaskState.DONE, closed_at=now, version=Task.version + 1)
            .execution_options(synchronize_session=False)
        )
        if closed.rowcount:  # type: ignore[attr-defined]
            result.counts["review tasks closed"] += int(closed.rowcount)  # type: ignore[attr-defined]
    return result


def _identity() -> Any:
    from casework.access.categories import Category

    return Category.IDENTITY


# --- the outbox -------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim_outbox(
    db: Session, runner: str, now: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID, Channel, str, int]]:
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.SENDING]),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(due.scalar_subquery()),
            OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.SENDING]),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            state=OutboxState.SENDING,
            claimed_by=runner,
            next_attempt_at=now + OUTBOX_LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.user_id,
            OutboxMessage.channel,
            OutboxMessage.body,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _addresses(
    db: Session, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[bool, str, str | None]]:
    rows = db.execute(
        select(User.id, User.active, User.email, User.mobile_number).where(
            User.id.in_(list(set(user_ids)))
        )
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def deliver_outbox(
    database: Database,
    sender: Sender,
    *,
    runner: str,
    max_attempts: int,
    now: Callable[[], datetime] = utcnow,
    batch_size: int = OUTBOX_BATCH,
    max_batches: int | None = None,
) -> SweepResult:
    """Hand queued messages to the sender; record each result."""
    result = SweepResult("outbox")
    batches = 0
    while max_batches is None or batches < max_batches:
        with database.transaction() as db:
            claimed = _claim_outbox(db, runner, now(), batch_size)
            addresses = _addresses(db, [row[1] for row in claimed]) if claimed else {}
        if not claimed:
            break
        batches += 1
        for outbox_id, user_id, channel, body, attempts in claimed:
            active, email, mobile = addresses.get(user_id, (False, "", None))
            to = email if channel is Channel.EMAIL else mobile
            values: dict[str, Any]
            if not active or not to:
                values = {
                    "state": OutboxState.FAILED,
                    "last_error": "the recipient has no address or is disabled",
                }
                result.counts["failed"] += 1
            else:
                try:
                    reference = sender.send(Outgoing(outbox_id, channel, to, body))
                except PermanentFailure as exc:
                    values = {"state": OutboxState.FAILED, "last_error": str(exc)[:300]}
                    result.counts["failed"] += 1
                except TemporaryFailure as exc:
                    give_up = attempts >= max_attempts
                    values = {
                        "state": OutboxState.FAILED if give_up else OutboxState.QUEUED,
                        "last_error": str(exc)[:300],
                        "next_attempt_at": now() + backoff(attempts),
                    }
                    result.counts["failed" if give_up else "to try again"] += 1
                else:
                    values = {
                        "state": OutboxState.SENT,
                        "sent_at": now(),
                        "provider_ref": reference[:200],
                        "backend": sender.name,
                        "last_error": None,
                    }
                    result.counts["sent"] += 1
            with database.transaction() as db:
                db.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == outbox_id,
                        OutboxMessage.claimed_by == runner,
                        OutboxMessage.state == OutboxState.SENDING,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
    return result


def retry_failed(database: Database, outbox_ids: Iterable[uuid.UUID]) -> int:
    """An admin sends failed messages again (after fixing an address or the provider)."""
    from casework.notifications.services import retry_failed as queue_again

    with database.transaction() as db:
        return queue_again(db, outbox_ids)
