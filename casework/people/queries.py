"""Reads of people: search, one person's record, and their timeline.

Every read starts from the access policy (``casework.access.policy``): a person the viewer may
not see is never loaded, and items are filtered by the same rule as single records. Only what
a page shows is decrypted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from casework.access.categories import Category
from casework.access.policy import (
    PersonAccess,
    Viewer,
    may_read,
    person_access,
    readable,
    readable_across,
    readable_across_params,
    readable_params,
    visible_people,
)
from casework.agencies.models import Agency
from casework.clock import utcnow
from casework.contacts.models import Contact, Note
from casework.people.codes import (
    ContactKind,
    ContactOutcome,
    HousingStatus,
    TimelineKind,
    information,
)
from casework.people.models import Person, PersonAlert, PersonNeed, SearchToken, TimelineEntry
from casework.people.records import Names, PersonFields, open_details, open_names, read_fields
from casework.security.blind_index import BlindIndex, TokenKind, name_parts, phonetic
from casework.security.vault import Vault
from casework.users.models import User


class NotFoundError(LookupError):
    """Missing, or not visible to this user: the views answer 404 either way."""


def access_or_404(db: Session, viewer: Viewer, person_id: uuid.UUID) -> PersonAccess:
    access = person_access(db, viewer, person_id)
    if access is None:
        raise NotFoundError(str(person_id))
    return access


def is_visible(db: Session, viewer: Viewer, person_id: uuid.UUID) -> bool:
    return person_access(db, viewer, person_id) is not None


# --- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    id: uuid.UUID
    code: str
    label: str
    category: Category
    raised_at: datetime
    agency_name: str
    detail: str = ""


_ALERTS = (
    select(
        PersonAlert.id,
        PersonAlert.person_id,
        PersonAlert.alert_type,
        PersonAlert.category,
        PersonAlert.agency_id,
        PersonAlert.raised_at,
        PersonAlert.detail_enc,
        Agency.name.label("agency_name"),
    )
    .join(Agency, Agency.id == PersonAlert.agency_id)
    .where(
        PersonAlert.person_id.in_(bindparam("person_ids", expanding=True)),
        PersonAlert.ended_at.is_(None),
        readable_across(
            person_col=PersonAlert.person_id,
            agency_col=PersonAlert.agency_id,
            category_col=PersonAlert.category,
        ),
    )
    .order_by(PersonAlert.raised_at)
)


def alerts_for(
    db: Session,
    viewer: Viewer,
    person_ids: Iterable[uuid.UUID],
    *,
    vault: Vault | None = None,
) -> dict[uuid.UUID, list[AlertView]]:
    """The current alerts the viewer may read, per person (one query, the policy's list
    filter). Details are decrypted only when a vault is given (the person page)."""
    ids = list(dict.fromkeys(person_ids))
    if not ids or not viewer.categories:
        return {pid: [] for pid in ids}
    rows = db.connection().execute(_ALERTS, {"person_ids": ids, **readable_across_params(viewer)})
    types = information().alerts
    found: dict[uuid.UUID, list[AlertView]] = {pid: [] for pid in ids}
    for alert in rows:
        detail = ""
        if vault is not None and alert.detail_enc is not None:
            detail = vault.open(
                alert.person_id, "person_alerts", "detail_enc", alert.id, alert.detail_enc
            )
        kind = types.get(alert.alert_type)
        found[alert.person_id].append(
            AlertView(
                id=alert.id,
                code=alert.alert_type,
                label=kind.label if kind else alert.alert_type,
                category=alert.category,
                raised_at=alert.raised_at,
                agency_name=alert.agency_name,
                detail=detail,
            )
        )
    return found


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCriteria:
    name: str = ""
    date_of_birth: date | None = None
    identifier: str = ""

    @property
    def empty(self) -> bool:
        return not (name_parts(self.name) or self.date_of_birth or self.identifier.strip())

    @property
    def specific(self) -> bool:
        """Specific enough to reveal a match held elsewhere: a name with a date of birth, or
        an identifier (a name alone would list strangers who sound alike)."""
        with_name = bool(name_parts(self.name)) and self.date_of_birth is not None
        return with_name or bool(self.identifier.strip())


@dataclass(frozen=True)
class SearchHit:
    id: uuid.UUID
    names: Names
    date_of_birth: date | None
    year_of_birth: int | None
    alerts: list[AlertView]
    exact: int


@dataclass(frozen=True)
class RevealedMatch:
    """A matching person the viewer may not see: that they exist, with their name and date of
    birth only, so that nobody creates a duplicate (DECISIONS §3; the reveal is audited)."""

    id: uuid.UUID
    name: str
    date_of_birth: date | None


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    #: How many matching people are held only by other agencies.
    elsewhere: int
    more: bool
    #: Those people's names and dates of birth, when the search was specific enough (a name
    #: with a date of birth, or an identifier); otherwise only the count above.
    revealed: list[RevealedMatch] = field(default_factory=list)


#: Candidates decrypted and ranked per search; more than this asks the user to narrow it.
SEARCH_CANDIDATES = 200
#: At most this many matches held elsewhere are revealed (name and date of birth) per search.
REVEAL_LIMIT = 10


def _matching(blind: BlindIndex, criteria: SearchCriteria) -> list[ColumnElement[bool]]:
    """One condition per search term: each must match one of the person's tokens."""
    conditions: list[ColumnElement[bool]] = []
    for part in name_parts(criteria.name):
        conditions.append(
            Person.id.in_(
                select(SearchToken.person_id).where(
                    SearchToken.kind == TokenKind.PHONETIC,
                    SearchToken.token == blind.token(TokenKind.PHONETIC, phonetic(part)),
                )
            )
        )
    if criteria.date_of_birth is not None:
        conditions.append(
            Person.id.in_(
                select(SearchToken.person_id).where(
                    SearchToken.kind == TokenKind.DATE_OF_BIRTH,
                    SearchToken.token
                    == blind.identifier_token(
                        TokenKind.DATE_OF_BIRTH, criteria.date_of_birth.isoformat()
                    ),
                )
            )
        )
    if criteria.identifier.strip():
        kinds = (TokenKind.NHS_NUMBER, TokenKind.PNC_ID, TokenKind.LOCAL_ID)
        conditions.append(
            Person.id.in_(
                select(SearchToken.person_id).where(
                    SearchToken.kind.in_(kinds),
                    SearchToken.token.in_(
                        [blind.identifier_token(kind, criteria.identifier) for kind in kinds]
                    ),
                )
            )
        )
    return conditions


