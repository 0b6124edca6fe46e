"""Reading treatment episodes and prevalence estimates.

An episode is substance-use information recorded by its treatment agency (DECISIONS §2): every
read of a person's episodes goes through the access policy's ``readable`` filter (rule 1 for
the agency's own, rule 2 for a partner whose consent or basis covers substance use now).
Prevalence estimates are partnership reference data, not about any person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, readable, readable_params
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.family.models import Involvement
from casework.people.queries import NotFoundError
from casework.treatment.models import (
    DischargeReason,
    Modality,
    PrevalenceEstimate,
    SubstanceGroup,
    TreatmentEpisode,
)
from casework.users.models import User

#: The roles that may start and end treatment episodes (in a treatment agency).
RECORDING_ROLES = frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER})


@dataclass(frozen=True)
class EpisodeView:
    id: uuid.UUID
    person_id: uuid.UUID
    agency_id: uuid.UUID
    agency_name: str
    worker_name: str
    started_on: date
    ended_on: date | None
    substance_group: SubstanceGroup
    modality: Modality
    discharge_reason: DischargeReason | None
    category: Category
    version: int
    #: Recorded by the viewer's agency (which alone may end it).
    own: bool

    @property
    def open(self) -> bool:
        return self.ended_on is None


@dataclass(frozen=True)
class EstimateView:
    substance_group: SubstanceGroup
    year: int
    estimate: int
    source: str
    id: uuid.UUID
    version: int
    #: Who entered (or last replaced) it, for the reference-data page.
    recorded_by_name: str = ""


_worker = aliased(User)


def _episodes() -> Select[TreatmentEpisode, str, str]:
    return (
        select(TreatmentEpisode, Agency.name, _worker.full_name)
        .join(Agency, Agency.id == TreatmentEpisode.agency_id)
        .outerjoin(_worker, _worker.id == TreatmentEpisode.worker_id)
    )


def _view(
    viewer: Viewer, episode: TreatmentEpisode, agency: str, worker: str | None
) -> EpisodeView:
    return EpisodeView(
        id=episode.id,
        person_id=episode.person_id,
        agency_id=episode.agency_id,
        agency_name=agency,
        worker_name=worker or "",
        started_on=episode.started_on,
        ended_on=episode.ended_on,
        substance_group=episode.substance_group,
        modality=episode.modality,
        discharge_reason=episode.discharge_reason,
        category=episode.category,
        version=episode.version,
        own=episode.agency_id == viewer.agency_id,
    )


def _readable_filter() -> ColumnElement[bool]:
    return readable(agency_col=TreatmentEpisode.agency_id, category_col=TreatmentEpisode.category)


def episodes_for_person(db: Session, viewer: Viewer, access: PersonAccess) -> list[EpisodeView]:
    """The person's episodes the viewer may read: open ones first, then newest first."""
    if not viewer.works_with_cases:
        return []
    rows = db.execute(
        _episodes()
        .where(TreatmentEpisode.person_id == access.person_id, _readable_filter())
        .order_by(
            TreatmentEpisode.ended_on.is_not(None),
            TreatmentEpisode.started_on.desc(),
            TreatmentEpisode.id,
        ),
        readable_params(viewer, access),
    ).all()
    return [_view(viewer, episode, agency, worker) for episode, agency, worker in rows]


def episode(
    db: Session, viewer: Viewer, access: PersonAccess, episode_id: uuid.UUID
) -> EpisodeView:
    """One of the person's episodes, if the viewer may read it (else 404)."""
    if not viewer.works_with_cases:
        raise NotFoundError(str(episode_id))
    row = db.execute(
        _episodes().where(
            TreatmentEpisode.id == episode_id,
            TreatmentEpisode.person_id == access.person_id,
            _readable_filter(),
        ),
        readable_params(viewer, access),
    ).one_or_none()
    if row is None:
        raise NotFoundError(str(episode_id))
    return _view(viewer, *row)


def has_open_involvement(db: Session, agency_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    found = db.scalar(
        select(func.count())
        .select_from(Involvement)
        .where(
            Involvement.person_id == person_id,
            Involvement.agency_id == agency_id,
            Involvement.ended_on.is_(None),
        )
    )
    return bool(found)


def recording_allowed(db: Session, viewer: Viewer, access: PersonAccess) -> bool:
    """Start or end an episode: a worker, assessor or manager of a treatment agency with an
    open involvement with the person (a referral alone, or an emergency access, is not enough:
    treatment is the agency's own work with the person)."""
    return (
        viewer.agency_kind is AgencyKind.TREATMENT
        and bool(viewer.roles & RECORDING_ROLES)
        and access.involved
        and has_open_involvement(db, viewer.agency_id, access.person_id)
    )


def open_episode_id(db: Session, agency_id: uuid.UUID, person_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(
        select(TreatmentEpisode.id).where(
            TreatmentEpisode.person_id == person_id,
            TreatmentEpisode.agency_id == agency_id,
            TreatmentEpisode.ended_on.is_(None),
        )
    )


# --- prevalence estimates -------------------------------------------------------------------


def _estimates() -> Select[PrevalenceEstimate, str]:
    return select(PrevalenceEstimate, User.full_name).outerjoin(
        User, User.id == PrevalenceEstimate.recorded_by_id
    )


def _estimate_view(row: PrevalenceEstimate, name: str | None) -> EstimateView:
    return EstimateView(
        substance_group=row.substance_group,
        year=row.year,
        estimate=row.estimate,
        source=row.source,
        id=row.id,
        version=row.version,
        recorded_by_name=name or "",
    )


_GROUP_ORDER = {group: index for index, group in enumerate(SubstanceGroup)}


def prevalence_estimates(db: Session) -> list[EstimateView]:
    """Every estimate: newest year first, then in the substance groups' order."""
    found = [_estimate_view(row, name) for row, name in db.execute(_estimates()).all()]
    found.sort(key=lambda e: (-e.year, _GROUP_ORDER[e.substance_group]))
    return found


def prevalence_for(db: Session, year: int) -> dict[SubstanceGroup, EstimateView]:
    """For each substance group, the latest estimate for ``year`` or an earlier year (a group
    with none is missing from the answer)."""
    latest = (
        select(
            PrevalenceEstimate.substance_group,
            func.max(PrevalenceEstimate.year).label("year"),
        )
        .where(PrevalenceEstimate.year <= year)
        .group_by(PrevalenceEstimate.substance_group)
        .subquery()
    )
    rows = db.execute(
        _estimates().join(
            latest,
            and_(
                latest.c.substance_group == PrevalenceEstimate.substance_group,
                latest.c.year == PrevalenceEstimate.year,
            ),
        )
    ).all()
    return {row.substance_group: _estimate_view(row, name) for row, name in rows}


def estimate_for(db: Session, group: SubstanceGroup, year: int) -> EstimateView | None:
    row = db.execute(
        _estimates().where(
            PrevalenceEstimate.substance_group == group, PrevalenceEstimate.year == year
        )
    ).one_or_none()
    return None if row is None else _estimate_view(*row)


def estimate_by_id(db: Session, estimate_id: uuid.UUID) -> EstimateView | None:
    row = db.execute(_estimates().where(PrevalenceEstimate.id == estimate_id)).one_or_none()
    return None if row is None else _estimate_view(*row)
