"""Demo treatment episodes and prevalence estimates, so the partnership's treatment figures
show numbers at once.

Every person the treatment agency has worked with gets episodes spread over the last two
years: all six substance groups, several modalities, some still open and some ended (completed,
dropped out, referred on, prison and more), and "died" for the person whose death is recorded.
Episodes of an open involvement go through the services, as a worker would record them, at
earlier times. An involvement already closed (a death closes them all) can no longer be
recorded through the pages, so those episodes are written as the service writes them: the row,
its timeline entries and its audit rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import Viewer, person_access
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import london_datetime
from casework.family.models import Involvement
from casework.people.codes import TimelineKind
from casework.people.models import Person
from casework.people.services import add_timeline
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.treatment.models import (
    DischargeReason,
    Modality,
    SubstanceGroup,
    TreatmentEpisode,
)
from casework.treatment.services import end_episode, save_estimate, start_episode
from casework.users.models import User

GROUPS = tuple(SubstanceGroup)
#: The groups in roughly the shares of a treatment population: opiates and crack, and alcohol,
#: the largest; crack only the smallest.
WEIGHTED_GROUPS = (
    *[SubstanceGroup.OPIATES_AND_CRACK] * 4,
    *[SubstanceGroup.ALCOHOL_ONLY] * 4,
    *[SubstanceGroup.OPIATES_ONLY] * 2,
    *[SubstanceGroup.NON_OPIATE_ONLY] * 2,
    SubstanceGroup.NON_OPIATE_AND_ALCOHOL,
    SubstanceGroup.CRACK_ONLY,
)
MODALITIES = (
    Modality.PHARMACOLOGICAL,
    Modality.PSYCHOSOCIAL,
    Modality.PHARMACOLOGICAL,
    Modality.RECOVERY_SUPPORT,
    Modality.PSYCHOSOCIAL,
    Modality.INPATIENT_DETOX,
    Modality.RESIDENTIAL_REHAB,
)
#: How earlier episodes ended (completions most often, as in the national figures).
ENDINGS = (
    DischargeReason.COMPLETED_FREE,
    DischargeReason.DROPPED_OUT,
    DischargeReason.COMPLETED,
    DischargeReason.REFERRED_ON,
    DischargeReason.COMPLETED_FREE,
    DischargeReason.PRISON,
    DischargeReason.DECLINED,
    DischargeReason.MOVED_AWAY,
    DischargeReason.TREATMENT_WITHDRAWN,
)
#: A fictional area's estimates (people) for this year; last year's were a little higher.
ESTIMATES = {
    SubstanceGroup.OPIATES_ONLY: 310,
    SubstanceGroup.CRACK_ONLY: 180,
    SubstanceGroup.OPIATES_AND_CRACK: 1150,
    SubstanceGroup.NON_OPIATE_ONLY: 640,
    SubstanceGroup.ALCOHOL_ONLY: 2400,
    SubstanceGroup.NON_OPIATE_AND_ALCOHOL: 520,
}


@dataclass
class Made:
    episodes: int = 0
    open: int = 0
    died: int = 0
    estimates: int = 0


def _viewer(user: User) -> Viewer:
    return Viewer(user.id, user.agency_id, user.agency.kind, user.roles)


def _at(day: date) -> datetime:
    return london_datetime(day, time(10, 30))


def _recorder_of(db: Session, agency_id: uuid.UUID, worker_id: uuid.UUID | None) -> User | None:
    """Who records the agency's episodes: the named worker, else any worker there."""
    if worker_id is not None:
        worker = db.get(User, worker_id)
        if worker is not None and worker.roles & {Role.WORKER, Role.ASSESSOR, Role.MANAGER}:
            return worker
    for user in db.scalars(select(User).where(User.agency_id == agency_id).order_by(User.email)):
        if user.roles & {Role.WORKER, Role.ASSESSOR}:
            return user
    return None


