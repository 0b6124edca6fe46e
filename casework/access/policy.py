"""The access policy: may this user do this to this category of this person's information now?

One place decides (DECISIONS §3), in two forms that must agree (tests check they do): Python
predicates for a single record and SQL filters for lists.

* **What the viewer's agency is to a person** (:class:`PersonAccess`, from
  :func:`person_access` for one person or :func:`accesses` for many): whether it is involved
  (an open involvement), whether it created the record, whether this user holds an active
  emergency access, and — the heart of rule 2 — the categories of *other* agencies' items it
  may read now (``shared``): identity and contact when involved or the creator; whatever
  consent or another lawful basis **in force today** names the agency (or its kind) for, when
  involved; everything during an emergency access.
* **A person is visible** when the viewer has a case role and its agency is involved or created
  the record, or the user holds an active emergency access. Otherwise the person answers 404.
* **An item** (an involvement, contact, alert, need, note, timeline entry, ...) recorded by
  agency R with category C and a "my agency only" mark is readable when the viewer's roles may
  read C, and either R is the viewer's agency (rule 1), or the item is not "my agency only" and
  C is in ``shared`` (rules 2 and 3). :func:`may_read` answers for one item; :func:`readable`
  (one person) and :func:`readable_across` (many people) are the same rule as SQL filters.

"Now" is the injectable clock (``casework.clock``), and "today" is the date in Europe/London:
withdrawal, expiry and the end of an emergency access take effect on the very next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from casework.access.categories import ALL_CATEGORIES, Category, categories_for
from casework.access.roles import CASE_ROLES, Role
from casework.agencies.models import AgencyKind
from casework.clock import to_london, utcnow
from casework.consent.models import (
    EmergencyAccess,
    ReviewState,
    SharingBasis,
    SharingBasisCategory,
)
from casework.family.models import Involvement
from casework.pathways.models import Referral
from casework.people.models import Person
from casework.rights.models import InformationRequest, RequestState

#: Roles that may open a record in an emergency (DECISIONS §3 rule 3).
EMERGENCY_ROLES = frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER})
#: Roles that may record consent or another lawful basis for their involved agency.
BASIS_ROLES = EMERGENCY_ROLES


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user of one agency with one or more roles."""

    user_id: uuid.UUID
    agency_id: uuid.UUID
    agency_kind: AgencyKind
    roles: frozenset[Role]

    @property
    def categories(self) -> frozenset[Category]:
        return categories_for(self.roles)

    @property
    def works_with_cases(self) -> bool:
        return bool(self.roles & CASE_ROLES)

    @property
    def governance(self) -> bool:
        """Information governance: consent and basis records, audit and review queues."""
        return Role.INFORMATION_GOVERNANCE in self.roles


@dataclass(frozen=True)
class PersonAccess:
    """What the viewer's agency (and, for emergency access, the user) is to one person."""

    person_id: uuid.UUID
    #: The agency has an open involvement with the person.
    involved: bool
    #: The agency created the record (it keeps reading identity under rule 1).
    creator: bool
    #: Categories of other agencies' items the viewer may read now (rules 2 and 3).
    shared: frozenset[Category] = field(default=frozenset())
    #: The user's active emergency access to this person, and when it ends.
    emergency_access_id: uuid.UUID | None = None
    emergency_until: datetime | None = None
    #: Processing is restricted (UK GDPR Art 18): the record is read-only for everyone.
    restricted: bool = False
    #: Rule 4: the open information-rights request the (information-governance) viewer
    #: handles for this person; every item is readable for it, each read audited.
    rights_request_id: uuid.UUID | None = None

    @property
    def emergency(self) -> bool:
        return self.emergency_access_id is not None

    @property
    def visible(self) -> bool:
        return self.involved or self.creator or self.emergency or self.for_rights_request

    @property
    def for_rights_request(self) -> bool:
        return self.rights_request_id is not None

    @property
    def writable(self) -> bool:
        """Changes are allowed at all (not restricted; never for a rights request alone)."""
        return not self.restricted


def shared_categories(
    *, involved: bool, creator: bool, covered: Iterable[Category], emergency: bool
) -> frozenset[Category]:
    """Rule 2 and rule 3 as one set: the categories of other agencies' items readable now."""
    if emergency:
        return ALL_CATEGORIES
    shared: set[Category] = set()
    if involved or creator:
        shared.add(Category.IDENTITY)
    if involved:
        shared.update(covered)
    return frozenset(shared)


