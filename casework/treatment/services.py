"""Treatment episodes (start, end) and prevalence estimates (add or replace).

Only a worker, assessor or manager of a treatment agency with an open involvement with the
person records episodes (:func:`casework.treatment.queries.recording_allowed`); one episode per
person and agency is open at a time (the partial unique index backs the check). Each change
writes a timeline entry (codes only) and an audit row in the caller's transaction. Services
flush; the caller commits. Refusals on a field are ``PersonError``; a refused action is
``NotAllowed`` (403); a form opened on an older version raises ``StaleVersion`` (409).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer
from casework.access.roles import Role
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import to_london, utcnow
from casework.db import check_version
from casework.people.codes import TimelineKind
from casework.people.models import Person
from casework.people.records import open_details
from casework.people.services import NotAllowed, PersonError, add_timeline
from casework.security.vault import Vault
from casework.treatment.models import (
    DischargeReason,
    Modality,
    PrevalenceEstimate,
    SubstanceGroup,
    TreatmentEpisode,
)
from casework.treatment.queries import open_episode_id, recording_allowed
from casework.users.models import User

#: Who may enter prevalence estimates (partnership reference data).
ESTIMATE_ROLES = frozenset({Role.MANAGER, Role.PARTNERSHIP_LEAD})
YEAR_MIN, YEAR_MAX = 2000, 2100
SOURCE_MAX = 200
ESTIMATE_MAX = 10_000_000

_ALREADY_OPEN = (
    "This person already has an open treatment episode with your agency: end it before "
    "starting another"
)


class EstimateExists(PersonError):  # noqa: N818 - reads better at call sites
    """An estimate for that group and year exists and the form did not say to replace it: the
    page offers to replace it (the form takes its version)."""

    def __init__(self, field: str, message: str, *, version: int) -> None:
        super().__init__(field, message)
        self.version = version


# --- episodes ---------------------------------------------------------------------------------


def _record(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    episode: TreatmentEpisode,
    action: str,
    *,
    now: datetime,
) -> None:
    details = {
        "action": action,
        "group": episode.substance_group.value,
        "modality": episode.modality.value,
    }
    if episode.discharge_reason is not None:
        details["discharge"] = episode.discharge_reason.value
    add_timeline(
        db,
        person_id=episode.person_id,
        kind=TimelineKind.TREATMENT,
        category=Category.SUBSTANCE_USE,
        agency_id=episode.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details=details,
    )
    recorder.record(
        db,
        actor,
        f"treatment.episode_{action}",
        target_type="person",
        target_id=episode.person_id,
        categories=[Category.SUBSTANCE_USE],
        details={"episode_id": str(episode.id), **details},
    )


def _not_future(field: str, day: date, today: date, what: str) -> None:
    if day > today:
        raise PersonError(field, f"The date {what} must be today or in the past")


def _worker(db: Session, viewer: Viewer, worker_id: uuid.UUID | None) -> uuid.UUID:
    if worker_id is None:
        return viewer.user_id
    user = db.get(User, worker_id)
    if user is None or user.agency_id != viewer.agency_id or not user.active:
        raise PersonError("worker_id", "Select a worker from your agency")
    return user.id


def start_episode(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    started_on: date,
    substance_group: SubstanceGroup,
    modality: Modality,
    worker_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Start an episode with the viewer's (treatment) agency."""
    now = now or utcnow()
    today = to_london(now).date()
    if not recording_allowed(db, viewer, access):
        raise NotAllowed("treatment")
    # The person's row is locked, so two starts for one person queue here (PostgreSQL).
    person = db.get(Person, access.person_id, with_for_update=True)
    if person is None:
        raise LookupError(str(access.person_id))
    _not_future("started_on", started_on, today, "treatment started")
    born = open_details(vault, person.id, person.details_enc).date_of_birth
    if born is not None and started_on < born:
        raise PersonError(
            "started_on", "The date treatment started must be on or after their date of birth"
        )
    if person.died_on is not None and started_on > person.died_on:
        raise PersonError(
            "started_on", "The date treatment started must be on or before their date of death"
        )
    if open_episode_id(db, viewer.agency_id, person.id) is not None:
        raise PersonError("started_on", _ALREADY_OPEN)
    episode = TreatmentEpisode(
        id=uuid.uuid4(),
        person_id=person.id,
        agency_id=viewer.agency_id,
        worker_id=_worker(db, viewer, worker_id),
        started_on=started_on,
        substance_group=SubstanceGroup(substance_group),
        modality=Modality(modality),
        category=Category.SUBSTANCE_USE,
        recorded_by_id=viewer.user_id,
        created_at=now,
        updated_at=now,
    )
    try:
        with db.begin_nested():
            db.add(episode)
            db.flush()
    except IntegrityError:
        # Another start for this person and agency committed first (the partial unique index).
        raise PersonError("started_on", _ALREADY_OPEN) from None
    _record(db, actor, viewer, episode, "started", now=now)
    db.flush()
    return episode.id


