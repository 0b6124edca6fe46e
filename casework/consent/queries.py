"""Reads of consent, other lawful bases and emergency access.

Consent and basis records are visible to the agency they name (or every agency of the kind they
name), the agency that recorded them, and information governance (``policy.visible_bases`` for
lists, ``policy.may_see_basis`` for one record). Free text is decrypted only for the records a
page shows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import (
    BasisParties,
    Viewer,
    may_see_basis,
    visible_bases,
)
from casework.agencies.models import Agency, AgencyKind
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
from casework.consent.rules import (
    BASIS_EXPIRING_DAYS,
    BasisFacts,
    BasisState,
    Coverage,
    SharingRules,
    coverage_of,
    review_overdue,
    state_of,
)
from casework.family.models import Involvement
from casework.people.models import Person
from casework.people.queries import NotFoundError
from casework.people.records import open_details, open_names
from casework.security.vault import Vault
from casework.users.models import User

TABLE = "sharing_bases"


@dataclass(frozen=True)
class BasisView:
    id: uuid.UUID
    person_id: uuid.UUID
    version: int
    kind: BasisKind
    agency_id: uuid.UUID | None
    agency_kind: AgencyKind | None
    #: The agency's name, or "Every <kind> agency".
    recipient: str
    categories: list[Category]
    state: BasisState
    starts_on: date
    ends_on: date
    recorded_at: datetime
    recorded_by: str
    recorded_by_agency: str
    recorded_by_agency_id: uuid.UUID
    method: ConsentMethod | None
    supersedes_id: uuid.UUID | None
    superseded_at: datetime | None
    withdrawn_on: date | None
    withdrawn_by: str
    review_state: ReviewState | None
    reviewed_at: datetime | None
    reviewed_by: str
    review_overdue: bool
    #: Decrypted only when the page shows them (``detailed``).
    statement: str = ""
    form_reference: str = ""
    withdrawal_reason: str = ""
    review_note: str = ""

    @property
    def is_consent(self) -> bool:
        return self.kind is BasisKind.CONSENT

    @property
    def parties(self) -> BasisParties:
        return BasisParties(self.agency_id, self.agency_kind, self.recorded_by_agency_id)

    @property
    def current(self) -> bool:
        """Still the record of its line (not superseded) and not withdrawn or rejected."""
        return self.state in (
            BasisState.IN_FORCE,
            BasisState.EXPIRING,
            BasisState.EXPIRED,
            BasisState.NOT_YET,
        )

    def names(self, agency_id: uuid.UUID, kind: AgencyKind) -> bool:
        return self.agency_id == agency_id or self.agency_kind == kind


_recorder = aliased(User)
_withdrawer = aliased(User)
_reviewer = aliased(User)
_recorder_agency = aliased(Agency)
_recipient_agency = aliased(Agency)

_BASES = (
    select(
        SharingBasis,
        _recipient_agency.name.label("recipient_name"),
        _recorder.full_name.label("recorded_by"),
        _recorder_agency.name.label("recorded_by_agency"),
        _withdrawer.full_name.label("withdrawn_by"),
        _reviewer.full_name.label("reviewed_by"),
    )
    .outerjoin(_recipient_agency, _recipient_agency.id == SharingBasis.agency_id)
    .join(_recorder, _recorder.id == SharingBasis.recorded_by_id)
    .join(_recorder_agency, _recorder_agency.id == SharingBasis.recorded_by_agency_id)
    .outerjoin(_withdrawer, _withdrawer.id == SharingBasis.withdrawn_by_id)
    .outerjoin(_reviewer, _reviewer.id == SharingBasis.reviewed_by_id)
)


def _categories(db: Session, basis_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Category]]:
    found: dict[uuid.UUID, list[Category]] = defaultdict(list)
    if basis_ids:
        for basis_id, category in db.execute(
            select(SharingBasisCategory.basis_id, SharingBasisCategory.category).where(
                SharingBasisCategory.basis_id.in_(basis_ids)
            )
        ):
            found[basis_id].append(category)
    order = list(Category)
    return {key: sorted(value, key=order.index) for key, value in found.items()}


#: "Every housing provider": how a consent naming every agency of a kind reads.
EVERY_OF_KIND = {
    AgencyKind.TREATMENT: "Every drug and alcohol treatment service",
    AgencyKind.HOUSING: "Every housing provider",
    AgencyKind.SOCIAL_CARE: "Every social care team",
    AgencyKind.POLICE: "Every police force",
    AgencyKind.PROBATION: "Every probation service",
    AgencyKind.PRISON: "Every prison",
    AgencyKind.HEALTH: "Every health service",
    AgencyKind.DOMESTIC_ABUSE: "Every domestic abuse service",
    AgencyKind.VOLUNTARY: "Every voluntary or lived-experience organisation",
    AgencyKind.CARE_HOME: "Every care home",
    AgencyKind.OTHER: "Every other kind of agency",
}


def recipient_label(name: str | None, kind: AgencyKind | None) -> str:
    if name:
        return name
    return EVERY_OF_KIND[kind] if kind else ""


def _view(
    row: Row[*tuple[Any, ...]],
    *,
    categories: list[Category],
    rules: SharingRules,
    today: date,
    now: datetime,
    vault: Vault | None,
) -> BasisView:
    basis: SharingBasis = row[0]
    pid = basis.person_id

    def opened(column: str, blob: bytes | None) -> str:
        if vault is None or blob is None:
            return ""
        return vault.open(pid, TABLE, column, basis.id, blob)

    return BasisView(
        id=basis.id,
        person_id=pid,
        version=basis.version,
        kind=basis.kind,
        agency_id=basis.agency_id,
        agency_kind=basis.agency_kind,
        recipient=recipient_label(row.recipient_name, basis.agency_kind),
        categories=categories,
        state=state_of(
            BasisFacts(
                kind=basis.kind,
                starts_on=basis.starts_on,
                ends_on=basis.ends_on,
                withdrawn=basis.withdrawn_at is not None,
                superseded=basis.superseded_at is not None,
                review_state=basis.review_state,
            ),
            today,
            rules,
        ),
        starts_on=basis.starts_on,
        ends_on=basis.ends_on,
        recorded_at=basis.recorded_at,
        recorded_by=row.recorded_by,
        recorded_by_agency=row.recorded_by_agency,
        recorded_by_agency_id=basis.recorded_by_agency_id,
        method=basis.method,
        supersedes_id=basis.supersedes_id,
        superseded_at=basis.superseded_at,
        withdrawn_on=basis.withdrawn_on,
        withdrawn_by=row.withdrawn_by or "",
        review_state=basis.review_state,
        reviewed_at=basis.reviewed_at,
        reviewed_by=row.reviewed_by or "",
        review_overdue=review_overdue(basis.review_state, basis.recorded_at, now, rules),
        statement=opened("statement_enc", basis.statement_enc),
        form_reference=opened("form_reference_enc", basis.form_reference_enc),
        withdrawal_reason=opened("withdrawal_reason_enc", basis.withdrawal_reason_enc),
        review_note=opened("review_note_enc", basis.review_note_enc),
    )


def _views(
    db: Session,
    rows: Sequence[Row[*tuple[Any, ...]]],
    rules: SharingRules,
    vault: Vault | None,
) -> list[BasisView]:
    today, now = london_today(), utcnow()
    categories = _categories(db, [row[0].id for row in rows])
    return [
        _view(
            row,
            categories=categories.get(row[0].id, []),
            rules=rules,
            today=today,
            now=now,
            vault=vault,
        )
        for row in rows
    ]


def bases_for_person(
    db: Session,
    viewer: Viewer,
    person_id: uuid.UUID,
    rules: SharingRules,
    *,
    vault: Vault | None = None,
) -> list[BasisView]:
    """The person's consent and basis records the viewer may see, newest first. With a vault,
    their free text is decrypted too."""
    rows = db.execute(
        _BASES.where(SharingBasis.person_id == person_id, visible_bases(viewer)).order_by(
            SharingBasis.recorded_at.desc(), SharingBasis.id
        )
    ).all()
    return _views(db, rows, rules, vault)


@dataclass(frozen=True)
class BasisHistory:
    basis: BasisView
    #: The records this one replaced, and the one that replaced it (oldest first).
    line: list[BasisView]


def basis_detail(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    *,
    person_id: uuid.UUID,
    basis_id: uuid.UUID,
    rules: SharingRules,
) -> BasisHistory:
    """One record with its free text, and its line of corrections; 404 unless visible."""
    rows = bases_for_person(db, viewer, person_id, rules)
    by_id = {row.id: row for row in rows}
    if basis_id not in by_id:
        raise NotFoundError(str(basis_id))
    line_ids: list[uuid.UUID] = []
    cursor: uuid.UUID | None = basis_id
    while cursor is not None and cursor in by_id and cursor not in line_ids:
        line_ids.insert(0, cursor)
        cursor = by_id[cursor].supersedes_id
    newer = {row.supersedes_id: row.id for row in rows if row.supersedes_id}
    cursor = newer.get(basis_id)
    while cursor is not None and cursor not in line_ids:
        line_ids.append(cursor)
        cursor = newer.get(cursor)
    detailed = {
        view.id: view
        for view in _views(
            db,
            db.execute(_BASES.where(SharingBasis.id.in_(line_ids))).all(),
            rules,
            vault,
        )
    }
    return BasisHistory(detailed[basis_id], [detailed[i] for i in line_ids])


# --- the professional family at a glance ------------------------------------------------------


@dataclass(frozen=True)
class AgencyCoverage:
    coverage: Coverage
    #: The categories shared with the agency now (in force).
    categories: list[Category] = field(default_factory=list)
    #: The soonest end (review) date among the records in force.
    ends_on: date | None = None


def family_coverage(
    bases: Iterable[BasisView], agencies: Iterable[tuple[uuid.UUID, AgencyKind]]
) -> dict[uuid.UUID, AgencyCoverage]:
    """Each agency's sharing state from the records the viewer can see (DECISIONS: consent and
    basis records are shown only to the agency they name, the agency that recorded them, and
    information governance)."""
    bases = list(bases)
    order = list(Category)
    found = {}
    for agency_id, kind in agencies:
        naming = [b for b in bases if b.names(agency_id, kind)]
        in_force = [b for b in naming if b.state.in_force]
        categories = sorted({c for b in in_force for c in b.categories}, key=order.index)
        found[agency_id] = AgencyCoverage(
            coverage=coverage_of([b.state for b in naming]),
            categories=categories,
            ends_on=min((b.ends_on for b in in_force), default=None),
        )
    return found


# --- what a worker must review ----------------------------------------------------------------


@dataclass(frozen=True)
class DueReview:
    basis: BasisView
    person_id: uuid.UUID
    person_name: str


def due_for_review(
    db: Session, vault: Vault, viewer: Viewer, rules: SharingRules, *, limit: int = 20
) -> list[DueReview]:
    """Consents and bases on the viewer's caseload that end within their expiring window
    (consent: ``expiring_days``; another basis, 30 days long at most: its last week) or have
    ended without renewal, soonest first (those the viewer may see)."""
    today = london_today()
    consent_horizon = today + timedelta(days=rules.expiring_days)
    basis_horizon = today + timedelta(days=BASIS_EXPIRING_DAYS)
    caseload = select(Involvement.person_id).where(
        Involvement.worker_id == viewer.user_id,
        Involvement.agency_id == viewer.agency_id,
        Involvement.ended_on.is_(None),
    )
    rows = db.execute(
        _BASES.where(
            SharingBasis.person_id.in_(caseload),
            visible_bases(viewer),
            SharingBasis.superseded_at.is_(None),
            SharingBasis.withdrawn_at.is_(None),
            or_(
                SharingBasis.review_state.is_(None),
                SharingBasis.review_state != ReviewState.REJECTED,
            ),
            or_(
                and_(
                    SharingBasis.kind == BasisKind.CONSENT, SharingBasis.ends_on <= consent_horizon
                ),
                and_(SharingBasis.kind != BasisKind.CONSENT, SharingBasis.ends_on <= basis_horizon),
            ),
        )
        .order_by(SharingBasis.ends_on, SharingBasis.id)
        .limit(limit)
    ).all()
    views = _views(db, rows, rules, None)
    names = _names(db, vault, {view.person_id for view in views})
    return [DueReview(view, view.person_id, names.get(view.person_id, "")) for view in views]


def _names(db: Session, vault: Vault, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(person_ids)
    if not ids:
        return {}
    vault.prefetch(ids)
    return {
        row.id: open_names(vault, row.id, row.names_enc).full
        for row in db.execute(select(Person.id, Person.names_enc).where(Person.id.in_(ids)))
    }


# --- emergency access -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveEmergency:
    id: uuid.UUID
    person_id: uuid.UUID
    expires_at: datetime
    person_name: str


def active_emergencies(db: Session, vault: Vault, user_id: uuid.UUID) -> list[ActiveEmergency]:
    """The user's open emergency accesses, with the names of the people they open."""
    now = utcnow()
    rows = db.execute(
        select(EmergencyAccess.id, EmergencyAccess.person_id, EmergencyAccess.expires_at)
        .where(
            EmergencyAccess.user_id == user_id,
            EmergencyAccess.ended_at.is_(None),
            EmergencyAccess.expires_at > now,
        )
        .order_by(EmergencyAccess.expires_at)
    ).all()
    names = _names(db, vault, {row.person_id for row in rows})
    return [
        ActiveEmergency(row.id, row.person_id, row.expires_at, names.get(row.person_id, ""))
        for row in rows
    ]


