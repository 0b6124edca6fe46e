"""The keystore: wrapped per-person keys, destroying them, and rotating the key-encryption key.

Each test has a keystore of its own: a SQLite file, or on PostgreSQL (``DATABASE_URL``) a
database named after the test run's (``<name>_unitkeys``), created on first use.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import select
from sqlalchemy.engine import make_url

from casework.security.crypto import DecryptionError, associated_data
from casework.security.keystore import (
    KeyMissing,
    Keystore,
    RotationProgress,
    person_keys,
)
from casework.security.vault import Vault
from casework.settings import SECRET_NAMES, ConfigurationError, Settings, load_settings

# --- helpers shared with tests/integration/test_key_rotation.py and test_startup_keys.py ----


def new_kek() -> str:
    """A fresh key-encryption key, as an operator would put it in CASEWORK_KEK."""
    return secrets.token_urlsafe(32)


def own_keystore_url(tmp_path: Path, name: str) -> str:
    """A keystore for one test: a SQLite file in ``tmp_path``, or on PostgreSQL the database
    ``<DATABASE_URL's name>_<name>`` on the same server (Keystore.create_schema creates it)."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgres"):
        url = make_url(configured)
        return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / f'{name}.keys.db'}"


def key_env(
    tmp_path: Path,
    keystore_url: str,
    kek: str,
    previous: Sequence[str] = (),
    *,
    database_url: str | None = None,
) -> dict[str, str]:
    """The environment of a Casework process with this KEK (and earlier ones) and keystore."""
    env = {name: new_kek() for name in SECRET_NAMES}
    env.update(
        CASEWORK_KEK=kek,
        CASEWORK_INSTANCE_DIR=str(tmp_path),
        DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'main.db'}",
        CASEWORK_KEYSTORE_URL=keystore_url,
    )
    if previous:
        env["CASEWORK_KEK_PREVIOUS"] = ",".join(previous)
    return env


def key_settings(
    tmp_path: Path,
    keystore_url: str,
    kek: str,
    previous: Sequence[str] = (),
    *,
    database_url: str | None = None,
) -> Settings:
    env = key_env(tmp_path, keystore_url, kek, previous, database_url=database_url)
    return load_settings("test", env=env)


def fresh_keystore(settings: Settings) -> Keystore:
    """A keystore with empty tables (created, on PostgreSQL with its database, if missing)."""
    keystore = Keystore(settings)
    keystore.create_schema()
    keystore.drop_schema()
    keystore.create_schema()
    return keystore


# --- fixtures -------------------------------------------------------------------------------

KEK_A = new_kek()
KEK_B = new_kek()


@pytest.fixture
def keystore_url(tmp_path: Path) -> str:
    return own_keystore_url(tmp_path, "unitkeys")


@pytest.fixture
def open_keystore(tmp_path: Path, keystore_url: str) -> Iterator[Callable[..., Keystore]]:
    """Open the test's keystore with a given KEK ring; the first call empties it."""
    opened: list[Keystore] = []

    def open_with(kek: str, *previous: str) -> Keystore:
        settings = key_settings(tmp_path, keystore_url, kek, previous)
        keystore = fresh_keystore(settings) if not opened else Keystore(settings)
        opened.append(keystore)
        return keystore

    yield open_with
    if opened:
        opened[0].drop_schema()
    for keystore in opened:
        keystore.dispose()


@pytest.fixture
def keystore(open_keystore: Callable[..., Keystore]) -> Keystore:
    return open_keystore(KEK_A)


# --- wrapping -------------------------------------------------------------------------------


def test_wrap_and_unwrap_round_trip_and_bind_the_key_to_its_person(keystore: Keystore) -> None:
    key = secrets.token_bytes(32)
    wrapped = keystore.current.wrap("person-1", "0123456789ab", key)
    assert key not in wrapped
    assert keystore.current.unwrap("person-1", "0123456789ab", wrapped) == key
    with pytest.raises(DecryptionError):
        keystore.current.unwrap("person-2", "0123456789ab", wrapped)
    with pytest.raises(DecryptionError):
        keystore.current.unwrap("person-1", "ba9876543210", wrapped)


def test_a_stored_key_comes_back_and_opens_what_it_sealed(
    keystore: Keystore, open_keystore: Callable[..., Keystore]
) -> None:
    person = uuid.uuid4()
    made = keystore.create_key(person)
    aad = associated_data("people", "given_name", person)
    blob = made.encrypt(b"Robin", aad)
    fetched = open_keystore(KEK_A).cipher_for(person)
    assert fetched.key_id == made.key_id
    assert fetched.decrypt(blob, aad) == b"Robin"
    with keystore.engine.connect() as conn:
        row = conn.execute(select(person_keys)).one()
    assert row.person_id == str(person)
    assert row.kek_id == keystore.current_kek_id
    assert len(row.wrapped) == 12 + 32 + 16  # nonce, key, tag: never the bare key


def test_ciphers_for_fetches_many_and_leaves_out_people_without_a_key(
    keystore: Keystore,
) -> None:
    people = [uuid.uuid4() for _ in range(5)]
    made = keystore.create_keys(people)
    stranger = uuid.uuid4()
    found = keystore.ciphers_for([*people, stranger])
    assert set(found) == set(people)
    assert {pid: c.key_id for pid, c in found.items()} == {pid: c.key_id for pid, c in made.items()}
    assert keystore.ciphers_for([]) == {}
    with pytest.raises(KeyMissing):
        keystore.cipher_for(stranger)


# --- destroying a key -----------------------------------------------------------------------