def _locked_episode(
    db: Session,
    viewer: Viewer,
    access: PersonAccess,
    episode_id: uuid.UUID,
    version: int | None,
) -> TreatmentEpisode:
    """The episode, locked, if it is the person's and the viewer's agency's, and unchanged
    since the form was opened."""
    episode = db.get(TreatmentEpisode, episode_id, with_for_update=True)
    if episode is None or episode.person_id != access.person_id:
        raise LookupError(str(episode_id))
    if episode.agency_id != viewer.agency_id or not recording_allowed(db, viewer, access):
        raise NotAllowed("treatment")
    check_version(episode, version)
    return episode


def end_episode(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    episode_id: uuid.UUID,
    *,
    version: int | None,
    ended_on: date,
    discharge_reason: DischargeReason | None,
    now: datetime | None = None,
) -> None:
    """End an open episode with its discharge reason. Ending with "died" ends the episode
    only: a death is recorded on the person's record, by its own page."""
    now = now or utcnow()
    episode = _locked_episode(db, viewer, access, episode_id, version)
    if episode.ended_on is not None:
        raise PersonError("ended_on", "This episode has already ended")
    _not_future("ended_on", ended_on, to_london(now).date(), "treatment ended")
    if ended_on < episode.started_on:
        raise PersonError(
            "ended_on",
            "The date treatment ended must be the same as or after the date it started "
            f"({episode.started_on.strftime('%-d %B %Y')})",
        )
    if discharge_reason is None:
        raise PersonError("discharge_reason", "Select why the episode ended")
    episode.ended_on = ended_on
    episode.discharge_reason = DischargeReason(discharge_reason)
    episode.ended_by_id = viewer.user_id
    episode.updated_at = now
    db.flush()
    _record(db, actor, viewer, episode, "ended", now=now)
    db.flush()


# --- prevalence estimates -------------------------------------------------------------------


def _check_estimate(year: int, estimate: int, source: str) -> str:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise PersonError("year", f"Enter a year from {YEAR_MIN} to {YEAR_MAX}")
    if not 1 <= estimate <= ESTIMATE_MAX:
        raise PersonError("estimate", "Enter the estimate as a whole number of people, 1 or more")
    source = source.strip()
    if not source:
        raise PersonError("source", "Enter the source of the estimate")
    if len(source) > SOURCE_MAX:
        raise PersonError("source", f"Source must be {SOURCE_MAX} characters or fewer")
    return source


def save_estimate(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    *,
    substance_group: SubstanceGroup,
    year: int,
    estimate: int,
    source: str,
    version: int | None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Add the estimate for a group and year, or replace the one there is. Replacing needs the
    version the form saw: without one, :class:`EstimateExists` asks to confirm; with an older
    one, ``StaleVersion``."""
    now = now or utcnow()
    if not viewer.roles & ESTIMATE_ROLES:
        raise NotAllowed("prevalence")
    group = SubstanceGroup(substance_group)
    source = _check_estimate(year, estimate, source)
    row = db.scalar(
        select(PrevalenceEstimate)
        .where(PrevalenceEstimate.substance_group == group, PrevalenceEstimate.year == year)
        .with_for_update()
    )
    action = "replaced"
    if row is None:
        action = "added"
        row = PrevalenceEstimate(
            id=uuid.uuid4(),
            substance_group=group,
            year=year,
            estimate=estimate,
            source=source,
            recorded_by_id=viewer.user_id,
            created_at=now,
            updated_at=now,
        )
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
        except IntegrityError:
            raise PersonError(
                "year", "Someone added an estimate for this group and year just now: try again"
            ) from None
    else:
        if version is None:
            raise EstimateExists(
                "year",
                f"There is already an estimate of {row.estimate:,} for {group.label.lower()} in "
                f"{year}. Save again to replace it",
                version=row.version,
            )
        check_version(row, version)
        row.estimate = estimate
        row.source = source
        row.recorded_by_id = viewer.user_id
        row.updated_at = now
        db.flush()
    recorder.record(
        db,
        actor,
        f"treatment.prevalence_{action}",
        target_type="prevalence_estimate",
        target_id=row.id,
        details={"substance_group": group.value, "year": year, "estimate": estimate},
    )
    db.flush()
    return row.id
