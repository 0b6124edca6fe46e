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
from casework.access.policy import Viewer, person_access
from casework.agencies.models import Agency, AgencyKind
from casework.audit import sealing
from casework.audit.models import AuditEvent, AuditSeal
from casework.consent.models import (
    BasisKind,
    ConsentMethod,
    EmergencyAccess,
    EmergencyReview,
    ReviewState,
    SharingBasis,
    SharingBasisCategory,
)
from casework.consent.rules import BasisFacts, BasisState, SharingRules, state_of
from casework.contacts.models import Contact, Note
from casework.db import Base, Database
from casework.demo import data, large, pathway_people, people
from casework.family.models import Involvement
from casework.people.codes import ClosureReason, HousingStatus, TimelineKind
from casework.people.models import Person, PersonAlert, SearchToken, TimelineEntry
from casework.people.queries import SearchCriteria, search_people
from casework.people.records import Details, Names, open_details, open_names
from casework.people.validation import nhs_number_problem, normalise_postcode
from casework.security.keystore import person_keys
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.treatment.models import (
    DischargeReason,
    PrevalenceEstimate,
    SubstanceGroup,
    TreatmentEpisode,
)
from casework.users.models import User
from tests.conftest import MadeUser, sign_in_directly

PHONE = re.compile(r"07700 900\d{3}")
FORM_REFERENCE = re.compile(r"[A-Z]{2,4}-CF-\d{4}")


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


def _made_user(database: Database, email: str) -> MadeUser:
    """A demo account, to sign in as (demo accounts have no two-factor secret yet)."""
    viewer = _user(database, email)
    return MadeUser(viewer.user_id, email, data.DEMO_PASSWORD, None, viewer.agency_id)


def _states(database: Database, kit: SecurityKit) -> dict[uuid.UUID, BasisState]:
    """The state today of every consent and basis record, by the rules the pages use."""
    rules, today = SharingRules.from_settings(kit.settings), clock.london_today()
    with database.reading() as db:
        return {
            basis.id: state_of(
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
            )
            for basis in db.scalars(select(SharingBasis))
        }


def _person_named(everyone: dict[uuid.UUID, tuple[Names, Details]], full: str) -> uuid.UUID:
    return next(pid for pid, (names, _) in everyone.items() if names.full == full)


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
    assert len(everyone) == len(planned) == people.EXPECTED_PEOPLE == 60 + pathway_people.COUNT
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
        assert created == people.EXPECTED_PEOPLE

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


