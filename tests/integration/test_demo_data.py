"""Demo data: the default Northdale set (through the real services) and the large generated
set for benchmarks (bulk inserts in the same storage format)."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.orm import Session

from casework import cli, clock
from casework.access.categories import Category
from casework.access.policy import Viewer
from casework.agencies.models import Agency, AgencyKind
from casework.audit.models import AuditEvent
from casework.contacts.models import Contact, Note
from casework.db import Base, Database
from casework.demo import data, large, people
from casework.family.models import Involvement
from casework.people.codes import ClosureReason, HousingStatus, TimelineKind
from casework.people.models import Person, PersonAlert, SearchToken, TimelineEntry
from casework.people.queries import SearchCriteria, search_people
from casework.people.records import Details, Names, open_details, open_names
from casework.people.validation import nhs_number_problem, normalise_postcode
from casework.security.keystore import person_keys
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.users.models import User

PHONE = re.compile(r"07700 900\d{3}")


def _load_default(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli.demo_data, [])
    assert result.exit_code == 0, result.output
    assert f"{people.EXPECTED_PEOPLE} people supported" in result.output


def _everyone(database: Database, kit: SecurityKit) -> dict[uuid.UUID, tuple[Names, Details]]:
    """Every person's names and details, decrypted (each must decrypt)."""
    vault = Vault(kit.keystore)
    with database.reading() as db:
        rows = db.execute(select(Person.id, Person.names_enc, Person.details_enc)).all()
        vault.prefetch(row.id for row in rows)
        return {
            row.id: (
                open_names(vault, row.id, row.names_enc),
                open_details(vault, row.id, row.details_enc),
            )
            for row in rows
        }


def _number(db: Session, statement: Select[Any]) -> int:
    return int(db.scalar(statement) or 0)


def _user(database: Database, email: str) -> Viewer:
    with database.reading() as db:
        user = db.scalars(select(User).where(User.email == email)).one()
        return Viewer(user.id, user.agency_id, user.agency.kind, user.roles)


def _check_the_story_of_keith(database: Database, keith: uuid.UUID) -> None:
    """The "Tim's case" story: treatment (lead, HOPE worker), social care, housing, the care
    home and police; a move into the care home, then housing on discharge."""
    with database.reading() as db:
        family = {
            kind: (inv.is_lead, inv.ended_on is None)
            for inv, kind in db.execute(
                select(Involvement, Agency.kind)
                .join(Agency, Agency.id == Involvement.agency_id)
                .where(Involvement.person_id == keith)
            ).all()
        }
        assert family[AgencyKind.TREATMENT] == (True, True)
        for kind in (AgencyKind.SOCIAL_CARE, AgencyKind.HOUSING, AgencyKind.POLICE):
            assert family[kind] == (False, True)
        assert family[AgencyKind.CARE_HOME] == (False, False)
        housing_moves = db.scalars(
            select(TimelineEntry.details)
            .where(
                TimelineEntry.person_id == keith,
                TimelineEntry.kind == TimelineKind.HOUSING_CHANGED,
            )
            .order_by(TimelineEntry.occurred_at)
        ).all()
        assert [move["to"] for move in housing_moves] == ["care_home", "settled"]
        by_agency = _number(
            db,
            select(func.count(func.distinct(Contact.agency_id))).where(Contact.person_id == keith),
        )
        assert by_agency >= 6
        contacts = _number(
            db, select(func.count()).select_from(Contact).where(Contact.person_id == keith)
        )
        assert contacts >= 25


