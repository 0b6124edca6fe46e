"""The security tools a service needs, built once from the settings and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from casework.security.crypto import Cipher, derive_key
from casework.security.passwords import PasswordHashing
from casework.security.tokens import keyed_hash
from casework.settings import Settings


@dataclass(frozen=True)
class SecurityKit:
    settings: Settings
    passwords: PasswordHashing
    #: Encrypts system-level secrets of users (TOTP). Issue 3 adds per-person keys.
    user_secrets: Cipher
    _identifier_key: bytes

    def identifier_hmac(self, identifier: str) -> str:
        return keyed_hash(self._identifier_key, identifier.strip().lower())


def build_kit(settings: Settings) -> SecurityKit:
    return SecurityKit(
        settings=settings,
        passwords=PasswordHashing(settings.password_hash_profile),
        user_secrets=Cipher(
            derive_key(settings.kek.material, "casework:user-secrets"), settings.kek.key_id
        ),
        _identifier_key=derive_key(settings.blind_index_key.material, "casework:login-identifier"),
    )
