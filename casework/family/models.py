"""The professional family: which agencies and named workers are involved with a person."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, enum_column
from casework.people.codes import ClosureReason, FamilyRole

_OPEN = text("ended_on IS NULL")
_OPEN_LEAD = text("is_lead AND ended_on IS NULL")


class Involvement(IdMixin, TimestampMixin, VersionedMixin, Base):
    """An agency's involvement with a person. Open while ``ended_on`` is empty: an open
    involvement is an open case (DECISIONS §1)."""

    __tablename__ = "involvements"
    __table_args__ = (
        # One open involvement per agency and person; one open lead professional per person.
        Index(
            "uq_involvements_open_agency",
            "person_id",
            "agency_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "uq_involvements_open_lead",
            "person_id",
            unique=True,
            sqlite_where=_OPEN_LEAD,
            postgresql_where=_OPEN_LEAD,
        ),
        # The caseload query: a worker's open involvements.
        Index(
            "ix_involvements_open_worker",
            "worker_id",
            "person_id",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(None, "agency_id", "ended_on", "person_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[FamilyRole] = mapped_column(enum_column(FamilyRole, "family_role"))
    is_lead: Mapped[bool] = mapped_column(default=False)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    closure_reason: Mapped[ClosureReason | None] = mapped_column(
        enum_column(ClosureReason, "closure_reason")
    )
    #: The agency that added this involvement, when it is not the involved agency itself (a lead
    #: professional adding a partner): it keeps seeing the involvement it recorded (rule 1).
    recorded_by_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