def test_default_set_has_every_state_a_newcomer_should_see(
    app: Flask, database: Database, kit: SecurityKit
) -> None:
    _load_default(app)
    everyone = _everyone(database, kit)
    today = clock.london_today()
    planned = people.plan(today)
    assert len(everyone) == len(planned) == people.EXPECTED_PEOPLE == 60
    assert sorted(n.full for n, _ in everyone.values()) == sorted(p.names.full for p in planned)
    # Only fictional identifiers: Ofcom drama numbers, example.org, NHS 999 range, NX postcodes.
    for names, details in everyone.values():
        assert not details.phone or PHONE.fullmatch(details.phone), details.phone
        assert not details.email or details.email.endswith("@example.org")
        if details.nhs_number:
            assert details.nhs_number.startswith("999")
            assert nhs_number_problem(details.nhs_number) is None
        if details.postcode:
            assert normalise_postcode(details.postcode) == details.postcode
            assert details.postcode.startswith("NX")
        assert details.date_of_birth is not None
        age = (today - details.date_of_birth).days // 365
        assert 18 <= age <= 70, (names, age)

    now = clock.utcnow()
    with database.reading() as db:
        # One death, which closed every involvement of that person.
        dead = db.scalars(select(Person).where(Person.died_on.is_not(None))).all()
        assert len(dead) == 1
        closures = db.scalars(
            select(Involvement.closure_reason).where(Involvement.person_id == dead[0].id)
        ).all()
        assert closures
        assert all(reason is not None for reason in closures)
        assert ClosureReason.DIED in closures
        # Ended involvements with their reasons, agency-only notes and revised notes.
        reasons = Counter(
            db.scalars(
                select(Involvement.closure_reason).where(Involvement.ended_on.is_not(None))
            ).all()
        )
        assert sum(n for reason, n in reasons.items() if reason is not ClosureReason.DIED) >= 8
        assert len(reasons) >= 3
        assert _number(db, select(func.count()).select_from(Note).where(Note.agency_only)) >= 5
        assert _number(db, select(func.count()).select_from(Note).where(Note.revision > 1)) >= 5
        # A revision keeps its note's "my agency only" mark.
        mixed = db.execute(
            select(Note.contact_id)
            .group_by(Note.contact_id)
            .having(func.count(func.distinct(Note.agency_only)) > 1)
        ).all()
        assert mixed == []
        # Every living person with an open involvement has exactly one lead professional.
        leads = dict(
            db.execute(
                select(Involvement.person_id, func.sum(cast(Involvement.is_lead, Integer)))
                .where(Involvement.ended_on.is_(None))
                .group_by(Involvement.person_id)
            ).all()
        )
        assert set(leads.values()) == {1}
        # Family sizes 1 to 5 agencies (the story has more), and varied housing.
        sizes = Counter(
            db.execute(
                select(
                    Involvement.person_id, func.count(func.distinct(Involvement.agency_id))
                ).group_by(Involvement.person_id)
            ).all()
        )
        assert {size for _, size in sizes} >= {1, 2, 3, 4, 5}
        housing = set(db.scalars(select(Person.housing_status)).all())
        assert {
            HousingStatus.SETTLED,
            HousingStatus.TEMPORARY,
            HousingStatus.SOFA_SURFING,
            HousingStatus.NO_FIXED_ABODE,
            HousingStatus.HOSTEL,
        } <= housing
        alerts = set(db.scalars(select(PersonAlert.alert_type)).all())
        assert {
            "cuckooing",
            "risk_to_staff",
            "domestic_abuse_victim",
            "self_harm",
            "overdose_risk",
            "safeguarding",
        } <= alerts
        # A year of contacts, none in the future, some today or yesterday.
        first, last = db.execute(
            select(func.min(Contact.occurred_at), func.max(Contact.occurred_at))
        ).one()
        assert now - first > timedelta(days=300)
        assert now - timedelta(days=2) < last <= now
        # Real services: every person's creation was audited.
        created = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "person.created")
        )
        assert created == 60

    # The HOPE worker a newcomer signs in as: 15-25 people, most with alerts and recent contact.
    robin = _user(database, people.HOPE_WORKER)
    with database.reading() as db:
        caseload = db.scalars(
            select(Involvement.person_id).where(
                Involvement.worker_id == robin.user_id, Involvement.ended_on.is_(None)
            )
        ).all()
        assert 15 <= len(caseload) <= 25
        with_alerts = _number(
            db,
            select(func.count(func.distinct(PersonAlert.person_id))).where(
                PersonAlert.person_id.in_(caseload), PersonAlert.ended_at.is_(None)
            ),
        )
        assert with_alerts >= len(caseload) // 2
        recent = _number(
            db,
            select(func.count(func.distinct(Contact.person_id))).where(
                Contact.person_id.in_(caseload), Contact.occurred_at > now - timedelta(days=14)
            ),
        )
        assert recent >= len(caseload) - 2
    keith = next(pid for pid, (names, _) in everyone.items() if names.full == "Keith Moorcroft")
    assert keith in caseload
    _check_the_story_of_keith(database, keith)


