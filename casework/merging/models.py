"""Merging duplicate person records (issue 9).

A merge moves the duplicate's records to the surviving one and re-encrypts them under its key;
the duplicate stays as a tombstone (``Person.merged_into_id``). What moved is listed here by
table and id, so that the merge can be undone until ``undo_until``; the duplicate's data key is
kept until then, and destroyed when the undo window closes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person

_REFERENCED = (Person,)


class MergeState(StrEnum):
    #: Merged; may still be undone.
    MERGED = "merged"
    #: Undone: the records are back where they were.
    UNDONE = "undone"
    #: The undo window closed: the duplicate's key is destroyed.
    FINAL = "final"


class PersonMerge(IdMixin, VersionedMixin, Base):
    __tablename__ = "person_merges"
    __table_args__ = (Index(None, "survivor_id"), Index(None, "merged_id"), Index(None, "state"))

    survivor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    merged_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    state: Mapped[MergeState] = mapped_column(
        enum_column(MergeState, "merge_state"), default=MergeState.MERGED
    )
    merged_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    merged_by_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    merged_at: Mapped[datetime] = mapped_column(default=_now)
    undo_until: Mapped[datetime]
    undone_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None]
    #: What moved: {table name: [row ids]} (ids only), and rows changed in place.
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NotDuplicate(IdMixin, Base):
    """A pair a reviewer said are different people: no longer offered as likely duplicates."""

    __tablename__ = "not_duplicates"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    #: The pair in a fixed order (first_id < second_id).
    first_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    second_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=_now)
