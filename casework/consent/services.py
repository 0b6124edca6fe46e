"""Recording consent and other lawful bases, withdrawing them, reviewing them, and emergency
access. Services flush; the caller's transaction commits.

A recorded basis is never edited: a correction or renewal is a new record that supersedes the
old one (both kept). Withdrawal, an early end and information governance's review are written
once on the record, under a row lock and a version check, so two people acting at once cannot
both succeed. Every change is audited in the same transaction (codes and ids only; the free
text is encrypted under the person's key, bound to its row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import (
    BasisParties,
    PersonAccess,
    Viewer,
    may_change_basis,
    may_open_in_emergency,
    may_record_basis,
    may_review,
    may_see_basis,
    may_withdraw_basis,
)
from casework.agencies.models import Agency, AgencyKind
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import london_today, utcnow
from casework.consent.models import (
    BasisKind,
    ConsentMethod,
    EmergencyAccess,
    EmergencyReason,
    EmergencyReview,
    ReviewState,
    SharingBasis,
    SharingBasisCategory,
)
from casework.consent.rules import OTHER_BASES, SharingRules, add_months
from casework.db import check_version
from casework.people.models import Person
from casework.people.services import NotAllowed, PersonError
from casework.people.validation import text_problem
from casework.security.vault import Vault

TABLE = "sharing_bases"
EMERGENCY_TABLE = "emergency_accesses"
#: How far ahead a consent's review date may be set.
LONGEST_REVIEW_YEARS = 3


@dataclass(frozen=True)
class Recipient:
    """The receiving agency, or every agency of a kind (exactly one of the two)."""

    agency_id: uuid.UUID | None = None
    agency_kind: AgencyKind | None = None


@dataclass(frozen=True)
class ConsentInput:
    recipient: Recipient
    categories: frozenset[Category]
    purpose: str
    given_on: date | None
    method: ConsentMethod | None
    form_reference: str = ""
    review_on: date | None = None


@dataclass(frozen=True)
class BasisInput:
    kind: BasisKind | None
    recipient: Recipient
    categories: frozenset[Category]
    justification: str
    ends_on: date | None = None


# --- checks -----------------------------------------------------------------------------------


def _check_recipient(db: Session, recipient: Recipient) -> None:
    if (recipient.agency_id is None) == (recipient.agency_kind is None):
        raise PersonError("share_with", "Select the agency, or the kind of agency, to share with")
    if recipient.agency_id is not None:
        agency = db.get(Agency, recipient.agency_id)
        if agency is None or not agency.active:
            raise PersonError("share_with", "Select an agency from the list")


def _check_categories(categories: Iterable[Category]) -> frozenset[Category]:
    chosen = frozenset(categories)
    if not chosen:
        raise PersonError("categories", "Select at least one kind of information")
    return chosen


def _check_text(
    field: str, value: str, limit: int, what: str, *, required: bool, missing: str = ""
) -> str:
    text = value.strip()
    if required and not text:
        raise PersonError(field, missing or f"Enter {what.lower()}")
    problem = text_problem(text, max_length=limit, what=what)
    if problem:
        raise PersonError(field, problem)
    return text


def _parties(basis: SharingBasis) -> BasisParties:
    return BasisParties(basis.agency_id, basis.agency_kind, basis.recorded_by_agency_id)


def _locked_basis(db: Session, access: PersonAccess, basis_id: uuid.UUID) -> SharingBasis:
    basis = db.get(SharingBasis, basis_id, with_for_update=True)
    if basis is None or basis.person_id != access.person_id:
        raise LookupError(str(basis_id))
    return basis


def _audit(
    db: Session,
    actor: Actor,
    action: str,
    basis: SharingBasis,
    categories: Iterable[Category],
    **details: str,
) -> None:
    recorder.record(
        db,
        actor,
        action,
        target_type="person",
        target_id=basis.person_id,
        categories=categories,
        details={
            "basis_id": str(basis.id),
            "kind": basis.kind.value,
            "agency_id": str(basis.agency_id) if basis.agency_id else "",
            "agency_kind": basis.agency_kind.value if basis.agency_kind else "",
            **details,
        },
    )


def _insert(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    access: PersonAccess,
    *,
    kind: BasisKind,
    recipient: Recipient,
    categories: frozenset[Category],
    statement: str,
    starts_on: date,
    ends_on: date,
    method: ConsentMethod | None = None,
    form_reference: str = "",
    supersedes: SharingBasis | None = None,
) -> SharingBasis:
    basis_id = uuid.uuid4()
    pid = access.person_id
    basis = SharingBasis(
        id=basis_id,
        person_id=pid,
        kind=kind,
        agency_id=recipient.agency_id,
        agency_kind=recipient.agency_kind,
        statement_enc=vault.seal(pid, TABLE, "statement_enc", basis_id, statement),
        method=method,
        form_reference_enc=(
            vault.seal(pid, TABLE, "form_reference_enc", basis_id, form_reference)
            if form_reference
            else None
        ),
        starts_on=starts_on,
        ends_on=ends_on,
        recorded_at=utcnow(),
        recorded_by_id=viewer.user_id,
        recorded_by_agency_id=viewer.agency_id,
        supersedes_id=supersedes.id if supersedes else None,
        review_state=None if kind is BasisKind.CONSENT else ReviewState.PENDING,
    )
    db.add(basis)
    db.flush()
    db.execute(
        insert(SharingBasisCategory),
        [{"basis_id": basis_id, "category": category} for category in sorted(categories)],
    )
    return basis


# --- consent ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Consent:
    recipient: Recipient
    categories: frozenset[Category]
    purpose: str
    given_on: date
    method: ConsentMethod
    form_reference: str
    review_on: date


def _check_consent(db: Session, data: ConsentInput, rules: SharingRules) -> _Consent:
    today = london_today()
    _check_recipient(db, data.recipient)
    categories = _check_categories(data.categories)
    purpose = _check_text("purpose", data.purpose, 500, "The purpose", required=True)
    if data.given_on is None:
        raise PersonError("given_on", "Enter the date consent was given")
    if data.given_on > today:
        raise PersonError("given_on", "The date consent was given must be today or in the past")
    if data.given_on < add_months(today, -12 * LONGEST_REVIEW_YEARS):
        raise PersonError(
            "given_on",
            f"The date consent was given must be within the last {LONGEST_REVIEW_YEARS} years: "
            "record consent again with the person",
        )
    if data.method is None:
        raise PersonError("method", "Select how consent was given")
    reference = _check_text(
        "form_reference",
        data.form_reference,
        100,
        "The reference of the signed form",
        required=data.method is ConsentMethod.WRITTEN,
    )
    review_on = data.review_on or rules.default_review_date(data.given_on)
    if review_on < today:
        raise PersonError("review_on", "The review date must be today or in the future")
    if review_on <= data.given_on:
        raise PersonError("review_on", "The review date must be after the date consent was given")
    if review_on > add_months(today, 12 * LONGEST_REVIEW_YEARS):
        raise PersonError(
            "review_on", f"The review date must be within {LONGEST_REVIEW_YEARS} years"
        )
    return _Consent(
        data.recipient, categories, purpose, data.given_on, data.method, reference, review_on
    )


def _insert_consent(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    access: PersonAccess,
    checked: _Consent,
    *,
    supersedes: SharingBasis | None = None,
) -> SharingBasis:
    return _insert(
        db,
        vault,
        viewer,
        access,
        kind=BasisKind.CONSENT,
        recipient=checked.recipient,
        categories=checked.categories,
        statement=checked.purpose,
        starts_on=checked.given_on,
        ends_on=checked.review_on,
        method=checked.method,
        form_reference=checked.form_reference,
        supersedes=supersedes,
    )


def record_consent(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    data: ConsentInput,
    rules: SharingRules,
) -> uuid.UUID:
    """Record the person's consent to share chosen categories with an agency (or a kind)."""
    if not may_record_basis(viewer, access):
        raise NotAllowed("consent")
    checked = _check_consent(db, data, rules)
    basis = _insert_consent(db, vault, viewer, access, checked)
    _audit(db, actor, "consent.recorded", basis, checked.categories)
    return basis.id


