"""People, family, contacts and the timeline through the services, with real encryption."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from casework.access.policy import person_access
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.contacts.models import Contact
from casework.db import Database
from casework.family import queries as family_queries
from casework.people import queries
from casework.people.codes import TimelineKind
from casework.people.queries import SearchCriteria, SearchResults, TimelineFilter
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from tests.conftest import Builders, MadeUser


def _search(
    database: Database, kit: SecurityKit, build: Builders, user: MadeUser, **criteria: Any
) -> SearchResults:
    with database.reading() as db:
        return queries.search_people(
            db, Vault(kit.keystore), kit.blind_index, build.viewer(user), SearchCriteria(**criteria)
        )


def test_phonetic_and_identifier_search(
    database: Database, kit: SecurityKit, build: Builders
) -> None:
    worker = build.user(Role.WORKER)
    john = build.person(worker, "John", "Smith", nhs_number="943 476 5919", pnc_id="12/3456789A")
    build.person(worker, "Mary", "Jones")
    hits = _search(database, kit, build, worker, name="Jon Smyth").hits
    assert [hit.id for hit in hits] == [john]
    assert [h.id for h in _search(database, kit, build, worker, identifier="9434765919").hits] == [
        john
    ]
    assert [h.id for h in _search(database, kit, build, worker, identifier="12/3456789a").hits] == [
        john
    ]
    assert (
        _search(database, kit, build, worker, name="Smith", date_of_birth=date(1999, 1, 1)).hits
        == []
    )


def test_other_agencies_people_are_invisible_until_involved(
    database: Database, kit: SecurityKit, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(treatment, "Robin", "Hartley")
    result = _search(database, kit, build, housing, name="Robin Hartley")
    assert result.hits == []
    assert result.elsewhere == 1
    with database.reading() as db:
        assert person_access(db, build.viewer(housing), person) is None
    build.involve(person, housing, by=treatment)
    with database.reading() as db:
        access = person_access(db, build.viewer(housing), person)
        assert access is not None
        assert access.involved


def test_timeline_hides_agency_only_notes_and_unreadable_categories(
    database: Database, kit: SecurityKit, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    police = build.agency(kind=AgencyKind.POLICE)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    person = build.person(treatment, "Sam", "Carter")
    build.involve(person, custody, by=treatment)
    # The person agreed that each agency sees what the other records.
    build.consent(person, by=treatment, to=treatment)
    build.consent(person, by=treatment, to=custody)
    build.contact(person, treatment, note="shared with partners")
    build.contact(person, treatment, note="treatment only", agency_only=True)
    build.contact(person, custody, note="custody note")

    with database.reading() as db:
        viewer = build.viewer(treatment)
        access = person_access(db, viewer, person)
        assert access is not None
        page = queries.timeline(db, Vault(kit.keystore), viewer, access)
        notes = sorted(item.note for item in page.items if item.kind is TimelineKind.CONTACT)
        assert notes == ["custody note", "shared with partners", "treatment only"]

        viewer = build.viewer(custody)
        access = person_access(db, viewer, person)
        assert access is not None
        page = queries.timeline(db, Vault(kit.keystore), viewer, access)
        # A custody officer reads identity and offending only: the treatment contacts
        # (substance use) are not shown at all; its own contact is, without note text
        # (case notes are not among a custody officer's categories).
        contacts = [item for item in page.items if item.kind is TimelineKind.CONTACT]
        assert [(item.agency_id, item.note) for item in contacts] == [(police.id, "")]
        only_police = queries.timeline(
            db,
            Vault(kit.keystore),
            viewer,
            access,
            filters=TimelineFilter(agency_id=police.id),
        )
        assert {item.agency_id for item in only_police.items} == {police.id}


def test_caseload_lists_the_workers_open_involvements(
    database: Database, kit: SecurityKit, build: Builders
) -> None:
    worker = build.user(Role.WORKER)
    first = build.person(worker, "Zoe", "Adams")
    build.person(worker, "Ann", "Young")
    build.contact(first, worker)
    with database.reading() as db:
        page = family_queries.caseload(db, Vault(kit.keystore), build.viewer(worker), [worker.id])
    assert [row.names.family for row in page.rows] == ["Adams", "Young"]
    assert page.rows[0].last_contact is not None
    with database.reading() as db:
        assert db.scalar(select(Contact.place_enc)) is None


@pytest.mark.parametrize("bad", ["943 476 5918", "12345"])
def test_bad_nhs_numbers_are_refused(build: Builders, bad: str) -> None:
    from casework.people.services import PersonError

    worker = build.user(Role.WORKER)
    with pytest.raises(PersonError) as raised:
        build.person(worker, nhs_number=bad)
    assert raised.value.field == "nhs_number"


def test_the_latest_contact_table_keeps_each_agencys_newest_contact(
    database: Database, build: Builders
) -> None:
    from datetime import timedelta

    from casework.clock import utcnow
    from casework.contacts.models import LatestContact
    from casework.contacts.services import rebuild_latest_contacts

    worker = build.user(Role.WORKER)
    person = build.person(worker)
    now = utcnow().replace(microsecond=0)
    build.contact(person, worker, occurred_at=now - timedelta(days=1))
    build.contact(person, worker, occurred_at=now - timedelta(days=3))  # logged late: older

    def latest() -> list[object]:
        with database.reading() as db:
            return [row.occurred_at for row in db.scalars(select(LatestContact))]

    assert latest() == [now - timedelta(days=1)]
    build.contact(person, worker, occurred_at=now - timedelta(hours=1))
    assert latest() == [now - timedelta(hours=1)]
    with database.transaction() as db:
        rebuild_latest_contacts(db)
    assert latest() == [now - timedelta(hours=1)]
