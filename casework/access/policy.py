"""The access policy: may this user read this item of this person's information now?

One place decides, in two forms that must agree (a test checks they do): a Python predicate
for a single record and a SQL filter for lists. DECISIONS §3 gives the rule; issue 3 lays its
first part (involvement, without consent); issue 4 adds consent, other lawful bases and
break-glass here and nowhere else.

* A person is **visible** to a user when the user holds a case role and the user's agency has
  an open involvement with the person, or created the record. Otherwise the person answers 404.
* An **item** (an involvement, contact, alert, need, note, timeline entry) recorded by agency R
  with category C and a "my agency only" mark is readable when the user's roles may read C and
  either R is the user's agency (rule 1), or the item is not "my agency only" and the user's
  agency is involved with the person (rule 2; consent from issue 4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from casework.access.categories import Category, categories_for
from casework.access.roles import CASE_ROLES, Role
from casework.agencies.models import AgencyKind
from casework.family.models import Involvement
from casework.people.models import Person


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


@dataclass(frozen=True)
class PersonAccess:
    """What the viewer's agency is to one visible person."""

    person_id: uuid.UUID
    #: The agency has an open involvement with the person.
    involved: bool
    #: The agency created the record (it keeps reading identity under rule 1).
    creator: bool


def _open_involvement_of(
    agency_id: uuid.UUID, person_col: QueryableAttribute[uuid.UUID]
) -> ColumnElement[bool]:
    return exists().where(
        Involvement.person_id == person_col,
        Involvement.agency_id == agency_id,
        Involvement.ended_on.is_(None),
    )


def visible_people(viewer: Viewer) -> ColumnElement[bool]:
    """SQL filter on ``Person``: the people this viewer may see."""
    if not viewer.works_with_cases:
        return false()
    return or_(
        Person.created_by_agency_id == viewer.agency_id,
        _open_involvement_of(viewer.agency_id, Person.id),
    )


_PERSON_ACCESS = select(
    Person.created_by_agency_id == bindparam("agency_id"),
    exists().where(
        Involvement.person_id == Person.id,
        Involvement.agency_id == bindparam("agency_id"),
        Involvement.ended_on.is_(None),
    ),
).where(Person.id == bindparam("person_id"))


def person_access(db: Session, viewer: Viewer, person_id: uuid.UUID) -> PersonAccess | None:
    """The single-record form of :func:`visible_people`: None when the person is not visible
    (or does not exist) — the caller answers 404 either way."""
    if not viewer.works_with_cases:
        return None
    row = (
        db.connection()
        .execute(_PERSON_ACCESS, {"agency_id": viewer.agency_id, "person_id": person_id})
        .first()
    )
    if row is None:
        return None
    creator, involved = bool(row[0]), bool(row[1])
    if not (creator or involved):
        return None
    return PersonAccess(person_id=person_id, involved=involved, creator=creator)


def may_read(
    viewer: Viewer,
    access: PersonAccess,
    *,
    agency_id: uuid.UUID,
    category: Category,
    agency_only: bool = False,
) -> bool:
    """May the viewer read one item of this (visible) person's information?"""
    if category not in viewer.categories:
        return False
    if agency_id == viewer.agency_id:
        return True
    if category is Category.IDENTITY and not agency_only:
        return access.involved or access.creator
    return access.involved and not agency_only


class Reach(StrEnum):
    """How far the viewer's agency reaches into one person's items beyond its own (rule 2)."""

    #: Involved: other agencies' items that are not "my agency only".
    SHARED = "shared"
    #: Created the record but not involved now: identity and contact only.
    IDENTITY = "identity"
    #: Its own items only.
    OWN = "own"


def reach(viewer: Viewer, access: PersonAccess) -> Reach:
    if access.involved:
        return Reach.SHARED
    if access.creator and Category.IDENTITY in viewer.categories:
        return Reach.IDENTITY
    return Reach.OWN


def readable(
    reach_of: Reach,
    *,
    agency_col: QueryableAttribute[uuid.UUID],
    category_col: QueryableAttribute[Category],
    agency_only_col: QueryableAttribute[bool] | None = None,
) -> ColumnElement[bool]:
    """SQL filter: the items of a person the viewer may read (the same rule as
    :func:`may_read`). Its values are bind parameters, so a statement using it can be built
    once per :class:`Reach` and reused: pass :func:`readable_params` when executing."""
    shared: ColumnElement[bool] = true() if agency_only_col is None else agency_only_col.is_(False)
    others: ColumnElement[bool]
    if reach_of is Reach.SHARED:
        others = shared
    elif reach_of is Reach.IDENTITY:
        others = and_(shared, category_col == Category.IDENTITY)
    else:
        others = false()
    return and_(
        category_col.in_(bindparam("readable_categories", expanding=True)),
        or_(agency_col == bindparam("viewer_agency_id"), others),
    )


def readable_params(viewer: Viewer) -> dict[str, object]:
    # An empty IN list matches nothing on every database (SQLAlchemy renders it safely).
    return {
        "readable_categories": sorted(viewer.categories),
        "viewer_agency_id": viewer.agency_id,
    }


def may_add(viewer: Viewer, access: PersonAccess) -> bool:
    """Add contacts, notes, alerts and needs: only when the viewer's agency is involved now (a
    creator with no open involvement may read identity, and must join the family to add)."""
    return viewer.works_with_cases and access.involved


def may_change_identity(viewer: Viewer, access: PersonAccess) -> bool:
    """Identity and contact is one shared record: any involved agency may correct it."""
    return (
        viewer.works_with_cases
        and Category.IDENTITY in viewer.categories
        and (access.involved or access.creator)
    )


def may_manage_family(viewer: Viewer, access: PersonAccess) -> bool:
    """Join the family, change the lead, end the viewer's own agency's involvement."""
    return viewer.works_with_cases and (access.involved or access.creator)