def supersede_consent(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    basis_id: uuid.UUID,
    data: ConsentInput,
    expected_version: int | None,
    rules: SharingRules,
) -> uuid.UUID:
    """Correct or renew a consent: a new record replaces it; the old one is kept, superseded.
    Raises ``StaleVersion`` if someone else changed it first."""
    old = _locked_basis(db, access, basis_id)
    if not may_see_basis(viewer, _parties(old)):
        raise LookupError(str(basis_id))
    if old.kind is not BasisKind.CONSENT or not may_change_basis(viewer, _parties(old), access):
        raise NotAllowed("consent")
    check_version(old, expected_version)
    if old.superseded_at is not None or old.withdrawn_at is not None:
        raise PersonError(
            "purpose",
            "This consent has been withdrawn or replaced: record a new consent instead",
        )
    checked = _check_consent(db, data, rules)
    new = _insert_consent(db, vault, viewer, access, checked, supersedes=old)
    old.superseded_at = utcnow()
    db.flush()
    _audit(db, actor, "consent.superseded", new, checked.categories, replaces=str(old.id))
    return new.id


# --- other lawful bases -------------------------------------------------------------------------


def record_basis(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    data: BasisInput,
    rules: SharingRules,
) -> uuid.UUID:
    """Record another lawful basis (vital interests, safeguarding, legal obligation): in force
    at once, until its end date or until information governance rejects it."""
    if not may_record_basis(viewer, access):
        raise NotAllowed("basis")
    today = london_today()
    kind = data.kind
    if kind is None or kind not in OTHER_BASES:
        raise PersonError("kind", "Select the lawful basis")
    _check_recipient(db, data.recipient)
    categories = _check_categories(data.categories)
    justification = _check_text(
        "justification", data.justification, 2000, "The justification", required=True
    )
    ends_on = data.ends_on or rules.default_end_date(today)
    if ends_on < today:
        raise PersonError("ends_on", "The end date must be today or in the future")
    if ends_on > rules.latest_end_date(today):
        raise PersonError(
            "ends_on",
            f"The end date must be within {rules.basis_max_days} days: record a new basis "
            "if it is still needed then",
        )
    basis = _insert(
        db,
        vault,
        viewer,
        access,
        kind=kind,
        recipient=data.recipient,
        categories=categories,
        statement=justification,
        starts_on=today,
        ends_on=ends_on,
    )
    _audit(db, actor, "basis.recorded", basis, categories)
    return basis.id