def search_people(
    db: Session,
    vault: Vault,
    blind: BlindIndex,
    viewer: Viewer,
    criteria: SearchCriteria,
    *,
    limit: int = 50,
) -> SearchResults:
    """People matching every term (names phonetically, date of birth and identifiers exactly),
    best matches first: exact name parts rank above sound-alikes. Matches the viewer may not
    see are counted, and revealed (name and date of birth only) when the search is specific."""
    if criteria.empty:
        return SearchResults([], 0, more=False)
    conditions = _matching(blind, criteria)
    now = utcnow()
    rows = db.execute(
        select(Person.id, Person.names_enc, Person.details_enc, Person.year_of_birth)
        .where(and_(*conditions), visible_people(viewer, now=now))
        .limit(SEARCH_CANDIDATES + 1)
    ).all()
    more = len(rows) > SEARCH_CANDIDATES
    rows = rows[:SEARCH_CANDIDATES]
    matched_ids = [row.id for row in rows]
    total = db.scalar(select(func.count(Person.id)).where(and_(*conditions))) or 0
    elsewhere = max(0, total - len(rows)) if not more else 0
    revealed: list[RevealedMatch] = []
    if elsewhere and criteria.specific and viewer.works_with_cases:
        revealed = _reveal(db, vault, viewer, conditions, now)
    exact_tokens = {blind.token(TokenKind.NAME, part) for part in name_parts(criteria.name)}
    exact_counts: dict[uuid.UUID, int] = {}
    if exact_tokens and matched_ids:
        for pid, _token in db.execute(
            select(SearchToken.person_id, SearchToken.token).where(
                SearchToken.person_id.in_(matched_ids),
                SearchToken.kind == TokenKind.NAME,
                SearchToken.token.in_(exact_tokens),
            )
        ):
            exact_counts[pid] = exact_counts.get(pid, 0) + 1
    vault.prefetch(matched_ids)
    alerts = alerts_for(db, viewer, matched_ids)
    hits = []
    for row in rows:
        names = open_names(vault, row.id, row.names_enc)
        details = open_details(vault, row.id, row.details_enc)
        hits.append(
            SearchHit(
                id=row.id,
                names=names,
                date_of_birth=details.date_of_birth,
                year_of_birth=row.year_of_birth,
                alerts=alerts.get(row.id, []),
                exact=exact_counts.get(row.id, 0),
            )
        )
    hits.sort(key=lambda hit: (-hit.exact, hit.names.sort_key))
    return SearchResults(hits[:limit], elsewhere, more=more or len(hits) > limit, revealed=revealed)


