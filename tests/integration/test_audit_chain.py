"""Audit tamper evidence (DECISIONS §4, ADR 0025): row MACs, chained seals over batches, the
outside copy of the seals, and ``casework audit seal | verify``.

Tampering goes straight to the database with the append-only triggers lifted, as someone with
the database owner's rights could; ``verify`` must name exactly what was changed.
"""

from __future__ import annotations

import json
import logging
import stat
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.exc import DatabaseError, DataError

from casework import cli
from casework.audit import sealing
from casework.audit.chain import GENESIS
from casework.audit.models import AuditEvent, AuditEventPerson, AuditSeal, AuditSealMember
from casework.audit.recorder import SYSTEM, Actor, record
from casework.clock import utcnow
from casework.db import Database
from casework.security.kit import SecurityKit
from casework.security.macs import MacKeyring
from casework.settings import Settings
from tests.conftest import Builders, Clock, append_only_suspended

DELAY = 120


@pytest.fixture
def keyring(kit: SecurityKit) -> MacKeyring:
    return kit.audit_keys


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return tmp_path / "audit-seals.log"


def write_rows(database: Database, count: int, *, actor: Actor = SYSTEM) -> list[uuid.UUID]:
    """``count`` audit rows in one transaction; every third links two people (one revealed
    only), and some have details and categories."""
    ids = []
    with database.transaction() as db:
        for index in range(count):
            linked = index % 3 == 0
            ids.append(
                record(
                    db,
                    actor,
                    "test.person.viewed" if linked else "test.list.viewed",
                    target_type="person" if linked else None,
                    target_id=uuid.uuid4() if linked else None,
                    details={"index": index, "fields": ["a", "b"]},
                    people=[uuid.uuid4()] if linked else (),
                    revealed=[uuid.uuid4()] if linked else (),
                    categories=["identity", "contacts"] if index % 2 else (),
                )
            )
    return ids


def seal(database: Database, keyring: MacKeyring, outside: Path, **options: int) -> list[int]:
    made = sealing.seal_pending(
        database, keyring, now=utcnow(), delay_seconds=DELAY, outside=outside, **options
    )
    return [result.count for result in made]


def check(database: Database, keyring: MacKeyring, outside: Path | None) -> sealing.VerifyReport:
    return sealing.verify(database, keyring, now=utcnow(), delay_seconds=DELAY, outside=outside)


def all_rows(database: Database) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def tamper(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as conn, append_only_suspended(conn):
        conn.execute(text(statement), params)


def db_id(database: Database, event_id: uuid.UUID) -> str:
    """How ``event_id`` is stored (SQLite: 32 hex digits; PostgreSQL: a uuid)."""
    return event_id.hex if database.is_sqlite else str(event_id)


def stored_seals(database: Database) -> list[Row[Any]]:
    with database.reading() as db:
        return list(db.execute(select(*AuditSeal.__table__.c).order_by(AuditSeal.seq)).all())


def seal_of(database: Database, event_id: uuid.UUID) -> int:
    with database.reading() as db:
        return db.get_one(AuditSealMember, event_id).seal_seq


# --- sealing --------------------------------------------------------------------------------


def test_sealed_log_verifies_and_a_second_run_seals_nothing(
    database: Database,
    keyring: MacKeyring,
    outside: Path,
    frozen_clock: Clock,
    build: Builders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = build.user()
    write_rows(database, 20)
    write_rows(database, 10, actor=Actor(user.id, user.agency_id, "req-1", "192.0.2.1"))
    total = all_rows(database)
    assert seal(database, keyring, outside) == [], "nothing is older than the delay yet"

    frozen_clock.advance(seconds=DELAY + 1)
    with caplog.at_level(logging.INFO, logger="casework.audit.sealing"):
        assert seal(database, keyring, outside) == [total]
    [stored] = stored_seals(database)
    with database.reading() as db:
        members = db.scalar(select(func.count()).select_from(AuditSealMember))
    assert stored.previous_mac == GENESIS
    assert stored.event_count == total == members
    assert stored.event_ids == sorted(stored.event_ids)
    assert stored.key_id == keyring.key_id
    lines = outside.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "seq": 1,
            "mac": stored.mac,
            "previous_mac": GENESIS,
            "count": total,
            "sealed_at": stored.sealed_at.isoformat(),
        }
    ]
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600
    logged = [r.getMessage() for r in caplog.records if r.name == "casework.audit.sealing"]
    assert logged == [f"audit seal 1 sealed: mac {stored.mac}"]

    report = check(database, keyring, outside)
    assert report.ok, report.problems
    assert report.warnings == []
    assert (report.rows_checked, report.seals_checked) == (total, 1)

    assert seal(database, keyring, outside) == []
    assert len(outside.read_text().splitlines()) == 1


