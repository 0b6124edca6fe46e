"""The security tools a service needs, built once from the settings and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from casework.security.blind_index import BlindIndex
from casework.security.crypto import Cipher, derive_key
from casework.security.keystore import Keystore
from casework.security.passwords import PasswordHashing
from casework.security.tokens import keyed_hash
from casework.settings import Settings


@dataclass(frozen=True)
class SecurityKit:
    settings: Settings
    passwords: PasswordHashing
    #: Encrypts system-level secrets of users (TOTP). People's data uses per-person keys.
    user_secrets: Cipher
    _identifier_key: bytes
    #: Wrapped per-person data keys, in their own database.
    keystore: Keystore
    #: Keyed search tokens over names, dates of birth and identifiers.
    blind_index: BlindIndex

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
        keystore=Keystore(settings),
        blind_index=BlindIndex(settings.blind_index_key),
    )