def _live(person: Any) -> list[ColumnElement[bool]]:
    """A person record that is neither erased (a tombstone) nor merged into another."""
    return [person.erasure_state.is_(None), person.merged_into_id.is_(None)]


# --- consent and other lawful bases in force ------------------------------------------------


def bases_in_force(
    person_col: Any, agency_id: Any, agency_kind: Any, today: Any
) -> list[ColumnElement[bool]]:
    """Conditions on ``SharingBasis``: in force on ``today`` for that person and agency.

    Consent: given on or before today, not withdrawn, not superseded, and today on or before
    its review date. Another basis: from when it was recorded until its end date, unless ended
    early, superseded or rejected by information governance.
    """
    return [
        SharingBasis.person_id == person_col,
        or_(SharingBasis.agency_id == agency_id, SharingBasis.agency_kind == agency_kind),
        SharingBasis.starts_on <= today,
        SharingBasis.ends_on >= today,
        SharingBasis.withdrawn_at.is_(None),
        SharingBasis.superseded_at.is_(None),
        or_(
            SharingBasis.review_state.is_(None),
            SharingBasis.review_state != ReviewState.REJECTED,
        ),
    ]


def _emergency_active(person_col: Any, user_id: Any, now: Any) -> list[ColumnElement[bool]]:
    return [
        EmergencyAccess.person_id == person_col,
        EmergencyAccess.user_id == user_id,
        EmergencyAccess.ended_at.is_(None),
        EmergencyAccess.expires_at > now,
    ]


def _open_involvement(person_col: Any, agency_id: Any) -> ColumnElement[bool]:
    """ "Involved" (DECISIONS §3): an open involvement, or an open referral (waiting for an
    answer or accepted) addressed to the agency."""
    return or_(
        exists().where(
            Involvement.person_id == person_col,
            Involvement.agency_id == agency_id,
            Involvement.ended_on.is_(None),
        ),
        # An alias: with ``person_col`` on ``referrals`` itself, the bare table would match
        # itself in the subquery (any open referral to the agency, whoever it is about).
        exists().where(
            _OPEN_REFERRAL.person_id == person_col,
            _OPEN_REFERRAL.to_agency_id == agency_id,
            _OPEN_REFERRAL.closed_at.is_(None),
        ),
    )


_OPEN_REFERRAL = aliased(Referral)


def _latest_emergency(column: Any) -> Any:
    """The user's open emergency access to the person (latest to end), as a scalar."""
    return (
        select(column)
        .where(*_emergency_active(Person.id, bindparam("user_id"), bindparam("now")))
        .order_by(EmergencyAccess.expires_at.desc())
        .limit(1)
        .scalar_subquery()
    )


#: One row per person asked about: created by the agency, involved, and the user's open
#: emergency access (built once; values are bind parameters).
_ACCESS_OF = select(
    Person.id,
    Person.created_by_agency_id == bindparam("agency_id"),
    _open_involvement(Person.id, bindparam("agency_id")),
    _latest_emergency(EmergencyAccess.id),
    _latest_emergency(EmergencyAccess.expires_at),
    Person.restricted_at.is_not(None),
).where(Person.id.in_(bindparam("person_ids", expanding=True)), *_live(Person))

#: The categories in force for the agency, per person it is involved with.
_COVERED_OF = (
    select(SharingBasis.person_id, SharingBasisCategory.category)
    .join(SharingBasisCategory, SharingBasisCategory.basis_id == SharingBasis.id)
    .where(
        *bases_in_force(
            SharingBasis.person_id,
            bindparam("agency_id"),
            bindparam("agency_kind"),
            bindparam("today"),
        ),
        SharingBasis.person_id.in_(bindparam("person_ids", expanding=True)),
    )
    .distinct()
)


def _today(now: datetime) -> date:
    return to_london(now).date()


def person_access(
    db: Session, viewer: Viewer, person_id: uuid.UUID, *, now: datetime | None = None
) -> PersonAccess | None:
    """The single-record form of :func:`visible_people`: None when the person is not visible
    (or does not exist) — the caller answers 404 either way."""
    return accesses(db, viewer, [person_id], now=now).get(person_id)