def test_default_set_shows_consent_in_every_state(
    app: Flask, database: Database, kit: SecurityKit
) -> None:
    _load_default(app)
    everyone = _everyone(database, kit)
    states = _states(database, kit)
    vault = Vault(kit.keystore)
    now, today = clock.utcnow(), clock.london_today()
    robin = _user(database, people.HOPE_WORKER)
    ig = _user(database, people.staff_email("rowan"))
    with database.reading() as db:
        bases = {basis.id: basis for basis in db.scalars(select(SharingBasis))}
        consents = {i: b for i, b in bases.items() if b.kind is BasisKind.CONSENT}
        consent_states = Counter(states[i] for i in consents)
        # Most records are in force; every other state shows at least once.
        assert consent_states[BasisState.IN_FORCE] >= 80
        for state in (
            BasisState.EXPIRING,
            BasisState.EXPIRED,
            BasisState.WITHDRAWN,
            BasisState.SUPERSEDED,
        ):
            assert consent_states[state] >= 1, state
        # Consent was given on the day it was recorded, in the replayed year.
        assert all(b.recorded_at.date() - b.starts_on <= timedelta(days=1) for b in bases.values())
        assert min(b.starts_on for b in consents.values()) < today - timedelta(days=300)
        # An expiring consent was given about 11 months ago, with the default 12-month review.
        expiring = [b for i, b in consents.items() if states[i] is BasisState.EXPIRING]
        assert any((today - b.starts_on).days > 330 for b in expiring)
        # A renewal: the superseded record and the record that replaced it, in force.
        for old_id in (i for i in consents if states[i] is BasisState.SUPERSEDED):
            renewal = next(b for b in consents.values() if b.supersedes_id == old_id)
            assert states[renewal.id] is BasisState.IN_FORCE
        # Withdrawals give a reason; written consent has a form reference, verbal none.
        for basis in consents.values():
            if basis.withdrawn_at is not None:
                assert basis.withdrawal_reason_enc is not None
                reason = vault.open(
                    basis.person_id,
                    "sharing_bases",
                    "withdrawal_reason_enc",
                    basis.id,
                    basis.withdrawal_reason_enc,
                )
                assert reason.startswith("Asked that")
            if basis.method is ConsentMethod.WRITTEN:
                assert basis.form_reference_enc is not None
                reference = vault.open(
                    basis.person_id,
                    "sharing_bases",
                    "form_reference_enc",
                    basis.id,
                    basis.form_reference_enc,
                )
                assert FORM_REFERENCE.fullmatch(reference), reference
            else:
                assert basis.form_reference_enc is None
        assert {b.method for b in consents.values()} == {
            ConsentMethod.VERBAL,
            ConsentMethod.WRITTEN,
        }
        # Most families with more than one agency share by consent; some people have none.
        families = dict(
            db.execute(
                select(Involvement.person_id, func.count(func.distinct(Involvement.agency_id)))
                .group_by(Involvement.person_id)
                .having(func.count(func.distinct(Involvement.agency_id)) > 1)
            ).all()
        )
        # (A required assessment shares under the legal obligation its pathway records.)
        with_consent = {b.person_id for b in consents.values()} | set(
            db.scalars(
                select(SharingBasis.person_id).where(
                    SharingBasis.kind == BasisKind.LEGAL_OBLIGATION
                )
            )
        )
        assert len(with_consent & set(families)) >= 0.8 * len(families)
        assert len(set(everyone) - with_consent) >= 10

        # On the HOPE worker's caseload: every consent state, and people with none.
        caseload = set(
            db.scalars(
                select(Involvement.person_id).where(
                    Involvement.worker_id == robin.user_id, Involvement.ended_on.is_(None)
                )
            )
        )
        on_caseload = Counter(states[i] for i, b in consents.items() if b.person_id in caseload)
        for state in (
            BasisState.IN_FORCE,
            BasisState.EXPIRING,
            BasisState.EXPIRED,
            BasisState.WITHDRAWN,
            BasisState.SUPERSEDED,
        ):
            assert on_caseload[state] >= 1, state
        assert caseload - with_consent

        # Other lawful bases: one safeguarding basis recorded in the last few days and
        # waiting for review (not yet overdue), one older one approved by information
        # governance.
        # (The legal obligation a required assessment records is the pathway's, not these.)
        others = [
            b
            for b in bases.values()
            if b.kind not in (BasisKind.CONSENT, BasisKind.LEGAL_OBLIGATION)
        ]
        pending = [b for b in others if b.review_state is ReviewState.PENDING]
        assert len(pending) == 1
        assert pending[0].kind is BasisKind.SAFEGUARDING
        assert now - timedelta(days=5) < pending[0].recorded_at < now - timedelta(days=1)
        assert pending[0].person_id in caseload
        assert states[pending[0].id] in (BasisState.IN_FORCE, BasisState.EXPIRING)
        approved = [b for b in others if b.review_state is ReviewState.APPROVED]
        assert len(approved) == 1
        assert approved[0].reviewed_by_id == ig.user_id
        assert approved[0].recorded_at < pending[0].recorded_at
        assert approved[0].reviewed_at is not None
        assert approved[0].reviewed_at > approved[0].recorded_at
        assert states[approved[0].id] in (BasisState.IN_FORCE, BasisState.EXPIRING)

        # Emergency access: one started yesterday, over now, waiting for review, by a
        # worker whose agency has no involvement and no basis for that person; one reviewed.
        accesses = db.scalars(select(EmergencyAccess)).all()
        waiting = [a for a in accesses if a.review_state is EmergencyReview.PENDING]
        assert len(waiting) == 1
        emergency = waiting[0]
        assert clock.to_london(emergency.started_at).date() == today - timedelta(days=1)
        assert (emergency.ended_at or emergency.expires_at) < now
        assert not db.scalar(
            select(func.count())
            .select_from(Involvement)
            .where(
                Involvement.person_id == emergency.person_id,
                Involvement.agency_id == emergency.agency_id,
            )
        )
        assert not any(
            b.person_id == emergency.person_id and b.agency_id == emergency.agency_id
            for b in bases.values()
        )
        assert emergency.person_id in caseload
        reviewed = [a for a in accesses if a.review_state is EmergencyReview.APPROPRIATE]
        assert len(reviewed) == 1
        assert reviewed[0].reviewed_by_id == ig.user_id

        # Keith: consent with every agency of his family, and with his private landlord.
        keith = _person_named(everyone, "Keith Moorcroft")
        family_agencies = set(
            db.scalars(select(Involvement.agency_id).where(Involvement.person_id == keith))
        )
        landlord = db.scalars(select(Agency).where(Agency.name == data.LANDLORD)).one()
        assert landlord.kind is AgencyKind.OTHER
        assert not db.scalar(
            select(func.count()).select_from(User).where(User.agency_id == landlord.id)
        )
        named = {
            b.agency_id
            for b in consents.values()
            if b.person_id == keith and states[b.id] is BasisState.IN_FORCE
        }
        assert named == family_agencies | {landlord.id}
        keith_categories = set(
            db.scalars(
                select(SharingBasisCategory.category)
                .join(SharingBasis, SharingBasis.id == SharingBasisCategory.basis_id)
                .where(SharingBasis.person_id == keith, SharingBasis.agency_id == landlord.id)
            )
        )
        assert Category.IDENTITY in keith_categories

    # The audit log was sealed at the end of loading, and verifies intact.
    report = sealing.verify(
        database,
        kit.audit_keys,
        now=clock.utcnow(),
        delay_seconds=kit.settings.audit_seal_delay_seconds,
        outside=kit.settings.instance_dir / "audit-seals.log",
    )
    assert report.ok, report.problems
    assert report.warnings == []
    assert report.seals_checked >= 1
    with database.reading() as db:
        assert _number(db, select(func.count()).select_from(AuditSeal)) == report.seals_checked