def _written(  # noqa: PLR0917 - a private helper
    db: Session,
    person_id: uuid.UUID,
    user: User,
    started_on: date,
    ended_on: date,
    group: SubstanceGroup,
    modality: Modality,
    reason: DischargeReason,
) -> None:
    """An ended episode of a closed involvement: what the services write, written directly."""
    episode = TreatmentEpisode(
        id=uuid.uuid4(),
        person_id=person_id,
        agency_id=user.agency_id,
        worker_id=user.id,
        started_on=started_on,
        ended_on=ended_on,
        substance_group=group,
        modality=modality,
        discharge_reason=reason,
        category=Category.SUBSTANCE_USE,
        recorded_by_id=user.id,
        ended_by_id=user.id,
        created_at=_at(started_on),
        updated_at=_at(ended_on),
    )
    db.add(episode)
    db.flush()
    actor = Actor(user.id, user.agency_id, request_id="demo-data")
    for action, day in (("started", started_on), ("ended", ended_on)):
        details = {"action": action, "group": group.value, "modality": modality.value}
        if action == "ended":
            details["discharge"] = reason.value
        add_timeline(
            db,
            person_id=person_id,
            kind=TimelineKind.TREATMENT,
            category=Category.SUBSTANCE_USE,
            agency_id=user.agency_id,
            actor_id=user.id,
            occurred_at=_at(day),
            details=details,
        )
        recorder.record(
            db,
            actor,
            f"treatment.episode_{action}",
            target_type="person",
            target_id=person_id,
            categories=[Category.SUBSTANCE_USE],
            details={"episode_id": str(episode.id), **details},
        )


def _episodes(db: Session, kit: SecurityKit, today: date) -> Made:
    made = Made()
    vault = Vault(kit.keystore)
    rows = db.execute(
        select(Involvement, Person.died_on)
        .join(Person, Person.id == Involvement.person_id)
        .join(Agency, Agency.id == Involvement.agency_id)
        .where(Agency.kind == AgencyKind.TREATMENT)
        .order_by(Involvement.started_on, Involvement.person_id, Involvement.agency_id)
    ).all()
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for index, (involvement, died_on) in enumerate(rows):
        key = (involvement.person_id, involvement.agency_id)
        user = _recorder_of(db, involvement.agency_id, involvement.worker_id)
        if key in seen or user is None:
            continue
        seen.add(key)
        group = WEIGHTED_GROUPS[(index * 5) % len(WEIGHTED_GROUPS)]
        modality = MODALITIES[index % len(MODALITIES)]
        viewer = _viewer(user)
        start = involvement.started_on
        if index % 3 == 0:
            # An earlier episode, a year or more ago, that ended.
            first = max(today - timedelta(days=700 - 9 * (index % 20)), start - timedelta(700))
            first_end = min(first + timedelta(days=80 + 11 * (index % 9)), start - timedelta(1))
            if first_end > first:
                _written(
                    db,
                    involvement.person_id,
                    user,
                    first,
                    first_end,
                    GROUPS[(index + 1) % len(GROUPS)],
                    MODALITIES[(index + 2) % len(MODALITIES)],
                    ENDINGS[index % len(ENDINGS)],
                )
                made.episodes += 1
        open_now = involvement.ended_on is None and died_on is None
        if not open_now:
            end = died_on or involvement.ended_on or today
            reason = DischargeReason.DIED if died_on else ENDINGS[(index + 4) % len(ENDINGS)]
            _written(
                db, involvement.person_id, user, start, max(end, start), group, modality, reason
            )
            made.episodes += 1
            made.died += reason is DischargeReason.DIED
            continue
        access = person_access(db, viewer, involvement.person_id, now=_at(start))
        if access is None:
            continue
        episode_id = start_episode(
            db,
            vault,
            viewer_actor(user),
            viewer,
            access,
            started_on=start,
            substance_group=group,
            modality=modality,
            worker_id=user.id,
            now=_at(start),
        )
        made.episodes += 1
        ends_on = start + timedelta(days=90 + 7 * (index % 12))
        if index % 4 == 1 and ends_on < today:
            end_episode(
                db,
                viewer_actor(user),
                viewer,
                access,
                episode_id,
                version=1,
                ended_on=ends_on,
                discharge_reason=ENDINGS[index % len(ENDINGS)],
                now=_at(ends_on),
            )
        else:
            made.open += 1
    return made


def viewer_actor(user: User) -> Actor:
    return Actor(user.id, user.agency_id, request_id="demo-data")


def _estimates(db: Session, today: date) -> int:
    lead = next(
        (
            user
            for user in db.scalars(select(User).order_by(User.email))
            if user.roles & {Role.PARTNERSHIP_LEAD, Role.MANAGER}
        ),
        None,
    )
    if lead is None:
        return 0
    viewer = _viewer(lead)
    made = 0
    for year, uplift in ((today.year - 1, 1.04), (today.year, 1.0)):
        for group, estimate in ESTIMATES.items():
            save_estimate(
                db,
                viewer_actor(lead),
                viewer,
                substance_group=group,
                year=year,
                estimate=round(estimate * uplift),
                source=f"Fictional partnership needs assessment {year}",
                version=None,
            )
            made += 1
    return made


def load(db: Session, kit: SecurityKit, today: date) -> Made:
    made = _episodes(db, kit, today)
    made.estimates = _estimates(db, today)
    db.flush()
    return made
