"""The reminders sweep over many due checks, as a ratio to one set-based UPDATE over the same
rows timed in the same run (issue 7's target: within 5x of it, and under 10 s on PostgreSQL).

Run by hand (not in CI):

    .venv/bin/python bench/welfare_sweep.py [--reminders 100000]

With DATABASE_URL set (a PostgreSQL database it may empty, with a ``<name>_keys`` keystore
database), it measures PostgreSQL; otherwise SQLite in a temporary instance folder. The people
and workers are made through the real services; the tasks and their reminder rows are bulk
inserted (as add_task would write them), all due in the past, all for workers who may see them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, text, update

from casework import migrate
from casework.access.categories import Category
from casework.access.roles import Role
from casework.audit.recorder import enable_audit
from casework.clock import utcnow
from casework.consent.rules import SharingRules
from casework.db import Database
from casework.jobs.services import sweep_reminders
from casework.notifications.models import Notification
from casework.security.kit import build_kit
from casework.security.vault import Vault
from casework.settings import SECRET_NAMES, load_settings
from casework.tasks.models import Reminder, ReminderState, Task, TaskSource, TaskState


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=100_000)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="casework-bench-"))
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env["CASEWORK_INSTANCE_DIR"] = str(instance)
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'bench.db'}"
    settings = load_settings("test", env=env)
    database = Database(settings.database_url)
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(settings.database_url)
    kit = build_kit(settings)
    kit.keystore.drop_schema()
    kit.keystore.create_schema()
    enable_audit(database, kit.audit_keys)
    from tests.conftest import Builders

    build = Builders(database, kit)
    agency = build.agency("Bench Recovery Service")
    workers = [build.user(Role.WORKER, agency=agency) for _ in range(20)]
    people = [build.person(workers[n % 20], f"Bench{n}", "Person") for n in range(200)]
    now = utcnow()
    print(f"{database.engine.dialect.name}: inserting {args.reminders} due checks ...", flush=True)
    with database.transaction() as db:
        for start in range(0, args.reminders, 5000):
            tasks, reminders = [], []
            for n in range(start, min(start + 5000, args.reminders)):
                task_id = uuid.uuid4()
                tasks.append(
                    {
                        "id": task_id,
                        "title": "Welfare check",
                        "person_id": people[n % 200],
                        "source": TaskSource.WELFARE_CHECK,
                        "category": Category.IDENTITY,
                        "agency_id": agency.id,
                        "user_id": workers[n % 20].id,
                        "due_at": now - timedelta(minutes=5),
                        "state": TaskState.OPEN,
                        "details": {},
                        "created_at": now,
                        "version": 1,
                        "ladder": "welfare_standard",
                    }
                )
                reminders.append(
                    {
                        "id": uuid.uuid4(),
                        "task_id": task_id,
                        "step": 0,
                        "due_at": now - timedelta(minutes=5),
                        "state": ReminderState.PENDING,
                    }
                )
            db.execute(insert(Task), tasks)
            db.execute(insert(Reminder), reminders)
    rules = SharingRules.from_settings(settings)
    started = time.perf_counter()
    result = sweep_reminders(database, Vault(kit.keystore), rules, runner="bench", now=now)
    sweep_seconds = time.perf_counter() - started
    print(f"sweep: {result.summary()} in {sweep_seconds:.2f} s", flush=True)
    with database.transaction() as db:
        db.execute(delete(Notification))
        db.execute(update(Reminder).values(state=ReminderState.PENDING, claimed_by=None))
    started = time.perf_counter()
    with database.transaction() as db:
        db.execute(
            update(Reminder)
            .where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= now)
            .values(state=ReminderState.SENT, claimed_by="bench", done_at=now, outcome="sent")
        )
    update_seconds = time.perf_counter() - started
    print(
        f"one UPDATE over the same rows: {update_seconds:.2f} s; "
        f"ratio sweep / UPDATE = {sweep_seconds / update_seconds:.1f}x",
        flush=True,
    )
    database.dispose()
    kit.keystore.dispose()


if __name__ == "__main__":
    main()
