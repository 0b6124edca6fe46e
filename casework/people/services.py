"""Changes to a person's record. Services flush; the caller's transaction commits.

Every change is checked against the access policy by the caller's query (``person_access``)
and again here where the rule depends on the action; every change writes a timeline entry
(codes only) and an audit row in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, may_add, may_change_identity
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import london_today, utcnow
from casework.db import check_version
from casework.family.models import Involvement
from casework.pathways.models import Referral
from casework.people.codes import ClosureReason, FamilyRole, TimelineKind, information
from casework.people.models import (
    Person,
    PersonAlert,
    PersonNeed,
    PersonRevision,
    SearchToken,
    TimelineEntry,
)
from casework.people.records import (
    Details,
    Names,
    PersonFields,
    read_fields,
    seal_details,
    seal_names,
)
from casework.people.validation import (
    date_of_birth_problem,
    nhs_number_problem,
    normalise_postcode,
    phone_problem,
    pnc_problem,
    postcode_district,
    text_problem,
)
from casework.security.blind_index import BlindIndex, TokenKind
from casework.security.vault import Vault
from casework.tasks.models import Task, TaskState
from casework.treatment.models import DischargeReason, TreatmentEpisode
from casework.welfare.records import stop_schedules

#: Where earlier versions of a person's identity and contact details are kept.
REVISIONS = "person_revisions"


class PersonError(ValueError):
    """A refused change, shown on the named form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotAllowed(PermissionError):  # noqa: N818 - reads better at call sites
    """The person is visible but this action is not allowed (the views answer 403)."""


# --- timeline -------------------------------------------------------------------------------


def add_timeline(
    db: Session,
    *,
    person_id: uuid.UUID,
    kind: TimelineKind,
    category: Category,
    agency_id: uuid.UUID,
    actor_id: uuid.UUID,
    occurred_at: datetime | None = None,
    contact_id: uuid.UUID | None = None,
    agency_only: bool = False,
    details: dict[str, str] | None = None,
) -> None:
    """Add an event to the person's chronology (codes and ids only, never free text)."""
    now = utcnow()
    db.execute(
        insert(TimelineEntry).values(
            id=uuid.uuid4(),
            person_id=person_id,
            occurred_at=occurred_at or now,
            kind=kind,
            category=category,
            agency_id=agency_id,
            actor_id=actor_id,
            contact_id=contact_id,
            agency_only=agency_only,
            details=details or {},
            created_at=now,
        )
    )


def record_event(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    person_id: uuid.UUID,
    *,
    kind: TimelineKind,
    category: Category,
    action: str,
    details: dict[str, str],
    agency_id: uuid.UUID | None = None,
    audit_details: dict[str, object] | None = None,
) -> None:
    """A change to a person: its timeline entry and its audit row, in the same transaction."""
    add_timeline(
        db,
        person_id=person_id,
        kind=kind,
        category=category,
        agency_id=agency_id or viewer.agency_id,
        actor_id=viewer.user_id,
        details=details,
    )
    recorder.record(
        db,
        actor,
        action,
        target_type="person",
        target_id=person_id,
        details=details if audit_details is None else audit_details,
    )


# --- checks -------------------------------------------------------------------------------


def _check_text(*checks: tuple[str, str, int, str]) -> None:
    for field_name, value, limit, what in checks:
        problem = text_problem(value, max_length=limit, what=what)
        if problem:
            raise PersonError(field_name, problem)


def _check_names(names: Names) -> Names:
    _check_text(
        ("given_name", names.given, 100, "Given name"),
        ("family_name", names.family, 100, "Family name"),
        ("known_as", names.known_as, 100, "Known as"),
        *(("aliases", alias, 100, "Each other name") for alias in names.aliases),
    )
    if not names.given.strip():
        raise PersonError("given_name", "Enter a given name")
    if not names.family.strip():
        raise PersonError("family_name", "Enter a family name")
    if len(names.aliases) > 20:
        raise PersonError("aliases", "Enter 20 other names or fewer")
    return Names(
        names.given.strip(),
        names.family.strip(),
        names.known_as.strip(),
        tuple(a.strip() for a in names.aliases if a.strip()),
    )