def test_demo_pages_show_shared_work_and_due_reviews(
    app: Flask, database: Database, kit: SecurityKit
) -> None:
    _load_default(app)
    everyone = _everyone(database, kit)
    states = _states(database, kit)
    robin = _user(database, people.HOPE_WORKER)
    with database.reading() as db:
        caseload = set(
            db.scalars(
                select(Involvement.person_id).where(
                    Involvement.worker_id == robin.user_id, Involvement.ended_on.is_(None)
                )
            )
        )
        due = {
            basis.id: basis.person_id
            for basis in db.scalars(select(SharingBasis))
            if basis.person_id in caseload
            and states[basis.id] in (BasisState.EXPIRING, BasisState.EXPIRED)
        }
        treatment_id, treatment_name = db.execute(
            select(Agency.id, Agency.name).where(Agency.kind == AgencyKind.TREATMENT)
        ).one()

    # The HOPE worker's home page lists the consents and bases due for review.
    client = app.test_client()
    sign_in_directly(app, client, _made_user(database, people.HOPE_WORKER))
    page = client.get("/home/worker")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Consent and lawful bases due for review" in html
    assert "Nothing due in the next 30 days" not in html
    assert "Expired" in html
    assert len(set(due.values())) >= 2
    for basis_id, person_id in due.items():
        assert f"/people/{person_id}/sharing/{basis_id}" in html
        assert everyone[person_id][0].full in html

    # A partner in Keith's family (his social worker) sees the treatment service's contacts
    # and notes on his timeline, under his consent; never the police's own-agency note.
    keith = _person_named(everyone, "Keith Moorcroft")
    grace = _user(database, people.staff_email("grace"))
    with database.reading() as db:
        access = person_access(db, grace, keith)
        assert access is not None
        assert {Category.SUBSTANCE_USE, Category.CASE_NOTES} <= access.shared
    partner = app.test_client()
    sign_in_directly(app, partner, _made_user(database, people.staff_email("grace")))
    timeline = partner.get(f"/people/{keith}/timeline?agency={treatment_id}")
    assert timeline.status_code == 200
    html = timeline.get_data(as_text=True)
    assert f'<option value="{treatment_id}" selected>{treatment_name}</option>' in html
    assert "Weekly home visit." in html
    assert "Weekly welfare check." in html
    everything = partner.get(f"/people/{keith}/timeline").get_data(as_text=True)
    assert "Details of the operation stay within the police" not in everything


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
        # Consent: each agency of a family of two or more is named once, for the others'
        # categories (and case notes); in force today but for a few expired or withdrawn.
        named = Counter(
            db.execute(
                select(SharingBasis.person_id, SharingBasis.agency_id).where(
                    SharingBasis.kind == BasisKind.CONSENT
                )
            ).all()
        )
        involved = Counter(
            (pid, agency)
            for pid, agency, size in db.execute(
                select(
                    Involvement.person_id,
                    Involvement.agency_id,
                    select(func.count(func.distinct(Involvement.agency_id)))
                    .where(Involvement.person_id == Person.id)
                    .correlate(Person)
                    .scalar_subquery(),
                ).join(Person, Person.id == Involvement.person_id)
            ).all()
            if size > 1
        )
        assert set(named) == set(involved)
        assert set(named.values()) == {1}
        states = Counter(_states(database, kit).values())
        assert states[BasisState.IN_FORCE] + states[BasisState.EXPIRING] >= 0.9 * sum(
            states.values()
        )
        assert states[BasisState.EXPIRED] >= 1
        assert states[BasisState.WITHDRAWN] >= 1
        assert set(states) <= {
            BasisState.IN_FORCE,
            BasisState.EXPIRING,
            BasisState.EXPIRED,
            BasisState.WITHDRAWN,
        }
        today = clock.london_today()
        in_force = db.scalars(
            select(SharingBasis).where(
                SharingBasis.withdrawn_at.is_(None), SharingBasis.ends_on >= today
            )
        ).all()
        assert all((today - basis.starts_on).days <= 335 for basis in in_force)
        categories = dict(
            db.execute(
                select(SharingBasisCategory.basis_id, func.count()).group_by(
                    SharingBasisCategory.basis_id
                )
            ).all()
        )
        assert set(categories) == set(db.scalars(select(SharingBasis.id)))
        # The purpose decrypts with the services' row binding.
        basis = db.scalars(select(SharingBasis).limit(1)).one()
        purpose = Vault(kit.keystore).open(
            basis.person_id, "sharing_bases", "statement_enc", basis.id, basis.statement_enc
        )
        assert purpose in people.PURPOSES.values()
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


