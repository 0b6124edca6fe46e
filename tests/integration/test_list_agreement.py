"""Every list and export returns exactly the records the single-record check allows.

One partnership, made through the real services from a fixed seed: four agencies of different
kinds, people created by one and joined by others (some involvements ended), consent in force,
expired, withdrawn and naming a kind, a safeguarding basis, contacts with shared and "my agency
only" notes, alerts and needs of every category, and one emergency access. Then, for every
user, each list the pages show — search (and its reveal), caseloads, alerts, the family and its
last contacts, the timeline and its notes, needs, one contact's revisions, consent and basis
records, consents due for review, information governance's queue, finder and access log, and
the access log download — is compared with the policy's single-record answers.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from casework import clock
from casework.access.categories import Category
from casework.access.policy import (
    BasisParties,
    PersonAccess,
    Viewer,
    accesses,
    may_read,
    may_read_involvement,
    may_see_basis,
    person_access,
)
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.models import AuditEventPerson
from casework.consent import queries as consent_queries
from casework.consent.models import SharingBasis
from casework.consent.rules import SharingRules
from casework.contacts import queries as contact_queries
from casework.contacts.models import Contact, Note
from casework.db import Database
from casework.family import queries as family_queries
from casework.family.models import Involvement
from casework.people import queries as people_queries
from casework.people.codes import TimelineKind, information
from casework.people.models import PersonAlert, PersonNeed, TimelineEntry
from casework.people.queries import SearchCriteria
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from tests.conftest import Builders, Clock, MadeUser, sign_in_directly

FAMILY_NAME = "Rowntree"
BORN = date(1985, 3, 14)
ALERTS = ["risk_to_staff", "self_harm", "overdose_risk", "domestic_abuse_victim"]
NEEDS = ["housing", "mental_health", "substance_use", "offending"]


@dataclass
class Partnership:
    users: dict[str, MadeUser]
    people: list[uuid.UUID]
    governance: MadeUser
    notes: dict[uuid.UUID, str] = field(default_factory=dict)
    #: Other agencies' timeline entries seen, and not seen (the scenario must have both).
    shared: int = 0
    withheld: int = 0


def _partnership(build: Builders, frozen_clock: Clock) -> Partnership:
    rng = random.Random(4)
    agencies = {
        "treatment": build.agency("Agreement Treatment", AgencyKind.TREATMENT),
        "housing": build.agency("Agreement Housing", AgencyKind.HOUSING),
        "police": build.agency("Agreement Police", AgencyKind.POLICE),
        "da": build.agency("Agreement Refuge", AgencyKind.DOMESTIC_ABUSE),
        "outsider": build.agency("Agreement Outsider", AgencyKind.VOLUNTARY),
    }
    users = {
        "treatment": build.user(Role.WORKER, agency=agencies["treatment"]),
        "housing": build.user(Role.WORKER, agency=agencies["housing"]),
        "police": build.user(Role.CUSTODY_OFFICER, agency=agencies["police"]),
        "da": build.user(Role.WORKER, agency=agencies["da"]),
        "outsider": build.user(Role.WORKER, agency=agencies["outsider"]),
        "manager": build.user(Role.MANAGER, agency=agencies["treatment"]),
    }
    governance = build.user(Role.INFORMATION_GOVERNANCE, agency=build.agency("Agreement IG"))
    partners = ["housing", "police", "da"]
    people = []
    notes: dict[uuid.UUID, str] = {}
    # A year ago, so that some consents can expire by today.
    frozen_clock.advance(days=-400)
    for index in range(6):
        lead = "treatment" if index % 2 == 0 else "housing"
        person = build.person(users[lead], f"Given{index}", FAMILY_NAME, date_of_birth=BORN)
        people.append(person)
        joined = [name for name in partners if name != lead and rng.random() < 0.7]
        if lead == "housing":
            joined.append("treatment")
        for name in joined:
            build.involve(person, users[name], by=users[lead])
        for name in [lead, *joined]:
            build.consent(
                person,
                by=users[lead],
                to=users[name],
                categories=rng.sample(list(Category), rng.randint(1, 5)),
                review_on=clock.london_today() + timedelta(days=rng.choice([365, 390])),
            )
    frozen_clock.advance(days=400)
    for index, person in enumerate(people):
        lead = "treatment" if index % 2 == 0 else "housing"
        involved = [
            name
            for name in ["treatment", "housing", "police", "da"]
            if _involved(build, person, users[name])
        ]
        for name in involved:
            notes.update(_activity(build, rng, person, users[name], custody=name == "police"))
        # Fresh consent in force for some partners, a withdrawal, a kind-wide consent and a
        # safeguarding basis.
        if index == 0:
            fresh = build.consent(person, by=users[lead], to=users["housing"])
            build.withdraw(person, fresh, by=users[lead])
            build.consent(person, by=users[lead], kind=AgencyKind.POLICE)
        if index == 1:
            build.basis(person, by=users[lead], to=users["treatment"])
        if index == 2:
            build.consent(person, by=users[lead], to=users["da"])
    build.emergency(people[0], users["outsider"])
    return Partnership(users, people, governance, notes)


def _activity(
    build: Builders, rng: random.Random, person: uuid.UUID, user: MadeUser, *, custody: bool
) -> dict[uuid.UUID, str]:
    """Contacts (some notes "my agency only"), an alert and needs recorded by one agency."""
    notes = {}
    for _ in range(rng.randint(1, 3)):
        note = "" if custody else f"note-{uuid.uuid4().hex[:10]}"
        contact = build.contact(
            person,
            user,
            note=note,
            agency_only=rng.random() < 0.3,
            occurred_at=clock.utcnow() - timedelta(hours=rng.randint(1, 500)),
        )
        notes[contact] = note
    alert = "risk_to_staff" if custody else rng.choice(ALERTS)
    with build.database.reading() as db:
        raised = db.scalar(
            select(PersonAlert.id).where(
                PersonAlert.person_id == person, PersonAlert.alert_type == alert
            )
        )
    if raised is None:
        build.alert(person, user, alert)
    if not custody:
        build.needs(person, user, set(rng.sample(NEEDS, 2)))
    return notes


def _involved(build: Builders, person: uuid.UUID, user: MadeUser) -> bool:
    with build.database.reading() as db:
        access = person_access(db, build.viewer(user), person)
    return access is not None and access.involved


@pytest.fixture
def partnership(build: Builders, frozen_clock: Clock) -> Partnership:
    return _partnership(build, frozen_clock)


def _viewers(build: Builders, partnership: Partnership) -> dict[str, Viewer]:
    return {name: build.viewer(user) for name, user in partnership.users.items()}


def test_search_and_its_reveal(
    database: Database, kit: SecurityKit, build: Builders, partnership: Partnership
) -> None:
    for name, viewer in _viewers(build, partnership).items():
        with database.reading() as db:
            visible = {p for p in partnership.people if person_access(db, viewer, p)}
            results = people_queries.search_people(
                db,
                Vault(kit.keystore),
                kit.blind_index,
                viewer,
                SearchCriteria(name=FAMILY_NAME, date_of_birth=BORN),
            )
            name_only = people_queries.search_people(
                db, Vault(kit.keystore), kit.blind_index, viewer, SearchCriteria(name=FAMILY_NAME)
            )
        assert {hit.id for hit in results.hits} == visible, name
        assert {match.id for match in results.revealed} == set(partnership.people) - visible
        assert results.elsewhere == len(partnership.people) - len(visible)
        # A name alone is not specific enough to reveal anyone: a count only.
        assert name_only.revealed == []
        assert name_only.elsewhere == results.elsewhere


def _expected_last_contact(
    db: object, viewer: Viewer, access: PersonAccess, agency_id: uuid.UUID | None = None
) -> datetime | None:
    rows = db.execute(  # type: ignore[attr-defined]
        select(Contact.agency_id, Contact.category, Contact.occurred_at).where(
            Contact.person_id == access.person_id
        )
    ).all()
    seen = [
        row.occurred_at
        for row in rows
        if (agency_id is None or row.agency_id == agency_id)
        and may_read(viewer, access, agency_id=row.agency_id, category=row.category)
    ]
    return max(seen, default=None)


def test_caseloads_their_alerts_and_last_contacts(
    database: Database, kit: SecurityKit, build: Builders, partnership: Partnership
) -> None:
    for name, viewer in _viewers(build, partnership).items():
        user = partnership.users[name]
        with database.reading() as db:
            page = family_queries.caseload(db, Vault(kit.keystore), viewer, [user.id])
            expected_people = set(
                db.scalars(
                    select(Involvement.person_id).where(
                        Involvement.worker_id == user.id,
                        Involvement.agency_id == viewer.agency_id,
                        Involvement.ended_on.is_(None),
                    )
                )
            )
            assert {row.person_id for row in page.rows} == expected_people, name
            for row in page.rows:
                access = person_access(db, viewer, row.person_id)
                assert access is not None
                assert row.last_contact == _expected_last_contact(db, viewer, access), name
                assert {a.id for a in row.alerts} == _readable_alerts(db, viewer, access)


def _readable_alerts(db: object, viewer: Viewer, access: PersonAccess) -> set[uuid.UUID]:
    return {
        row.id
        for row in db.execute(  # type: ignore[attr-defined]
            select(PersonAlert.id, PersonAlert.agency_id, PersonAlert.category).where(
                PersonAlert.person_id == access.person_id, PersonAlert.ended_at.is_(None)
            )
        )
        if may_read(viewer, access, agency_id=row.agency_id, category=row.category)
    }


def test_alerts_for_many_people_match_each_person(
    database: Database, build: Builders, partnership: Partnership
) -> None:
    for name, viewer in _viewers(build, partnership).items():
        with database.reading() as db:
            many = accesses(db, viewer, partnership.people)
            found = people_queries.alerts_for(db, viewer, partnership.people)
            for person, access in many.items():
                assert {a.id for a in found[person]} == _readable_alerts(db, viewer, access), name


def test_one_persons_lists(
    database: Database, kit: SecurityKit, build: Builders, partnership: Partnership
) -> None:
    """The family and each agency's last contact, the timeline with its notes, needs, and each
    contact's revisions."""
    kinds = information().agency_kinds
    checked = 0
    for name, viewer in _viewers(build, partnership).items():
        for person in partnership.people:
            with database.reading() as db:
                access = person_access(db, viewer, person)
                if access is None:
                    continue
                vault = Vault(kit.keystore)
                members = family_queries.family(db, viewer, access)
                rows = db.execute(
                    select(
                        Involvement.id,
                        Involvement.agency_id,
                        Involvement.recorded_by_agency_id,
                    ).where(Involvement.person_id == person)
                ).all()
                expected = {
                    row.id
                    for row in rows
                    if may_read_involvement(
                        viewer,
                        access,
                        agency_id=row.agency_id,
                        recorded_by_agency_id=row.recorded_by_agency_id,
                        category=kinds[_kind_of(db, row.agency_id)],
                    )
                }
                assert {m.id for m in members} == expected, name
                for member in members:
                    if member.contacts_shared:
                        assert member.last_contact == _expected_last_contact(
                            db, viewer, access, member.agency_id
                        )
                _check_timeline(db, vault, viewer, access, partnership)
                record = people_queries.person_record(db, vault, viewer, person)
                needs = {
                    row.need
                    for row in db.execute(
                        select(PersonNeed.need, PersonNeed.agency_id, PersonNeed.category).where(
                            PersonNeed.person_id == person, PersonNeed.ended_at.is_(None)
                        )
                    )
                    if may_read(viewer, access, agency_id=row.agency_id, category=row.category)
                }
                assert {need.code for need in record.needs} == needs, name
                _check_contacts(db, vault, viewer, access)
                checked += 1
    assert checked >= 12
    assert partnership.shared > 20, partnership
    assert partnership.withheld > 20, partnership