def _check_details(details: Details, today: date) -> Details:
    _check_text(
        ("address", details.address, 500, "Address"),
        ("email", details.email, 320, "Email address"),
        ("local_id", details.local_id, 40, "Local ID"),
    )
    problems = [
        (
            "date_of_birth",
            details.date_of_birth and date_of_birth_problem(details.date_of_birth, today),
        ),
        ("nhs_number", details.nhs_number and nhs_number_problem(details.nhs_number)),
        ("pnc_id", details.pnc_id and pnc_problem(details.pnc_id)),
        ("phone", details.phone and phone_problem(details.phone)),
    ]
    for field_name, problem in problems:
        if problem:
            raise PersonError(field_name, problem)
    postcode = ""
    if details.postcode:
        normal = normalise_postcode(details.postcode)
        if normal is None:
            raise PersonError("postcode", "Enter a real postcode, like HX1 1AA")
        postcode = normal
    return Details(
        date_of_birth=details.date_of_birth,
        nhs_number=details.nhs_number.replace(" ", ""),
        pnc_id=details.pnc_id.strip().upper(),
        local_id=details.local_id.strip(),
        phone=details.phone.strip(),
        email=details.email.strip(),
        address=details.address.strip(),
        postcode=postcode,
    )


def check_fields(fields: PersonFields, *, today: date) -> PersonFields:
    """Validate and normalise everything the person form carries (the forms check too; the
    service trusts nothing). Raises :class:`PersonError` on the first problem."""
    return PersonFields(
        names=_check_names(fields.names),
        details=_check_details(fields.details, today),
        sex=fields.sex,
        housing_status=fields.housing_status,
    )


# --- search tokens ----------------------------------------------------------------------


def token_rows(
    blind: BlindIndex, person_id: uuid.UUID, names: Names, details: Details
) -> list[dict[str, Any]]:
    tokens = blind.tokens_for(
        names=(names.given, names.family, names.known_as, *names.aliases),
        date_of_birth=details.date_of_birth.isoformat() if details.date_of_birth else None,
        identifiers={
            TokenKind.NHS_NUMBER: details.nhs_number,
            TokenKind.PNC_ID: details.pnc_id,
            TokenKind.LOCAL_ID: details.local_id,
        },
    )
    return [
        {"person_id": person_id, "kind": kind, "token": token, "key_id": blind.key_id}
        for kind, token in sorted(tokens)
    ]


def _replace_tokens(
    db: Session, blind: BlindIndex, person_id: uuid.UUID, names: Names, details: Details
) -> None:
    db.execute(delete(SearchToken).where(SearchToken.person_id == person_id))
    rows = token_rows(blind, person_id, names, details)
    if rows:
        db.execute(insert(SearchToken), rows)


# --- create and correct -----------------------------------------------------------------


@dataclass(frozen=True)
class NewInvolvement:
    role: FamilyRole
    worker_id: uuid.UUID | None


def create_person(
    db: Session,
    *,
    vault: Vault,
    blind: BlindIndex,
    actor: Actor,
    viewer: Viewer,
    fields: PersonFields,
    involvement: NewInvolvement,
) -> uuid.UUID:
    """Create a person, their data key (first, in the keystore) and the creating agency's
    involvement, with that agency as lead professional."""
    if not viewer.works_with_cases:
        raise NotAllowed("creating a person needs a case role")
    fields = check_fields(fields, today=london_today())
    person_id = uuid.uuid4()
    vault.new_person(person_id)  # key first, then data (DECISIONS §5)
    now = utcnow()
    db.add(
        Person(
            id=person_id,
            names_enc=seal_names(vault, person_id, fields.names),
            details_enc=seal_details(vault, person_id, fields.details),
            sex=fields.sex,
            year_of_birth=fields.details.date_of_birth.year
            if fields.details.date_of_birth
            else None,
            postcode_district=postcode_district(fields.details.postcode),
            housing_status=fields.housing_status,
            created_by_agency_id=viewer.agency_id,
            created_by_id=viewer.user_id,
        )
    )
    db.flush()
    _replace_tokens(db, blind, person_id, fields.names, fields.details)
    involvement_id = uuid.uuid4()
    db.add(
        Involvement(
            id=involvement_id,
            person_id=person_id,
            agency_id=viewer.agency_id,
            worker_id=involvement.worker_id,
            role=involvement.role,
            is_lead=True,
            started_on=london_today(),
        )
    )
    db.flush()
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.PERSON_CREATED,
        category=Category.IDENTITY,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
    )
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.FAMILY_ADDED,
        category=information().agency_category(viewer.agency_kind),
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details={"role": involvement.role.value, "lead": "yes"},
    )
    recorder.record(db, actor, "person.created", target_type="person", target_id=person_id)
    return person_id


