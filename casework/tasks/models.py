"""Tasks: due work, one model for every source (DECISIONS §1).

A task is assigned to an agency, and within it optionally to a team or a user; it may be about
a person. Its source says where it came from (a pathway stage's clock, a pathway effect, a
welfare check, a consent review, or made by hand) and points at the record (``source_id``).
Due and overdue are worked out from ``due_at`` when read, never stored; ``at_risk_at`` marks
work that is not yet overdue but at risk (the prison-release clock from day 14).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person
from casework.users.models import User

_REFERENCED = (Person, User)
_OPEN = text("state = 'open'")
_PENDING = text("state = 'pending'")


class TaskSource(StrEnum):
    PATHWAY = "pathway"
    WELFARE_CHECK = "welfare_check"
    CONSENT_REVIEW = "consent_review"
    MANUAL = "manual"
    #: An information-rights request's due date (issue 9).
    INFORMATION_REQUEST = "information_request"


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Task(IdMixin, VersionedMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index(
            "ix_tasks_open_agency_due",
            "agency_id",
            "due_at",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_tasks_open_user_due",
            "user_id",
            "due_at",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(None, "source_id"),
        Index(None, "person_id", "state"),
        # A consent or basis gets one review task, however many runners sweep at once.
        Index(
            "uq_tasks_consent_review",
            "source_id",
            unique=True,
            sqlite_where=text("source = 'consent_review'"),
            postgresql_where=text("source = 'consent_review'"),
        ),
    )

    #: What to do, in the words of the configuration (never a person's details).
    title: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    source: Mapped[TaskSource] = mapped_column(enum_column(TaskSource, "task_source"))
    source_id: Mapped[uuid.UUID | None]
    #: Within the source: the pathway stage or effect that made it.
    source_key: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime]
    at_risk_at: Mapped[datetime | None]
    state: Mapped[TaskState] = mapped_column(
        enum_column(TaskState, "task_state"), default=TaskState.OPEN
    )
    #: Codes and ids that describe the work (never free text).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: The escalation ladder (``config/ladders/<key>.toml``) whose reminders this task has.
    ladder: Mapped[str | None] = mapped_column(String(40))
    #: Set by the ladder's "red" step: shown red on the inbox and caseload from then on.
    red_since: Mapped[datetime | None]


class ReminderState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    #: Not sent: the re-check at send time stopped it (``outcome`` says why).
    STOPPED = "stopped"


class Reminder(IdMixin, Base):
    """One step of a task's escalation ladder, planned when the task is made.

    A runner claims due rows atomically (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
    conditional update inside ``BEGIN IMMEDIATE`` on SQLite) and writes the step's effects in
    the same transaction, so a step's effects happen once: a crash rolls back claim and effects
    together, and the next sweep takes the row again. ``(task_id, step)`` is unique.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("task_id", "step"),
        Index(
            "ix_reminders_pending_due",
            "due_at",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id"))
    step: Mapped[int]
    due_at: Mapped[datetime]
    state: Mapped[ReminderState] = mapped_column(
        enum_column(ReminderState, "reminder_state"), default=ReminderState.PENDING
    )
    #: Which runner took it, when, and what came of it (a code: sent, task_closed, ...).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
