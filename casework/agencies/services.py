"""Changes to agencies and teams. Services flush; the caller's transaction commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.db import check_version
from casework.users.models import User


class AgencyError(ValueError):
    """A change that breaks a rule; ``field`` names the form field to show it on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _name_taken(db: Session, name: str, *, excluding: uuid.UUID | None = None) -> bool:
    query = select(Agency.id).where(func.lower(Agency.name) == name.lower())
    if excluding is not None:
        query = query.where(Agency.id != excluding)
    return db.scalar(query) is not None


def create_agency(db: Session, actor: Actor, *, name: str, kind: AgencyKind) -> Agency:
    name = " ".join(name.split())
    if _name_taken(db, name):
        raise AgencyError("name", "An agency with this name already exists")
    agency = Agency(id=uuid.uuid4(), name=name, kind=kind, active=True)
    db.add(agency)
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.agency.create",
        target_type="agency",
        target_id=agency.id,
        details={"kind": str(kind)},
    )
    return agency


def update_agency(
    db: Session, actor: Actor, agency: Agency, *, name: str, kind: AgencyKind, version: int | None
) -> None:
    check_version(agency, version)
    name = " ".join(name.split())
    if _name_taken(db, name, excluding=agency.id):
        raise AgencyError("name", "An agency with this name already exists")
    changed = [f for f, new in (("name", name), ("kind", kind)) if getattr(agency, f) != new]
    agency.name = name
    agency.kind = kind
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.agency.update",
        target_type="agency",
        target_id=agency.id,
        details={"fields": changed},
    )


def set_agency_active(
    db: Session, actor: Actor, agency: Agency, *, active: bool, version: int | None
) -> None:
    check_version(agency, version)
    agency.active = active
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.agency.enable" if active else "admin.agency.disable",
        target_type="agency",
        target_id=agency.id,
    )


def create_team(db: Session, actor: Actor, agency: Agency, *, name: str) -> Team:
    if not agency.active:
        raise AgencyError("name", "You cannot add a team to a disabled agency")
    name = " ".join(name.split())
    exists = db.scalar(
        select(Team.id).where(Team.agency_id == agency.id, func.lower(Team.name) == name.lower())
    )
    if exists is not None:
        raise AgencyError("name", "This agency already has a team with this name")
    team = Team(id=uuid.uuid4(), agency_id=agency.id, name=name, active=True)
    db.add(team)
    db.flush()
    recorder.record(
        db,
        actor,
        "admin.team.create",
        target_type="team",
        target_id=team.id,
        details={"agency_id": str(agency.id)},
    )
    return team


def set_membership(
    db: Session, actor: Actor, team: Team, user: User, *, member: bool, is_manager: bool = False
) -> None:
    """Add, change or remove a user's membership of a team of their own agency."""
    if user.agency_id != team.agency_id:
        raise AgencyError("user_id", "A user can only join teams of their own agency")
    row = db.get(TeamMembership, (team.id, user.id))
    if member:
        if row is None:
            db.add(TeamMembership(team_id=team.id, user_id=user.id, is_manager=is_manager))
        else:
            row.is_manager = is_manager
        action = "admin.team.member.set"
    else:
        if row is not None:
            db.delete(row)
        action = "admin.team.member.remove"
    db.flush()
    recorder.record(
        db,
        actor,
        action,
        target_type="team",
        target_id=team.id,
        details={"user_id": str(user.id), "manager": is_manager},
    )
