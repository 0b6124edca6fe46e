"""Every foreign key to people.id is either moved by a merge or listed with its reason."""

from __future__ import annotations

import casework.models  # noqa: F401 - every model registered on Base.metadata
from casework.db import Base
from casework.merging.schema import MOVED, NOT_MOVED, encrypted_columns, person_foreign_keys


def test_every_person_foreign_key_is_moved_or_explained() -> None:
    found = person_foreign_keys()
    unclassified = found - MOVED - set(NOT_MOVED)
    assert not unclassified, f"decide what a merge does with {sorted(unclassified)}"
    assert not MOVED & set(NOT_MOVED)
    assert (MOVED | set(NOT_MOVED)) <= found, "a listed column no longer exists"


def test_encrypted_columns_of_moved_tables() -> None:
    assert encrypted_columns(Base.metadata.tables["notes"]) == ["body_enc"]
