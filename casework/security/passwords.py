"""Password hashing with argon2id (argon2-cffi) and the password rules.

Length is checked before hashing, so a megabyte "password" costs nothing. Composition rules
are not used (NIST SP 800-63B); very common passwords and ones containing the email are refused.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

_PROFILES: dict[str, PasswordHasher] = {
    "interactive": PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY),
    # Tests only: cheap parameters. Hashes record their parameters, so verification still works.
    "test": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID),
}

#: A short list of passwords too common to allow (checked case-insensitively, as substrings
#: of nothing: exact matches after lower-casing and stripping spaces).
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "123456789012",
        "1234567890",
        "qwertyuiop",
        "qwerty123456",
        "iloveyou",
        "letmein",
        "welcome123",
        "welcome1234",
        "changeme",
        "changeme123",
        "administrator",
        "casework",
        "casework123",
        "northdale",
        "abc123456789",
        "trustno1",
        "football123",
        "monkey123456",
        "sunshine123",
    }
)


class PasswordHashing:
    def __init__(self, profile: str = "interactive") -> None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown password hash profile {profile!r}")
        self._hasher = _PROFILES[profile]
        self._dummy = self._hasher.hash("not-a-real-password-used-for-timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches. With no stored hash, spend the same time and say no."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def password_problem(
    password: str, *, email: str = "", min_length: int = 12, max_length: int = 256
) -> str | None:
    """The reason a new password is not acceptable, or None. Messages follow GOV.UK style."""
    if len(password) < min_length:
        return f"Password must be {min_length} characters or more"
    if len(password) > max_length:
        return f"Password must be {max_length} characters or fewer"
    squashed = "".join(password.lower().split())
    if squashed in COMMON_PASSWORDS or len(set(squashed)) < 4:
        return "Password is too easy to guess. Try a few unrelated words"
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and local_part in squashed:
        return "Password must not contain your email address"
    return None
