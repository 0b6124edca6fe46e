"""Keyed MACs for the audit log: each row's own MAC, and the MACs of the seals over batches.

The key is derived (HKDF) from ``CASEWORK_AUDIT_KEY``. The current key makes new MACs; earlier
keys (``CASEWORK_AUDIT_KEY_PREVIOUS``) are kept only to verify what they made. Each MAC is
stored with the id of the key that made it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from casework.security.crypto import derive_key
from casework.settings import SecretKey

_PURPOSE = "casework:audit-mac"


class MacKeyring:
    def __init__(self, current: SecretKey, previous: Sequence[SecretKey] = ()) -> None:
        self.key_id = current.key_id
        self._keys = {key.key_id: derive_key(key.material, _PURPOSE) for key in previous}
        self._keys[current.key_id] = derive_key(current.material, _PURPOSE)

    def sign(self, payload: bytes) -> str:
        """The current key's HMAC-SHA256 of ``payload``, as hex."""
        return hmac.new(self._keys[self.key_id], payload, hashlib.sha256).hexdigest()

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def check(self, payload: bytes, mac: str, key_id: str) -> bool:
        """Whether ``mac`` is the HMAC of ``payload`` under the key ``key_id`` (False for a key
        this keyring does not hold: ask :meth:`knows` first to tell the two apart)."""
        key = self._keys.get(key_id)
        if key is None:
            return False
        expected = hmac.new(key, payload, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, mac)
