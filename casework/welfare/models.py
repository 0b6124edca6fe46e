"""Welfare-check schedules: when a person is to be checked on, by whom, and their history.

A schedule is one-off, every N days, or on chosen weekdays, at a Europe/London wall-clock time,
from a start date to an optional end date. Each occurrence is a task (source ``welfare_check``,
``source_id`` the schedule): one open occurrence at a time. Recording the check closes it and
makes the next one; the task's escalation ladder (``config/ladders/<kind>.toml``) reminds and
escalates. ``reason`` is a code from the kind's list: no free text about the person here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, VersionedMixin, _now, enum_column
from casework.people.models import Person
from casework.users.models import User

_REFERENCED = (Person, User)


class Pattern(StrEnum):
    ONCE = "once"
    EVERY_N_DAYS = "every_n_days"
    WEEKDAYS = "weekdays"


class ScheduleState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class WelfareSchedule(IdMixin, VersionedMixin, Base):
    __tablename__ = "welfare_schedules"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("interval_days IS NULL OR interval_days >= 1", name="interval_positive"),
        CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name="assigned"),
        Index(None, "person_id", "state"),
        Index(None, "agency_id", "state"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    #: Assigned to a worker, or to a team (any member may record the check).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    #: The schedule kind: the key of its escalation ladder.
    kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40))
    #: The category of the fact of the schedule (the agency kind's, like its contacts).
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    pattern: Mapped[Pattern] = mapped_column(enum_column(Pattern, "welfare_pattern"))
    interval_days: Mapped[int | None]
    #: Weekdays as digits, Monday 0 ("024": Monday, Wednesday, Friday).
    weekdays: Mapped[str | None] = mapped_column(String(7))
    at_time: Mapped[time] = mapped_column(Time())
    #: Count (every N days) or keep to (weekdays, one-off) working days only.
    working_days_only: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    #: The partner agency asked for a welfare visit when a check is long overdue (the ladder's
    #: last step), if consent or another basis covers sharing with it.
    request_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[ScheduleState] = mapped_column(
        enum_column(ScheduleState, "welfare_schedule_state"), default=ScheduleState.ACTIVE
    )
    #: The open occurrence's due time (None: paused, ended or no further occurrence).
    next_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    ended_at: Mapped[datetime | None]
    #: Why it ended: a code (ended_by_worker, completed, person_died, case_closed).
    end_reason: Mapped[str | None] = mapped_column(String(40))


class ScheduleEvent(IdMixin, Base):
    """The schedule's history: made, changed (the fields before and after), paused, resumed,
    ended, a check recorded. Codes and values only."""

    __tablename__ = "welfare_schedule_events"
    __table_args__ = (Index(None, "schedule_id", "occurred_at"),)

    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("welfare_schedules.id"))
    action: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=_now)
    #: None: the job runner (a schedule stopped because the person died or the case closed).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
