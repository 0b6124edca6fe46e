"""Encrypting and decrypting a person's values under their own data key.

A :class:`Vault` lives for one request or job: it fetches the keys of the people it is asked
about from the keystore in one query and keeps them for the rest of the request, so a page of
50 people costs one keystore read. Every ciphertext is bound to its table, column and row
(``casework.security.crypto``): moved anywhere else it fails to decrypt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from casework.security.crypto import Cipher, DecryptionError, associated_data
from casework.security.keystore import KeyMissing, Keystore


class Vault:
    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore
        self._ciphers: dict[uuid.UUID, Cipher] = {}
        #: The people whose values this vault has decrypted: a request audits every one of
        #: them (``casework.web.audit``), whether or not its view declared the read.
        self.opened: set[uuid.UUID] = set()

    def new_person(self, person_id: uuid.UUID) -> None:
        """Create (and commit, in the keystore) the data key of a new person."""
        self._ciphers[person_id] = self._keystore.create_key(person_id)

    def new_people(self, person_ids: Iterable[uuid.UUID]) -> None:
        self._ciphers.update(self._keystore.create_keys(person_ids))

    def prefetch(self, person_ids: Iterable[uuid.UUID]) -> None:
        wanted = [pid for pid in person_ids if pid not in self._ciphers]
        if wanted:
            self._ciphers.update(self._keystore.ciphers_for(wanted))

    def has_key(self, person_id: uuid.UUID) -> bool:
        self.prefetch([person_id])
        return person_id in self._ciphers

    def _cipher(self, person_id: uuid.UUID) -> Cipher:
        cipher = self._ciphers.get(person_id)
        if cipher is None:
            self.prefetch([person_id])
            cipher = self._ciphers.get(person_id)
            if cipher is None:
                raise KeyMissing(str(person_id))
        return cipher

    def seal(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, value: str
    ) -> bytes:
        return self._cipher(person_id).encrypt(
            value.encode("utf-8"), associated_data(table, column, row_id)
        )

    def open(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, blob: bytes
    ) -> str:
        self.opened.add(person_id)
        return (
            self._cipher(person_id)
            .decrypt(blob, associated_data(table, column, row_id))
            .decode("utf-8")
        )

    def seal_bytes(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, value: bytes
    ) -> bytes:
        """Binary values (a subject access pack's PDF)."""
        return self._cipher(person_id).encrypt(value, associated_data(table, column, row_id))

    def open_bytes(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, blob: bytes
    ) -> bytes:
        self.opened.add(person_id)
        return self._cipher(person_id).decrypt(blob, associated_data(table, column, row_id))

    def forget(self, person_id: uuid.UUID) -> None:
        """Drop a person's key from this vault (after erasure or re-keying)."""
        self._ciphers.pop(person_id, None)

    def seal_json(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, value: Any
    ) -> bytes:
        return self.seal(person_id, table, column, row_id, json.dumps(value, separators=(",", ":")))

    def open_json(
        self, person_id: uuid.UUID, table: str, column: str, row_id: object, blob: bytes
    ) -> Any:
        return json.loads(self.open(person_id, table, column, row_id, blob))


__all__ = ["DecryptionError", "KeyMissing", "Vault"]
