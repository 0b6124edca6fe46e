"""A person's ciphertext opens only where it was written, and only with that person's key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from casework.security.crypto import Cipher, DecryptionError, associated_data
from casework.security.keystore import Keystore, person_keys
from casework.security.vault import Vault
from tests.unit.test_keystore import fresh_keystore, key_settings, new_kek, own_keystore_url


@pytest.fixture
def keystore(tmp_path: Path) -> Iterator[Keystore]:
    store = fresh_keystore(
        key_settings(tmp_path, own_keystore_url(tmp_path, "bindingkeys"), new_kek())
    )
    yield store
    store.drop_schema()
    store.dispose()


@pytest.fixture
def two_people(keystore: Keystore) -> tuple[uuid.UUID, uuid.UUID]:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    Vault(keystore).new_people([alice, bob])
    return alice, bob


def test_sealed_value_opens_where_it_was_written(
    keystore: Keystore, two_people: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, _ = two_people
    blob = Vault(keystore).seal(alice, "people", "given_name", alice, "Alice")
    assert b"Alice" not in blob
    assert Vault(keystore).open(alice, "people", "given_name", alice, blob) == "Alice"


@pytest.mark.parametrize(
    "moved_to",
    [
        pytest.param(lambda row: ("people", "given_name", uuid.uuid4()), id="another row"),
        pytest.param(lambda row: ("people", "family_name", row), id="another column"),
        pytest.param(lambda row: ("contacts", "given_name", row), id="another table"),
    ],
)
def test_a_ciphertext_moved_elsewhere_fails_to_decrypt(
    keystore: Keystore,
    two_people: tuple[uuid.UUID, uuid.UUID],
    moved_to: Callable[[uuid.UUID], tuple[str, str, object]],
) -> None:
    alice, _ = two_people
    blob = Vault(keystore).seal(alice, "people", "given_name", alice, "Alice")
    table, column, row = moved_to(alice)
    with pytest.raises(DecryptionError):
        Vault(keystore).open(alice, table, column, row, blob)


def test_another_persons_key_fails_to_decrypt(
    keystore: Keystore, two_people: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, bob = two_people
    blob = Vault(keystore).seal(alice, "people", "given_name", alice, "Alice")
    with pytest.raises(DecryptionError, match="another key"):
        Vault(keystore).open(bob, "people", "given_name", alice, blob)


def test_a_wrong_key_under_the_same_key_id_fails_to_decrypt(
    keystore: Keystore, two_people: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, _ = two_people
    aad = associated_data("people", "given_name", alice)
    real = keystore.cipher_for(alice)
    blob = real.encrypt(b"Alice", aad)
    impostor = Cipher(bytes(32), real.key_id)
    with pytest.raises(DecryptionError, match="authentication failed"):
        impostor.decrypt(blob, aad)


def test_a_wrapped_key_copied_to_another_person_does_not_unwrap(
    keystore: Keystore, two_people: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, bob = two_people
    with keystore.engine.begin() as conn:
        alices = conn.execute(
            person_keys.select().where(person_keys.c.person_id == str(alice))
        ).one()
        conn.execute(
            update(person_keys)
            .where(person_keys.c.person_id == str(bob))
            .values(wrapped=alices.wrapped)
        )
    assert keystore.cipher_for(alice).key_id == alices.data_key_id
    with pytest.raises(DecryptionError, match=str(bob)):
        keystore.cipher_for(bob)
