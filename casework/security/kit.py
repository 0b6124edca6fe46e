"""The security tools a service needs, built once from the settings and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from casework.security.blind_index import BlindIndex
from casework.security.crypto import Cipher, CipherRing, derive_key
from casework.security.keystore import Keystore
from casework.security.macs import MacKeyring
from casework.security.passwords import PasswordHashing
from casework.security.tokens import keyed_hash
from casework.settings import SecretKey, Settings


@dataclass(frozen=True)
class SecurityKit:
    settings: Settings
    passwords: PasswordHashing
    #: Encrypts system-level secrets of users (TOTP). People's data uses per-person keys.
    user_secrets: CipherRing
    _identifier_key: bytes
    #: Wrapped per-person data keys, in their own database.
    keystore: Keystore
    #: Keyed search tokens over names, dates of birth and identifiers.
    blind_index: BlindIndex
    #: MACs of audit rows and seals.
    audit_keys: MacKeyring

    def identifier_hmac(self, identifier: str) -> str:
        return keyed_hash(self._identifier_key, identifier.strip().lower())


def _user_secrets_cipher(kek: SecretKey) -> Cipher:
    return Cipher(derive_key(kek.material, "casework:user-secrets"), kek.key_id)


def build_kit(settings: Settings) -> SecurityKit:
    return SecurityKit(
        settings=settings,
        passwords=PasswordHashing(settings.password_hash_profile),
        user_secrets=CipherRing(
            _user_secrets_cipher(settings.kek),
            [_user_secrets_cipher(old) for old in settings.previous_keks],
        ),
        _identifier_key=derive_key(settings.blind_index_key.material, "casework:login-identifier"),
        keystore=Keystore(settings),
        blind_index=BlindIndex(settings.blind_index_key),
        audit_keys=MacKeyring(settings.audit_key, settings.previous_audit_keys),
    )