def _kind_of(db: object, agency_id: uuid.UUID) -> AgencyKind:
    from casework.agencies.models import Agency

    return db.get(Agency, agency_id).kind  # type: ignore[attr-defined,no-any-return]


def _check_timeline(
    db: object, vault: Vault, viewer: Viewer, access: PersonAccess, partnership: Partnership
) -> None:
    page = people_queries.timeline(db, vault, viewer, access, per_page=500)  # type: ignore[arg-type]
    rows = db.execute(  # type: ignore[attr-defined]
        select(
            TimelineEntry.id,
            TimelineEntry.agency_id,
            TimelineEntry.category,
            TimelineEntry.agency_only,
        ).where(TimelineEntry.person_id == access.person_id)
    ).all()
    expected = {
        row.id
        for row in rows
        if may_read(
            viewer,
            access,
            agency_id=row.agency_id,
            category=row.category,
            agency_only=row.agency_only,
        )
    }
    assert {item.id for item in page.items} == expected
    others = [row for row in rows if row.agency_id != viewer.agency_id]
    partnership.shared += sum(1 for row in others if row.id in expected)
    partnership.withheld += sum(1 for row in others if row.id not in expected)
    for item in page.items:
        if item.kind is not TimelineKind.CONTACT or item.contact_id is None:
            continue
        note = db.execute(  # type: ignore[attr-defined]
            select(Note.agency_id, Note.agency_only).where(Note.contact_id == item.contact_id)
        ).first()
        shows = note is not None and may_read(
            viewer,
            access,
            agency_id=note.agency_id,
            category=Category.CASE_NOTES,
            agency_only=note.agency_only,
        )
        assert (
            (item.note == partnership.notes.get(item.contact_id, ""))
            if shows
            else (item.note == "")
        )