def update_person(
    db: Session,
    *,
    vault: Vault,
    blind: BlindIndex,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    fields: PersonFields,
    expected_version: int | None,
) -> list[str]:
    """Correct identity and contact (any involved agency, DECISIONS §2). Raises
    ``StaleVersion`` if someone else saved first. Returns the names of the changed fields."""
    if not may_change_identity(viewer, access):
        raise NotAllowed("identity")
    person = db.get(Person, access.person_id, with_for_update=True)
    if person is None:
        raise LookupError(str(access.person_id))
    check_version(person, expected_version)
    fields = check_fields(fields, today=london_today())
    before = read_fields(vault, person)
    old, new = before.flat(), fields.flat()
    changed = [name for name in new if new[name] != old.get(name)]
    if not changed:
        return []
    housing_changed = before.housing_status != fields.housing_status
    if housing_changed and Category.HOUSING not in viewer.categories:
        raise PersonError("housing_status", "You cannot change housing status")
    revision_id = uuid.uuid4()
    db.add(
        PersonRevision(
            id=revision_id,
            person_id=person.id,
            version=person.version,
            names_enc=seal_names(
                vault, person.id, before.names, table=REVISIONS, row_id=revision_id
            ),
            details_enc=seal_details(
                vault, person.id, before.details, table=REVISIONS, row_id=revision_id
            ),
            sex=before.sex,
            housing_status=before.housing_status,
            replaced_by_id=viewer.user_id,
            replaced_by_agency_id=viewer.agency_id,
            replaced_at=utcnow(),
        )
    )
    person.names_enc = seal_names(vault, person.id, fields.names)
    person.details_enc = seal_details(vault, person.id, fields.details)
    person.sex = fields.sex
    person.housing_status = fields.housing_status
    person.year_of_birth = (
        fields.details.date_of_birth.year if fields.details.date_of_birth else None
    )
    person.postcode_district = postcode_district(fields.details.postcode)
    db.flush()
    _replace_tokens(db, blind, person.id, fields.names, fields.details)
    identity_fields = [name for name in changed if name != "housing_status"]
    if identity_fields:
        add_timeline(
            db,
            person_id=person.id,
            kind=TimelineKind.IDENTITY_CHANGED,
            category=Category.IDENTITY,
            agency_id=viewer.agency_id,
            actor_id=viewer.user_id,
            details={"fields": ",".join(identity_fields)},
        )
    if housing_changed:
        add_timeline(
            db,
            person_id=person.id,
            kind=TimelineKind.HOUSING_CHANGED,
            category=Category.HOUSING,
            agency_id=viewer.agency_id,
            actor_id=viewer.user_id,
            details={"from": before.housing_status.value, "to": fields.housing_status.value},
        )
    recorder.record(
        db,
        actor,
        "person.updated",
        target_type="person",
        target_id=person.id,
        details={"fields": changed},
    )
    return changed


# --- alerts and needs ---------------------------------------------------------------------


def raise_alert(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    alert_type: str,
    detail: str,
) -> uuid.UUID:
    if not may_add(viewer, access):
        raise NotAllowed("alert")
    kind = information().alerts.get(alert_type)
    if kind is None:
        raise PersonError("alert_type", "Select the kind of alert")
    if kind.category not in viewer.categories:
        raise PersonError("alert_type", "You cannot record this kind of alert")
    problem = text_problem(detail, max_length=500, what="Details")
    if problem:
        raise PersonError("detail", problem)
    existing = db.scalar(
        select(PersonAlert.id).where(
            PersonAlert.person_id == access.person_id,
            PersonAlert.alert_type == alert_type,
            PersonAlert.ended_at.is_(None),
        )
    )
    if existing is not None:
        raise PersonError("alert_type", "This alert is already shown for this person")
    alert_id = uuid.uuid4()
    db.add(
        PersonAlert(
            id=alert_id,
            person_id=access.person_id,
            alert_type=alert_type,
            category=kind.category,
            agency_id=viewer.agency_id,
            raised_by_id=viewer.user_id,
            raised_at=utcnow(),
            detail_enc=(
                vault.seal(
                    access.person_id, "person_alerts", "detail_enc", alert_id, detail.strip()
                )
                if detail.strip()
                else None
            ),
        )
    )
    db.flush()
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.ALERT_RAISED,
        category=kind.category,
        action="person.alert_raised",
        details={"alert": alert_type},
    )
    return alert_id


def end_alert(
    db: Session, actor: Actor, viewer: Viewer, access: PersonAccess, alert_id: uuid.UUID
) -> None:
    if not may_add(viewer, access):
        raise NotAllowed("alert")
    alert = db.get(PersonAlert, alert_id, with_for_update=True)
    if (
        alert is None
        or alert.person_id != access.person_id
        or alert.ended_at is not None
        or alert.category not in viewer.categories
    ):
        raise LookupError(str(alert_id))
    alert.ended_at = utcnow()
    alert.ended_by_id = viewer.user_id
    record_event(
        db,
        actor,
        viewer,
        access.person_id,
        kind=TimelineKind.ALERT_ENDED,
        category=alert.category,
        action="person.alert_ended",
        details={"alert": alert.alert_type},
    )