def record_pathway_basis(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    person_id: uuid.UUID,
    *,
    agency_id: uuid.UUID,
    categories: frozenset[Category],
    statement: str,
    rules: SharingRules,
    referral_id: uuid.UUID,
) -> uuid.UUID:
    """A legal-obligation basis that a pathway provides (a required assessment): recorded with
    the referral that relies on it, by the user making the referral, for the usual length, and
    queued for information governance's review like any other basis."""
    today = london_today()
    basis = _insert(
        db,
        vault,
        viewer,
        PersonAccess(person_id=person_id, involved=True, creator=False),
        kind=BasisKind.LEGAL_OBLIGATION,
        recipient=Recipient(agency_id=agency_id),
        categories=categories,
        statement=statement,
        starts_on=today,
        ends_on=rules.default_end_date(today),
    )
    _audit(db, actor, "basis.recorded", basis, categories, referral_id=str(referral_id))
    return basis.id


def withdraw(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access: PersonAccess,
    *,
    basis_id: uuid.UUID,
    on: date | None,
    reason: str,
    expected_version: int | None,
) -> None:
    """Withdraw consent (or end another basis early). Takes effect at once: the named agency's
    very next request no longer sees what it covered."""
    basis = _locked_basis(db, access, basis_id)
    parties = _parties(basis)
    if not may_see_basis(viewer, parties):
        raise LookupError(str(basis_id))
    if not may_withdraw_basis(viewer, parties, access):
        raise NotAllowed("withdraw")
    check_version(basis, expected_version)
    if basis.withdrawn_at is not None or basis.superseded_at is not None:
        raise PersonError("reason", "This has already been withdrawn or replaced")
    today = london_today()
    if on is None:
        raise PersonError("withdrawn_on", "Enter the date")
    if on > today:
        raise PersonError("withdrawn_on", "The date must be today or in the past")
    if on < basis.starts_on:
        raise PersonError("withdrawn_on", "The date must be on or after the date it started")
    text = _check_text(
        "reason",
        reason,
        500,
        "The reason",
        required=True,
        missing="Enter why consent was withdrawn"
        if basis.kind is BasisKind.CONSENT
        else "Enter why the lawful basis is no longer needed",
    )
    basis.withdrawn_on = on
    basis.withdrawn_at = utcnow()
    basis.withdrawn_by_id = viewer.user_id
    basis.withdrawal_reason_enc = vault.seal(
        basis.person_id, TABLE, "withdrawal_reason_enc", basis.id, text
    )
    db.flush()
    categories = _categories_of(db, basis.id)
    action = "consent.withdrawn" if basis.kind is BasisKind.CONSENT else "basis.ended"
    _audit(db, actor, action, basis, categories)


def _categories_of(db: Session, basis_id: uuid.UUID) -> list[Category]:
    return list(
        db.scalars(
            select(SharingBasisCategory.category).where(SharingBasisCategory.basis_id == basis_id)
        )
    )