def _check_contacts(db: object, vault: Vault, viewer: Viewer, access: PersonAccess) -> None:
    for contact in db.scalars(  # type: ignore[attr-defined]
        select(Contact).where(Contact.person_id == access.person_id)
    ):
        readable = may_read(viewer, access, agency_id=contact.agency_id, category=contact.category)
        try:
            view = contact_queries.contact_view(db, vault, viewer, access, contact.id)  # type: ignore[arg-type]
        except people_queries.NotFoundError:
            assert not readable
            continue
        assert readable
        notes = db.scalars(select(Note).where(Note.contact_id == contact.id))  # type: ignore[attr-defined]
        expected = {
            note.revision
            for note in notes
            if may_read(
                viewer,
                access,
                agency_id=note.agency_id,
                category=Category.CASE_NOTES,
                agency_only=note.agency_only,
            )
        }
        assert {r.revision for r in view.revisions} == expected


def test_consent_and_basis_records(
    database: Database, kit: SecurityKit, build: Builders, partnership: Partnership
) -> None:
    rules = SharingRules.from_settings(kit.settings)
    viewers = _viewers(build, partnership) | {"governance": build.viewer(partnership.governance)}
    for name, viewer in viewers.items():
        with database.reading() as db:
            all_rows = db.execute(select(SharingBasis)).scalars().all()
            for person in partnership.people:
                listed = {b.id for b in consent_queries.bases_for_person(db, viewer, person, rules)}
                expected = {
                    b.id
                    for b in all_rows
                    if b.person_id == person
                    and may_see_basis(
                        viewer,
                        BasisParties(b.agency_id, b.agency_kind, b.recorded_by_agency_id),
                    )
                }
                assert listed == expected, name
            if viewer.works_with_cases:
                due = consent_queries.due_for_review(
                    db, Vault(kit.keystore), viewer, rules, limit=1000
                )
                for item in due:
                    assert may_see_basis(viewer, item.basis.parties)
                caseload = set(
                    db.scalars(
                        select(Involvement.person_id).where(
                            Involvement.worker_id == viewer.user_id,
                            Involvement.ended_on.is_(None),
                        )
                    )
                )
                today = clock.london_today()
                horizons = {"consent": today + timedelta(days=rules.expiring_days)}
                expected_due = {
                    b.id
                    for b in all_rows
                    if b.person_id in caseload
                    and b.superseded_at is None
                    and b.withdrawn_at is None
                    and b.ends_on <= horizons.get(b.kind.value, today + timedelta(days=7))
                    and (b.review_state is None or b.review_state.value != "rejected")
                    and may_see_basis(
                        viewer,
                        BasisParties(b.agency_id, b.agency_kind, b.recorded_by_agency_id),
                    )
                }
                assert {item.basis.id for item in due} == expected_due, name