@dataclass(frozen=True)
class EmergencyView:
    id: uuid.UUID
    version: int
    person_id: uuid.UUID
    user_name: str
    agency_name: str
    reason: EmergencyReason
    detail: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    review_state: EmergencyReview
    reviewed_by: str
    reviewed_at: datetime | None
    review_note: str

    @property
    def active(self) -> bool:
        return self.ended_at is None and self.expires_at > utcnow()


_emergency_user = aliased(User)
_emergency_reviewer = aliased(User)
_EMERGENCIES = (
    select(
        EmergencyAccess,
        _emergency_user.full_name.label("user_name"),
        Agency.name.label("agency_name"),
        _emergency_reviewer.full_name.label("reviewed_by"),
    )
    .join(_emergency_user, _emergency_user.id == EmergencyAccess.user_id)
    .join(Agency, Agency.id == EmergencyAccess.agency_id)
    .outerjoin(_emergency_reviewer, _emergency_reviewer.id == EmergencyAccess.reviewed_by_id)
)


def _emergency_view(row: Row[*tuple[Any, ...]], vault: Vault | None) -> EmergencyView:
    found: EmergencyAccess = row[0]

    def opened(column: str, blob: bytes | None) -> str:
        if vault is None or blob is None:
            return ""
        return vault.open(found.person_id, "emergency_accesses", column, found.id, blob)

    return EmergencyView(
        id=found.id,
        version=found.version,
        person_id=found.person_id,
        user_name=row.user_name,
        agency_name=row.agency_name,
        reason=found.reason,
        detail=opened("reason_enc", found.reason_enc),
        started_at=found.started_at,
        expires_at=found.expires_at,
        ended_at=found.ended_at,
        review_state=found.review_state,
        reviewed_by=row.reviewed_by or "",
        reviewed_at=found.reviewed_at,
        review_note=opened("review_note_enc", found.review_note_enc),
    )