def test_large_set_referrals_and_episodes(app: Flask, database: Database, kit: SecurityKit) -> None:
    """Referrals walk their pathway's transitions in the services' stored format, and
    treatment episodes are consistent."""
    from casework.pathways.definitions import pathways
    from casework.pathways.models import Referral, ReferralEvent
    from casework.pathways.rules import check_timing, parse_values
    from casework.tasks.models import Task, TaskSource, TaskState
    from casework.treatment.models import DischargeReason, SubstanceGroup, TreatmentEpisode
    from casework.users.models import UserRole
    from casework.workdays import working_days

    result = app.test_cli_runner().invoke(
        cli.demo_data, ["--people", "800", "--contacts", "4000", "--batch-size", "200"]
    )
    assert result.exit_code == 0, result.output
    defined, workdays, vault = pathways(), working_days(), Vault(kit.keystore)
    with database.reading() as db:
        kinds = dict(db.execute(select(Agency.id, Agency.kind)).all())
        user_agency = dict(db.execute(select(User.id, User.agency_id)).all())
        roles: dict[uuid.UUID, set[Any]] = {}
        for user_id, role in db.execute(select(UserRole.user_id, UserRole.role)).all():
            roles.setdefault(user_id, set()).add(role)
        referrals = db.scalars(select(Referral)).all()
        events: dict[uuid.UUID, list[ReferralEvent]] = {}
        for event in db.scalars(
            select(ReferralEvent).order_by(ReferralEvent.occurred_at, ReferralEvent.id)
        ):
            events.setdefault(event.referral_id, []).append(event)
        referred = {r.person_id for r in referrals}
        assert 0.12 * 800 <= len(referred) <= 0.3 * 800
        by_pathway = Counter(r.pathway for r in referrals)
        assert set(by_pathway) >= {
            "required_assessment",
            "general",
            "hospital",
            "domestic_abuse",
            "prison_release",
        }
        assert by_pathway.most_common(1)[0][0] == "required_assessment", by_pathway
        assert len({r.reference for r in referrals}) == len(referrals)
        terminal_seen, open_seen = 0, 0
        for referral in referrals:
            pathway = defined[referral.pathway]
            walk = events[referral.id]
            assert referral.reference.startswith(pathway.reference_prefix + "-")
            assert kinds[referral.from_agency_id] in pathway.referring_kinds
            assert kinds[referral.to_agency_id] in pathway.receiving_kinds
            assert referral.from_agency_id != referral.to_agency_id
            assert user_agency[referral.created_by_id] == referral.from_agency_id
            assert walk[0].from_stage is None
            assert pathway.transitions[walk[0].transition].starts
            assert walk[0].actor_id == referral.created_by_id
            known: dict[str, Any] = {}
            for before, event in zip([None, *walk], walk, strict=False):
                step = pathway.transitions[event.transition]
                assert event.to_stage == step.to
                assert event.category == pathway.stages[step.to].category
                if before is not None:
                    assert event.from_stage == before.to_stage
                    assert event.from_stage in step.from_
                    assert event.occurred_at >= before.occurred_at
                    check_timing(step, known, event.occurred_at)
                assert user_agency[event.actor_id] == event.agency_id
                assert roles[event.actor_id] & set(step.roles)
                texts = (
                    json.loads(
                        vault.open(
                            event.person_id,
                            "referral_events",
                            "text_enc",
                            event.id,
                            event.text_enc,
                        )
                    )
                    if event.text_enc
                    else {}
                )
                # What was stored is what the services' checks give for the same values.
                checked = parse_values(
                    step,
                    {**event.data, **texts},
                    known=known,
                    now=event.occurred_at,
                    workdays=workdays,
                )
                assert checked.plain == event.data
                assert checked.texts == texts
                known.update(event.data)
            last = walk[-1]
            stage = pathway.stages[referral.stage]
            assert referral.stage == last.to_stage
            assert referral.stage_category == stage.category
            assert referral.category == pathway.stages[walk[0].to_stage].category
            assert referral.data == known
            # Dates the reports read are in order: picked up after release, heard at MARAC on
            # its date, seen on the ward after admission.
            for later, earlier in (
                ("attended_on", "release_date"),
                ("heard_on", "marac_on"),
                ("seen_on", "admitted_on"),
            ):
                if later in known:
                    assert known[later] >= known[earlier][:10]
            assert referral.version == len(walk)
            assert referral.updated_at == last.occurred_at
            assert (referral.closed_at is not None) == stage.terminal
            if stage.terminal:
                terminal_seen += 1
                assert referral.closed_at == last.occurred_at
            else:
                open_seen += 1
        assert terminal_seen
        assert open_seen
        timeline = _number(
            db,
            select(func.count())
            .select_from(TimelineEntry)
            .where(TimelineEntry.kind == TimelineKind.REFERRAL),
        )
        assert timeline == sum(len(walk) for walk in events.values())
        # Open clocks have their task, at the agency of the clock's side.
        by_id = {r.id: r for r in referrals}
        tasks = db.scalars(select(Task).where(Task.source == TaskSource.PATHWAY)).all()
        assert tasks
        for task in tasks:
            assert task.source_id is not None
            referral = by_id[task.source_id]
            clock_def = defined[referral.pathway].stages[referral.stage].clock
            assert task.state == TaskState.OPEN
            assert referral.closed_at is None
            assert clock_def is not None
            assert task.source_key == f"stage:{referral.stage}"
            side = (
                referral.to_agency_id
                if clock_def.side.value == "receiving"
                else referral.from_agency_id
            )
            assert task.agency_id == side

        episodes = db.scalars(select(TreatmentEpisode)).all()
        assert episodes
        treated = set(
            db.scalars(
                select(Involvement.person_id)
                .join(Agency, Agency.id == Involvement.agency_id)
                .where(Agency.kind == AgencyKind.TREATMENT)
            )
        )
        open_keys = Counter((e.person_id, e.agency_id) for e in episodes if e.ended_on is None)
        assert set(open_keys.values()) == {1}
        for episode in episodes:
            assert episode.person_id in treated
            assert kinds[episode.agency_id] is AgencyKind.TREATMENT
            assert (episode.ended_on is not None) == (episode.discharge_reason is not None)
            assert (episode.ended_on is not None) == (episode.ended_by_id is not None)
            if episode.ended_on is not None:
                assert episode.ended_on >= episode.started_on
            assert episode.started_on >= clock.london_today() - timedelta(days=3 * 366)
        ended = sum(1 for e in episodes if e.ended_on is not None)
        assert 0.3 * len(episodes) <= ended <= 0.5 * len(episodes)
        died = [e for e in episodes if e.discharge_reason is DischargeReason.DIED]
        dead = set(db.scalars(select(Person.id).where(Person.died_on.is_not(None))))
        assert all(e.person_id in dead for e in died)
        groups = Counter(e.substance_group for e in episodes)
        assert len(groups) == 6
        assert groups.most_common(3)[-1][1] > groups[SubstanceGroup.CRACK_ONLY]


