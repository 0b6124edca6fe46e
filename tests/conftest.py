"""Shared fixtures: one real database per test run (SQLite by default, PostgreSQL when
``DATABASE_URL`` points at one), migrated with Alembic, emptied after every test."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from casework import clock, migrate
from casework.access.categories import ALL_CATEGORIES, Category
from casework.access.policy import PersonAccess, Viewer, person_access
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.app import create_app
from casework.audit.models import APPEND_ONLY_TABLES
from casework.audit.recorder import SYSTEM
from casework.auth import services as auth_services
from casework.consent import services as consent_services
from casework.consent.models import BasisKind, ConsentMethod, EmergencyReason
from casework.consent.rules import SharingRules
from casework.consent.services import BasisInput, ConsentInput, Recipient
from casework.contacts import services as contact_services
from casework.contacts.services import ContactInput
from casework.db import Database
from casework.family import services as family_services
from casework.models import Base
from casework.pathways import services as pathway_services
from casework.pathways.definitions import pathways
from casework.pathways.services import Outcome
from casework.people import services as people_services
from casework.people.codes import ContactKind, ContactOutcome, FamilyRole, HousingStatus, Sex
from casework.people.records import Details, Names, PersonFields
from casework.people.services import NewInvolvement
from casework.security.keystore import Keystore, keystore_metadata
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.settings import SECRET_NAMES, Settings, load_settings
from casework.users.models import User, UserRole

PASSWORD = "correct horse battery staple"


def _test_env(instance_dir: Path) -> dict[str, str]:
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env["CASEWORK_INSTANCE_DIR"] = str(instance_dir)
    url = os.environ.get("DATABASE_URL")
    env["DATABASE_URL"] = url or f"sqlite:///{instance_dir / 'test.db'}"
    return env


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    return load_settings("test", env=_test_env(instance))


def _reset_schema(database: Database) -> None:
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.database_url)
    _reset_schema(db)
    migrate.upgrade(settings.database_url)
    keystore = Keystore(settings)
    keystore.create_schema()
    keystore.drop_schema()
    keystore.create_schema()
    keystore.dispose()
    yield db
    db.dispose()


def empty_keystore(kit: SecurityKit) -> None:
    with kit.keystore.engine.begin() as conn:
        for table in reversed(keystore_metadata.sorted_tables):
            conn.execute(table.delete())


@contextmanager
def append_only_suspended(conn: Connection) -> Iterator[None]:
    """Lift the audit tables' append-only triggers for the length of the block (as someone
    with the database owner's rights could): test clean-up, and tests that tamper."""
    if conn.dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield
        for table in APPEND_ONLY_TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    triggers = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :like"),
        {"like": "%append_only%"},
    ).all()
    for name, _sql in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        conn.execute(text(sql))


def empty_all_tables(database: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as conn, append_only_suspended(conn):
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" in request.fixturenames:
        empty_all_tables(request.getfixturevalue("database"))
        # The seals' outside copy belongs with the audit rows just emptied.
        settings: Settings = request.getfixturevalue("settings")
        (settings.instance_dir / "audit-seals.log").unlink(missing_ok=True)
    if "app" in request.fixturenames:
        empty_keystore(request.getfixturevalue("app").extensions["casework.kit"])


@dataclass
class Clock:
    now: datetime

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Clock]:
    """Every test runs on a controllable clock, starting at the real time."""
    state = Clock(datetime.now(UTC).replace(microsecond=0))
    clock.set_source(lambda: state.now)
    yield state
    clock.reset()


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database) -> Iterator[Flask]:
    application = create_app(settings, database=database)
    application.config["TESTING"] = True
    yield application
    application.extensions["casework.kit"].keystore.dispose()