def emergencies_for_person(
    db: Session, person_id: uuid.UUID, *, vault: Vault | None = None
) -> list[EmergencyView]:
    rows = db.execute(
        _EMERGENCIES.where(EmergencyAccess.person_id == person_id).order_by(
            EmergencyAccess.started_at.desc()
        )
    ).all()
    return [_emergency_view(row, vault) for row in rows]


def emergency_detail(db: Session, vault: Vault, access_id: uuid.UUID) -> EmergencyView:
    row = db.execute(_EMERGENCIES.where(EmergencyAccess.id == access_id)).first()
    if row is None:
        raise NotFoundError(str(access_id))
    return _emergency_view(row, vault)


# --- information governance's review queue -----------------------------------------------------


@dataclass(frozen=True)
class QueuedBasis:
    basis: BasisView
    person_name: str
    date_of_birth: date | None


@dataclass(frozen=True)
class QueuedEmergency:
    access: EmergencyView
    person_name: str
    date_of_birth: date | None


@dataclass(frozen=True)
class ReviewQueue:
    bases: list[QueuedBasis]
    emergencies: list[QueuedEmergency]

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.bases if item.basis.review_overdue)

    @property
    def people(self) -> set[uuid.UUID]:
        return {item.basis.person_id for item in self.bases} | {
            item.access.person_id for item in self.emergencies
        }


