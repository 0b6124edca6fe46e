"""Passwords (argon2id), AES-GCM bound to its row, TOTP single use."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from casework.security import totp
from casework.security.crypto import Cipher, DecryptionError, associated_data, derive_key
from casework.security.passwords import PasswordHashing, password_problem


def test_passwords_are_argon2id_and_verify() -> None:
    hashing = PasswordHashing("test")
    stored = hashing.hash("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    assert hashing.verify(stored, "a long enough passphrase")
    assert not hashing.verify(stored, "a long enough passphrasf")
    assert not hashing.verify(None, "anything at all")
    assert not hashing.verify("not-a-hash", "anything at all")


def test_production_profile_is_rfc9106_low_memory() -> None:
    stored = PasswordHashing("interactive").hash("a long enough passphrase")
    assert "$m=65536,t=3,p=4$" in stored


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "12 characters or more"),
        ("x" * 300, "256 characters or fewer"),
        ("password1234", "too easy to guess"),
        ("passwordpassword", "too easy to guess"),
        ("casework12345", "too easy to guess"),
        ("qwertyuiop123", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
        ("robin.ashcroft-2026!", "must not contain your email"),
    ],
)
def test_password_rules(password: str, problem: str) -> None:
    found = password_problem(password, email="robin.ashcroft@example.org")
    assert found is not None
    assert problem in found


def test_a_good_password_has_no_problem() -> None:
    assert password_problem("tangerine kettle harbour", email="robin@example.org") is None


def _cipher() -> Cipher:
    return Cipher(derive_key(os.urandom(32), "test"), "abcdefabcdef")


def test_ciphertext_round_trips_and_hides_the_plaintext() -> None:
    cipher = _cipher()
    aad = associated_data("users", "totp_secret_encrypted", "row-1")
    blob = cipher.encrypt(b"JBSWY3DPEHPK3PXP", aad)
    assert b"JBSWY3DPEHPK3PXP" not in blob
    assert cipher.decrypt(blob, aad) == b"JBSWY3DPEHPK3PXP"


def test_ciphertext_moved_to_another_row_or_column_fails() -> None:
    cipher = _cipher()
    blob = cipher.encrypt(b"secret", associated_data("users", "totp_secret_encrypted", "row-1"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, associated_data("users", "totp_secret_encrypted", "row-2"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, associated_data("users", "other_column", "row-1"))


def test_tampered_or_foreign_ciphertext_fails() -> None:
    cipher = _cipher()
    aad = associated_data("t", "c", 1)
    blob = bytearray(cipher.encrypt(b"secret", aad))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), aad)
    with pytest.raises(DecryptionError):
        _cipher().decrypt(cipher.encrypt(b"secret", aad), aad)  # another key, same id
    with pytest.raises(DecryptionError):
        cipher.decrypt(b"short", aad)


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = _cipher()
    aad = associated_data("t", "c", 1)
    assert cipher.encrypt(b"same", aad) != cipher.encrypt(b"same", aad)


def test_totp_accepts_current_and_adjacent_steps_once() -> None:
    secret = pyotp.random_base32()
    now = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    code = pyotp.TOTP(secret).at(now)
    step = totp.matching_timestep(secret, code, now, after=None)
    assert step == int(now.timestamp()) // 30
    assert totp.matching_timestep(secret, code, now, after=step) is None  # replay
    late = now + timedelta(seconds=30)
    assert totp.matching_timestep(secret, code, late, after=None) == step  # drift allowed
    assert totp.matching_timestep(secret, code, now + timedelta(minutes=2), after=None) is None
    assert totp.matching_timestep(secret, "12345", now, after=None) is None
    assert totp.matching_timestep(secret, "abcdef", now, after=None) is None


def test_qr_code_is_an_svg_data_uri() -> None:
    uri = totp.provisioning_uri(pyotp.random_base32(), account="a@example.org", issuer="Casework")
    assert uri.startswith("otpauth://totp/Casework:a%40example.org")
    assert totp.qr_code_data_uri(uri).startswith("data:image/svg+xml;base64,")