def test_later_rows_go_into_seal_2_chained_to_seal_1(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> None:
    write_rows(database, 12)
    frozen_clock.advance(seconds=DELAY + 1)
    seal(database, keyring, outside)
    later = write_rows(database, 7)

    frozen_clock.advance(seconds=DELAY // 2)
    assert seal(database, keyring, outside) == [], "the new rows are not old enough"
    assert check(database, keyring, outside).warnings == []

    frozen_clock.advance(seconds=2 * DELAY)
    report = check(database, keyring, outside)
    assert report.ok, report.problems
    assert len(report.warnings) == 1
    assert "7 audit row(s)" in report.warnings[0]
    assert "not sealed" in report.warnings[0]
    oldest = min(later)  # written at the same instant: the oldest is the lowest id
    assert str(oldest) in report.warnings[0]

    assert seal(database, keyring, outside) == [7]
    first, second = stored_seals(database)
    assert second.previous_mac == first.mac
    assert sorted(second.event_ids) == sorted(str(event_id) for event_id in later)
    assert all(seal_of(database, event_id) == 2 for event_id in later)
    report = check(database, keyring, outside)
    assert report.ok, report.problems
    assert report.warnings == []
    assert report.seals_checked == 2


def test_batches_make_a_chain_of_seals(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> None:
    write_rows(database, 25)
    frozen_clock.advance(seconds=DELAY + 1)
    assert seal(database, keyring, outside, batch_size=10) == [10, 10, 5]
    seals = stored_seals(database)
    assert [s.seq for s in seals] == [1, 2, 3]
    assert [s.previous_mac for s in seals] == [GENESIS, seals[0].mac, seals[1].mac]
    report = sealing.verify(
        database, keyring, now=utcnow(), delay_seconds=DELAY, outside=outside, batch_size=7
    )
    assert report.ok, report.problems
    assert (report.rows_checked, report.seals_checked) == (25, 3)


def test_rows_without_a_mac_are_never_sealed_and_are_counted(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> None:
    with database.transaction() as db:
        db.execute(
            insert(AuditEvent).values(
                id=uuid.uuid4(), occurred_at=utcnow(), action="legacy", outcome="allowed"
            )
        )
    frozen_clock.advance(seconds=DELAY + 1)
    write_rows(database, 3)
    frozen_clock.advance(seconds=DELAY + 1)
    assert seal(database, keyring, outside) == [3]
    report = check(database, keyring, outside)
    assert report.ok, report.problems
    assert report.rows_checked == 3
    assert report.warnings == [
        "1 audit row(s) have no MAC (written before audit MACs existed) and cannot be checked"
    ]


# --- tampering ------------------------------------------------------------------------------


@pytest.fixture
def sealed_log(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> list[uuid.UUID]:
    """Two seals (12 rows, then 8), verified intact."""
    ids = write_rows(database, 12)
    frozen_clock.advance(seconds=DELAY + 1)
    seal(database, keyring, outside)
    ids += write_rows(database, 8)
    frozen_clock.advance(seconds=DELAY + 1)
    seal(database, keyring, outside)
    report = check(database, keyring, outside)
    assert report.problems == []
    assert report.warnings == []
    return ids


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'test.nothing.to.see'"),
        ("details", "'{\"index\": 99}'"),
        ("outcome", "'denied'"),
    ],
)
def test_an_edited_row_is_named(
    database: Database,
    keyring: MacKeyring,
    outside: Path,
    sealed_log: list[uuid.UUID],
    column: str,
    value: str,
) -> None:
    victim = sealed_log[4]
    tamper(
        database,
        f"UPDATE audit_events SET {column} = {value} WHERE id = :id",  # noqa: S608 - fixed names
        id=db_id(database, victim),
    )
    report = check(database, keyring, outside)
    assert report.problems == [
        f"audit row {victim}: content does not match its MAC "
        "(edited, or a person link added or removed?)"
    ]
    assert not report.ok


def test_unreadable_row_content_is_named_not_a_crash(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    victim = sealed_log[5]
    edit = "UPDATE audit_events SET details = 'not json' WHERE id = :id"
    if not database.is_sqlite:
        # PostgreSQL refuses such an edit outright; the row stays intact and verifies.
        with pytest.raises(DataError):
            tamper(database, edit, id=db_id(database, victim))
        assert check(database, keyring, outside).ok
        return
    tamper(database, edit, id=db_id(database, victim))
    report = check(database, keyring, outside)
    assert report.problems == [f"audit row {victim}: its content cannot be read (edited?)"]
    assert report.rows_checked == len(sealed_log)


def test_a_garbled_outside_copy_is_named(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    with outside.open("a") as copy:
        copy.write("not a seal\n")
    report = check(database, keyring, outside)
    assert report.problems == [f"outside copy {outside}, line 3: not a seal record"]


def test_a_deleted_row_is_named_with_its_seal(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    victim = sealed_log[3]  # links two people
    number = seal_of(database, victim)
    for table, column in (
        ("audit_event_people", "event_id"),
        ("audit_seal_members", "event_id"),
        ("audit_events", "id"),
    ):
        statement = f"DELETE FROM {table} WHERE {column} = :id"  # noqa: S608 - fixed names
        tamper(database, statement, id=db_id(database, victim))
    report = check(database, keyring, outside)
    assert report.problems == [f"audit row {victim} listed in seal {number} is missing (deleted?)"]


def test_a_deleted_person_link_breaks_its_rows_mac(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    victim = sealed_log[6]
    with database.reading() as db:
        person_id = db.scalars(
            select(AuditEventPerson.person_id).where(AuditEventPerson.event_id == victim)
        ).first()
    assert person_id is not None
    tamper(
        database,
        "DELETE FROM audit_event_people WHERE event_id = :id AND person_id = :person",
        id=db_id(database, victim),
        person=db_id(database, person_id),
    )
    report = check(database, keyring, outside)
    assert report.problems == [
        f"audit row {victim}: content does not match its MAC "
        "(edited, or a person link added or removed?)"
    ]


def test_a_deleted_newest_seal_is_caught_by_the_outside_copy(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    tamper(database, "DELETE FROM audit_seal_members WHERE seal_seq = 2")
    tamper(database, "DELETE FROM audit_seals WHERE seq = 2")
    inside_only = check(database, keyring, None)
    assert inside_only.ok, "without the outside copy the database alone looks consistent"
    report = check(database, keyring, outside)
    assert report.problems == ["seal 2 is in the outside copy but not in the database (deleted?)"]


def test_a_deleted_middle_seal_breaks_the_chain(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> None:
    write_rows(database, 9)
    frozen_clock.advance(seconds=DELAY + 1)
    assert seal(database, keyring, outside, batch_size=3) == [3, 3, 3]
    tamper(database, "DELETE FROM audit_seal_members WHERE seal_seq = 2")
    tamper(database, "DELETE FROM audit_seals WHERE seq = 2")
    frozen_clock.advance(seconds=2 * DELAY)
    report = check(database, keyring, None)
    assert report.problems == ["seal 2 is missing from the database (deleted?)"]
    assert "3 audit row(s) older than" in report.warnings[0]


def test_a_changed_seal_mac_is_detected(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    tamper(database, "UPDATE audit_seals SET mac = :mac WHERE seq = 1", mac="f" * 64)
    report = check(database, keyring, outside)
    assert report.problems == [
        "seal 1: its MAC does not match the rows it lists and the previous seal "
        "(a seal or a row's MAC edited?)",
        "seal 2: its previous MAC does not match seal 1's MAC (chain broken)",
        "seal 1: its MAC in the database differs from the outside copy (line 1): seal replaced?",
    ]


def test_a_changed_seal_time_differs_from_the_outside_copy(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    """The seal's MAC does not cover when it was sealed; the outside copy does."""
    earlier = stored_seals(database)[1].sealed_at - timedelta(days=3)
    tamper(database, "UPDATE audit_seals SET sealed_at = :at WHERE seq = 2", at=earlier)
    report = check(database, keyring, outside)
    assert report.problems == [
        "seal 2: its time in the database differs from the outside copy (line 2)"
    ]


def test_a_resealed_batch_differs_from_the_outside_copy(
    database: Database,
    keyring: MacKeyring,
    outside: Path,
    sealed_log: list[uuid.UUID],
    frozen_clock: Clock,
) -> None:
    """Delete the newest seal and one of its rows, then let the sealer seal the rest again:
    the new seal 2 is consistent inside the database, but not with the outside copy."""
    victim = sealed_log[-1]
    tamper(database, "DELETE FROM audit_seal_members WHERE seal_seq = 2")
    tamper(database, "DELETE FROM audit_seals WHERE seq = 2")
    tamper(
        database, "DELETE FROM audit_event_people WHERE event_id = :id", id=db_id(database, victim)
    )
    tamper(database, "DELETE FROM audit_events WHERE id = :id", id=db_id(database, victim))
    assert seal(database, keyring, outside) == [7]
    report = check(database, keyring, outside)
    assert report.problems == [
        "seal 2: its MAC in the database differs from the outside copy (line 2): seal replaced?",
        "seal 2: its count in the database differs from the outside copy (line 2)",
    ]


def test_a_member_row_moved_to_another_seal_is_named(
    database: Database, keyring: MacKeyring, outside: Path, sealed_log: list[uuid.UUID]
) -> None:
    victim = sealed_log[0]
    tamper(
        database,
        "UPDATE audit_seal_members SET seal_seq = 2 WHERE event_id = :id",
        id=db_id(database, victim),
    )
    report = check(database, keyring, outside)
    assert report.problems == [
        f"audit row {victim} is listed in seal 1 but has no member row for it",
        f"audit row {victim} has a member row for seal 2, which does not list it",
    ]


def test_an_unknown_audit_key_is_named(
    database: Database, outside: Path, sealed_log: list[uuid.UUID], settings: Settings
) -> None:
    other = MacKeyring(settings.secret_key)  # any other key: its id is not the audit key's
    report = check(database, other, outside)
    assert len(report.problems) == len(sealed_log) + 2  # every row and both seals
    assert all("which is not configured" in problem for problem in report.problems)
    assert any(str(sealed_log[0]) in problem for problem in report.problems)


# --- append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'edited'",
        "DELETE FROM audit_events",
        "UPDATE audit_event_people SET revealed = NOT revealed",
        "DELETE FROM audit_event_people",
        "UPDATE audit_seals SET mac = 'x'",
        "DELETE FROM audit_seals",
        "UPDATE audit_seal_members SET seal_seq = seal_seq",
        "DELETE FROM audit_seal_members",
    ],
)
def test_audit_tables_refuse_update_and_delete(
    database: Database,
    keyring: MacKeyring,
    outside: Path,
    sealed_log: list[uuid.UUID],
    statement: str,
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))
    report = check(database, keyring, outside)
    assert report.ok
    assert report.rows_checked == len(sealed_log)


# --- concurrency ----------------------------------------------------------------------------


def test_concurrent_sealers_never_seal_a_row_twice(
    database: Database, keyring: MacKeyring, outside: Path, frozen_clock: Clock
) -> None:
    ids = write_rows(database, 150)
    frozen_clock.advance(seconds=DELAY + 1)
    sealers = 4
    start = threading.Barrier(sealers)
    counts: list[list[int]] = [[] for _ in range(sealers)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            counts[index] = seal(database, keyring, outside, batch_size=11)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sealers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(sum(made) for made in counts) == len(ids)
    seals = stored_seals(database)
    with database.reading() as db:
        members = db.scalar(select(func.count()).select_from(AuditSealMember))
    listed = Counter(event_id for s in seals for event_id in s.event_ids)
    assert set(listed) == {str(event_id) for event_id in ids}
    assert set(listed.values()) == {1}, "a row is in more than one seal"
    assert members == len(ids)
    assert [s.seq for s in seals] == list(range(1, len(seals) + 1))
    assert len(outside.read_text().splitlines()) == len(seals)
    report = check(database, keyring, outside)
    assert report.problems == []
    assert report.warnings == []


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def outside_copy(settings: Settings) -> Iterator[Path]:
    """The command's outside copy is in the (session-wide) instance folder: start empty."""
    path = settings.instance_dir / "audit-seals.log"
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def test_audit_commands(
    app: Flask, database: Database, outside_copy: Path, frozen_clock: Clock
) -> None:
    ids = write_rows(database, 10)
    frozen_clock.advance(seconds=DELAY + 1)
    runner = app.test_cli_runner()
    sealed = runner.invoke(cli.cli, ["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert "Sealed 10 audit row(s) in 1 seal(s)" in sealed.output
    assert len(outside_copy.read_text().splitlines()) == 1

    verified = runner.invoke(cli.cli, ["audit", "verify", "--strict"])
    assert verified.exit_code == 0, verified.output
    assert "Audit log intact: 10 rows, 1 seals checked." in verified.output

    late = write_rows(database, 1)[0]
    frozen_clock.advance(seconds=2 * DELAY + 1)
    lenient = runner.invoke(cli.cli, ["audit", "verify"])
    assert lenient.exit_code == 0, lenient.output
    assert "intact" in lenient.output
    assert "warning: 1 audit row(s)" in lenient.output
    strict = runner.invoke(cli.cli, ["audit", "verify", "--strict"])
    assert strict.exit_code == 1, strict.output
    assert str(late) in strict.output

    tamper(
        database,
        "UPDATE audit_events SET action = 'edited' WHERE id = :id",
        id=db_id(database, ids[2]),
    )
    failed = runner.invoke(cli.cli, ["audit", "verify"])
    assert failed.exit_code == 1, failed.output
    assert f"problem: audit row {ids[2]}: content does not match its MAC" in failed.output
    assert "intact" not in failed.output