def _identities(
    db: Session, vault: Vault, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, date | None]]:
    ids = list(set(person_ids))
    if not ids:
        return {}
    vault.prefetch(ids)
    found = {}
    for row in db.execute(
        select(Person.id, Person.names_enc, Person.details_enc).where(Person.id.in_(ids))
    ):
        names = open_names(vault, row.id, row.names_enc)
        details = open_details(vault, row.id, row.details_enc)
        found[row.id] = (names.full, details.date_of_birth)
    return found


def review_queue(db: Session, vault: Vault, rules: SharingRules) -> ReviewQueue:
    """Other lawful bases awaiting review (oldest first) and emergency accesses to review."""
    basis_rows = db.execute(
        _BASES.where(SharingBasis.review_state == ReviewState.PENDING).order_by(
            SharingBasis.recorded_at, SharingBasis.id
        )
    ).all()
    bases = _views(db, basis_rows, rules, None)
    emergency_rows = db.execute(
        _EMERGENCIES.where(EmergencyAccess.review_state == EmergencyReview.PENDING).order_by(
            EmergencyAccess.started_at, EmergencyAccess.id
        )
    ).all()
    emergencies = [_emergency_view(row, None) for row in emergency_rows]
    identities = _identities(
        db, vault, [b.person_id for b in bases] + [e.person_id for e in emergencies]
    )
    return ReviewQueue(
        bases=[QueuedBasis(b, *identities.get(b.person_id, ("", None))) for b in bases],
        emergencies=[
            QueuedEmergency(e, *identities.get(e.person_id, ("", None))) for e in emergencies
        ],
    )


