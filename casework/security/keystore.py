"""Per-person data keys, wrapped by the key-encryption key, in a database of their own.

Every person has one random 256-bit data key. It is stored only *wrapped* (AES-GCM under a key
derived from ``CASEWORK_KEK``, bound to the person's id), in the **keystore**, which is a
separate database from the case data (``CASEWORK_KEYSTORE_URL``). Deleting a person's row here
makes every ciphertext of theirs unreadable, in the live database and in its backups
(crypto-shredding): see ``docs/adr/0018-per-person-keys-and-keystore.md``.

Key-encryption keys rotate without touching the case data: ``casework keys rotate`` re-wraps
the person keys made under an earlier KEK in small batches, one transaction each, so it can be
killed at any point and simply run again. An earlier KEK stays configured
(``CASEWORK_KEK_PREVIOUS``) until no row uses it; ``casework keys retire`` refuses before that.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from casework.clock import utcnow
from casework.db import WRITE_OPTION, make_engine
from casework.security.crypto import KEY_ID_LENGTH, Cipher, DecryptionError, derive_key
from casework.settings import ConfigurationError, SecretKey, Settings

keystore_metadata = MetaData()

person_keys = Table(
    "person_keys",
    keystore_metadata,
    Column("person_id", String(36), primary_key=True),
    Column("data_key_id", String(KEY_ID_LENGTH), nullable=False, unique=True),
    Column("kek_id", String(KEY_ID_LENGTH), nullable=False, index=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("wrapped_at", DateTime(timezone=True), nullable=False),
)

#: KEKs an operator has retired: no row uses them and they may leave the configuration.
retired_keks = Table(
    "retired_keks",
    keystore_metadata,
    Column("kek_id", String(KEY_ID_LENGTH), primary_key=True),
    Column("retired_at", DateTime(timezone=True), nullable=False),
)

_WRAP_PURPOSE = "casework:person-keys"
#: At most this many unwrapped keys are kept per process.
_CACHE_ENTRIES = 10_000
_KEY_ID = re.compile(f"[0-9a-f]{{{KEY_ID_LENGTH}}}")
_NONCE = 12


class KeyMissing(LookupError):  # noqa: N818 - reads better at call sites
    """The person has no data key: never created, or destroyed (erased)."""


class _Wrapper:
    """Wraps and unwraps data keys with one KEK."""

    def __init__(self, kek: SecretKey) -> None:
        self.kek_id = kek.key_id
        self._aead = AESGCM(derive_key(kek.material, _WRAP_PURPOSE))

    @staticmethod
    def _aad(person_id: str, data_key_id: str) -> bytes:
        return f"person_keys|{person_id}|{data_key_id}".encode()

    def wrap(self, person_id: str, data_key_id: str, key: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, key, self._aad(person_id, data_key_id))

    def unwrap(self, person_id: str, data_key_id: str, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], self._aad(person_id, data_key_id)
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"the data key of person {person_id} does not unwrap under key {self.kek_id}"
            ) from exc


@dataclass(frozen=True)
class RotationProgress:
    rewrapped: int
    remaining: int


def _new_data_key_id() -> str:
    return secrets.token_hex(KEY_ID_LENGTH // 2)


_KEYS_FOR = select(
    person_keys.c.person_id, person_keys.c.data_key_id, person_keys.c.kek_id, person_keys.c.wrapped
).where(person_keys.c.person_id.in_(bindparam("ids", expanding=True)))

#: One re-wrapped key; the old KEK id in the WHERE clause makes a repeated update a no-op.
_REWRAP = (
    update(person_keys)
    .where(person_keys.c.person_id == bindparam("b_person_id"))
    .where(person_keys.c.kek_id == bindparam("b_old_kek_id"))
    .values(wrapped=bindparam("b_wrapped"))
)


class Keystore:
    """The keystore database and the KEK ring (the current KEK first, then earlier ones)."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.url = settings.keystore_url
        self._may_create_database = not settings.is_production
        self.engine = engine or make_engine(settings.keystore_url)
        #: Writes start with BEGIN IMMEDIATE on SQLite (see casework.db).
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self.current = _Wrapper(settings.kek)
        self._ring = {self.current.kek_id: self.current}
        for old in settings.previous_keks:
            self._ring.setdefault(old.key_id, _Wrapper(old))
        #: Unwrapped keys this process used lately: person id -> (fetched at, cipher). A page
        #: of fifty people otherwise costs a keystore round trip and fifty unwraps. Entries
        #: live ``data_key_cache_seconds`` at most; ``destroy`` drops its own entry at once
        #: (see ADR 0018 for what that means for erasure across processes).
        self._cache: OrderedDict[uuid.UUID, tuple[float, Cipher]] = OrderedDict()
        self._cache_seconds = float(settings.data_key_cache_seconds)
        self._cache_lock = threading.Lock()

    @property
    def current_kek_id(self) -> str:
        return self.current.kek_id

    @property
    def previous_kek_ids(self) -> tuple[str, ...]:
        """The ids of the earlier KEKs configured in ``CASEWORK_KEK_PREVIOUS``."""
        return tuple(kek_id for kek_id in self._ring if kek_id != self.current.kek_id)

    # --- schema -------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the keystore's tables (and, outside production, its PostgreSQL database)."""
        if self.engine.dialect.name == "postgresql" and not _database_exists(self.engine):
            if not self._may_create_database:
                raise ConfigurationError(
                    "CASEWORK_KEYSTORE_URL names a database that does not exist: create it "
                    "(in production Casework does not create databases itself)"
                )
            _ensure_database(self.engine)
        keystore_metadata.create_all(self.engine, checkfirst=True)

    def drop_schema(self) -> None:
        keystore_metadata.drop_all(self.engine, checkfirst=True)

    def check(self) -> None:
        """Start-up check: every KEK the keystore uses is configured and really is that key."""
        try:
            self._check()
        except ConfigurationError:
            self.engine.dispose()  # the app will not start: close the keystore's connections
            raise

    def _check(self) -> None:
        if self.engine.dialect.name == "postgresql" and not _database_exists(self.engine):
            # Before `casework db upgrade` has created it: nothing to check yet. The upgrade
            # creates it (outside production) or says which setting names it.
            return
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("person_keys"):
                    return  # before `casework db upgrade`: nothing to check yet
                in_use = (
                    conn.execute(select(person_keys.c.kek_id).group_by(person_keys.c.kek_id))
                    .scalars()
                    .all()
                )
                for kek_id in in_use:
                    wrapper = self._ring.get(kek_id)
                    if wrapper is None:
                        raise ConfigurationError(
                            f"CASEWORK_KEK is not the key-encryption key the keystore uses "
                            f"(key id {kek_id}); set it, or list the earlier key in "
                            "CASEWORK_KEK_PREVIOUS"
                        )
                    sample = conn.execute(
                        select(person_keys).where(person_keys.c.kek_id == kek_id).limit(1)
                    ).one()
                    try:
                        wrapper.unwrap(sample.person_id, sample.data_key_id, sample.wrapped)
                    except DecryptionError as exc:
                        raise ConfigurationError(
                            "CASEWORK_KEK cannot unwrap the keystore's keys (wrong key)"
                        ) from exc
        except OperationalError as exc:
            reason = (str(exc.orig).strip().splitlines() or ["no reason given"])[0]
            raise ConfigurationError(
                f"CASEWORK_KEYSTORE_URL: cannot open the keystore ({reason})"
            ) from exc

    # --- keys ---------------------------------------------------------------------------

    def create_key(self, person_id: uuid.UUID) -> Cipher:
        """Make, wrap and store a new data key for a person. Committed before the caller
        writes any data with it (key first, then data)."""
        return self.create_keys([person_id])[person_id]

    def create_keys(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Cipher]:
        now = utcnow()
        rows = []
        ciphers: dict[uuid.UUID, Cipher] = {}
        for person_id in person_ids:
            key = AESGCM.generate_key(bit_length=256)
            key_id = _new_data_key_id()
            pid = str(person_id)
            rows.append(
                {
                    "person_id": pid,
                    "data_key_id": key_id,
                    "kek_id": self.current.kek_id,
                    "wrapped": self.current.wrap(pid, key_id, key),
                    "created_at": now,
                    "wrapped_at": now,
                }
            )
            ciphers[person_id] = Cipher(key, key_id)
        if rows:
            with self._writer.begin() as conn:
                conn.execute(insert(person_keys), rows)
        return ciphers

    def ciphers_for(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Cipher]:
        """The data keys of these people (one query for those not cached). People without a
        key are left out."""
        found = self._cached(person_ids)
        ids = sorted({str(pid) for pid in person_ids if pid not in found})
        if not ids:
            return found
        with self.engine.connect() as conn:
            rows = conn.execute(_KEYS_FOR, {"ids": ids}).all()
        fetched: dict[uuid.UUID, Cipher] = {}
        for row in rows:
            wrapper = self._ring.get(row.kek_id)
            if wrapper is None:
                raise ConfigurationError(
                    f"CASEWORK_KEK_PREVIOUS must include the key with id {row.kek_id}"
                )
            key = wrapper.unwrap(row.person_id, row.data_key_id, row.wrapped)
            fetched[uuid.UUID(row.person_id)] = Cipher(key, row.data_key_id)
        self._remember(fetched)
        found.update(fetched)
        return found

    def _cached(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Cipher]:
        if self._cache_seconds <= 0:
            return {}
        oldest = time.monotonic() - self._cache_seconds
        found: dict[uuid.UUID, Cipher] = {}
        with self._cache_lock:
            for pid in person_ids:
                entry = self._cache.get(pid)
                if entry is not None and entry[0] >= oldest:
                    found[pid] = entry[1]
        return found

    def _remember(self, ciphers: dict[uuid.UUID, Cipher]) -> None:
        if self._cache_seconds <= 0 or not ciphers:
            return
        now = time.monotonic()
        with self._cache_lock:
            for pid, cipher in ciphers.items():
                self._cache[pid] = (now, cipher)
                self._cache.move_to_end(pid)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def forget_cached(self, person_id: uuid.UUID | None = None) -> None:
        """Drop one person's cached key, or every cached key."""
        with self._cache_lock:
            if person_id is None:
                self._cache.clear()
            else:
                self._cache.pop(person_id, None)

    def cipher_for(self, person_id: uuid.UUID) -> Cipher:
        found = self.ciphers_for([person_id])
        if person_id not in found:
            raise KeyMissing(str(person_id))
        return found[person_id]

    def destroy(self, person_id: uuid.UUID) -> bool:
        """Delete a person's data key for good (crypto-shredding). True if one was deleted."""
        self.forget_cached(person_id)
        with self._writer.begin() as conn:
            deleted = conn.execute(
                delete(person_keys).where(person_keys.c.person_id == str(person_id))
            ).rowcount
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(deleted)

    # --- rotation -----------------------------------------------------------------------

    def usage(self) -> dict[str, int]:
        """How many person keys each KEK id wraps."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(person_keys.c.kek_id, func.count()).group_by(person_keys.c.kek_id)
            ).all()
        return {kek_id: count for kek_id, count in rows}

    def retired(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(retired_keks.c.kek_id)).scalars())

    def rotate(
        self,
        *,
        batch_size: int = 500,
        progress: Callable[[RotationProgress], None] | None = None,
    ) -> int:
        """Re-wrap every person key not yet under the current KEK. One transaction per batch:
        killed half-way, each row is under either the old or the new KEK and a re-run goes on
        from there. Returns how many keys were re-wrapped."""
        total = 0
        while True:
            with self._writer.begin() as conn:
                rows = conn.execute(
                    select(person_keys)
                    .where(person_keys.c.kek_id != self.current.kek_id)
                    .order_by(person_keys.c.person_id)
                    .limit(batch_size)
                    # PostgreSQL: a second `keys rotate` at the same time takes other rows.
                    .with_for_update(skip_locked=True)
                ).all()
                if not rows:
                    return total
                now = utcnow()
                rewrapped = []
                for row in rows:
                    wrapper = self._ring.get(row.kek_id)
                    if wrapper is None:
                        raise ConfigurationError(
                            f"CASEWORK_KEK_PREVIOUS must include the key with id {row.kek_id}"
                        )
                    key = wrapper.unwrap(row.person_id, row.data_key_id, row.wrapped)
                    rewrapped.append(
                        {
                            "b_person_id": row.person_id,
                            "b_old_kek_id": row.kek_id,
                            "b_wrapped": self.current.wrap(row.person_id, row.data_key_id, key),
                        }
                    )
                conn.execute(_REWRAP.values(kek_id=self.current.kek_id, wrapped_at=now), rewrapped)
                total += len(rows)
                remaining = conn.execute(
                    select(func.count())
                    .select_from(person_keys)
                    .where(person_keys.c.kek_id != self.current.kek_id)
                ).scalar_one()
            if progress is not None:
                progress(RotationProgress(rewrapped=total, remaining=remaining))

    def retire(self, kek_id: str) -> None:
        """Record that an earlier KEK is no longer needed. Refused while any key uses it."""
        if not _KEY_ID.fullmatch(kek_id):
            raise ValueError(
                f"{kek_id!r} is not a key id ({KEY_ID_LENGTH} hexadecimal characters, "
                "as `casework keys status` shows them)"
            )
        if kek_id == self.current.kek_id:
            raise ValueError(
                "the current CASEWORK_KEK cannot be retired; rotate to a new one first"
            )
        in_use = self.usage().get(kek_id, 0)
        if in_use:
            raise ValueError(
                f"{in_use} person key(s) still use key {kek_id}: run `casework keys rotate` first"
            )
        with self._writer.begin() as conn:
            if (
                conn.execute(
                    select(retired_keks.c.kek_id).where(retired_keks.c.kek_id == kek_id)
                ).first()
                is None
            ):
                conn.execute(insert(retired_keks).values(kek_id=kek_id, retired_at=utcnow()))

    def dispose(self) -> None:
        self.engine.dispose()


def _database_exists(engine: Engine) -> bool:
    try:
        with engine.connect():
            return True
    except OperationalError as exc:
        return "does not exist" not in str(exc.orig)


def _ensure_database(engine: Engine) -> None:
    """Create the keystore's PostgreSQL database if it is missing (development and CI)."""
    url = engine.url
    if url.get_backend_name() != "postgresql":
        return
    try:
        with engine.connect():
            return
    except OperationalError:
        pass
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if exists is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        admin.dispose()