def _reveal(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    conditions: list[ColumnElement[bool]],
    now: datetime,
) -> list[RevealedMatch]:
    rows = db.execute(
        select(Person.id, Person.names_enc, Person.details_enc)
        .where(and_(*conditions), ~visible_people(viewer, now=now))
        .limit(REVEAL_LIMIT)
    ).all()
    vault.prefetch([row.id for row in rows])
    found = []
    for row in rows:
        names = open_names(vault, row.id, row.names_enc)
        details = open_details(vault, row.id, row.details_enc)
        found.append(RevealedMatch(row.id, f"{names.family}, {names.given}", details.date_of_birth))
    found.sort(key=lambda match: match.name.lower())
    return found


def find_any(
    db: Session,
    vault: Vault,
    blind: BlindIndex,
    viewer: Viewer,
    criteria: SearchCriteria,
    *,
    limit: int = 50,
) -> list[RevealedMatch]:
    """Information governance finds anyone (name and date of birth only) to answer a subject
    access request or check who has seen a record; case content stays out of reach."""
    if criteria.empty or not viewer.governance:
        return []
    rows = db.execute(
        select(Person.id, Person.names_enc, Person.details_enc)
        .where(and_(*_matching(blind, criteria)))
        .limit(limit)
    ).all()
    vault.prefetch([row.id for row in rows])
    found = [
        RevealedMatch(
            row.id,
            open_names(vault, row.id, row.names_enc).full,
            open_details(vault, row.id, row.details_enc).date_of_birth,
        )
        for row in rows
    ]
    found.sort(key=lambda match: match.name.lower())
    return found


def likely_duplicates(
    db: Session, vault: Vault, blind: BlindIndex, viewer: Viewer, fields: PersonFields
) -> SearchResults:
    """People who may already be this person: the same names (by sound) and date of birth,
    or the same NHS number, PNC ID or local ID."""
    names, details = fields.names, fields.details
    searches = [
        SearchCriteria(name=f"{names.given} {names.family}", date_of_birth=details.date_of_birth)
    ]
    searches += [
        SearchCriteria(identifier=value)
        for value in (details.nhs_number, details.pnc_id, details.local_id)
        if value.strip()
    ]
    hits: dict[uuid.UUID, SearchHit] = {}
    revealed: dict[uuid.UUID, RevealedMatch] = {}
    elsewhere = 0
    for criteria in searches:
        found = search_people(db, vault, blind, viewer, criteria, limit=10)
        for hit in found.hits:
            hits.setdefault(hit.id, hit)
        for match in found.revealed:
            revealed.setdefault(match.id, match)
        elsewhere = max(elsewhere, found.elsewhere, len(revealed))
    return SearchResults(
        list(hits.values())[:10],
        elsewhere,
        more=len(hits) > 10,
        revealed=list(revealed.values())[:REVEAL_LIMIT],
    )


# --- one person -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedView:
    code: str
    label: str
    category: Category


@dataclass(frozen=True)
class PersonRecord:
    id: uuid.UUID
    access: PersonAccess
    version: int
    fields: PersonFields
    year_of_birth: int | None
    died_on: date | None
    #: None when the viewer may not read housing.
    housing_status: HousingStatus | None
    alerts: list[AlertView]
    needs: list[NeedView]
    created_at: datetime
    #: Need codes the viewer may record (their categories).
    editable_needs: list[NeedView] = field(default_factory=list)

    @property
    def names(self) -> Names:
        return self.fields.names

    @property
    def header(self) -> PersonHeader:
        return PersonHeader(self.id, self.access, self.names, self.alerts, self.died_on)