def governance_basis(
    db: Session, vault: Vault, basis_id: uuid.UUID, rules: SharingRules
) -> QueuedBasis:
    """One consent or basis record for information governance, with its free text (other
    bases to review; consents to read)."""
    row = db.execute(_BASES.where(SharingBasis.id == basis_id)).first()
    if row is None:
        raise NotFoundError(str(basis_id))
    view = _views(db, [row], rules, vault)[0]
    name, born = _identities(db, vault, [view.person_id]).get(view.person_id, ("", None))
    return QueuedBasis(view, name, born)


def person_identity(db: Session, vault: Vault, person_id: uuid.UUID) -> tuple[str, date | None]:
    """A person's name and date of birth, for information governance's pages; 404 if none."""
    found = _identities(db, vault, [person_id]).get(person_id)
    if found is None:
        raise NotFoundError(str(person_id))
    return found


def visible_to(viewer: Viewer, views: Iterable[BasisView]) -> list[BasisView]:
    """The single-record form of ``visible_bases`` over already-read views (tests compare)."""
    return [view for view in views if may_see_basis(viewer, view.parties)]


def in_force_for(
    views: Iterable[BasisView], agency_id: uuid.UUID, kind: AgencyKind
) -> list[BasisView]:
    return [v for v in views if v.state.in_force and v.names(agency_id, kind)]


@dataclass(frozen=True)
class ReviewCounts:
    bases: int
    overdue: int
    emergencies: int
    open_emergencies: int


def review_counts(db: Session, rules: SharingRules) -> ReviewCounts:
    """The review queue in figures (information governance's home page)."""
    now = utcnow()
    overdue_before = now - timedelta(days=rules.basis_review_days)
    pending = SharingBasis.review_state == ReviewState.PENDING
    waiting = EmergencyAccess.review_state == EmergencyReview.PENDING

    def count(*conditions: Any) -> int:
        return db.scalar(select(func.count()).where(*conditions)) or 0

    return ReviewCounts(
        bases=count(pending),
        overdue=count(pending, SharingBasis.recorded_at < overdue_before),
        emergencies=count(waiting),
        open_emergencies=count(
            EmergencyAccess.ended_at.is_(None), EmergencyAccess.expires_at > now
        ),
    )