def test_large_set_options_need_people(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli.demo_data, ["--contacts", "10"])
    assert result.exit_code != 0
    assert "--people" in result.output


def test_default_set_has_people_partway_through_every_pathway(
    app: Flask, database: Database, kit: SecurityKit
) -> None:
    from casework.notifications.models import Notification
    from casework.pathways.models import Referral, ReferralEvent
    from casework.pathways.queries import Clock
    from casework.tasks.models import Task, TaskState

    _load_default(app)
    now, today = clock.utcnow(), clock.london_today()
    with database.reading() as db:
        referrals = db.scalars(select(Referral)).all()
        by_pathway = Counter(r.pathway for r in referrals)
        assert set(by_pathway) == {
            "required_assessment",
            "hospital",
            "domestic_abuse",
            "prison_release",
            "general",
        }
        ra = [r for r in referrals if r.pathway == "required_assessment"]
        # Every referral's history went through the engine: one event per stage reached.
        assert _number(db, select(func.count()).select_from(ReferralEvent)) > len(referrals)
        # Booked for today and this week, one of them a disputed test.
        booked = [r for r in ra if r.stage == "booked"]
        days = sorted(
            (datetime_of(r.data["appointment_at"]).date() - today).days  # London wall clock
            for r in booked
        )
        assert days[0] == 0
        assert all(0 <= d <= 7 for d in days)
        assert sum(1 for r in booked if r.data["disputed"]) == 1
        # One failure to attend, with its open task for the police.
        [failed] = [r for r in ra if r.stage == "failed_to_attend"]
        police_task = db.scalars(
            select(Task).where(Task.source_id == failed.id, Task.state == TaskState.OPEN)
        ).one()
        assert police_task.agency_id == failed.from_agency_id
        # The Fine Lines funnel, in proportions like the seed's.
        reached = Counter(
            e.to_stage
            for e in db.scalars(
                select(ReferralEvent).where(ReferralEvent.referral_id.in_([r.id for r in ra]))
            )
        )
        held = reached["attended"]
        assert 0.35 <= reached["suitable"] / held <= 0.5
        assert 0.7 <= reached["group_attended"] / reached["suitable"] <= 0.9
        assert reached["service_taken_up"] >= reached["group_attended"] - 2
        assert reached["completed"] >= 2
        assert {"not_suitable", "left_early", "service_taken_up"} <= {r.stage for r in ra}
        # A DASH of 16: the high-risk alert, an IDVA and a MARAC referral.
        [dash] = [
            r for r in referrals if r.pathway == "domestic_abuse" and r.data["dash_score"] == 16
        ]
        assert dash.stage == "marac_referred"
        assert {"idva_allocated", "marac_referred"} <= set(
            db.scalars(select(ReferralEvent.to_stage).where(ReferralEvent.referral_id == dash.id))
        )
        assert (
            db.scalar(
                select(func.count())
                .select_from(PersonAlert)
                .where(
                    PersonAlert.person_id == dash.person_id,
                    PersonAlert.alert_type == "domestic_abuse_high_risk",
                )
            )
            == 1
        )
        # Prison release: day 15 of the 21-day clock (at risk), one picked up on day 9.
        releases = {r.stage: r for r in referrals if r.pathway == "prison_release"}
        waiting = releases["awaiting_pickup"]
        assert (today - datetime_of(waiting.data["release_date"]).date()).days == 15
        task = db.scalars(
            select(Task).where(Task.source_id == waiting.id, Task.state == TaskState.OPEN)
        ).one()
        assert Clock(task.title, task.due_at, task.at_risk_at).state(now) == "at_risk"
        picked = releases["picked_up"]
        assert (
            datetime_of(picked.data["attended_on"]) - datetime_of(picked.data["release_date"])
        ).days == 9
        # The treatment service that picked the person up joined the family (an ended
        # referral alone would no longer let it see them).
        owen = _user(database, "owen.gatley@northdale.example.org")
        assert person_access(db, owen, picked.person_id) is not None
        # Hospital referrals at several stages; a general referral declined, referrer told.
        assert len({r.stage for r in referrals if r.pathway == "hospital"}) >= 5
        [declined] = [r for r in referrals if r.pathway == "general" and r.stage == "declined"]
        assert db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == declined.created_by_id)
        )


