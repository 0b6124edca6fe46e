"""Changes to a person's professional family. Services flush; the caller commits."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.access.policy import PersonAccess, Viewer, may_manage_family
from casework.agencies.models import Agency
from casework.audit.recorder import Actor
from casework.clock import london_today, utcnow
from casework.db import check_version
from casework.family.models import Involvement
from casework.people.codes import ClosureReason, FamilyRole, TimelineKind, information
from casework.people.services import NotAllowed, PersonError, add_timeline, record_event
from casework.users.models import User
from casework.welfare.records import stop_schedules


def _worker_of(db: Session, agency_id: uuid.UUID, worker_id: uuid.UUID | None) -> None:
    if worker_id is None:
        return
    user = db.get(User, worker_id)
    if user is None or user.agency_id != agency_id or not user.active:
        raise PersonError("worker", "Select a worker from the agency")


def _locked(db: Session, access: PersonAccess, involvement_id: uuid.UUID) -> Involvement:
    involvement = db.get(Involvement, involvement_id, with_for_update=True)
    if involvement is None or involvement.person_id != access.person_id:
        raise LookupError(str(involvement_id))
    return involvement


def add_involvement(
    db: Session,
    *,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    agency_id: uuid.UUID,
    worker_id: uuid.UUID | None,
    role: FamilyRole,
    started_on: date,
    make_lead: bool,
) -> uuid.UUID:
    """An agency joins the person's professional family (the viewer's own, or another that
    the lead professional is coordinating with)."""
    if not may_manage_family(viewer, access):
        raise NotAllowed("family")
    agency = db.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise PersonError("agency", "Select an agency")
    _worker_of(db, agency_id, worker_id)
    if started_on > london_today():
        raise PersonError("started_on", "Start date must be today or in the past")
    open_ids = db.scalars(
        select(Involvement.agency_id).where(
            Involvement.person_id == access.person_id, Involvement.ended_on.is_(None)
        )
    ).all()
    if agency_id in open_ids:
        raise PersonError("agency", f"{agency.name} is already in the professional family")
    involvement_id = uuid.uuid4()
    if make_lead:
        _clear_lead(db, access.person_id)
    db.add(
        Involvement(
            id=involvement_id,
            person_id=access.person_id,
            agency_id=agency_id,
            worker_id=worker_id,
            role=role,
            is_lead=make_lead,
            started_on=started_on,
            recorded_by_agency_id=viewer.agency_id if agency_id != viewer.agency_id else None,
        )
    )
    db.flush()
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.FAMILY_ADDED,
        category=information().agency_category(agency.kind),
        action="family.added",
        details={"role": role.value, "lead": "yes" if make_lead else "no"},
        agency_id=agency_id,
        audit_details={"agency_id": str(agency_id), "involvement_id": str(involvement_id)},
    )
    return involvement_id


def join_for_referral(
    db: Session,
    *,
    viewer: Viewer,
    person_id: uuid.UUID,
    role: FamilyRole,
    worker_id: uuid.UUID | None = None,
) -> bool:
    """The viewer's agency joins the family because it is making a referral (a custody booking
    for a person another agency already knows: DECISIONS §3, "creating A's first
    involvement"). Nothing happens when it is involved already. True when it joined."""
    joined = db.scalar(
        select(Involvement.id).where(
            Involvement.person_id == person_id,
            Involvement.agency_id == viewer.agency_id,
            Involvement.ended_on.is_(None),
        )
    )
    if joined is not None:
        return False
    db.add(
        Involvement(
            id=uuid.uuid4(),
            person_id=person_id,
            agency_id=viewer.agency_id,
            worker_id=worker_id,
            role=role,
            is_lead=False,
            started_on=london_today(),
        )
    )
    db.flush()
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.FAMILY_ADDED,
        category=information().agency_category(viewer.agency_kind),
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        details={"role": role.value, "lead": "no"},
    )
    return True