_PERSON = select(
    Person.id,
    Person.version,
    Person.names_enc,
    Person.details_enc,
    Person.sex,
    Person.housing_status,
    Person.year_of_birth,
    Person.died_on,
    Person.created_at,
).where(Person.id == bindparam("person_id"))
_NEEDS = (
    select(PersonNeed.need, PersonNeed.category, PersonNeed.agency_id)
    .where(PersonNeed.person_id == bindparam("person_id"), PersonNeed.ended_at.is_(None))
    .order_by(PersonNeed.need)
)
_HEADER = select(Person.names_enc, Person.died_on).where(Person.id == bindparam("person_id"))


def person_record(db: Session, vault: Vault, viewer: Viewer, person_id: uuid.UUID) -> PersonRecord:
    access = access_or_404(db, viewer, person_id)
    conn = db.connection()
    person = conn.execute(_PERSON, {"person_id": person_id}).one()
    fields = read_fields(vault, person)
    alerts = alerts_for(db, viewer, [person_id], vault=vault)[person_id]
    known = information().needs
    needs = [
        NeedView(row.need, known[row.need].label if row.need in known else row.need, row.category)
        for row in conn.execute(_NEEDS, {"person_id": person_id})
        if may_read(viewer, access, agency_id=row.agency_id, category=row.category)
    ]
    return PersonRecord(
        id=person_id,
        access=access,
        version=person.version,
        fields=fields,
        year_of_birth=person.year_of_birth,
        died_on=person.died_on,
        housing_status=person.housing_status if Category.HOUSING in viewer.categories else None,
        alerts=alerts,
        needs=needs,
        created_at=person.created_at,
        editable_needs=[
            NeedView(code, kind.label, kind.category)
            for code, kind in known.items()
            if kind.category in viewer.categories
        ],
    )


@dataclass(frozen=True)
class PersonHeader:
    """What every person page shows at the top: the name and the alerts."""

    person_id: uuid.UUID
    access: PersonAccess
    names: Names
    alerts: list[AlertView]
    died_on: date | None = None


def person_header(db: Session, vault: Vault, viewer: Viewer, person_id: uuid.UUID) -> PersonHeader:
    """The header alone (decrypts the names only)."""
    access = access_or_404(db, viewer, person_id)
    row = db.connection().execute(_HEADER, {"person_id": person_id}).first()
    if row is None:
        raise NotFoundError(str(person_id))
    alerts = alerts_for(db, viewer, [person_id])[person_id]
    return PersonHeader(
        person_id, access, open_names(vault, person_id, row.names_enc), alerts, row.died_on
    )


# --- timeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    id: uuid.UUID
    occurred_at: datetime
    kind: TimelineKind
    category: Category
    agency_id: uuid.UUID
    agency_name: str
    actor_name: str
    details: dict[str, str]
    contact_id: uuid.UUID | None = None
    contact_kind: ContactKind | None = None
    contact_outcome: ContactOutcome | None = None
    duration_minutes: int | None = None
    place: str = ""
    worker_name: str = ""
    note: str = ""
    note_revision: int = 0
    agency_only: bool = False
    #: The agency of the person who recorded the entry (the entry's own agency is the one it
    #: is about: for "agency joined", the agency that joined).
    actor_agency_name: str = ""


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    page: int
    has_next: bool


@dataclass(frozen=True)
class TimelineFilter:
    kinds: Sequence[TimelineKind] = ()
    agency_id: uuid.UUID | None = None


_actor = aliased(User)
_actor_agency = aliased(Agency)
_contact_worker = aliased(User)


