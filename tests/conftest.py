"""Shared fixtures: one real database per test run (SQLite by default, PostgreSQL when
``DATABASE_URL`` points at one), migrated with Alembic, emptied after every test."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from casework import clock, migrate
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.app import create_app
from casework.audit.recorder import SYSTEM
from casework.auth import services as auth_services
from casework.db import Database
from casework.models import Base
from casework.security.keystore import Keystore, keystore_metadata
from casework.security.kit import SecurityKit
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


def empty_all_tables(database: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as conn:
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
def app(settings: Settings, database: Database) -> Flask:
    application = create_app(settings, database=database)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def kit(app: Flask) -> SecurityKit:
    return app.extensions["casework.kit"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_app(settings: Settings, database: Database) -> Callable[..., Flask]:
    """An app with some settings changed, on the same database."""

    def build(**changes: object) -> Flask:
        application = create_app(settings.replace(**changes), database=database)
        application.config["TESTING"] = True
        return application

    return build


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