def _clear_lead(db: Session, person_id: uuid.UUID) -> None:
    current = db.scalars(
        select(Involvement)
        .where(
            Involvement.person_id == person_id,
            Involvement.is_lead.is_(True),
            Involvement.ended_on.is_(None),
        )
        .with_for_update()
    ).all()
    for involvement in current:
        involvement.is_lead = False
    db.flush()


def make_lead(
    db: Session,
    *,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    involvement_id: uuid.UUID,
    expected_version: int | None,
) -> None:
    if not may_manage_family(viewer, access):
        raise NotAllowed("family")
    involvement = _locked(db, access, involvement_id)
    check_version(involvement, expected_version)
    if involvement.ended_on is not None:
        raise PersonError("involvement", "An ended involvement cannot lead")
    if involvement.is_lead:
        return
    _clear_lead(db, access.person_id)
    involvement.is_lead = True
    db.flush()
    agency = db.get_one(Agency, involvement.agency_id)
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.LEAD_CHANGED,
        category=information().agency_category(agency.kind),
        action="family.lead_changed",
        details={"role": involvement.role.value},
        agency_id=involvement.agency_id,
        audit_details={"involvement_id": str(involvement_id)},
    )


def update_involvement(
    db: Session,
    *,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    involvement_id: uuid.UUID,
    worker_id: uuid.UUID | None,
    role: FamilyRole,
    expected_version: int | None,
) -> None:
    """Change the named worker or role: the agency's own involvement only."""
    involvement = _locked(db, access, involvement_id)
    if involvement.agency_id != viewer.agency_id or not may_manage_family(viewer, access):
        raise NotAllowed("family")
    check_version(involvement, expected_version)
    if involvement.ended_on is not None:
        raise PersonError("worker", "This involvement has ended")
    _worker_of(db, involvement.agency_id, worker_id)
    if involvement.worker_id == worker_id and involvement.role == role:
        return
    involvement.worker_id = worker_id
    involvement.role = role
    db.flush()
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.FAMILY_CHANGED,
        category=information().agency_category(viewer.agency_kind),
        action="family.changed",
        details={"role": role.value},
        agency_id=involvement.agency_id,
        audit_details={"involvement_id": str(involvement_id)},
    )


def end_involvement(
    db: Session,
    *,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    involvement_id: uuid.UUID,
    ended_on: date,
    reason: ClosureReason,
    expected_version: int | None,
) -> None:
    """Close an involvement (an agency closes its own case) with a reason."""
    involvement = _locked(db, access, involvement_id)
    if involvement.agency_id != viewer.agency_id or not may_manage_family(viewer, access):
        raise NotAllowed("family")
    check_version(involvement, expected_version)
    if involvement.ended_on is not None:
        raise PersonError("ended_on", "This involvement has already ended")
    if ended_on > london_today():
        raise PersonError("ended_on", "End date must be today or in the past")
    if ended_on < involvement.started_on:
        raise PersonError("ended_on", "End date must be on or after the start date")
    involvement.ended_on = ended_on
    involvement.closure_reason = reason
    was_lead = involvement.is_lead
    involvement.is_lead = False
    db.flush()
    still_open = db.scalar(
        select(func.count())
        .select_from(Involvement)
        .where(
            Involvement.person_id == access.person_id,
            Involvement.agency_id == viewer.agency_id,
            Involvement.ended_on.is_(None),
        )
    )
    if not still_open:
        # The agency's case is closed: its welfare checks on the person stop (DECISIONS §1).
        stop_schedules(
            db,
            person_id=access.person_id,
            agency_id=viewer.agency_id,
            reason="case_closed",
            now=utcnow(),
            actor_id=viewer.user_id,
        )
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.FAMILY_ENDED,
        category=information().agency_category(viewer.agency_kind),
        action="family.ended",
        details={"reason": reason.value, "was_lead": "yes" if was_lead else "no"},
        agency_id=involvement.agency_id,
        audit_details={"involvement_id": str(involvement_id), "reason": reason.value},
    )
