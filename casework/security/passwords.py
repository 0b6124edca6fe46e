"""Password hashing with argon2id (argon2-cffi) and the password rules.

Length is checked before hashing, so a megabyte "password" costs nothing. Composition rules
are not used (NIST SP 800-63B); very common passwords and ones containing the email are refused.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY
from zxcvbn import zxcvbn

_PROFILES: dict[str, PasswordHasher] = {
    "interactive": PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY),
    # Tests only: cheap parameters. Hashes record their parameters, so verification still works.
    "test": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID),
}

#: zxcvbn's estimate, 0 (guessable in under 10^3 tries) to 4 (over 10^10): 3 and above pass.
MIN_STRENGTH = 3
#: zxcvbn's run time grows with length; the first characters decide whether it is guessable.
STRENGTH_CHECK_CHARACTERS = 100
#: Words that make a password easy to guess here, whatever a dictionary says.
SERVICE_WORDS = ("casework", "northdale", "partnership", "drugs", "recovery")


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
    """The reason a new password is not acceptable, or None. Messages follow GOV.UK style.

    No composition rules (NIST SP 800-63B): a length range, not the email address, and not
    guessable by zxcvbn's estimate (common passwords, dictionary words, repeats, sequences,
    keyboard patterns, dates, and words tied to this service or this user).
    """
    if len(password) < min_length:
        return f"Password must be {min_length} characters or more"
    if len(password) > max_length:
        return f"Password must be {max_length} characters or fewer"
    squashed = "".join(password.lower().split())
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and local_part in squashed:
        return "Password must not contain your email address"
    user_inputs = [email, local_part, *local_part.replace("_", ".").split("."), *SERVICE_WORDS]
    estimate = zxcvbn(password[:STRENGTH_CHECK_CHARACTERS], user_inputs=user_inputs)
    if estimate["score"] < MIN_STRENGTH:
        return "Password is too easy to guess. Try three or four unrelated words"
    return None
