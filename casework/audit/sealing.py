"""Sealing audit rows in batches, and verifying the whole log (DECISIONS §4, ADR 0025).

* :func:`seal_pending` seals every committed row with a MAC that is older than the sealing
  delay and not sealed yet, in batches: one short write transaction per seal. Sealers queue on
  a PostgreSQL advisory lock (SQLite's ``BEGIN IMMEDIATE`` already serialises them), and the
  members table's primary key makes sealing a row twice impossible. After each commit the
  seal's MAC is logged and appended to a file outside the database, so deleting the newest
  seals is detected too.
* :func:`verify` streams through the log in batches, inside one consistent snapshot: every
  row's MAC, every seal (the chain, its MAC, its count, its members), and the outside copy.
  Every problem names the exact row id or seal number.

No Flask here: the CLI (and, from issue 6, the job runner) passes the database and keyring.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Select, func, insert, select, text
from sqlalchemy.exc import StatementError

from casework.audit.chain import GENESIS, row_payload, seal_payload
from casework.audit.models import AuditEvent, AuditEventPerson, AuditSeal, AuditSealMember
from casework.db import Database
from casework.security.macs import MacKeyring

log = logging.getLogger(__name__)

#: The PostgreSQL advisory lock sealers take for the length of one seal's transaction
#: (``"casework"`` in ASCII, as a signed 64-bit integer).
SEAL_LOCK_KEY = 0x63617365776F726B

#: After this many problems ``verify`` only counts them (a wholesale rewrite would otherwise
#: fill memory with messages).
MAX_PROBLEMS = 10_000

#: Ids per ``IN (...)`` list when fetching the rows a seal lists.
_ID_CHUNK = 500

_events = AuditEvent.__table__
_links = AuditEventPerson.__table__
_seals = AuditSeal.__table__
_members = AuditSealMember.__table__


@dataclass(frozen=True)
class SealResult:
    seq: int
    mac: str
    previous_mac: str
    count: int
    sealed_at: datetime

    def outside_line(self) -> str:
        """The seal's line in the outside copy (one JSON object)."""
        return json.dumps(
            {
                "seq": self.seq,
                "mac": self.mac,
                "previous_mac": self.previous_mac,
                "count": self.count,
                "sealed_at": self.sealed_at.astimezone(UTC).isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass
class VerifyReport:
    #: Evidence of tampering (or of a missing audit key); each names a row id or a seal.
    problems: list[str] = field(default_factory=list)
    #: Not evidence of tampering, but worth acting on (unsealed rows, rows without a MAC,
    #: seals not copied outside yet).
    warnings: list[str] = field(default_factory=list)
    rows_checked: int = 0
    seals_checked: int = 0
    #: Problems found beyond :data:`MAX_PROBLEMS` (counted, not listed).
    problems_omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.problems_omitted += 1

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def _finish(self) -> None:
        if self.problems_omitted:
            self.problems.append(f"... and {self.problems_omitted} more problems not listed")


# --- sealing --------------------------------------------------------------------------------


def seal_pending(
    database: Database,
    keyring: MacKeyring,
    *,
    now: datetime,
    delay_seconds: int,
    outside: Path | None,
    batch_size: int = 5000,
) -> list[SealResult]:
    """Seal every row with a MAC older than ``delay_seconds`` that no seal covers yet.

    One seal (of at most ``batch_size`` rows) per short write transaction; each seal is logged
    and appended to ``outside`` after its commit. Rows without a MAC (written before audit MACs
    existed) are never sealed. Returns the seals made, oldest first."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = now - timedelta(seconds=delay_seconds)
    sealed: list[SealResult] = []
    while True:
        result = _seal_one_batch(database, keyring, now=now, cutoff=cutoff, batch_size=batch_size)
        if result is None:
            return sealed
        _publish(result, outside)
        sealed.append(result)


def _seal_one_batch(
    database: Database, keyring: MacKeyring, *, now: datetime, cutoff: datetime, batch_size: int
) -> SealResult | None:
    with database.transaction() as db:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY})
        # On SQLite this first statement starts the transaction with BEGIN IMMEDIATE: the
        # newest seal cannot change until this one commits.
        newest = db.execute(
            select(AuditSeal.seq, AuditSeal.mac).order_by(AuditSeal.seq.desc()).limit(1)
        ).first()
        previous_seq, previous_mac = (0, GENESIS) if newest is None else (newest.seq, newest.mac)
        rows = db.execute(
            select(AuditEvent.id, AuditEvent.mac)
            .outerjoin(AuditSealMember, AuditSealMember.event_id == AuditEvent.id)
            .where(
                AuditSealMember.event_id.is_(None),
                AuditEvent.mac.is_not(None),
                AuditEvent.occurred_at < cutoff,
            )
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return None
        pairs = [(str(row.id), str(row.mac)) for row in rows]
        result = SealResult(
            seq=previous_seq + 1,
            mac=keyring.sign(seal_payload(previous_mac, pairs)),
            previous_mac=previous_mac,
            count=len(pairs),
            sealed_at=now,
        )
        db.execute(
            insert(AuditSeal).values(
                seq=result.seq,
                sealed_at=now,
                previous_mac=previous_mac,
                event_count=result.count,
                event_ids=sorted(event_id for event_id, _mac in pairs),
                mac=result.mac,
                key_id=keyring.key_id,
            )
        )
        db.execute(
            insert(AuditSealMember),
            [{"event_id": row.id, "seal_seq": result.seq} for row in rows],
        )
    return result


def _publish(result: SealResult, outside: Path | None) -> None:
    """The seal's second and third places: the log, and the append-only outside copy."""
    log.info("audit seal %d sealed: mac %s", result.seq, result.mac)
    if outside is None:
        return
    outside.parent.mkdir(parents=True, exist_ok=True)
    data = (result.outside_line() + "\n").encode()
    fd = os.open(outside, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


# --- verifying ------------------------------------------------------------------------------


def verify(
    database: Database,
    keyring: MacKeyring,
    *,
    now: datetime,
    delay_seconds: int,
    outside: Path | None,
    batch_size: int = 2000,
) -> VerifyReport:
    """Check every row's MAC, every seal and the outside copy (``None``: not checked).

    Reads in batches of ``batch_size`` inside one read-only snapshot, so the log may grow while
    this runs and memory stays bounded however many rows there are."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = VerifyReport()
    with _snapshot(database) as conn:
        _check_rows(conn, keyring, report, batch_size)
        _check_orphan_links(conn, report)
        newest_seq = _check_seals(conn, keyring, report, max(1, batch_size // 100))
        _check_orphan_members(conn, report)
        _check_unsealed(conn, report, now=now, delay_seconds=delay_seconds)
        _check_legacy(conn, report)
        if outside is not None:
            _check_outside(conn, report, outside, newest_seq, batch_size)
    report._finish()
    return report


@contextmanager
def _snapshot(database: Database) -> Iterator[Connection]:
    """One read-only transaction that sees one state of the log from start to end (SQLite's
    WAL gives a read transaction a snapshot; PostgreSQL needs REPEATABLE READ)."""
    with database.engine.connect() as conn:
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:
            conn.execution_options(isolation_level="REPEATABLE READ")
        transaction = conn.begin()
        try:
            if postgresql:
                conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn
        finally:
            transaction.rollback()


def _check_rows(conn: Connection, keyring: MacKeyring, report: VerifyReport, size: int) -> None:
    last: uuid.UUID | None = None
    while True:
        ids_query = select(_events.c.id).where(_events.c.mac.is_not(None))
        if last is not None:
            ids_query = ids_query.where(_events.c.id > last)
        ids = list(conn.scalars(ids_query.order_by(_events.c.id).limit(size)))
        if not ids:
            return
        first, last = ids[0], ids[-1]
        links: dict[uuid.UUID, list[tuple[uuid.UUID, bool]]] = defaultdict(list)
        for link in conn.execute(
            select(_links.c.event_id, _links.c.person_id, _links.c.revealed).where(
                _links.c.event_id >= first, _links.c.event_id <= last
            )
        ):
            links[link.event_id].append((link.person_id, bool(link.revealed)))
        for row in _rows_between(conn, report, ids):
            _check_row(keyring, report, row, links.get(row["id"], ()))
            report.rows_checked += 1


def _rows_between(
    conn: Connection, report: VerifyReport, ids: Sequence[uuid.UUID]
) -> Iterator[Mapping[str, Any]]:
    """The full rows of ``ids`` (a batch in id order). A value that cannot even be read back
    (say, invalid JSON written into ``details`` on SQLite) is a problem, not a crash."""
    query = select(*_events.c).where(_events.c.mac.is_not(None))
    try:
        rows = (
            conn.execute(query.where(_events.c.id >= ids[0], _events.c.id <= ids[-1]))
            .mappings()
            .all()
        )
    except (StatementError, ValueError, TypeError):
        rows = None
    if rows is not None:
        yield from (cast(Mapping[str, Any], row) for row in rows)
        return
    for event_id in ids:
        try:
            row = conn.execute(query.where(_events.c.id == event_id)).mappings().first()
        except (StatementError, ValueError, TypeError):
            report.problem(f"audit row {event_id}: its content cannot be read (edited?)")
            report.rows_checked += 1
            continue
        if row is not None:
            yield cast(Mapping[str, Any], row)


def _check_row(
    keyring: MacKeyring,
    report: VerifyReport,
    row: Mapping[str, Any],
    links: Iterable[tuple[uuid.UUID, bool]],
) -> None:
    event_id, key_id = row["id"], row["mac_key_id"]
    if not key_id:
        report.problem(f"audit row {event_id}: its MAC has no key id (edited?)")
        return
    if not keyring.knows(key_id):
        report.problem(
            f"audit row {event_id}: its MAC was made with audit key {key_id}, which is not "
            "configured (add it to CASEWORK_AUDIT_KEY_PREVIOUS)"
        )
        return
    try:
        payload = row_payload(row, links)
    except (TypeError, ValueError, AttributeError, KeyError):
        report.problem(f"audit row {event_id}: its content cannot be read (edited?)")
        return
    if not keyring.check(payload, str(row["mac"]), key_id):
        report.problem(
            f"audit row {event_id}: content does not match its MAC "
            "(edited, or a person link added or removed?)"
        )


def _check_orphan_links(conn: Connection, report: VerifyReport) -> None:
    orphans = (
        select(_links.c.event_id)
        .outerjoin(_events, _events.c.id == _links.c.event_id)
        .where(_events.c.id.is_(None))
        .distinct()
        .order_by(_links.c.event_id)
    )
    for event_id in conn.scalars(orphans.limit(MAX_PROBLEMS + 1)):
        report.problem(f"audit row {event_id} is missing but its person links remain (deleted?)")


def _check_seals(conn: Connection, keyring: MacKeyring, report: VerifyReport, size: int) -> int:
    """Check the chain of seals in order; returns the newest seal's number (0: none)."""
    for seq in conn.scalars(select(_seals.c.seq).where(_seals.c.seq < 1).order_by(_seals.c.seq)):
        report.problem(f"seal {seq}: seals are numbered from 1 (inserted?)")
    previous_seq, previous_mac = 0, GENESIS
    while True:
        seals = (
            conn.execute(
                select(_seals).where(_seals.c.seq > previous_seq).order_by(_seals.c.seq).limit(size)
            )
            .mappings()
            .all()
        )
        if not seals:
            return previous_seq
        for seal in seals:
            seq = int(seal["seq"])
            if seq != previous_seq + 1:
                gap = (
                    f"seal {previous_seq + 1} is"
                    if seq == previous_seq + 2
                    else f"seals {previous_seq + 1} to {seq - 1} are"
                )
                report.problem(f"{gap} missing from the database (deleted?)")
            elif seal["previous_mac"] != previous_mac:
                before = "the chain's start" if seq == 1 else f"seal {previous_seq}'s MAC"
                report.problem(
                    f"seal {seq}: its previous MAC does not match {before} (chain broken)"
                )
            _check_seal(conn, keyring, report, cast(Mapping[str, Any], seal))
            report.seals_checked += 1
            previous_seq, previous_mac = seq, seal["mac"]


def _check_seal(
    conn: Connection, keyring: MacKeyring, report: VerifyReport, seal: Mapping[str, Any]
) -> None:
    seq: int = seal["seq"]
    ids = _listed_ids(report, seal)
    if ids is None:
        return
    macs = _current_macs(conn, ids.values())
    complete = len(ids) == len(seal["event_ids"])
    for item, event_id in ids.items():
        if event_id not in macs:
            report.problem(f"audit row {item} listed in seal {seq} is missing (deleted?)")
            complete = False
        elif macs[event_id] is None:
            report.problem(f"audit row {item} listed in seal {seq} has no MAC (removed?)")
            complete = False
    _check_members(conn, report, seq, ids, macs)
    key_id = seal["key_id"]
    if not keyring.knows(key_id):
        report.problem(
            f"seal {seq}: its MAC was made with audit key {key_id}, which is not configured "
            "(add it to CASEWORK_AUDIT_KEY_PREVIOUS)"
        )
        return
    if not complete:
        return  # its MAC cannot be recomputed without every row it lists
    pairs = [(item, str(macs[event_id])) for item, event_id in ids.items()]
    if not keyring.check(seal_payload(seal["previous_mac"], pairs), seal["mac"], key_id):
        report.problem(
            f"seal {seq}: its MAC does not match the rows it lists and the previous seal "
            "(a seal or a row's MAC edited?)"
        )


def _listed_ids(report: VerifyReport, seal: Mapping[str, Any]) -> dict[str, uuid.UUID] | None:
    """The seal's ``event_ids`` (as stored) with the row id each names."""
    seq, listed = seal["seq"], seal["event_ids"]
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        report.problem(f"seal {seq}: its list of rows cannot be read (edited?)")
        return None
    if len(set(listed)) != len(listed):
        report.problem(f"seal {seq}: its list of rows repeats a row (edited?)")
    if seal["event_count"] != len(listed):
        report.problem(
            f"seal {seq}: its count ({seal['event_count']}) does not match the "
            f"{len(listed)} rows it lists (edited?)"
        )
    ids: dict[str, uuid.UUID] = {}
    for item in listed:
        try:
            ids[item] = uuid.UUID(item)
        except ValueError:
            report.problem(f"seal {seq}: lists {item!r}, which is not a row id (edited?)")
    return ids


def _current_macs(conn: Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """The MAC each of ``ids`` has now (absent: the row does not exist)."""
    wanted = list(ids)
    macs: dict[uuid.UUID, str | None] = {}
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        for row in conn.execute(select(_events.c.id, _events.c.mac).where(_events.c.id.in_(chunk))):
            macs[row.id] = row.mac
    return macs


def _check_members(
    conn: Connection,
    report: VerifyReport,
    seq: int,
    ids: Mapping[str, uuid.UUID],
    macs: Mapping[uuid.UUID, str | None],
) -> None:
    """The members table must say exactly what the seal's list says."""
    members = set(conn.scalars(select(_members.c.event_id).where(_members.c.seal_seq == seq)))
    listed = set(ids.values())
    for event_id in sorted(listed - members):
        if event_id in macs:  # a missing row is reported already
            report.problem(
                f"audit row {event_id} is listed in seal {seq} but has no member row for it"
            )
    for event_id in sorted(members - listed):
        report.problem(
            f"audit row {event_id} has a member row for seal {seq}, which does not list it"
        )


def _check_orphan_members(conn: Connection, report: VerifyReport) -> None:
    orphans = (
        select(_members.c.seal_seq, func.count())
        .outerjoin(_seals, _seals.c.seq == _members.c.seal_seq)
        .where(_seals.c.seq.is_(None))
        .group_by(_members.c.seal_seq)
        .order_by(_members.c.seal_seq)
    )
    for seq, count in conn.execute(orphans):
        report.problem(f"seal {seq} is missing but {count} member row(s) point at it (deleted?)")


def _unsealed(older_than: datetime) -> Select[Any]:
    return (
        select(_events.c.id, _events.c.occurred_at)
        .outerjoin(_members, _members.c.event_id == _events.c.id)
        .where(
            _members.c.event_id.is_(None),
            _events.c.mac.is_not(None),
            _events.c.occurred_at < older_than,
        )
    )


def _check_unsealed(
    conn: Connection, report: VerifyReport, *, now: datetime, delay_seconds: int
) -> None:
    limit = 2 * delay_seconds
    query = _unsealed(now - timedelta(seconds=limit))
    count = conn.scalar(select(func.count()).select_from(query.subquery()))
    if not count:
        return
    oldest = conn.execute(query.order_by(_events.c.occurred_at, _events.c.id).limit(1)).one()
    report.warn(
        f"{count} audit row(s) older than {limit} seconds are not sealed (oldest: "
        f"{oldest.id}, at {oldest.occurred_at.isoformat()}): run `casework audit seal`"
    )


def _check_legacy(conn: Connection, report: VerifyReport) -> None:
    legacy = conn.scalar(select(func.count()).select_from(_events).where(_events.c.mac.is_(None)))
    if not legacy:
        return
    report.warn(
        f"{legacy} audit row(s) have no MAC (written before audit MACs existed) and cannot "
        "be checked"
    )
    first_mac = conn.scalar(
        select(func.min(_events.c.occurred_at)).where(_events.c.mac.is_not(None))
    )
    if first_mac is None:
        return
    later = select(_events.c.id).where(_events.c.mac.is_(None), _events.c.occurred_at > first_mac)
    late = conn.scalar(select(func.count()).select_from(later.subquery()))
    if late:
        example = conn.scalar(later.order_by(_events.c.occurred_at, _events.c.id).limit(1))
        report.warn(
            f"{late} audit row(s) without a MAC are dated after the first row with one "
            f"(first: {example}): was a MAC removed?"
        )


def _check_outside(
    conn: Connection, report: VerifyReport, outside: Path, newest_seq: int, size: int
) -> None:
    """Every line of the outside copy must match the seal with its number in the database."""
    if not outside.exists():
        if newest_seq:
            report.warn(
                f"the outside copy {outside} does not exist: no seal (up to seal "
                f"{newest_seq}) is copied outside the database"
            )
        return
    seen: set[int] = set()
    batch: list[tuple[int, int, dict[str, Any]]] = []
    with outside.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                seq = int(entry["seq"])
                if not isinstance(entry["mac"], str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                report.problem(f"outside copy {outside}, line {number}: not a seal record")
                continue
            batch.append((number, seq, entry))
            if len(batch) >= size:
                _compare_outside(conn, report, batch, seen)
                batch = []
    _compare_outside(conn, report, batch, seen)
    last = max(seen, default=0)
    if newest_seq > last:
        newer = conn.scalar(select(func.count()).select_from(_seals).where(_seals.c.seq > last))
        report.warn(
            f"{newer} seal(s) newer than seal {last} (up to seal {newest_seq}) are not in the "
            "outside copy yet"
        )
    in_database = conn.scalar(select(func.count()).select_from(_seals).where(_seals.c.seq <= last))
    if in_database and in_database > len(seen):
        report.warn(
            f"{in_database - len(seen)} seal(s) up to seal {last} are in the database but "
            "not in the outside copy"
        )


def _compare_outside(
    conn: Connection,
    report: VerifyReport,
    batch: Sequence[tuple[int, int, dict[str, Any]]],
    seen: set[int],
) -> None:
    if not batch:
        return
    stored = {
        row.seq: row
        for row in conn.execute(
            select(
                _seals.c.seq,
                _seals.c.mac,
                _seals.c.previous_mac,
                _seals.c.event_count,
                _seals.c.sealed_at,
            ).where(_seals.c.seq.in_({seq for _number, seq, _entry in batch}))
        )
    }
    for number, seq, entry in batch:
        seal = stored.get(seq)
        if seal is None:
            report.problem(f"seal {seq} is in the outside copy but not in the database (deleted?)")
            continue
        seen.add(seq)
        if entry["mac"] != seal.mac:
            report.problem(
                f"seal {seq}: its MAC in the database differs from the outside copy "
                f"(line {number}): seal replaced?"
            )
        if "previous_mac" in entry and entry["previous_mac"] != seal.previous_mac:
            report.problem(
                f"seal {seq}: its previous MAC in the database differs from the outside copy "
                f"(line {number})"
            )
        if "count" in entry and entry["count"] != seal.event_count:
            report.problem(
                f"seal {seq}: its count in the database differs from the outside copy "
                f"(line {number})"
            )
        if "sealed_at" in entry and not _same_time(entry["sealed_at"], seal.sealed_at):
            report.problem(
                f"seal {seq}: its time in the database differs from the outside copy "
                f"(line {number})"
            )


def _same_time(written: object, stored: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(written)) == stored
    except ValueError:
        return False