def set_needs(
    db: Session, actor: Actor, viewer: Viewer, access: PersonAccess, needs: set[str]
) -> list[str]:
    """Make the person's current needs (of the categories the viewer may read) exactly
    ``needs``. Returns what changed, as "+code" / "-code"."""
    if not may_add(viewer, access):
        raise NotAllowed("needs")
    known = information().needs
    if any(code not in known for code in needs):
        raise PersonError("needs", "Select needs from the list")
    editable = {code for code, kind in known.items() if kind.category in viewer.categories}
    if needs - editable:
        raise PersonError("needs", "You cannot record one of these needs")
    current = {
        row.need: row
        for row in db.scalars(
            select(PersonNeed).where(
                PersonNeed.person_id == access.person_id, PersonNeed.ended_at.is_(None)
            )
        )
    }
    now = utcnow()
    changes: list[str] = []
    for code in sorted(editable):
        if code in needs and code not in current:
            db.add(
                PersonNeed(
                    id=uuid.uuid4(),
                    person_id=access.person_id,
                    need=code,
                    category=known[code].category,
                    agency_id=viewer.agency_id,
                    recorded_by_id=viewer.user_id,
                    recorded_at=now,
                )
            )
            changes.append(f"+{code}")
        elif code not in needs and code in current:
            current[code].ended_at = now
            changes.append(f"-{code}")
    if changes:
        db.flush()
        # One timeline entry per category, so each is shown only to those who may read it.
        by_category: dict[Category, list[str]] = {}
        for change in changes:
            by_category.setdefault(known[change[1:]].category, []).append(change)
        for category, in_category in sorted(by_category.items()):
            add_timeline(
                db,
                person_id=access.person_id,
                kind=TimelineKind.NEEDS_CHANGED,
                category=category,
                agency_id=viewer.agency_id,
                actor_id=viewer.user_id,
                details={"changes": ",".join(in_category)},
            )
        recorder.record(
            db,
            actor,
            "person.needs_changed",
            target_type="person",
            target_id=access.person_id,
            details={"changes": changes},
        )
    return changes


def record_death(
    db: Session,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    died_on: date,
    expected_version: int | None,
) -> None:
    """A person-level fact: closes every involvement (DECISIONS §1)."""
    if not may_change_identity(viewer, access):
        raise NotAllowed("death")
    if died_on > london_today():
        raise PersonError("died_on", "Date of death must be today or in the past")
    person = db.get(Person, access.person_id, with_for_update=True)
    if person is None:
        raise LookupError(str(access.person_id))
    check_version(person, expected_version)
    if person.died_on is not None:
        raise PersonError("died_on", "A death is already recorded for this person")
    person.died_on = died_on
    db.execute(
        update(Involvement)
        .where(Involvement.person_id == person.id, Involvement.ended_on.is_(None))
        .values(
            ended_on=london_today(),
            closure_reason=ClosureReason.DIED,
            is_lead=False,
            version=Involvement.version + 1,
        )
    )
    # A death stops every clock (DECISIONS §1): open referrals end where they are, and their
    # open tasks are cancelled (nobody is reminded about a person who has died).
    now = utcnow()
    db.execute(
        update(Referral)
        .where(Referral.person_id == person.id, Referral.closed_at.is_(None))
        .values(closed_at=now, updated_at=now, version=Referral.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(Task)
        .where(Task.person_id == person.id, Task.state == TaskState.OPEN)
        .values(
            state=TaskState.CANCELLED,
            closed_at=now,
            closed_by_id=viewer.user_id,
            version=Task.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    stop_schedules(db, person_id=person.id, reason="person_died", now=now, actor_id=viewer.user_id)
    # Open treatment episodes end on the day of death, as deaths in treatment (the partnership
    # figures count them).
    db.execute(
        update(TreatmentEpisode)
        .where(TreatmentEpisode.person_id == person.id, TreatmentEpisode.ended_on.is_(None))
        .values(
            # (never before the episode started, should the death be dated earlier)
            ended_on=case(
                (TreatmentEpisode.started_on > died_on, TreatmentEpisode.started_on),
                else_=died_on,
            ),
            discharge_reason=DischargeReason.DIED,
            ended_by_id=viewer.user_id,
            version=TreatmentEpisode.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.flush()
    add_timeline(
        db,
        person_id=person.id,
        kind=TimelineKind.DIED,
        category=Category.IDENTITY,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        details={"died_on": died_on.isoformat()},
    )
    recorder.record(db, actor, "person.death_recorded", target_type="person", target_id=person.id)
