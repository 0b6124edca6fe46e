"""The job runner's bookkeeping: one row per sweep, with its lease and last run.

A runner takes a sweep's lease with a conditional update (``lease_until`` passed), so only one
runner runs a given sweep at a time; the reminders and outbox rows inside a sweep are claimed
row by row as well, so a lease that ran out under a slow runner still sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    #: ok or failed, with a short reason (an exception's class name, never data).
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(String(200))
    #: What the last run did, e.g. "12 reminders sent, 1 stopped".
    last_summary: Mapped[str | None] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(default=0)