def test_destroy_makes_the_person_unreadable(keystore: Keystore) -> None:
    person, other = uuid.uuid4(), uuid.uuid4()
    vault = Vault(keystore)
    vault.new_people([person, other])
    blob = vault.seal(person, "people", "family_name", person, "Example")
    assert keystore.destroy(person) is True
    assert keystore.destroy(person) is False
    with pytest.raises(KeyMissing):
        keystore.cipher_for(person)
    with pytest.raises(KeyMissing):
        Vault(keystore).open(person, "people", "family_name", person, blob)
    assert not Vault(keystore).has_key(person)
    assert keystore.cipher_for(other).key_id  # nobody else is touched
    assert keystore.usage() == {keystore.current_kek_id: 1}


# --- the KEK ring ---------------------------------------------------------------------------


def test_a_key_under_a_kek_not_in_the_ring_names_casework_kek_previous(
    keystore: Keystore, open_keystore: Callable[..., Keystore]
) -> None:
    person = uuid.uuid4()
    keystore.create_key(person)
    without_a = open_keystore(KEK_B)
    with pytest.raises(ConfigurationError, match="CASEWORK_KEK_PREVIOUS") as raised:
        without_a.cipher_for(person)
    assert keystore.current_kek_id in str(raised.value)
    with pytest.raises(ConfigurationError, match="CASEWORK_KEK_PREVIOUS"):
        without_a.rotate()
    with pytest.raises(ConfigurationError, match="CASEWORK_KEK") as at_start:
        without_a.check()
    assert "\n" not in str(at_start.value)
    with_a = open_keystore(KEK_B, KEK_A)
    with_a.check()
    assert with_a.cipher_for(person).key_id
    assert with_a.previous_kek_ids == (keystore.current_kek_id,)


def test_check_passes_on_an_empty_keystore_and_before_its_tables_exist(
    keystore: Keystore, open_keystore: Callable[..., Keystore]
) -> None:
    open_keystore(KEK_B).check()
    keystore.drop_schema()
    open_keystore(KEK_B).check()
    keystore.create_schema()


# --- rotation and retiring ------------------------------------------------------------------


def test_rotate_rewraps_in_batches_and_is_idempotent(
    keystore: Keystore, open_keystore: Callable[..., Keystore]
) -> None:
    people = [uuid.uuid4() for _ in range(7)]
    vault = Vault(keystore)
    vault.new_people(people)
    sealed = {
        pid: vault.seal(pid, "people", "given_name", pid, f"Name {i}")
        for i, pid in enumerate(people)
    }
    rotated = open_keystore(KEK_B, KEK_A)
    seen: list[RotationProgress] = []
    assert rotated.rotate(batch_size=3, progress=seen.append) == 7
    assert seen == [
        RotationProgress(rewrapped=3, remaining=4),
        RotationProgress(rewrapped=6, remaining=1),
        RotationProgress(rewrapped=7, remaining=0),
    ]
    assert rotated.usage() == {rotated.current_kek_id: 7}
    assert rotated.rotate(batch_size=3) == 0
    only_b = Vault(open_keystore(KEK_B))
    for i, pid in enumerate(people):
        assert only_b.open(pid, "people", "given_name", pid, sealed[pid]) == f"Name {i}"


def test_retire_refuses_while_keys_use_the_kek_and_refuses_the_current_one(
    keystore: Keystore, open_keystore: Callable[..., Keystore]
) -> None:
    kek_a = keystore.current_kek_id
    keystore.create_keys([uuid.uuid4(), uuid.uuid4()])
    rotated = open_keystore(KEK_B, KEK_A)
    with pytest.raises(ValueError, match=r"2 person key\(s\) still use key .*casework keys rotate"):
        rotated.retire(kek_a)
    with pytest.raises(ValueError, match="current CASEWORK_KEK cannot be retired"):
        rotated.retire(rotated.current_kek_id)
    with pytest.raises(ValueError, match="not a key id"):
        rotated.retire("not-a-key")
    assert rotated.retired() == set()
    rotated.rotate()
    rotated.retire(kek_a)
    rotated.retire(kek_a)  # a second time changes nothing
    assert rotated.retired() == {kek_a}


# --- the per-process cache of unwrapped keys ------------------------------------------------


def test_cached_keys_skip_the_keystore_and_destroy_forgets_at_once(
    open_keystore: Callable[..., Keystore],
) -> None:
    keystore = open_keystore(KEK_A)
    other_process = open_keystore(KEK_A)
    person = uuid.uuid4()
    keystore.create_keys([person])
    assert person in keystore.ciphers_for([person])
    statements: list[str] = []
    sqlalchemy.event.listen(
        keystore.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    assert person in keystore.ciphers_for([person])
    assert statements == []  # served from this process's cache

    other_process.ciphers_for([person])  # the other process has it cached too
    keystore.destroy(person)
    with pytest.raises(KeyMissing):
        keystore.cipher_for(person)  # the destroying process forgets at once
    # Another process keeps it until its cache time runs out (30 s by default); with the
    # cache off it would be gone at once.
    assert person in other_process.ciphers_for([person])
    other_process.forget_cached()
    assert person not in other_process.ciphers_for([person])


def test_with_the_cache_off_every_read_goes_to_the_keystore(
    tmp_path: Path, keystore_url: str, open_keystore: Callable[..., Keystore]
) -> None:
    keystore = open_keystore(KEK_A)
    person = uuid.uuid4()
    keystore.create_keys([person])
    uncached = Keystore(
        key_settings(tmp_path, keystore_url, KEK_A).replace(data_key_cache_seconds=0)
    )
    try:
        assert person in uncached.ciphers_for([person])
        keystore.destroy(person)
        assert person not in uncached.ciphers_for([person])
    finally:
        uncached.dispose()
