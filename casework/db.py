"""Database foundations: the declarative base, shared column types, engines and sessions.

* Constraint names follow one convention, so migrations are stable and an ``IntegrityError``
  can be mapped back to a form field by name.
* Every timestamp is timezone-aware UTC (:class:`UTCDateTime`); Europe/London is applied only
  when a value is shown.
* SQLite runs in WAL mode with foreign keys and ``secure_delete`` on every connection. Write
  transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
  of deadlocking on a read-to-write upgrade; read transactions use a plain ``BEGIN``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Enum,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "casework_write"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use casework.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint, storing the values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's own API


def _now() -> datetime:
    # Imported lazily so tests that move the clock also move default timestamps.
    from casework.clock import utcnow

    return utcnow()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=_now, onupdate=_now, server_default=func.now()
    )


class VersionedMixin:
    """Optimistic locking: forms carry ``version`` and services compare it before writing."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(self) -> dict[str, Any]:
        return {"version_id_col": self.__table__.c.version}  # type: ignore[attr-defined]


class StaleVersion(Exception):  # noqa: N818 - reads better at call sites
    """The record changed since the form that edits it was opened (optimistic locking)."""


def check_version(record: VersionedMixin, expected: int | None) -> None:
    """Compare the version a form carried with the record's; the views answer 409."""
    if expected is not None and record.version != expected:
        raise StaleVersion


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=10000",
        "PRAGMA secure_delete=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={
            "connect_timeout": 5,
            # JIT compilation suits long analytic queries, not a web app's: its start-up cost
            # (hundreds of ms) dwarfed report queries that run in tens (bench/README.md).
            "options": "-c idle_in_transaction_session_timeout=60000 -c jit=off",
        },
    )


def _refuse_flush(session: Session, _context: object, _instances: object) -> None:
    raise RuntimeError(
        "this is a read-only session (a GET request or a read): write in a POST, "
        "or in Database.transaction() for bookkeeping"
    )


class Database:
    """Engine plus two session factories: reads (plain BEGIN) and writes (BEGIN IMMEDIATE).

    Read sessions refuse to flush, so a GET request cannot write case data by accident.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        event.listen(self._read, "before_flush", _refuse_flush)
        self._write = sessionmaker(
            bind=self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    def share_with_sessions(self, **info: Any) -> None:
        """Give every session made from now on these ``Session.info`` entries (the audit
        keyring: a session without one cannot write audit rows, so cannot write at all)."""
        for factory in (self._read, self._write):
            factory.configure(info={**factory.kw.get("info", {}), **info})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A short write transaction of its own: commits on success, rolls back on error."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self.session(write=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for hot, read-only paths (the per-request session check)."""
        with self.engine.connect() as conn:
            yield conn

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it, so that pages
        overwritten by ``secure_delete`` (an erasure) leave no copy behind in the WAL."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()
