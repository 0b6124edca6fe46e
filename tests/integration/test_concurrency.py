"""Races across processes: the sign-in throttle holds, and SQLite writers never deadlock.

Small versions (2 processes) run on both databases in every CI run (DECISIONS.md §7).
"""

from __future__ import annotations

import multiprocessing
import uuid
from multiprocessing.connection import Connection

from sqlalchemy import func, select, text

from casework.audit.recorder import SYSTEM, enable_audit, record
from casework.auth import services
from casework.auth.models import AttemptOutcome, LoginAttempt
from casework.db import Database
from casework.security.kit import build_kit
from casework.settings import Settings
from tests.conftest import Builders

ATTEMPTS_PER_PROCESS = 10


def _guess_passwords(settings: Settings, email: str, start: Connection, out: Connection) -> None:
    database = Database(settings.database_url)
    kit = build_kit(settings)
    enable_audit(database, kit.audit_keys)
    start.recv()  # all processes begin together
    results = []
    for _ in range(ATTEMPTS_PER_PROCESS):
        outcome = services.check_password(
            database, kit, email=email, password="a wrong guess here", ip_address="192.0.2.7"
        )
        results.append(str(outcome.result))
    database.dispose()
    out.send(results)


def _run_in_processes(target, args_for, count: int = 2) -> list[object]:
    context = multiprocessing.get_context("fork")
    starters, receivers, processes = [], [], []
    for index in range(count):
        start_parent, start_child = context.Pipe()
        out_parent, out_child = context.Pipe()
        process = context.Process(target=target, args=(*args_for(index), start_child, out_child))
        process.start()
        starters.append(start_parent)
        receivers.append(out_parent)
        processes.append(process)
    for starter in starters:
        starter.send("go")
    results = [receiver.recv() for receiver in receivers]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return results


def test_throttle_holds_across_processes(
    settings: Settings, database: Database, build: Builders
) -> None:
    user = build.user()
    database.engine.dispose()  # no pooled connections cross the fork
    results = _run_in_processes(_guess_passwords, lambda _i: (settings, user.email))
    outcomes = [r for batch in results for r in batch]  # type: ignore[attr-defined]
    assert len(outcomes) == 2 * ATTEMPTS_PER_PROCESS
    assert outcomes.count("throttled") == 2 * ATTEMPTS_PER_PROCESS - 5
    with database.reading() as db:
        verified = db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.outcome == AttemptOutcome.FAILED)
        )
    assert verified == 5, "more password checks than the limit were made"


def _write_many(settings: Settings, _index: int, start: Connection, out: Connection) -> None:
    database = Database(settings.database_url)
    enable_audit(database, build_kit(settings).audit_keys)
    start.recv()
    errors = 0
    for _ in range(20):
        try:
            with database.transaction() as db:
                # read-then-write: the pattern that deadlocks under DEFERRED transactions
                db.execute(text("SELECT count(*) FROM audit_events")).scalar()
                record(db, SYSTEM, "test.concurrent_write", target_id=uuid.uuid4())
        except Exception:
            errors += 1
    database.dispose()
    out.send(errors)


def test_concurrent_read_then_write_transactions_all_succeed(
    settings: Settings, database: Database
) -> None:
    database.engine.dispose()
    errors = _run_in_processes(_write_many, lambda i: (settings, i))
    assert errors == [0, 0]
    with database.reading() as db:
        written = db.scalar(text("SELECT count(*) FROM audit_events"))
    assert written == 40


def test_connection_settings_on_every_pooled_connection(database: Database) -> None:
    connections = [database.engine.connect() for _ in range(3)]
    try:
        for conn in connections:
            if not database.is_sqlite:
                # A stuck transaction cannot hold locks for ever (and seals need a bound).
                timeout = conn.exec_driver_sql("SHOW idle_in_transaction_session_timeout")
                assert timeout.scalar() == "1min"
                continue
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    finally:
        for conn in connections:
            conn.close()
