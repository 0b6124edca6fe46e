"""Agencies (the partners in the professional family) and their teams."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, enum_column

if TYPE_CHECKING:
    from casework.users.models import User


class AgencyKind(StrEnum):
    TREATMENT = "treatment"
    HOUSING = "housing"
    SOCIAL_CARE = "social_care"
    POLICE = "police"
    PROBATION = "probation"
    PRISON = "prison"
    HEALTH = "health"
    DOMESTIC_ABUSE = "domestic_abuse"
    VOLUNTARY = "voluntary"
    CARE_HOME = "care_home"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_KIND_LABELS[self]


AGENCY_KIND_LABELS: dict[AgencyKind, str] = {
    AgencyKind.TREATMENT: "Drug and alcohol treatment",
    AgencyKind.HOUSING: "Housing",
    AgencyKind.SOCIAL_CARE: "Social care",
    AgencyKind.POLICE: "Police",
    AgencyKind.PROBATION: "Probation",
    AgencyKind.PRISON: "Prison",
    AgencyKind.HEALTH: "Health",
    AgencyKind.DOMESTIC_ABUSE: "Domestic abuse service",
    AgencyKind.VOLUNTARY: "Voluntary or lived-experience organisation",
    AgencyKind.CARE_HOME: "Care home",
    AgencyKind.OTHER: "Other",
}


class Agency(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "agencies"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind, "agency_kind"))
    active: Mapped[bool] = mapped_column(default=True)

    teams: Mapped[list[Team]] = relationship(
        back_populates="agency", order_by="Team.name", lazy="selectin"
    )


class Team(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="teams")
    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class TeamMembership(Base):
    """A user in a team of their own agency; ``is_manager`` marks the team's managers."""

    __tablename__ = "team_memberships"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    is_manager: Mapped[bool] = mapped_column(default=False)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")
