"""A treatment episode: one person's time in treatment with one treatment agency."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.access.categories import Category
from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, enum_column


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[self]


class SubstanceGroup(_Labelled):
    """The substance groups of the national treatment dataset (and of prevalence estimates)."""

    OPIATES_ONLY = "opiates_only"
    CRACK_ONLY = "crack_only"
    OPIATES_AND_CRACK = "opiates_and_crack"
    NON_OPIATE_ONLY = "non_opiate_only"
    ALCOHOL_ONLY = "alcohol_only"
    NON_OPIATE_AND_ALCOHOL = "non_opiate_and_alcohol"


class Modality(_Labelled):
    PHARMACOLOGICAL = "pharmacological"
    PSYCHOSOCIAL = "psychosocial"
    RECOVERY_SUPPORT = "recovery_support"
    INPATIENT_DETOX = "inpatient_detox"
    RESIDENTIAL_REHAB = "residential_rehab"


class DischargeReason(_Labelled):
    COMPLETED_FREE = "completed_free"
    COMPLETED = "completed"
    REFERRED_ON = "referred_on"
    DROPPED_OUT = "dropped_out"
    PRISON = "prison"
    DECLINED = "declined"
    TREATMENT_WITHDRAWN = "treatment_withdrawn"
    MOVED_AWAY = "moved_away"
    DIED = "died"
    OTHER = "other"


_OPEN = text("ended_on IS NULL")


class TreatmentEpisode(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Open while ``ended_on`` is empty. "In treatment" in a period: an episode open at any time
    in it (started on or before its last day, not ended before its first). The episode is
    substance-use information recorded by the treatment agency (DECISIONS §2)."""

    __tablename__ = "treatment_episodes"
    __table_args__ = (
        # One open episode per person and treatment agency.
        Index(
            "uq_treatment_episodes_open",
            "person_id",
            "agency_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # The partnership figures: episodes overlapping a period, by group.
        Index(None, "started_on", "ended_on", "substance_group"),
        Index(None, "agency_id", "started_on"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    substance_group: Mapped[SubstanceGroup] = mapped_column(
        enum_column(SubstanceGroup, "substance_group")
    )
    modality: Mapped[Modality] = mapped_column(enum_column(Modality, "modality"))
    discharge_reason: Mapped[DischargeReason | None] = mapped_column(
        enum_column(DischargeReason, "discharge_reason")
    )
    #: Always substance use; stored so the access policy's set-based filters read it as a column.
    category: Mapped[Category] = mapped_column(
        enum_column(Category, "category"), default=Category.SUBSTANCE_USE
    )
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class PrevalenceEstimate(IdMixin, TimestampMixin, VersionedMixin, Base):
    """An estimate of how many people in the partnership's area use a substance group (for
    example from the national prevalence estimates), entered by a manager with its source and
    year. Unmet need = 1 - (in treatment / estimate)."""

    __tablename__ = "prevalence_estimates"
    __table_args__ = (UniqueConstraint("substance_group", "year"),)

    substance_group: Mapped[SubstanceGroup] = mapped_column(
        enum_column(SubstanceGroup, "substance_group")
    )
    #: The year the estimate is for (the first calendar year of a financial year).
    year: Mapped[int]
    estimate: Mapped[int]
    source: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


LABELS: dict[StrEnum, str] = {
    SubstanceGroup.OPIATES_ONLY: "Opiates only",
    SubstanceGroup.CRACK_ONLY: "Crack only",
    SubstanceGroup.OPIATES_AND_CRACK: "Both opiates and crack",
    SubstanceGroup.NON_OPIATE_ONLY: "Non-opiate only",
    SubstanceGroup.ALCOHOL_ONLY: "Alcohol only",
    SubstanceGroup.NON_OPIATE_AND_ALCOHOL: "Non-opiate and alcohol",
    Modality.PHARMACOLOGICAL: "Pharmacological (prescribing)",
    Modality.PSYCHOSOCIAL: "Psychosocial",
    Modality.RECOVERY_SUPPORT: "Recovery support",
    Modality.INPATIENT_DETOX: "Inpatient detoxification",
    Modality.RESIDENTIAL_REHAB: "Residential rehabilitation",
    DischargeReason.COMPLETED_FREE: "Completed, free of dependence",
    DischargeReason.COMPLETED: "Completed, occasional user",
    DischargeReason.REFERRED_ON: "Referred on",
    DischargeReason.DROPPED_OUT: "Dropped out",
    DischargeReason.PRISON: "Went to prison",
    DischargeReason.DECLINED: "Declined further treatment",
    DischargeReason.TREATMENT_WITHDRAWN: "Treatment withdrawn by the provider",
    DischargeReason.MOVED_AWAY: "Moved away",
    DischargeReason.DIED: "Died",
    DischargeReason.OTHER: "Other",
}
