"""Reads of the professional family and of caseloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import (
    PersonAccess,
    Viewer,
    may_read,
    may_read_involvement,
    readable,
    readable_across,
    readable_across_params,
    readable_params,
)
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.contacts.models import LatestContact
from casework.family.models import Involvement
from casework.people.codes import ClosureReason, FamilyRole, information
from casework.people.models import Person
from casework.people.queries import AlertView, alerts_for
from casework.people.records import Names, open_names
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskSource, TaskState
from casework.users.models import User


@dataclass(frozen=True)
class FamilyMember:
    id: uuid.UUID
    version: int
    agency_id: uuid.UUID
    agency_name: str
    agency_kind: AgencyKind
    worker_id: uuid.UUID | None
    worker_name: str
    worker_email: str
    role: FamilyRole
    is_lead: bool
    started_on: date
    ended_on: date | None
    closure_reason: ClosureReason | None
    last_contact: datetime | None
    own: bool
    #: The category of the fact of this involvement (the agency kind's).
    category: Category
    #: The viewer may read this agency's contacts (else its last contact is not shown at all).
    contacts_shared: bool = True


_family_worker = aliased(User)
_FAMILY = (
    select(
        Involvement.id,
        Involvement.version,
        Involvement.agency_id,
        Involvement.worker_id,
        Involvement.role,
        Involvement.is_lead,
        Involvement.started_on,
        Involvement.ended_on,
        Involvement.closure_reason,
        Involvement.recorded_by_agency_id,
        Agency.name.label("agency_name"),
        Agency.kind.label("agency_kind"),
        _family_worker.full_name.label("worker_name"),
        _family_worker.email.label("worker_email"),
    )
    .join(Agency, Agency.id == Involvement.agency_id)
    .outerjoin(_family_worker, _family_worker.id == Involvement.worker_id)
    .where(Involvement.person_id == bindparam("person_id"))
)
_FAMILY_LAST_CONTACTS = (
    select(LatestContact.agency_id, func.max(LatestContact.occurred_at))
    .where(
        LatestContact.person_id == bindparam("person_id"),
        readable(agency_col=LatestContact.agency_id, category_col=LatestContact.category),
    )
    .group_by(LatestContact.agency_id)
)


def family(db: Session, viewer: Viewer, access: PersonAccess) -> list[FamilyMember]:
    """The person's professional family the viewer may see (an involvement is a fact of the
    agency's category), lead first, then open ones, then ended ones; each with the latest
    contact by that agency."""
    conn = db.connection()
    rows = conn.execute(_FAMILY, {"person_id": access.person_id}).all()
    categories = information().agency_kinds
    last_contacts: dict[uuid.UUID, datetime] = {
        agency_id: at
        for agency_id, at in conn.execute(
            _FAMILY_LAST_CONTACTS,
            {"person_id": access.person_id, **readable_params(viewer, access)},
        )
    }
    members = [
        FamilyMember(
            category=categories[row.agency_kind],
            id=row.id,
            version=row.version,
            agency_id=row.agency_id,
            agency_name=row.agency_name,
            agency_kind=row.agency_kind,
            worker_id=row.worker_id,
            worker_name=row.worker_name or "",
            worker_email=row.worker_email or "",
            role=row.role,
            is_lead=row.is_lead,
            started_on=row.started_on,
            ended_on=row.ended_on,
            closure_reason=row.closure_reason,
            last_contact=last_contacts.get(row.agency_id),
            own=row.agency_id == viewer.agency_id,
            contacts_shared=may_read(
                viewer, access, agency_id=row.agency_id, category=categories[row.agency_kind]
            ),
        )
        for row in rows
        if may_read_involvement(
            viewer,
            access,
            agency_id=row.agency_id,
            recorded_by_agency_id=row.recorded_by_agency_id,
            category=categories[row.agency_kind],
        )
    ]
    members.sort(
        key=lambda m: (
            m.ended_on is not None,
            not m.is_lead,
            -(m.ended_on or m.started_on).toordinal(),
            m.agency_name,
        )
    )
    return members


def involvement_of(members: list[FamilyMember], involvement_id: uuid.UUID) -> FamilyMember | None:
    return next((m for m in members if m.id == involvement_id), None)


# --- caseloads -------------------------------------------------------------------------------


class CaseloadSort(StrEnum):
    NAME = "name"
    LAST_CONTACT = "last_contact"


@dataclass(frozen=True)
class CaseloadRow:
    person_id: uuid.UUID
    names: Names
    year_of_birth: int | None
    alerts: list[AlertView]
    last_contact: datetime | None
    role: FamilyRole
    is_lead: bool
    started_on: date
    worker_name: str
    #: The viewer's agency has an escalated (red) welfare check open for the person.
    red_check: bool = False


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int
    page: int
    pages: int


_worker = aliased(User)

#: The caseload query, built once (statement construction costs more than running it here).
_CASELOAD = (
    select(
        Involvement.person_id,
        Involvement.role,
        Involvement.is_lead,
        Involvement.started_on,
        Person.names_enc,
        Person.year_of_birth,
        _worker.full_name,
    )
    .join(Person, Person.id == Involvement.person_id)
    .join(_worker, _worker.id == Involvement.worker_id)
    .where(
        Involvement.worker_id.in_(bindparam("worker_ids", expanding=True)),
        Involvement.ended_on.is_(None),
        # Only the viewer's agency's involvements: a caseload is an agency's own work.
        Involvement.agency_id == bindparam("agency_id"),
    )
)

#: Each agency's latest contact per category (kept by the contact service), filtered by the
#: policy's list rule, then the latest per person: the correlated checks run once per
#: (person, agency, category), not once per contact.
_LAST_CONTACTS = (
    select(LatestContact.person_id, func.max(LatestContact.occurred_at))
    .where(
        LatestContact.person_id.in_(bindparam("person_ids", expanding=True)),
        readable_across(
            person_col=LatestContact.person_id,
            agency_col=LatestContact.agency_id,
            category_col=LatestContact.category,
        ),
    )
    .group_by(LatestContact.person_id)
)


def caseload(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    worker_ids: list[uuid.UUID],
    *,
    sort: CaseloadSort = CaseloadSort.NAME,
    page: int = 1,
    per_page: int = 50,
) -> CaseloadPage:
    """The people on whose open involvements these workers are the named worker (DECISIONS
    §1), with name, alerts and the latest contact the viewer may see."""
    if not worker_ids or not viewer.works_with_cases:
        return CaseloadPage([], 0, 1, 1)
    conn = db.connection()
    rows = conn.execute(_CASELOAD, {"worker_ids": worker_ids, "agency_id": viewer.agency_id}).all()
    person_ids = [row.person_id for row in rows]
    last = _last_contacts(db, viewer, person_ids)
    vault.prefetch(person_ids)
    entries = [(row, open_names(vault, row.person_id, row.names_enc)) for row in rows]
    if sort is CaseloadSort.LAST_CONTACT:
        # Never contacted first, then longest without contact: who most needs attention.
        def oldest_first(entry: tuple[Any, Names]) -> tuple[bool, float, tuple[str, str]]:
            seen = last.get(entry[0].person_id)
            return (seen is not None, seen.timestamp() if seen else 0.0, entry[1].sort_key)

        entries.sort(key=oldest_first)
    else:
        entries.sort(key=lambda e: e[1].sort_key)
    total = len(entries)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * per_page : page * per_page]
    alerts = alerts_for(db, viewer, [row.person_id for row, _ in shown])
    red = _red_checks(db, viewer, [row.person_id for row, _ in shown])
    return CaseloadPage(
        rows=[
            CaseloadRow(
                person_id=row.person_id,
                names=names,
                year_of_birth=row.year_of_birth,
                alerts=alerts.get(row.person_id, []),
                last_contact=last.get(row.person_id),
                role=row.role,
                is_lead=row.is_lead,
                started_on=row.started_on,
                worker_name=row.full_name,
                red_check=row.person_id in red,
            )
            for row, names in shown
        ],
        total=total,
        page=page,
        pages=pages,
    )


#: People with an escalated (red) open welfare check of the viewer's agency (the caseload's
#: red tag): one statement on the tasks' person index.
_RED_CHECKS = select(Task.person_id).where(
    Task.person_id.in_(bindparam("person_ids", expanding=True)),
    Task.agency_id == bindparam("agency_id"),
    Task.state == TaskState.OPEN,
    Task.source == TaskSource.WELFARE_CHECK,
    Task.red_since.is_not(None),
)


def _red_checks(db: Session, viewer: Viewer, person_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not person_ids:
        return set()
    found = db.connection().execute(
        _RED_CHECKS, {"person_ids": person_ids, "agency_id": viewer.agency_id}
    )
    return {row[0] for row in found if row[0] is not None}


def _last_contacts(
    db: Session, viewer: Viewer, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """Latest contact per person among those the viewer may read (the policy's list filter:
    the viewer's agency's own contacts, and others' in categories shared with it now)."""
    if not person_ids:
        return {}
    return {
        pid: at
        for pid, at in db.connection().execute(
            _LAST_CONTACTS, {"person_ids": person_ids, **readable_across_params(viewer)}
        )
    }


@dataclass(frozen=True)
class TeamChoice:
    id: uuid.UUID
    name: str


_MANAGED_TEAMS = (
    select(Team.id, Team.name)
    .join(TeamMembership, TeamMembership.team_id == Team.id)
    .where(
        TeamMembership.user_id == bindparam("user_id"),
        TeamMembership.is_manager.is_(True),
        Team.agency_id == bindparam("agency_id"),
    )
    .order_by(Team.name)
)
_TEAM_MEMBERS = select(TeamMembership.user_id).where(TeamMembership.team_id == bindparam("team_id"))


def managed_teams(db: Session, viewer: Viewer) -> list[TeamChoice]:
    """Teams the viewer manages (their team caseloads), in one query."""
    rows = db.connection().execute(
        _MANAGED_TEAMS, {"user_id": viewer.user_id, "agency_id": viewer.agency_id}
    )
    return [TeamChoice(row.id, row.name) for row in rows]


def team_members(db: Session, team_id: uuid.UUID) -> list[uuid.UUID]:
    return list(db.connection().execute(_TEAM_MEMBERS, {"team_id": team_id}).scalars())


def agency_workers(db: Session, agency_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Active users of an agency (named-worker choices)."""
    rows = db.execute(
        select(User.id, User.full_name)
        .where(User.agency_id == agency_id, User.active.is_(True))
        .order_by(User.full_name)
    ).all()
    return [(row.id, row.full_name) for row in rows]


def active_agencies(
    db: Session, *, kinds: Iterable[AgencyKind] | None = None
) -> list[tuple[uuid.UUID, str]]:
    """Active agencies by name; only those of ``kinds`` when given."""
    statement = select(Agency.id, Agency.name).where(Agency.active.is_(True))
    if kinds is not None:
        statement = statement.where(Agency.kind.in_(list(kinds)))
    rows = db.execute(statement.order_by(Agency.name)).all()
    return [(row.id, row.name) for row in rows]