@lru_cache(maxsize=4)
def _timeline_statement(with_kinds: bool, with_agency: bool) -> Select[*tuple[Any, ...]]:
    """The timeline query for one shape, built once: values are bind parameters."""
    statement: Select[*tuple[Any, ...]] = (
        select(
            TimelineEntry.id,
            TimelineEntry.occurred_at,
            TimelineEntry.kind,
            TimelineEntry.category,
            TimelineEntry.agency_id,
            TimelineEntry.contact_id,
            TimelineEntry.details,
            Agency.name.label("agency_name"),
            _actor.full_name.label("actor_name"),
            _actor_agency.name.label("actor_agency_name"),
            Contact.kind.label("contact_kind"),
            Contact.outcome.label("contact_outcome"),
            Contact.duration_minutes,
            Contact.place_enc,
            _contact_worker.full_name.label("worker_name"),
            Note.id.label("note_id"),
            Note.body_enc,
            Note.agency_id.label("note_agency_id"),
            Note.agency_only.label("note_agency_only"),
            Note.revision.label("note_revision"),
        )
        .join(Agency, Agency.id == TimelineEntry.agency_id)
        .join(_actor, _actor.id == TimelineEntry.actor_id)
        .join(_actor_agency, _actor_agency.id == _actor.agency_id)
        .outerjoin(Contact, Contact.id == TimelineEntry.contact_id)
        .outerjoin(_contact_worker, _contact_worker.id == Contact.worker_id)
        .outerjoin(
            Note,
            and_(
                Note.contact_id == Contact.id,
                Note.revision == Contact.note_revision,
                TimelineEntry.kind == TimelineKind.CONTACT,
            ),
        )
        .where(
            TimelineEntry.person_id == bindparam("person_id"),
            readable(
                agency_col=TimelineEntry.agency_id,
                category_col=TimelineEntry.category,
                agency_only_col=TimelineEntry.agency_only,
            ),
        )
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    if with_kinds:
        statement = statement.where(TimelineEntry.kind.in_(bindparam("kinds", expanding=True)))
    if with_agency:
        statement = statement.where(TimelineEntry.agency_id == bindparam("agency_id"))
    return statement


def timeline(
    db: Session,
    vault: Vault,
    viewer: Viewer,
    access: PersonAccess,
    *,
    filters: TimelineFilter = TimelineFilter(),
    page: int = 1,
    per_page: int = 50,
) -> TimelinePage:
    """A page of the person's chronology, newest first, filtered by the access policy; only
    the contacts and notes on the page are decrypted."""
    statement = _timeline_statement(bool(filters.kinds), filters.agency_id is not None)
    params: dict[str, object] = {
        "person_id": access.person_id,
        "limit": per_page + 1,
        "offset": (page - 1) * per_page,
        **readable_params(viewer, access),
    }
    if filters.kinds:
        params["kinds"] = list(filters.kinds)
    if filters.agency_id is not None:
        params["agency_id"] = filters.agency_id
    rows = db.connection().execute(statement, params).all()
    has_next = len(rows) > per_page
    items = []
    pid = access.person_id
    for row in rows[:per_page]:
        note = ""
        note_agency_only = False
        if row.note_id is not None and may_read(
            viewer,
            access,
            agency_id=row.note_agency_id,
            category=Category.CASE_NOTES,
            agency_only=row.note_agency_only,
        ):
            note = vault.open(pid, "notes", "body_enc", row.note_id, row.body_enc)
            note_agency_only = row.note_agency_only
        items.append(
            TimelineItem(
                id=row.id,
                occurred_at=row.occurred_at,
                kind=row.kind,
                category=row.category,
                agency_id=row.agency_id,
                agency_name=row.agency_name,
                actor_name=row.actor_name,
                details=dict(row.details or {}),
                contact_id=row.contact_id,
                contact_kind=row.contact_kind,
                contact_outcome=row.contact_outcome,
                duration_minutes=row.duration_minutes,
                place=vault.open(pid, "contacts", "place_enc", row.contact_id, row.place_enc)
                if row.place_enc is not None
                else "",
                worker_name=row.worker_name or "",
                note=note,
                note_revision=row.note_revision or 0,
                agency_only=note_agency_only,
                actor_agency_name=row.actor_agency_name,
            )
        )
    return TimelinePage(items, page, has_next)


def timeline_agencies(
    db: Session, viewer: Viewer, access: PersonAccess
) -> list[tuple[uuid.UUID, str]]:
    """Agencies with entries on this person's timeline that the viewer may read (filter list)."""
    rows = (
        db.connection()
        .execute(
            _TIMELINE_AGENCIES,
            {"person_id": access.person_id, **readable_params(viewer, access)},
        )
        .all()
    )
    return [(row.id, row.name) for row in rows]


_TIMELINE_AGENCIES = (
    select(Agency.id, Agency.name)
    .where(
        Agency.id.in_(
            select(TimelineEntry.agency_id).where(
                TimelineEntry.person_id == bindparam("person_id"),
                readable(
                    agency_col=TimelineEntry.agency_id,
                    category_col=TimelineEntry.category,
                    agency_only_col=TimelineEntry.agency_only,
                ),
            )
        )
    )
    .order_by(Agency.name)
)