def test_default_set_is_the_same_every_time() -> None:
    """A fixed seed: the same people every run, on any day (the load test above checks that
    loading makes exactly the planned people)."""
    today = clock.london_today()
    first, again = people.plan(today), people.plan(today)
    assert first == again
    later = people.plan(today + timedelta(days=40))
    assert [p.names for p in later] == [p.names for p in first]
    assert [len(p.steps) for p in later] == [len(p.steps) for p in first]
    ages = [(today - p.details.date_of_birth).days // 365 for p in first if p.details.date_of_birth]
    assert ages == [
        (today + timedelta(days=40) - p.details.date_of_birth).days // 365
        for p in later
        if p.details.date_of_birth
    ]


def test_large_set_for_benchmarks(
    app: Flask, database: Database, kit: SecurityKit, tmp_path: Path
) -> None:
    manifest_path = tmp_path / "bench.json"
    result = app.test_cli_runner().invoke(
        cli.demo_data,
        [
            "--people",
            "300",
            "--contacts",
            "3000",
            "--batch-size",
            "128",
            "--bench-manifest",
            str(manifest_path),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["people"] == 300
    assert manifest["contacts"] == 3000
    assert manifest["password"] == data.DEMO_PASSWORD
    assert manifest["worker_email"] == people.HOPE_WORKER
    assert manifest["worker_caseload"] == large.TYPICAL_CASELOAD
    assert manifest["person_contacts"] >= 60
    bench_person = uuid.UUID(manifest["person_id"])

    with database.reading() as db:

        def count(model: type[Base]) -> int:
            return _number(db, select(func.count()).select_from(model))

        assert count(Person) == 300
        assert count(Contact) == 3000
        # Notes: one per contact with a note, plus one per revision.
        revisions = _number(db, select(func.coalesce(func.sum(Contact.note_revision), 0)))
        assert count(Note) == revisions
        kinds = dict(
            db.execute(select(TimelineEntry.kind, func.count()).group_by(TimelineEntry.kind)).all()
        )
        assert kinds[TimelineKind.CONTACT] == 3000
        assert kinds[TimelineKind.PERSON_CREATED] == 300
        assert kinds[TimelineKind.FAMILY_ADDED] == count(Involvement)
        assert count(SearchToken) >= 300 * 4
        # Each person 1-3 open involvements and one lead (unless dead).
        open_counts = db.execute(
            select(
                Involvement.person_id, func.count(), func.sum(cast(Involvement.is_lead, Integer))
            )
            .where(Involvement.ended_on.is_(None))
            .group_by(Involvement.person_id)
        ).all()
        assert all(1 <= n <= 3 and leads == 1 for _, n, leads in open_counts)
        # The HOPE worker has the typical caseload, with the benchmark person on it.
        viewer = _user(database, people.HOPE_WORKER)
        caseload = set(
            db.scalars(
                select(Involvement.person_id).where(
                    Involvement.worker_id == viewer.user_id, Involvement.ended_on.is_(None)
                )
            )
        )
        assert len(caseload) == large.TYPICAL_CASELOAD
        assert bench_person in caseload
        # Contact categories follow the recording agency's kind, as the services set them.
        mismatched = db.scalar(
            select(func.count())
            .select_from(Contact)
            .join(Agency, Agency.id == Contact.agency_id)
            .where(
                (Agency.kind == AgencyKind.TREATMENT) & (Contact.category != Category.SUBSTANCE_USE)
            )
        )
        assert mismatched == 0
    with kit.keystore.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person_keys)).scalar_one() == 300

    # Every name decrypts; a generated person is found by name through the real search.
    everyone = _everyone(database, kit)
    assert len(everyone) == 300
    names, details = everyone[bench_person]
    with database.reading() as db:
        vault = Vault(kit.keystore)
        found = search_people(db, vault, kit.blind_index, viewer, SearchCriteria(name=names.full))
        assert bench_person in {hit.id for hit in found.hits}
        by_dob = search_people(
            db,
            vault,
            kit.blind_index,
            viewer,
            SearchCriteria(name=names.family, date_of_birth=details.date_of_birth),
        )
        assert bench_person in {hit.id for hit in by_dob.hits}
        # Notes and places decrypt with the services' row binding.
        note = db.scalars(select(Note).where(Note.person_id == bench_person).limit(1)).one()
        assert vault.open(bench_person, "notes", "body_enc", note.id, note.body_enc)


def test_large_set_options_need_people(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli.demo_data, ["--contacts", "10"])
    assert result.exit_code != 0
    assert "--people" in result.output
