"""Authenticated encryption (AES-GCM) bound to where a value lives.

Every ciphertext is ``version || key id (12 ascii) || nonce (12) || ciphertext+tag`` and its
associated data names the table, column and row, so a ciphertext copied to another row or
column fails to decrypt. Issue 3 adds per-person data keys wrapped by the key-encryption key;
the system-level values here (TOTP secrets) use a key derived from the KEK with HKDF.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = b"\x01"
KEY_ID_LENGTH = 12
NONCE_LENGTH = 12


class DecryptionError(Exception):
    """The ciphertext is damaged, was moved, or was made with a key we do not hold."""


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 256-bit subkey of ``master`` for one purpose (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def associated_data(table: str, column: str, row_id: object) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


class Cipher:
    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) != 32:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        if len(key_id) != KEY_ID_LENGTH:
            raise ValueError(f"key id must be {KEY_ID_LENGTH} characters")
        self._aead = AESGCM(key)
        self.key_id = key_id

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_LENGTH)
        header = FORMAT_VERSION + self.key_id.encode("ascii")
        return header + nonce + self._aead.encrypt(nonce, plaintext, header + aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        header_len = 1 + KEY_ID_LENGTH
        if len(blob) < header_len + NONCE_LENGTH + 16 or blob[:1] != FORMAT_VERSION:
            raise DecryptionError("not a Casework ciphertext")
        header = blob[:header_len]
        if header[1:].decode("ascii", "replace") != self.key_id:
            raise DecryptionError("made with another key")
        nonce = blob[header_len : header_len + NONCE_LENGTH]
        try:
            return self._aead.decrypt(nonce, blob[header_len + NONCE_LENGTH :], header + aad)
        except InvalidTag as exc:
            raise DecryptionError("authentication failed") from exc


def key_id_of(blob: bytes) -> str | None:
    """The id of the key a ciphertext was made with (from its header), or None."""
    if len(blob) < 1 + KEY_ID_LENGTH or blob[:1] != FORMAT_VERSION:
        return None
    return blob[1 : 1 + KEY_ID_LENGTH].decode("ascii", "replace")


class CipherRing:
    """The current cipher plus earlier ones: encrypts with the current key, decrypts with
    whichever key the ciphertext names. Used for system-level secrets (two-factor secrets),
    so a change of ``CASEWORK_KEK`` does not lock anyone out before ``casework keys rotate``
    has re-encrypted them."""

    def __init__(self, current: Cipher, previous: list[Cipher]) -> None:
        self.current = current
        self.key_id = current.key_id
        self._by_id = {cipher.key_id: cipher for cipher in [*previous, current]}

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        return self.current.encrypt(plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        cipher = self._by_id.get(key_id_of(blob) or "")
        if cipher is None:
            raise DecryptionError("made with a key that is not configured")
        return cipher.decrypt(blob, aad)

    def is_current(self, blob: bytes) -> bool:
        return key_id_of(blob) == self.current.key_id
