"""Several job runners over the same due reminders, one killed with ``kill -9`` part-way
through a sweep (inside its claiming transaction) and started again after a downtime: every
reminder reaches the outbox exactly once and none is later than two sweep intervals plus the
downtime (issue 7; R34). PostgreSQL: 4 runners; SQLite: 2 runners (DECISIONS §7).

The runners are forked processes running the real :class:`Runner` loop (APScheduler, every
sweep). In them, notifications and outbox rows are written with a plain INSERT instead of the
usual "insert unless the unique key is there": a reminder processed twice would then fail a
sweep loudly instead of being absorbed by the key, so the test sees the claims alone hold.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from casework import clock
from casework.access.categories import Category
from casework.access.roles import Role
from casework.audit.recorder import enable_audit
from casework.db import Database
from casework.jobs import services
from casework.jobs.runner import Outcome, Runner
from casework.notifications.models import Notification, OutboxMessage
from casework.security.kit import build_kit
from casework.settings import Settings
from casework.tasks.models import Reminder, ReminderState, TaskSource
from casework.tasks.services import add_task
from casework.users.models import User
from tests.conftest import Builders

REMINDERS = 200
SPREAD_SECONDS = 30
INTERVAL_SECONDS = 1
DOWNTIME_SECONDS = 3


def _strict_insert(db: Any, model: type[Any], rows: list[dict[str, Any]], key: str) -> None:
    if model in (Notification, OutboxMessage):
        if rows:
            db.execute(insert(model), rows)
        return
    _ORIGINAL(db, model, rows, key)


_ORIGINAL = services._upsert_ignore


def _run(settings: Settings, stop: Any, errors: Any, claimed: Any) -> None:
    """One runner process. ``claimed`` (the victim): after its first non-empty claim it says
    so and then waits inside the transaction, to be killed there."""
    clock.reset()  # the real clock, not the test's frozen one
    services._upsert_ignore = _strict_insert
    if claimed is not None:
        claim = services._claim_reminders

        def slow_claim(*args: Any, **kwargs: Any) -> Any:
            rows = claim(*args, **kwargs)
            if rows:
                claimed.set()
                time.sleep(30)  # killed here, holding the claim
            return rows

        services._claim_reminders = slow_claim
    database = Database(settings.database_url)
    kit = build_kit(settings)
    enable_audit(database, kit.audit_keys)
    runner = Runner(database, kit, name=f"runner-{os.getpid()}")
    run_job = runner.run_job

    def watched(job: Any) -> Outcome:
        outcome = run_job(job)
        if outcome.error:
            errors.put(f"{job.name}: {outcome.error}")
        return outcome

    jobs = {job.name: job for job in runner.jobs()}
    try:
        # The runner's loop, without the scheduler thread pool (its own test is in
        # test_jobs_runner.py): the reminders and outbox sweeps every interval.
        while not stop.is_set():
            watched(jobs["reminders"])
            watched(jobs["outbox"])
            stop.wait(INTERVAL_SECONDS)
    finally:
        database.dispose()
        kit.keystore.dispose()


def _setup(build: Builders, start: datetime) -> list[uuid.UUID]:
    agency = build.agency()
    workers = [build.user(Role.WORKER, agency=agency) for _ in range(4)]
    people = [build.person(workers[n % 4], f"Person{n}", "Racefield") for n in range(8)]
    with build.database.transaction() as db:
        for user in workers:
            db.get_one(User, user.id).notify_by_email = True
        ids = []
        for n in range(REMINDERS):
            ids.append(
                add_task(
                    db,
                    title="Welfare check",
                    source=TaskSource.WELFARE_CHECK,
                    agency_id=agency.id,
                    category=Category.IDENTITY,
                    due_at=start + timedelta(seconds=SPREAD_SECONDS * n / REMINDERS),
                    person_id=people[n % len(people)],
                    user_id=workers[n % 4].id,
                    ladder="welfare_standard",
                    now=start,
                )
            )
    return ids


def _race(settings: Settings, database: Database, build: Builders, runners: int) -> None:
    start = datetime.now(UTC) + timedelta(seconds=3)
    _setup(build, start)
    database.engine.dispose()  # no pooled connection crosses the fork
    fast = settings.replace(jobs_sweep_seconds=INTERVAL_SECONDS, jobs_slow_sweep_seconds=5)
    context = multiprocessing.get_context("fork")
    stop, claimed, errors = context.Event(), context.Event(), context.Queue()
    processes = [
        context.Process(target=_run, args=(fast, stop, errors, None)) for _ in range(runners - 1)
    ]
    victim = context.Process(target=_run, args=(fast, stop, errors, claimed))
    for process in [*processes, victim]:
        process.start()
    try:
        assert claimed.wait(timeout=SPREAD_SECONDS + 30), "the victim never claimed a batch"
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(timeout=10)
        time.sleep(DOWNTIME_SECONDS)
        restarted = context.Process(target=_run, args=(fast, stop, errors, None))
        restarted.start()
        processes.append(restarted)
        deadline = time.monotonic() + SPREAD_SECONDS + 60
        while time.monotonic() < deadline:
            with database.reading() as db:
                pending = db.scalar(
                    select(func.count())
                    .select_from(Reminder)
                    .where(Reminder.step == 0, Reminder.state == ReminderState.PENDING)
                )
            if not pending and datetime.now(UTC) > start + timedelta(seconds=SPREAD_SECONDS):
                break
            time.sleep(0.5)
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    with database.reading() as db:
        first = db.execute(
            select(Reminder.id, Reminder.due_at, Reminder.state).where(Reminder.step == 0)
        ).all()
        notes = dict(db.execute(select(Notification.dedupe_key, Notification.created_at)).all())
        outbox_keys = db.scalars(select(OutboxMessage.dedupe_key)).all()
    assert len(first) == REMINDERS
    assert {state for _id, _due, state in first} == {ReminderState.SENT}
    assert len(notes) == REMINDERS
    assert len(outbox_keys) == len(set(outbox_keys)) == REMINDERS
    allowed = timedelta(seconds=2 * INTERVAL_SECONDS + DOWNTIME_SECONDS)
    late = []
    for reminder_id, due_at, _state in first:
        sent = [
            at for key, at in notes.items() if (key or "").startswith(f"reminder:{reminder_id}:")
        ]
        assert len(sent) == 1
        if sent[0] - due_at > allowed:
            late.append((sent[0] - due_at).total_seconds())
    assert late == [], f"{len(late)} reminders later than {allowed}: {sorted(late)[-5:]}"


def test_runners_killed_and_restarted_send_every_reminder_exactly_once(
    settings: Settings, database: Database, build: Builders
) -> None:
    _race(settings, database, build, runners=4 if not database.is_sqlite else 2)