def accesses(
    db: Session,
    viewer: Viewer,
    person_ids: Iterable[uuid.UUID],
    *,
    now: datetime | None = None,
) -> dict[uuid.UUID, PersonAccess]:
    """What the viewer is to each of these people, in two queries (the visible ones only)."""
    ids = list(dict.fromkeys(person_ids))
    if not ids or not viewer.works_with_cases:
        return {}
    now = now or utcnow()
    conn = db.connection()
    params = {
        "person_ids": ids,
        "agency_id": viewer.agency_id,
        "agency_kind": viewer.agency_kind,
        "user_id": viewer.user_id,
        "now": now,
        "today": _today(now),
    }
    rows = [row for row in conn.execute(_ACCESS_OF, params) if row[1] or row[2] or row[3]]
    flags = {row[0]: (bool(row[1]), bool(row[2]), row[3], row[4]) for row in rows}
    restricted = {row[0] for row in rows if row[5]}
    involved = [pid for pid, (_creator, inv, emergency, _until) in flags.items() if inv]
    covered: dict[uuid.UUID, set[Category]] = {}
    if involved:
        for pid, category in conn.execute(_COVERED_OF, {**params, "person_ids": involved}):
            covered.setdefault(pid, set()).add(category)
    return {
        pid: PersonAccess(
            person_id=pid,
            involved=inv,
            creator=creator,
            shared=shared_categories(
                involved=inv,
                creator=creator,
                covered=covered.get(pid, ()),
                emergency=emergency is not None,
            ),
            emergency_access_id=emergency,
            emergency_until=until,
            restricted=pid in restricted,
        )
        for pid, (creator, inv, emergency, until) in flags.items()
    }


def covered_for(
    db: Session,
    person_id: uuid.UUID,
    *,
    agency_id: uuid.UUID,
    agency_kind: AgencyKind,
    now: datetime | None = None,
) -> frozenset[Category]:
    """The categories that consent or another basis in force now lets ``agency_id`` read of
    this person's information recorded by others (before a referral shares anything)."""
    now = now or utcnow()
    rows = db.connection().execute(
        _COVERED_OF,
        {
            "person_ids": [person_id],
            "agency_id": agency_id,
            "agency_kind": agency_kind,
            "today": _today(now),
        },
    )
    return frozenset(category for _pid, category in rows)


