"""The `casework` command: demo data, creating users and agencies, migrations."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from casework import cli
from casework.access.roles import Role
from casework.agencies.models import Agency
from casework.db import Database
from casework.demo import data
from casework.users.models import User
from tests.conftest import Builders, post_form


def test_demo_data_loads_every_role_and_is_skipped_when_not_empty(
    app: Flask, database: Database
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(cli.demo_data, ["--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Loaded 12 agencies and 11 demo accounts" in result.output
    with database.reading() as db:
        users = db.scalars(select(User)).all()
        held = {role for user in users for role in user.roles}
        assert held == set(Role)
        assert all(u.email.endswith("@northdale.example.org") for u in users)
        assert all(u.password_hash and u.password_hash.startswith("$argon2id$") for u in users)
    again = runner.invoke(cli.demo_data, ["--if-empty"])
    assert again.exit_code == 0
    assert "already has data" in again.output
    refused = runner.invoke(cli.demo_data, [])
    assert refused.exit_code != 0


def test_demo_accounts_can_sign_in_in_demo_mode(make_app, database: Database) -> None:
    app = make_app(demo_mode=True, mfa_required=False)
    assert app.test_cli_runner().invoke(cli.demo_data, []).exit_code == 0
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Two-factor authentication is turned off in this demo" in page
    assert "fictional data only" in page
    response = post_form(
        client,
        "/sign-in",
        {"email": "worker@northdale.example.org", "password": data.DEMO_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/", follow_redirects=True).request.path == "/home/worker"


def test_users_create(app: Flask, build: Builders, database: Database) -> None:
    agency = build.agency("Northdale Test Agency")
    result = app.test_cli_runner().invoke(
        cli.users_create,
        [
            "--email",
            "New.Admin@Example.org",
            "--name",
            "Alex Example",
            "--agency",
            "Northdale Test Agency",
            "--role",
            "admin",
            "--role",
            "manager",
        ],
        input="tangerine kettle harbour\ntangerine kettle harbour\n",
    )
    assert result.exit_code == 0, result.output
    with database.reading() as db:
        user = db.scalar(select(User).where(User.email == "new.admin@example.org"))
        assert user is not None
        assert user.roles == {Role.ADMIN, Role.MANAGER}
        assert user.agency_id == agency.id
        assert user.must_change_password
        assert "tangerine" not in (user.password_hash or "")


def test_users_create_explains_problems(app: Flask, build: Builders) -> None:
    build.agency("Known Agency")
    runner = app.test_cli_runner()
    unknown = runner.invoke(
        cli.users_create,
        ["--email", "a@example.org", "--name", "A", "--agency", "Nope", "--role", "worker"],
        input="tangerine kettle harbour\ntangerine kettle harbour\n",
    )
    assert unknown.exit_code != 0
    assert "no agency called 'Nope'" in unknown.output
    weak = runner.invoke(
        cli.users_create,
        ["--email", "a@example.org", "--name", "A", "--agency", "Known Agency", "--role", "worker"],
        input="password1234\npassword1234\n",
    )
    assert weak.exit_code != 0
    assert "too easy to guess" in weak.output


def test_agencies_create(app: Flask, database: Database) -> None:
    runner = app.test_cli_runner()
    assert (
        runner.invoke(cli.agencies_create, ["--name", "New Agency", "--kind", "housing"]).exit_code
        == 0
    )
    duplicate = runner.invoke(cli.agencies_create, ["--name", "New Agency", "--kind", "housing"])
    assert duplicate.exit_code != 0
    bad_kind = runner.invoke(cli.agencies_create, ["--name", "Other", "--kind", "bakery"])
    assert bad_kind.exit_code != 0
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Agency)) == 1
