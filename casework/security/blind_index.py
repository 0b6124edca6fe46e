"""Keyed blind indexes: search personal fields without decrypting the table.

A search token is an HMAC-SHA256 (with a key derived from ``CASEWORK_BLIND_INDEX_KEY``) of a
*normalised* value and the kind of value it is, so equal values give equal tokens and nothing
else can be learnt from a token without the key. Names are indexed part by part, and each part
also by its Metaphone code, so "Jon Smyth" finds "John Smith". The key id is stored with each
token so the index can be rebuilt under a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

import jellyfish

from casework.security.crypto import derive_key
from casework.settings import SecretKey

#: Tokens are truncated to 128 bits: plenty to avoid collisions among a partnership's people.
TOKEN_LENGTH = 32

_NOT_LETTERS = re.compile(r"[^a-z]+")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


class TokenKind(StrEnum):
    NAME = "name"
    PHONETIC = "phonetic"
    DATE_OF_BIRTH = "dob"
    NHS_NUMBER = "nhs"
    PNC_ID = "pnc"
    LOCAL_ID = "local"


def name_parts(*names: str | None) -> list[str]:
    """Lower-case ASCII name parts: accents dropped, hyphens and apostrophes split or removed
    ("O'Brien-Smith" -> ["obrien", "smith"])."""
    parts: list[str] = []
    for name in names:
        if not name:
            continue
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        for chunk in re.split(r"[\s\-]+", ascii_name):
            cleaned = _NOT_LETTERS.sub("", chunk)
            if cleaned and cleaned not in parts:
                parts.append(cleaned)
    return parts


def phonetic(part: str) -> str:
    return jellyfish.metaphone(part) or part


def normalise_identifier(value: str) -> str:
    """Upper case, no spaces or punctuation: "943 476 5919" -> "9434765919"."""
    return _NOT_ALNUM.sub("", value.upper())


class BlindIndex:
    def __init__(self, key: SecretKey) -> None:
        self.key_id = key.key_id
        self._key = derive_key(key.material, "casework:blind-index")

    def token(self, kind: TokenKind, value: str) -> str:
        message = f"{kind.value}:{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]

    def name_tokens(self, *names: str | None) -> set[tuple[TokenKind, str]]:
        tokens: set[tuple[TokenKind, str]] = set()
        for part in name_parts(*names):
            tokens.add((TokenKind.NAME, self.token(TokenKind.NAME, part)))
            tokens.add((TokenKind.PHONETIC, self.token(TokenKind.PHONETIC, phonetic(part))))
        return tokens

    def identifier_token(self, kind: TokenKind, value: str) -> str:
        if kind is TokenKind.DATE_OF_BIRTH:
            return self.token(kind, value.strip())
        return self.token(kind, normalise_identifier(value))

    def tokens_for(
        self,
        *,
        names: Iterable[str | None],
        date_of_birth: str | None,
        identifiers: dict[TokenKind, str | None],
    ) -> set[tuple[TokenKind, str]]:
        """Every token for one person (names, phonetic codes, date of birth, identifiers)."""
        tokens = self.name_tokens(*names)
        if date_of_birth:
            tokens.add(
                (
                    TokenKind.DATE_OF_BIRTH,
                    self.identifier_token(TokenKind.DATE_OF_BIRTH, date_of_birth),
                )
            )
        for kind, value in identifiers.items():
            if value and normalise_identifier(value):
                tokens.add((kind, self.identifier_token(kind, value)))
        return tokens