def visible_people(viewer: Viewer, *, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL filter on ``Person``: the people this viewer may see (the list form of
    :func:`person_access`)."""
    if not viewer.works_with_cases:
        return false()
    return and_(
        *_live(Person),
        or_(
            Person.created_by_agency_id == viewer.agency_id,
            _open_involvement(Person.id, viewer.agency_id),
            exists().where(*_emergency_active(Person.id, viewer.user_id, now or utcnow())),
        ),
    )


# --- items ------------------------------------------------------------------------------------


def may_read(
    viewer: Viewer,
    access: PersonAccess,
    *,
    agency_id: uuid.UUID,
    category: Category,
    agency_only: bool = False,
) -> bool:
    """May the viewer read one item of this (visible) person's information?"""
    if access.for_rights_request:
        return True  # rule 4: every item, for the request (the caller audits each read)
    if category not in viewer.categories:
        return False
    if agency_id == viewer.agency_id:
        return True
    return not agency_only and category in access.shared


def may_read_involvement(
    viewer: Viewer,
    access: PersonAccess,
    *,
    agency_id: uuid.UUID,
    recorded_by_agency_id: uuid.UUID | None,
    category: Category,
) -> bool:
    """An involvement is a fact about the involved agency, but the agency that added it (a lead
    professional adding a partner) recorded it: each reads it under rule 1."""
    return may_read(viewer, access, agency_id=agency_id, category=category) or (
        recorded_by_agency_id is not None
        and may_read(viewer, access, agency_id=recorded_by_agency_id, category=category)
    )


def readable(
    *,
    agency_col: QueryableAttribute[uuid.UUID],
    category_col: QueryableAttribute[Category],
    agency_only_col: QueryableAttribute[bool] | None = None,
) -> ColumnElement[bool]:
    """SQL filter: the items of one person the viewer may read (the same rule as
    :func:`may_read`). Its values are bind parameters, so a statement using it is built once
    and reused: pass :func:`readable_params` when executing."""
    shared: ColumnElement[bool] = true() if agency_only_col is None else agency_only_col.is_(False)
    return and_(
        category_col.in_(bindparam("readable_categories", expanding=True)),
        or_(
            agency_col == bindparam("viewer_agency_id"),
            and_(shared, category_col.in_(bindparam("shared_categories", expanding=True))),
        ),
    )


def readable_params(viewer: Viewer, access: PersonAccess) -> dict[str, object]:
    # An empty IN list matches nothing on every database (SQLAlchemy renders it safely).
    return {
        "readable_categories": sorted(viewer.categories),
        "viewer_agency_id": viewer.agency_id,
        "shared_categories": sorted(access.shared),
    }


def readable_across(
    *,
    person_col: ColumnElement[uuid.UUID] | QueryableAttribute[uuid.UUID],
    agency_col: ColumnElement[uuid.UUID] | QueryableAttribute[uuid.UUID],
    category_col: ColumnElement[Category] | QueryableAttribute[Category],
    agency_only_col: ColumnElement[bool] | QueryableAttribute[bool] | None = None,
) -> ColumnElement[bool]:
    """:func:`readable` for items of many people, as one set-based SQL filter (lists, exports,
    reports): the person must be visible, and the shared categories are worked out per row by
    correlated subqueries instead of per person in Python. Pass
    :func:`readable_across_params`. Built once per statement; its values are bind parameters.
    """
    agency: BindParameter[uuid.UUID] = bindparam("viewer_agency_id")
    involved = _open_involvement(person_col, agency)
    # Erasure and merging end a record's involvements, referrals and emergency accesses, so
    # only the creator's reading needs the record to be live.
    creator = exists().where(
        Person.id == person_col, Person.created_by_agency_id == agency, *_live(Person)
    )
    emergency = exists().where(
        *_emergency_active(person_col, bindparam("viewer_user_id"), bindparam("now"))
    )
    covered = exists().where(
        SharingBasisCategory.basis_id == SharingBasis.id,
        SharingBasisCategory.category == category_col,
        *bases_in_force(person_col, agency, bindparam("viewer_agency_kind"), bindparam("today")),
    )
    shared: ColumnElement[bool] = true() if agency_only_col is None else agency_only_col.is_(False)
    return and_(
        category_col.in_(bindparam("readable_categories", expanding=True)),
        or_(involved, creator, emergency),
        or_(
            agency_col == agency,
            and_(
                shared,
                # The person is visible (above): identity is shared whether by involvement, as
                # the creator or in an emergency.
                or_(emergency, category_col == Category.IDENTITY, and_(involved, covered)),
            ),
        ),
    )


def readable_for_figures(
    viewer: Viewer,
    *,
    person_col: Any,
    agency_col: Any,
    category_col: Any,
    now: datetime,
) -> ColumnElement[bool]:
    """Rules 1 and 2 as one set-based filter for **aggregate figures** (reports, DECISIONS §3):
    the agency's own items, whether or not the case is still open (a count is not a view of
    the person), and other agencies' items the agency may read now — identity while it is
    involved or created the record, any other category while it is involved and a basis in
    force names it (or its kind) for that category. Emergency access never counts.

    The same rule as :func:`readable_across` without rule 3, and without the person's
    visibility for the agency's own items. The cheap test comes first: correlated subqueries
    run only for other agencies' rows (measured faster than hashing the agency's whole set of
    involved and covered people, which costs a constant few hundred ms on a large partnership).
    """
    agency = viewer.agency_id
    today = _today(now)
    involved = _open_involvement(person_col, agency)
    created = exists().where(Person.id == person_col, Person.created_by_agency_id == agency)
    covered = exists().where(
        SharingBasisCategory.basis_id == SharingBasis.id,
        SharingBasisCategory.category == category_col,
        *bases_in_force(person_col, agency, viewer.agency_kind, today),
    )
    shared = or_(
        and_(category_col == Category.IDENTITY, or_(involved, created)),
        and_(involved, covered),
    )
    return and_(category_col.in_(sorted(viewer.categories)), or_(agency_col == agency, shared))


def readable_across_params(viewer: Viewer, *, now: datetime | None = None) -> dict[str, object]:
    now = now or utcnow()
    return {
        "readable_categories": sorted(viewer.categories),
        "viewer_agency_id": viewer.agency_id,
        "viewer_agency_kind": viewer.agency_kind,
        "viewer_user_id": viewer.user_id,
        "now": now,
        "today": _today(now),
    }


# --- actions ------------------------------------------------------------------------------------


def may_add(viewer: Viewer, access: PersonAccess) -> bool:
    """Add alerts and needs: only when the viewer's agency is involved now (a creator with no
    open involvement may read identity, and must join the family to add)."""
    return viewer.works_with_cases and access.involved and access.writable


def may_log_contact(viewer: Viewer, access: PersonAccess) -> bool:
    """Log a contact and its note: when involved, or during an emergency access (rule 3)."""
    return viewer.works_with_cases and (access.involved or access.emergency) and access.writable


def may_change_identity(viewer: Viewer, access: PersonAccess) -> bool:
    """Identity and contact is one shared record: any involved agency may correct it (never
    under emergency access alone: that does not allow changing others' records)."""
    return (
        viewer.works_with_cases
        and Category.IDENTITY in viewer.categories
        and (access.involved or access.creator)
        and access.writable
    )


def may_manage_family(viewer: Viewer, access: PersonAccess) -> bool:
    """Join the family, change the lead, end the viewer's own agency's involvement."""
    return viewer.works_with_cases and (access.involved or access.creator) and access.writable


def may_record_basis(viewer: Viewer, access: PersonAccess) -> bool:
    """Record consent or another lawful basis: a worker, assessor or manager of an involved
    agency (the people who talk with the person and act in an emergency)."""
    return bool(viewer.roles & BASIS_ROLES) and access.involved and access.writable


def may_open_in_emergency(viewer: Viewer, access: PersonAccess | None) -> bool:
    """Break-glass is open to workers, assessors and managers without full access already."""
    if not viewer.roles & EMERGENCY_ROLES:
        return False
    return access is None or (not access.emergency and access.shared != ALL_CATEGORIES)


# --- consent and basis records themselves ---------------------------------------------------


@dataclass(frozen=True)
class BasisParties:
    """Who a consent or basis record is about, for deciding who may see the record itself."""

    agency_id: uuid.UUID | None
    agency_kind: AgencyKind | None
    recorded_by_agency_id: uuid.UUID


def may_see_basis(viewer: Viewer, parties: BasisParties) -> bool:
    """Consent and basis records are visible to the agency they name (or every agency of the
    kind they name), the agency that recorded them, and information governance."""
    if viewer.governance:
        return True
    if not viewer.works_with_cases:
        return False
    return (
        parties.agency_id == viewer.agency_id
        or parties.agency_kind == viewer.agency_kind
        or parties.recorded_by_agency_id == viewer.agency_id
    )


def visible_bases(viewer: Viewer) -> ColumnElement[bool]:
    """SQL filter on ``SharingBasis``: the records :func:`may_see_basis` allows."""
    if viewer.governance:
        return true()
    if not viewer.works_with_cases:
        return false()
    return or_(
        SharingBasis.agency_id == viewer.agency_id,
        SharingBasis.agency_kind == literal(viewer.agency_kind.value),
        SharingBasis.recorded_by_agency_id == viewer.agency_id,
    )


def may_change_basis(viewer: Viewer, parties: BasisParties, access: PersonAccess) -> bool:
    """Correct or renew (supersede): only the agency that recorded it, while involved."""
    return (
        bool(viewer.roles & BASIS_ROLES)
        and access.involved
        and access.writable
        and parties.recorded_by_agency_id == viewer.agency_id
    )


def may_withdraw_basis(viewer: Viewer, parties: BasisParties, access: PersonAccess) -> bool:
    """Record a withdrawal (or an early end): any involved agency that can see the record —
    a person may tell whichever worker they are with."""
    return bool(viewer.roles & BASIS_ROLES) and access.involved and may_see_basis(viewer, parties)


def rights_access(db: Session, viewer: Viewer, person_id: uuid.UUID) -> PersonAccess | None:
    """Rule 4: an information-governance user handling an open information-rights request for
    the person reads all of the person's items for that request (the caller audits each read,
    naming the request). None otherwise — and for an erased or merged record."""
    if not viewer.governance:
        return None
    row = db.execute(
        select(InformationRequest.id, Person.restricted_at)
        .join(Person, Person.id == InformationRequest.person_id)
        .where(
            InformationRequest.person_id == person_id,
            InformationRequest.handler_id == viewer.user_id,
            InformationRequest.state == RequestState.OPEN,
            *_live(Person),
        )
        .order_by(InformationRequest.received_on)
        .limit(1)
    ).first()
    if row is None:
        return None
    return PersonAccess(
        person_id=person_id,
        involved=False,
        creator=False,
        shared=ALL_CATEGORIES,
        restricted=row[1] is not None,
        rights_request_id=row[0],
    )


def may_review(viewer: Viewer) -> bool:
    """Approve or reject another lawful basis; review an emergency access."""
    return viewer.governance