def review_basis(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    basis_id: uuid.UUID,
    *,
    approve: bool | None,
    note: str,
    expected_version: int | None,
) -> None:
    """Information governance approves or rejects another lawful basis. A rejection stops the
    sharing at once; either way the decision and who made it are kept."""
    if not may_review(viewer):
        raise NotAllowed("review")
    basis = db.get(SharingBasis, basis_id, with_for_update=True)
    if basis is None or basis.kind is BasisKind.CONSENT:
        raise LookupError(str(basis_id))
    approved = _decision(
        basis,
        expected_version,
        pending=basis.review_state is ReviewState.PENDING,
        decision=approve,
        unanswered="Select whether the basis is approved",
    )
    text = _check_text("note", note, 1000, "The reason for rejecting it", required=not approved)
    basis.review_state = ReviewState.APPROVED if approved else ReviewState.REJECTED
    _reviewed(db, vault, viewer, basis, TABLE, text)
    _audit(
        db,
        actor,
        "basis.approved" if approve else "basis.rejected",
        basis,
        _categories_of(db, basis.id),
    )


def _decision(
    record: SharingBasis | EmergencyAccess,
    expected_version: int | None,
    *,
    pending: bool,
    decision: bool | None,
    unanswered: str,
) -> bool:
    """The checks every review makes before it records anything."""
    check_version(record, expected_version)
    if not pending:
        raise PersonError("decision", "This has already been reviewed")
    if decision is None:
        raise PersonError("decision", unanswered)
    return decision


def _reviewed(  # noqa: PLR0917 - a private helper of the two reviews
    db: Session,
    vault: Vault,
    viewer: Viewer,
    record: SharingBasis | EmergencyAccess,
    table: str,
    note: str,
) -> None:
    record.reviewed_at = utcnow()
    record.reviewed_by_id = viewer.user_id
    if note:
        record.review_note_enc = vault.seal(
            record.person_id, table, "review_note_enc", record.id, note
        )
    db.flush()


# --- emergency access ---------------------------------------------------------------------------


def start_emergency(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    *,
    person_id: uuid.UUID,
    access: PersonAccess | None,
    reason: EmergencyReason | None,
    detail: str,
    rules: SharingRules,
) -> uuid.UUID:
    """Open a person's record in an emergency, for a few hours, after giving a reason. The
    event goes to information governance's review queue."""
    if not may_open_in_emergency(viewer, access):
        raise NotAllowed("emergency")
    person = db.get(Person, person_id)
    if person is None:
        raise LookupError(str(person_id))
    if reason is None:
        raise PersonError("reason", "Select the kind of emergency")
    text = _check_text("detail", detail, 500, "What the emergency is", required=True)
    now = utcnow()
    access_id = uuid.uuid4()
    db.add(
        EmergencyAccess(
            id=access_id,
            person_id=person_id,
            user_id=viewer.user_id,
            agency_id=viewer.agency_id,
            reason=reason,
            reason_enc=vault.seal(person_id, EMERGENCY_TABLE, "reason_enc", access_id, text),
            started_at=now,
            expires_at=now + timedelta(hours=rules.break_glass_hours),
            review_state=EmergencyReview.PENDING,
        )
    )
    db.flush()
    recorder.record(
        db,
        actor,
        "emergency.started",
        target_type="person",
        target_id=person_id,
        emergency_access_id=access_id,
        details={"reason": reason.value, "hours": str(rules.break_glass_hours)},
    )
    return access_id


def end_emergency(db: Session, actor: Actor, viewer: Viewer, access_id: uuid.UUID) -> uuid.UUID:
    """The user ends their own emergency access early. Returns the person's id."""
    found = db.get(EmergencyAccess, access_id, with_for_update=True)
    now = utcnow()
    if found is None or found.user_id != viewer.user_id:
        raise LookupError(str(access_id))
    if found.ended_at is None and found.expires_at > now:
        found.ended_at = now
        db.flush()
        recorder.record(
            db,
            actor,
            "emergency.ended",
            target_type="person",
            target_id=found.person_id,
            emergency_access_id=found.id,
        )
    return found.person_id


def review_emergency(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    access_id: uuid.UUID,
    *,
    appropriate: bool | None,
    note: str,
    expected_version: int | None,
) -> None:
    """Information governance records whether an emergency access was appropriate."""
    if not may_review(viewer):
        raise NotAllowed("review")
    found = db.get(EmergencyAccess, access_id, with_for_update=True)
    if found is None:
        raise LookupError(str(access_id))
    fine = _decision(
        found,
        expected_version,
        pending=found.review_state is EmergencyReview.PENDING,
        decision=appropriate,
        unanswered="Select whether the access was appropriate",
    )
    text = _check_text("note", note, 1000, "What the concern is", required=not fine)
    found.review_state = EmergencyReview.APPROPRIATE if fine else EmergencyReview.CONCERN
    _reviewed(db, vault, viewer, found, EMERGENCY_TABLE, text)
    recorder.record(
        db,
        actor,
        "emergency.reviewed",
        target_type="person",
        target_id=found.person_id,
        emergency_access_id=found.id,
        details={"decision": found.review_state.value},
    )