def datetime_of(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def test_default_set_has_treatment_episodes_and_prevalence_estimates(
    app: Flask, database: Database
) -> None:
    _load_default(app)
    today = clock.london_today()
    with database.reading() as db:
        episodes = list(db.scalars(select(TreatmentEpisode)))
        estimates = list(db.scalars(select(PrevalenceEstimate)))
        dead = set(db.scalars(select(Person.id).where(Person.died_on.is_not(None))))
        treatment_agencies = set(
            db.scalars(select(Agency.id).where(Agency.kind == AgencyKind.TREATMENT))
        )
        db.expunge_all()
    assert len(episodes) >= 30
    assert {e.substance_group for e in episodes} == set(SubstanceGroup)
    assert len({e.modality for e in episodes}) >= 4
    ended = [e for e in episodes if e.ended_on is not None]
    assert len(ended) >= 5
    assert len(episodes) - len(ended) >= 10
    reasons = Counter(e.discharge_reason for e in ended)
    assert reasons[DischargeReason.COMPLETED_FREE] + reasons[DischargeReason.COMPLETED] >= 2
    # "Died" for each person the service worked with whose death is recorded, and only them.
    died = {e.person_id for e in ended if e.discharge_reason is DischargeReason.DIED}
    assert died
    assert died <= dead
    assert {e.agency_id for e in episodes} <= treatment_agencies
    assert min(e.started_on for e in episodes) <= today - timedelta(days=365)
    assert all(e.started_on <= today for e in episodes)
    assert all(e.ended_on is None or e.started_on <= e.ended_on <= today for e in episodes)
    assert {(e.substance_group, e.year) for e in estimates} == {
        (group, year) for group in SubstanceGroup for year in (today.year - 1, today.year)
    }
    assert all(e.source.startswith("Fictional partnership needs assessment") for e in estimates)