def test_governance_lists(
    app: Flask, database: Database, kit: SecurityKit, build: Builders, partnership: Partnership
) -> None:
    rules = SharingRules.from_settings(kit.settings)
    viewer = build.viewer(partnership.governance)
    with database.reading() as db:
        queue = consent_queries.review_queue(db, Vault(kit.keystore), rules)
        pending = set(
            db.scalars(select(SharingBasis.id).where(SharingBasis.review_state == "pending"))
        )
        assert {item.basis.id for item in queue.bases} == pending
        assert len(queue.emergencies) == 1
        found = people_queries.find_any(
            db, Vault(kit.keystore), kit.blind_index, viewer, SearchCriteria(name=FAMILY_NAME)
        )
        assert {match.id for match in found} == set(partnership.people)
        # A case worker cannot use information governance's finder.
        worker = build.viewer(partnership.users["treatment"])
        assert (
            people_queries.find_any(
                db, Vault(kit.keystore), kit.blind_index, worker, SearchCriteria(name=FAMILY_NAME)
            )
            == []
        )
    # The access log and its download list exactly the events that link the person.
    client = app.test_client()
    sign_in_directly(app, client, partnership.governance)
    person = partnership.people[0]
    with database.reading() as db:
        linked = set(
            db.scalars(
                select(AuditEventPerson.event_id).where(AuditEventPerson.person_id == person)
            )
        )
    download = client.get(f"/governance/people/{person}/access.csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) - 1 == len(linked) > 0
    what: dict[str, int] = defaultdict(int)
    for row in rows[1:]:
        what[row[4]] += 1
    assert what["Opened the record in an emergency"] == 1