@pytest.fixture
def kit(app: Flask) -> SecurityKit:
    return app.extensions["casework.kit"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_app(settings: Settings, database: Database) -> Iterator[Callable[..., Flask]]:
    """An app with some settings changed, on the same database."""
    made: list[Flask] = []

    def build(**changes: object) -> Flask:
        application = create_app(settings.replace(**changes), database=database)
        application.config["TESTING"] = True
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["casework.kit"].keystore.dispose()


# --- builders -------------------------------------------------------------------------------


@dataclass
class MadeUser:
    id: uuid.UUID
    email: str
    password: str
    totp_secret: str | None
    agency_id: uuid.UUID


class Builders:
    def __init__(self, database: Database, kit: SecurityKit) -> None:
        self.database = database
        self.kit = kit

    def agency(self, name: str | None = None, kind: AgencyKind = AgencyKind.TREATMENT) -> Agency:
        with self.database.transaction() as db:
            agency = Agency(
                id=uuid.uuid4(),
                name=name or f"Agency {uuid.uuid4().hex[:8]}",
                kind=kind,
                active=True,
            )
            db.add(agency)
        return agency

    def team(self, agency: Agency, name: str = "Team") -> Team:
        with self.database.transaction() as db:
            team = Team(id=uuid.uuid4(), agency_id=agency.id, name=name, active=True)
            db.add(team)
        return team

    def user(
        self,
        *roles: Role,
        agency: Agency | None = None,
        email: str | None = None,
        full_name: str | None = None,
        password: str = PASSWORD,
        mfa: bool = True,
        must_change_password: bool = False,
        active: bool = True,
        team: Team | None = None,
        manager: bool = False,
    ) -> MadeUser:
        agency = agency or self.agency()
        secret = pyotp.random_base32() if mfa else None
        user_id = uuid.uuid4()
        with self.database.transaction() as db:
            user = User(
                id=user_id,
                email=email or f"user-{user_id.hex[:10]}@example.org",
                full_name=full_name or "Test User " + user_id.hex[:6],
                agency_id=agency.id,
                active=active,
                password_hash=self.kit.passwords.hash(password),
                must_change_password=must_change_password,
                totp_secret_encrypted=(
                    auth_services.encrypt_totp_secret(self.kit, user_id, secret) if secret else None
                ),
                mfa_enrolled_at=clock.utcnow() if secret else None,
            )
            user.role_rows = [UserRole(role=role) for role in (roles or (Role.WORKER,))]
            db.add(user)
            if team is not None:
                db.flush()
                db.add(TeamMembership(team_id=team.id, user_id=user_id, is_manager=manager))
        return MadeUser(user_id, user.email, password, secret, agency.id)

    # --- people (through the real services, so encryption and tokens are real) --------------

    def viewer(self, user: MadeUser) -> Viewer:
        with self.database.reading() as db:
            found = db.get_one(User, user.id)
            return Viewer(user.id, found.agency_id, found.agency.kind, found.roles)

    def person(
        self,
        creator: MadeUser,
        given: str = "Alex",
        family: str = "Example",
        *,
        date_of_birth: date | None = date(1980, 5, 17),
        sex: Sex = Sex.NOT_KNOWN,
        housing: HousingStatus = HousingStatus.NOT_KNOWN,
        role: FamilyRole = FamilyRole.KEY_WORKER,
        **details: str,
    ) -> uuid.UUID:
        known_as = details.pop("known_as", "")
        aliases = tuple(a for a in details.pop("aliases", "").split("\n") if a)
        fields = PersonFields(
            names=Names(given, family, known_as, aliases),
            details=Details(date_of_birth=date_of_birth, **details),
            sex=sex,
            housing_status=housing,
        )
        with self.database.transaction() as db:
            return people_services.create_person(
                db,
                vault=Vault(self.kit.keystore),
                blind=self.kit.blind_index,
                actor=SYSTEM,
                viewer=self.viewer(creator),
                fields=fields,
                involvement=NewInvolvement(role, creator.id),
            )

    def involve(
        self,
        person_id: uuid.UUID,
        worker: MadeUser,
        *,
        by: MadeUser | None = None,
        role: FamilyRole = FamilyRole.SUPPORT_WORKER,
    ) -> uuid.UUID:
        """``worker``'s agency joins the person's family (recorded by ``by``, default worker)."""
        actor_user = by or worker
        with self.database.transaction() as db:
            viewer = self.viewer(actor_user)
            access = PersonAccess(person_id, involved=True, creator=True)
            return family_services.add_involvement(
                db,
                actor=SYSTEM,
                viewer=viewer,
                access=access,
                agency_id=worker.agency_id,
                worker_id=worker.id,
                role=role,
                started_on=clock.london_today(),
                make_lead=False,
            )

    def contact(
        self,
        person_id: uuid.UUID,
        worker: MadeUser,
        *,
        note: str = "",
        agency_only: bool = False,
        place: str = "",
        kind: ContactKind = ContactKind.FACE_TO_FACE,
        outcome: ContactOutcome = ContactOutcome.SEEN_WELL,
        occurred_at: datetime | None = None,
    ) -> uuid.UUID:
        with self.database.transaction() as db:
            return contact_services.log_contact(
                db,
                vault=Vault(self.kit.keystore),
                actor=SYSTEM,
                viewer=self.viewer(worker),
                access=PersonAccess(person_id, involved=True, creator=False),
                data=ContactInput(
                    occurred_at=occurred_at or clock.utcnow() - timedelta(minutes=5),
                    kind=kind,
                    outcome=outcome,
                    place=place,
                    note=note,
                    agency_only=agency_only,
                ),
            )

    def alert(self, person_id: uuid.UUID, user: MadeUser, alert_type: str) -> uuid.UUID:
        with self.database.transaction() as db:
            viewer = self.viewer(user)
            return people_services.raise_alert(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                viewer,
                self._access_of(db, viewer, person_id),
                alert_type=alert_type,
                detail="",
            )

    def needs(self, person_id: uuid.UUID, user: MadeUser, codes: set[str]) -> None:
        with self.database.transaction() as db:
            viewer = self.viewer(user)
            people_services.set_needs(
                db, SYSTEM, viewer, self._access_of(db, viewer, person_id), codes
            )

    # --- consent and other lawful bases (through the real services) -----------------------

    def consent(
        self,
        person_id: uuid.UUID,
        *,
        by: MadeUser,
        to: MadeUser | None = None,
        kind: AgencyKind | None = None,
        categories: Iterable[Category] = ALL_CATEGORIES,
        given_on: date | None = None,
        review_on: date | None = None,
    ) -> uuid.UUID:
        """Consent recorded by ``by``'s agency to share with ``to``'s agency (or a kind)."""
        recipient = Recipient(agency_id=to.agency_id) if to else Recipient(agency_kind=kind)
        with self.database.transaction() as db:
            viewer = self.viewer(by)
            return consent_services.record_consent(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                viewer,
                self._access_of(db, viewer, person_id),
                data=ConsentInput(
                    recipient=recipient,
                    categories=frozenset(categories),
                    purpose="To coordinate support",
                    given_on=given_on or clock.london_today(),
                    method=ConsentMethod.VERBAL,
                    review_on=review_on,
                ),
                rules=SharingRules.from_settings(self.kit.settings),
            )

    def basis(
        self,
        person_id: uuid.UUID,
        *,
        by: MadeUser,
        to: MadeUser,
        kind: BasisKind = BasisKind.SAFEGUARDING,
        categories: Iterable[Category] = ALL_CATEGORIES,
        ends_on: date | None = None,
    ) -> uuid.UUID:
        with self.database.transaction() as db:
            viewer = self.viewer(by)
            return consent_services.record_basis(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                viewer,
                self._access_of(db, viewer, person_id),
                data=BasisInput(
                    kind=kind,
                    recipient=Recipient(agency_id=to.agency_id),
                    categories=frozenset(categories),
                    justification="Risk of serious harm this week",
                    ends_on=ends_on,
                ),
                rules=SharingRules.from_settings(self.kit.settings),
            )

    def withdraw(self, person_id: uuid.UUID, basis_id: uuid.UUID, *, by: MadeUser) -> None:
        with self.database.transaction() as db:
            viewer = self.viewer(by)
            consent_services.withdraw(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                viewer,
                self._access_of(db, viewer, person_id),
                basis_id=basis_id,
                on=clock.london_today(),
                reason="Changed their mind",
                expected_version=None,
            )

    def referral(
        self,
        person_id: uuid.UUID,
        *,
        by: MadeUser,
        to: MadeUser | Agency,
        pathway: str = "required_assessment",
        transition: str = "book",
        values: dict[str, object] | None = None,
        **fields: object,
    ) -> Outcome:
        """Start a referral through the real service (values as a form or the API gives)."""
        definition = pathways()[pathway]
        values = {**(values or {}), **fields}
        if pathway == "required_assessment" and transition == "book" and not values:
            values = booking_values(clock.utcnow())
        with self.database.transaction() as db:
            return pathway_services.start_referral(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                self.viewer(by),
                person_id=person_id,
                pathway=definition,
                transition=transition,
                to_agency_id=to.agency_id if isinstance(to, MadeUser) else to.id,
                values=values,
                rules=SharingRules(),
            )

    def move(
        self,
        referral_id: uuid.UUID,
        transition: str,
        *,
        by: MadeUser,
        version: int | None = None,
        at: datetime | None = None,
        **values: object,
    ) -> Outcome:
        """Make a transition through the real service, at ``at`` (default: now)."""
        with self.database.transaction() as db:
            return pathway_services.make_transition(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                self.viewer(by),
                referral_id=referral_id,
                transition=transition,
                values=values,
                expected_version=version,
                pathways=pathways().by_key,
                now=at,
            )

    def emergency(self, person_id: uuid.UUID, user: MadeUser) -> uuid.UUID:
        with self.database.transaction() as db:
            viewer = self.viewer(user)
            return consent_services.start_emergency(
                db,
                Vault(self.kit.keystore),
                SYSTEM,
                viewer,
                person_id=person_id,
                access=person_access(db, viewer, person_id),
                reason=EmergencyReason.RISK_TO_LIFE,
                detail="Found unresponsive; ambulance called",
                rules=SharingRules.from_settings(self.kit.settings),
            )

    @staticmethod
    def _access_of(db: Session, viewer: Viewer, person_id: uuid.UUID) -> PersonAccess:
        access = person_access(db, viewer, person_id)
        assert access is not None, "the recording agency must see the person"
        return access


def booking_values(
    now: datetime, *, days_ahead: int = 2, minutes_ahead: int | None = None, **changes: object
) -> dict[str, object]:
    """A valid required-assessment booking (Europe/London wall clock), with changes: at 10:30
    ``days_ahead`` days from now, or ``minutes_ahead`` minutes from now (attendance can be
    recorded only once the appointment has come: move the clock past it first)."""
    appointment = clock.to_london(now + timedelta(days=days_ahead)).replace(hour=10, minute=30)
    if minutes_ahead is not None:
        appointment = clock.to_london(now + timedelta(minutes=minutes_ahead))
    values: dict[str, object] = {
        "test_result": "cocaine",
        "tested_on": clock.to_london(now).date().isoformat(),
        "trigger_offence": "theft",
        "custody_suite": "Northgate custody suite",
        "disputed": "no",
        "appointment_at": appointment.strftime("%Y-%m-%dT%H:%M"),
        "place": "Harbour Recovery Service, 4 Mill Lane",
    }
    values.update(changes)
    return values


@pytest.fixture
def build(database: Database, kit: SecurityKit) -> Builders:
    return Builders(database, kit)


# --- signing in -----------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, object],
    *,
    page: str | None = None,
    follow_redirects: bool = False,
):
    """GET the page (for its CSRF token), then POST the form as a browser would."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(
        url, data={**data, "csrf_token": csrf_from(html)}, follow_redirects=follow_redirects
    )


def sign_in_directly(
    app: Flask, client: FlaskClient, user: MadeUser, *, mfa_verified: bool = True
) -> str:
    """Create a server-side session for ``user`` and put its token in the client's cookie.

    For tests about something other than sign-in itself (the full flow has its own tests)."""
    database: Database = app.extensions["casework.database"]
    with database.transaction() as db:
        token = auth_services.start_session(
            db, SYSTEM, user.id, mfa_verified=mfa_verified, user_agent="pytest"
        )
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return token


def totp_code(user: MadeUser, at: datetime) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).at(at)


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, build: Builders) -> Callable[..., MadeUser]:
    def sign_in(*roles: Role, **kwargs: object) -> MadeUser:
        user = build.user(*roles, **kwargs)  # type: ignore[arg-type]
        sign_in_directly(app, client, user)
        return user

    return sign_in
