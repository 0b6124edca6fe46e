"""Reads of the audit log for information governance: search, and "who has seen this record"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import Session

from casework.agencies.models import Agency
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.clock import london_datetime
from casework.users.models import User

#: Words for the action codes (anything else is shown as its code).
ACTION_LABELS = {
    "person.viewed": "Opened the overview",
    "person.timeline_viewed": "Opened the timeline",
    "family.viewed": "Opened the professional family",
    "contact.viewed": "Opened a contact and its note",
    "people.searched": "Found in a search",
    "people.duplicates_shown": "Shown as a possible duplicate",
    "caseload.viewed": "Listed on a caseload",
    "caseload.exported": "Included in a caseload download",
    "person.created": "Created the record",
    "person.updated": "Corrected identity or contact details",
    "person.alert_raised": "Raised an alert",
    "person.alert_ended": "Ended an alert",
    "person.needs_changed": "Changed needs",
    "person.death_recorded": "Recorded a death",
    "family.added": "Added an agency to the family",
    "family.lead_changed": "Changed the lead professional",
    "family.changed": "Changed an involvement",
    "family.ended": "Ended an involvement",
    "contact.logged": "Logged a contact",
    "note.revised": "Revised a note",
    "consent.recorded": "Recorded consent",
    "consent.superseded": "Corrected or renewed consent",
    "consent.withdrawn": "Recorded that consent was withdrawn",
    "basis.recorded": "Recorded another lawful basis",
    "basis.ended": "Ended a lawful basis",
    "basis.approved": "Approved a lawful basis",
    "basis.rejected": "Rejected a lawful basis",
    "emergency.started": "Opened the record in an emergency",
    "emergency.ended": "Ended emergency access",
    "emergency.reviewed": "Reviewed an emergency access",
    "governance.review_queue": "Listed in the review queue",
    "governance.basis_viewed": "Opened a lawful basis to review",
    "governance.emergency_viewed": "Opened an emergency access to review",
    "governance.person_viewed": "Opened information governance's summary",
    "governance.people_found": "Found by information governance",
    "governance.access_log_viewed": "Opened who has seen the record",
    "governance.access_log_exported": "Downloaded who has seen the record",
    "access.refused": "Refused",
    "home.consents_due": "Listed in consents due for review",
    # Pages named after their endpoint (``read.<endpoint>``).
    "read.people.edit": "Opened the form to correct details",
    "read.people.edit_needs": "Opened the needs form",
    "read.people.record_death": "Opened the form to record a death",
    "read.people.add_alert": "Opened the form to add an alert",
    "read.contacts.quick_log": "Opened the quick log",
    "read.contacts.revise": "Opened a note to revise it",
    "read.family.add": "Opened the form to add an agency",
    "read.family.edit": "Opened an involvement to change it",
    "read.family.end": "Opened an involvement to end it",
    "read.consent.index": "Opened sharing and consent",
    "read.consent.detail": "Opened a consent or basis record",
    "read.consent.correct": "Opened a consent to correct or renew it",
    "read.consent.withdraw": "Opened a consent or basis to withdraw it",
    "read.consent.new_consent": "Opened the consent form",
    "read.consent.new_basis": "Opened the lawful basis form",
    "read.consent.emergency": "Shown the emergency access page (name and date of birth)",
    "read.consent.my_emergencies": "Listed in their open emergency access",
    # Sign-in and administration.
    "auth.sign_in": "Signed in",
    "auth.session.start": "Started a session",
    "auth.sign_out": "Signed out",
    "auth.sign_out_everywhere": "Signed out everywhere",
    "auth.password": "Password checked",
    "auth.password.change": "Changed their password",
    "auth.mfa": "Security code checked",
    "auth.mfa.enrol": "Set up two-factor authentication",
    "admin.user.create": "Created a user",
    "admin.user.update": "Changed a user",
    "admin.user.disable": "Disabled a user",
    "admin.user.enable": "Enabled a user",
    "admin.user.reset_credentials": "Reset a user's password and two-factor authentication",
    "admin.agency.create": "Created an agency",
    "admin.agency.update": "Changed an agency",
    "admin.agency.disable": "Disabled an agency",
    "admin.agency.enable": "Enabled an agency",
    "admin.team.create": "Created a team",
    "admin.team.member.set": "Changed a team member",
    "admin.team.member.remove": "Removed a team member",
}

#: The groups the search can filter by (an action code starts with one of these).
ACTION_GROUPS = {
    "read": "Pages read",
    "person": "Person records",
    "people": "Searches",
    "family": "Professional family",
    "contact": "Contacts and notes",
    "note": "Notes",
    "consent": "Consent",
    "basis": "Other lawful bases",
    "emergency": "Emergency access",
    "governance": "Information governance",
    "access": "Refusals",
    "auth": "Sign-in",
    "admin": "Administration",
}


def action_label(code: str) -> str:
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    if code.startswith("read.undeclared."):
        return f"Read ({code.removeprefix('read.undeclared.')}, not declared)"
    if code.startswith("read."):
        return f"Opened a page ({code.removeprefix('read.')})"
    return code


@dataclass(frozen=True)
class AuditFilter:
    person_id: uuid.UUID | None = None
    user_email: str = ""
    agency_id: uuid.UUID | None = None
    group: str = ""
    outcome: str = ""
    from_day: date | None = None
    to_day: date | None = None
    emergency_access_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AuditRow:
    id: uuid.UUID
    occurred_at: datetime
    action: str
    label: str
    outcome: str
    user_name: str
    user_email: str
    agency_name: str
    categories: list[str]
    people: int
    revealed: bool
    ip_address: str
    emergency_access_id: uuid.UUID | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    has_next: bool


def _day_start(day: date) -> datetime:
    return london_datetime(day, time(0, 0))


def _conditions(filters: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.person_id is not None:
        conditions.append(
            AuditEvent.id.in_(
                select(AuditEventPerson.event_id).where(
                    AuditEventPerson.person_id == filters.person_id
                )
            )
        )
    if filters.user_email:
        conditions.append(
            AuditEvent.actor_user_id.in_(
                select(User.id).where(func.lower(User.email) == filters.user_email.lower())
            )
        )
    if filters.agency_id is not None:
        conditions.append(AuditEvent.actor_agency_id == filters.agency_id)
    if filters.group in ACTION_GROUPS:
        conditions.append(AuditEvent.action.startswith(filters.group + "."))
    if filters.outcome in ("allowed", "denied", "failed"):
        conditions.append(AuditEvent.outcome == filters.outcome)
    if filters.from_day is not None:
        conditions.append(AuditEvent.occurred_at >= _day_start(filters.from_day))
    if filters.to_day is not None:
        conditions.append(AuditEvent.occurred_at < _day_start(filters.to_day + timedelta(days=1)))
    if filters.emergency_access_id is not None:
        conditions.append(AuditEvent.emergency_access_id == filters.emergency_access_id)
    return conditions


def _statement(filters: AuditFilter) -> Select[*tuple[object, ...]]:
    people = (
        select(func.count())
        .select_from(AuditEventPerson)
        .where(AuditEventPerson.event_id == AuditEvent.id)
        .scalar_subquery()
    )
    revealed: Any = false()
    if filters.person_id is not None:
        revealed = (
            select(AuditEventPerson.revealed)
            .where(
                AuditEventPerson.event_id == AuditEvent.id,
                AuditEventPerson.person_id == filters.person_id,
            )
            .scalar_subquery()
        )
    return (
        select(
            AuditEvent.id,
            AuditEvent.occurred_at,
            AuditEvent.action,
            AuditEvent.outcome,
            AuditEvent.categories,
            AuditEvent.ip_address,
            AuditEvent.emergency_access_id,
            User.full_name,
            User.email,
            Agency.name,
            people.label("people"),
            revealed.label("revealed"),
        )
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Agency, Agency.id == AuditEvent.actor_agency_id)
        .where(*_conditions(filters))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )


def search(db: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Audit events matching every filter, newest first."""
    rows = db.execute(_statement(filters).limit(per_page + 1).offset((page - 1) * per_page)).all()
    found = [
        AuditRow(
            id=row.id,
            occurred_at=row.occurred_at,
            action=row.action,
            label=action_label(row.action),
            outcome=row.outcome,
            user_name=row.full_name or "System",
            user_email=row.email or "",
            agency_name=row.name or "",
            categories=list(row.categories or []),
            people=row.people or 0,
            revealed=bool(row.revealed),
            ip_address=row.ip_address or "",
            emergency_access_id=row.emergency_access_id,
        )
        for row in rows[:per_page]
    ]
    return AuditPage(found, page, len(rows) > per_page)


def access_log(
    db: Session,
    person_id: uuid.UUID,
    *,
    emergency_access_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Who has seen (or changed) this person's record: every audit event that links them."""
    return search(
        db,
        AuditFilter(person_id=person_id, emergency_access_id=emergency_access_id),
        page=page,
        per_page=per_page,
    )


def access_log_all(db: Session, person_id: uuid.UUID, *, limit: int = 100_000) -> list[AuditRow]:
    """The whole log for one person (a subject access request's download)."""
    return search(db, AuditFilter(person_id=person_id), per_page=limit).rows


def agencies(db: Session) -> list[tuple[uuid.UUID, str]]:
    return [
        (row.id, row.name)
        for row in db.execute(select(Agency.id, Agency.name).order_by(Agency.name))
    ]
