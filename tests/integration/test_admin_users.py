"""User administration as an administrator uses it: list and filter, create with a one-time
password, change details, disable and enable, reset password and two-factor authentication.

All names and email addresses are fictional."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.roles import Role
from casework.agencies.models import Agency
from casework.audit.models import AuditEvent
from casework.auth.models import UserSession
from casework.db import Database
from casework.users.models import User
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, sign_in_directly

OTP_RE = re.compile(r'id="one-time-password">\s*([^<\s]+)\s*<')
ROW_RE = re.compile(r'<tr class="govuk-table__row">\s*<td', re.S)


# --- helpers ---------------------------------------------------------------------------------


def load_user(database: Database, user_id: uuid.UUID) -> User:
    with database.reading() as db:
        user = db.get(User, user_id)
        assert user is not None
        _ = user.roles, user.agency.name  # load before the session closes
        db.expunge_all()  # keep what was loaded (closing a read session expires it)
        return user


def audit(database: Database, action: str) -> list[AuditEvent]:
    with database.reading() as db:
        events = list(
            db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            )
        )
        db.expunge_all()
        return events


def count_users(database: Database) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(User)) or 0


def live_sessions(database: Database, user_id: uuid.UUID) -> int:
    with database.reading() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            )
            or 0
        )


def rows(html: str) -> int:
    return len(ROW_RE.findall(html))


def other_admin(app: Flask, build: Builders) -> tuple[FlaskClient, MadeUser]:
    admin = build.user(Role.ADMIN)
    client = app.test_client()
    sign_in_directly(app, client, admin)
    return client, admin


def field_error(html: str, field_id: str, message: str) -> None:
    """The message is in the error summary, linked to the field, and on the field itself."""
    assert "<title>Error:" in html
    assert f'href="#{field_id}"' in html
    assert html.count(message) >= 2, f"{message!r} should be in the summary and on the field"


def create_form(agency: Agency, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "full_name": "Pat Example",
        "email": "pat.example@example.org",
        "agency_id": str(agency.id),
        "roles": ["worker", "manager"],
    }
    form.update(changes)
    return form


# --- who may use the pages --------------------------------------------------------------------


def _admin_urls(app: Flask, ids: dict[str, Any]) -> list[tuple[str, str]]:
    """Every URL of the users blueprint, with each method it answers."""
    found: list[tuple[str, str]] = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("users."):
                continue
            url = url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})
            methods = rule.methods or set()
            found.extend((method, url) for method in ("GET", "POST") if method in methods)
    return sorted(found)


@pytest.mark.parametrize(
    "role", [Role.WORKER, Role.INFORMATION_GOVERNANCE, Role.MANAGER, Role.PARTNERSHIP_LEAD]
)
def test_other_roles_are_refused_every_user_admin_url(
    client: FlaskClient, build: Builders, signed_in: Callable[..., MadeUser], role: Role
) -> None:
    app, database = client.application, build.database
    target = build.user(Role.WORKER)
    before = load_user(database, target.id)
    signed_in(role)
    urls = _admin_urls(app, {"user_id": target.id})
    assert len([u for u in urls if u[0] == "POST"]) >= 5  # create, edit, disable, enable, reset
    token = csrf_from(client.get("/account").get_data(as_text=True))
    payload = {
        "csrf_token": token,
        "version": str(before.version),
        "full_name": "Changed By Outsider",
        "email": "outsider.made@example.org",
        "agency_id": str(target.agency_id),
        "roles": ["admin"],
    }
    for method, url in urls:
        response = client.open(url, method=method, data=payload if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    after = load_user(database, target.id)
    assert (after.full_name, after.active, after.version) == (
        before.full_name,
        before.active,
        before.version,
    )
    assert count_users(database) == 2
    with database.reading() as db:
        assert not db.scalar(select(func.count()).where(AuditEvent.action.like("admin.%")))


def test_every_user_page_renders_for_an_administrator(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Northdale Housing Trust")
    team = build.team(agency, "Outreach")
    target = build.user(Role.WORKER, agency=agency, team=team, full_name="Jo Sample")
    disabled = build.user(Role.WORKER, active=False)
    pages = {
        "/admin/users/": "Users",
        "/admin/users/new": "Create a user",
        f"/admin/users/{target.id}": "Jo Sample",
        f"/admin/users/{target.id}/edit": "Change Jo Sample's details",
        f"/admin/users/{target.id}/disable": "disable Jo Sample's account?",
        f"/admin/users/{target.id}/reset-credentials": "Reset Jo Sample's password",
        f"/admin/users/{disabled.id}/enable": "enable",
    }
    for path, text in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.get_data(as_text=True), path
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "Northdale Housing Trust" in page
    assert "Outreach" in page
    assert "Worker" in page
    # Enabling an account that is already active changes nothing: back to the user.
    assert client.get(f"/admin/users/{target.id}/enable").status_code == 302


def test_unknown_user_ids_are_not_found(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    missing = uuid.uuid4()
    token = csrf_from(client.get("/admin/users/new").get_data(as_text=True))
    for suffix in ("", "/edit", "/disable", "/enable", "/reset-credentials"):
        assert client.get(f"/admin/users/{missing}{suffix}").status_code == 404, suffix
        if suffix:
            response = client.post(
                f"/admin/users/{missing}{suffix}", data={"csrf_token": token, "version": "1"}
            )
            assert response.status_code == 404, suffix
    assert client.get("/admin/users/not-a-uuid").status_code == 404


# --- creating a user ---------------------------------------------------------------------------


def test_creating_a_user_shows_a_one_time_password_once_that_works_once(
    client: FlaskClient,
    build: Builders,
    frozen_clock: Clock,
    signed_in: Callable[..., MadeUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, database, kit = client.application, build.database, build.kit
    admin = signed_in(Role.ADMIN)
    agency = build.agency("Northdale Recovery Service")
    caplog.set_level(logging.DEBUG)

    response = post_form(
        client,
        "/admin/users/new",
        create_form(agency, email="  Pat.Example@Example.org ", full_name="Pat   Example"),
    )

    assert response.status_code == 200  # shown on this response, not after a redirect
    html = response.get_data(as_text=True)
    match = OTP_RE.search(html)
    assert match, "the one-time password is on the page"
    password = match.group(1)
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3,}", password)
    assert len(password) >= 19
    assert "will not be shown again" in html
    assert "change it and set up two-factor authentication" in html
    assert password not in (response.headers.get("Location") or "")

    with database.reading() as db:
        user = db.scalar(select(User).where(User.email == "pat.example@example.org"))
        assert user is not None
        assert user.full_name == "Pat Example"
        assert user.agency_id == agency.id
        assert user.roles == {Role.WORKER, Role.MANAGER}
        assert user.must_change_password
        assert not user.mfa_enrolled
        stored = user.password_hash or ""
        user_id = user.id
    assert stored.startswith("$argon2id$")
    assert password not in stored
    assert kit.passwords.verify(stored, password)

    (event,) = audit(database, "admin.user.create")
    assert event.target_id == str(user_id)
    assert event.actor_user_id == admin.id
    assert password not in str(event.details)
    assert password not in caplog.text

    # Shown once: the user's page does not show it again.
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert password not in page
    assert "one-time password" in page

    # The new user signs in with it, must set up two-factor, then must change the password.
    newcomer = app.test_client()
    step = post_form(
        newcomer, "/sign-in", {"email": "pat.example@example.org", "password": password}
    )
    assert step.status_code == 302
    assert step.location.endswith("/sign-in/two-factor/set-up")
    enrol = newcomer.get("/sign-in/two-factor/set-up").get_data(as_text=True)
    secret = enrol.split('id="mfa-secret">', 1)[1].split("<", 1)[0].replace(" ", "").strip()
    done = newcomer.post(
        "/sign-in/two-factor/set-up",
        data={"code": pyotp.TOTP(secret).at(frozen_clock.now), "csrf_token": csrf_from(enrol)},
    )
    assert done.status_code == 302
    forced = newcomer.get("/home/worker")
    assert forced.status_code == 302
    assert forced.location.endswith("/account/password")
    changed = post_form(
        newcomer,
        "/account/password",
        {"current_password": password, "new_password": "a pleasant walk by the canal"},
    )
    assert changed.status_code == 302
    assert newcomer.get("/home/worker").status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        ({"full_name": "   "}, "full_name", "Enter the user&#39;s full name"),
        ({"email": ""}, "email", "Enter the user&#39;s email address"),
        ({"email": "pat.example.org"}, "email", "Enter an email address in the correct format"),
        ({"roles": []}, "roles", "Select at least one role"),
        ({"roles": ["worker", "superuser"]}, "roles", "Select at least one role"),
        ({"agency_id": ""}, "agency_id", "Select the user&#39;s agency"),
        ({"agency_id": str(uuid.uuid4())}, "agency_id", "Select the user&#39;s agency"),
    ],
    ids=["no name", "no email", "bad email", "no roles", "unknown role", "no agency", "unknown"],
)
def test_create_user_form_errors_name_the_field_and_save_nothing(
    client: FlaskClient,
    build: Builders,
    signed_in: Callable[..., MadeUser],
    case: tuple[dict[str, object], str, str],
) -> None:
    changes, field_id, message = case
    database = build.database
    signed_in(Role.ADMIN)
    agency = build.agency()
    response = post_form(client, "/admin/users/new", create_form(agency, **changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    field_error(html, field_id, message)
    assert not OTP_RE.search(html)
    assert count_users(database) == 1
    assert audit(database, "admin.user.create") == []


def test_duplicate_email_is_refused_whatever_its_case(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency()
    build.user(Role.WORKER, email="jo.sample@example.org")
    response = post_form(
        client, "/admin/users/new", create_form(agency, email="Jo.Sample@EXAMPLE.org")
    )
    assert response.status_code == 400
    field_error(
        response.get_data(as_text=True), "email", "A user with this email address already exists"
    )
    assert count_users(database) == 2
    assert audit(database, "admin.user.create") == []


def test_a_disabled_agency_is_not_offered_and_is_refused(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    closed = build.agency("Closed Example Service")
    with database.transaction() as db:
        row = db.get(Agency, closed.id)
        assert row is not None
        row.active = False
    assert "Closed Example Service" not in client.get("/admin/users/new").get_data(as_text=True)
    response = post_form(client, "/admin/users/new", create_form(closed))
    assert response.status_code == 400
    assert count_users(database) == 1


def test_csrf_token_is_required_to_create_a_user(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency()
    response = client.post("/admin/users/new", data=create_form(agency))
    assert response.status_code == 400
    assert count_users(database) == 1


# --- changing details --------------------------------------------------------------------------


def test_changing_name_and_roles(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    version = load_user(database, target.id).version
    page = client.get(f"/admin/users/{target.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{version}"' in page
    assert "cannot be changed" in page  # email and agency
    assert "Consent and lawful-basis review" in page  # role hints
    response = post_form(
        client,
        f"/admin/users/{target.id}/edit",
        {"full_name": "Jo Sample-Example", "roles": ["assessor", "manager"], "version": version},
    )
    assert response.status_code == 302
    assert response.location == f"/admin/users/{target.id}"
    assert "details have been saved" in client.get(response.location).get_data(as_text=True)
    user = load_user(database, target.id)
    assert user.full_name == "Jo Sample-Example"
    assert user.roles == {Role.ASSESSOR, Role.MANAGER}
    assert user.version > version
    (event,) = audit(database, "admin.user.update")
    assert event.details == {"added_roles": ["assessor", "manager"], "removed_roles": ["worker"]}


def test_edit_form_errors_save_nothing(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    version = load_user(database, target.id).version
    url = f"/admin/users/{target.id}/edit"
    no_roles = post_form(client, url, {"full_name": "Jo Changed", "version": version})
    assert no_roles.status_code == 400
    field_error(no_roles.get_data(as_text=True), "roles", "Select at least one role")
    no_name = post_form(client, url, {"full_name": "", "roles": ["worker"], "version": version})
    assert no_name.status_code == 400
    field_error(no_name.get_data(as_text=True), "full_name", "Enter the user&#39;s full name")
    no_version = post_form(client, url, {"full_name": "Jo Changed", "roles": ["worker"]})
    assert no_version.status_code == 400
    user = load_user(database, target.id)
    assert (user.full_name, set(user.roles), user.version) == ("Jo Sample", {Role.WORKER}, version)
    assert audit(database, "admin.user.update") == []


def test_an_administrator_cannot_remove_their_own_admin_role(
    client: FlaskClient, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    admin = signed_in(Role.ADMIN)
    version = load_user(database, admin.id).version
    response = post_form(
        client,
        f"/admin/users/{admin.id}/edit",
        {"full_name": "Still An Admin", "roles": ["worker"], "version": version},
    )
    assert response.status_code == 400
    field_error(
        response.get_data(as_text=True), "roles", "You cannot remove your own administrator role"
    )
    user = load_user(database, admin.id)
    assert user.roles == {Role.ADMIN}
    assert user.full_name != "Still An Admin"  # the whole change was rolled back


def test_two_administrators_editing_the_same_user_never_overwrite_each_other(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    second, _ = other_admin(app, build)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    url = f"/admin/users/{target.id}/edit"
    first_page = client.get(url).get_data(as_text=True)
    second_page = second.get(url).get_data(as_text=True)
    version = load_user(database, target.id).version

    first = client.post(
        url,
        data={
            "full_name": "Jo First",
            "roles": ["worker"],
            "version": version,
            "csrf_token": csrf_from(first_page),
        },
    )
    assert first.status_code == 302
    late = second.post(
        url,
        data={
            "full_name": "Jo Second",
            "roles": ["worker", "admin"],
            "version": version,
            "csrf_token": csrf_from(second_page),
        },
    )
    assert late.status_code == 409
    assert "Someone else changed this record" in late.get_data(as_text=True)
    user = load_user(database, target.id)
    assert user.full_name == "Jo First"
    assert user.roles == {Role.WORKER}
    assert len(audit(database, "admin.user.update")) == 1


def test_simultaneous_edits_with_the_same_version_let_exactly_one_through(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    second, _ = other_admin(app, build)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    url = f"/admin/users/{target.id}/edit"
    version = load_user(database, target.id).version
    clients = {"Jo First": client, "Jo Second": second}
    tokens = {name: csrf_from(c.get(url).get_data(as_text=True)) for name, c in clients.items()}
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def submit(name: str) -> None:
        data = {"full_name": name, "roles": ["worker"], "version": version}
        start.wait()
        response = clients[name].post(url, data={**data, "csrf_token": tokens[name]})
        statuses[name] = response.status_code

    threads = [threading.Thread(target=submit, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses.values()) == [302, 409], statuses
    (winner,) = [name for name, status in statuses.items() if status == 302]
    assert load_user(database, target.id).full_name == winner
    assert len(audit(database, "admin.user.update")) == 1


# --- disabling and enabling --------------------------------------------------------------------


def test_disabling_a_user_ends_their_sessions_at_once(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    theirs = app.test_client()
    sign_in_directly(app, theirs, target)
    assert theirs.get("/account").status_code == 200
    version = load_user(database, target.id).version

    page = client.get(f"/admin/users/{target.id}/disable").get_data(as_text=True)
    assert "signed out on every device" in page
    response = post_form(client, f"/admin/users/{target.id}/disable", {"version": version})
    assert response.status_code == 302
    assert "has been disabled" in client.get(response.location).get_data(as_text=True)

    ended = theirs.get("/account")
    assert ended.status_code == 302
    assert ended.location.startswith("/sign-in")
    assert live_sessions(database, target.id) == 0
    user = load_user(database, target.id)
    assert not user.active
    assert user.disabled_at is not None
    assert [e.target_id for e in audit(database, "admin.user.disable")] == [str(target.id)]

    # Listed as disabled only when disabled accounts are included.
    assert "Jo Sample" not in client.get("/admin/users/").get_data(as_text=True)
    listed = client.get("/admin/users/?include_disabled=y").get_data(as_text=True)
    assert "Jo Sample" in listed
    assert "Disabled</strong>" in listed

    # And enabled again.
    version = load_user(database, target.id).version
    enabled = post_form(client, f"/admin/users/{target.id}/enable", {"version": version})
    assert enabled.status_code == 302
    assert load_user(database, target.id).active
    assert len(audit(database, "admin.user.enable")) == 1


def test_disabling_with_a_stale_version_is_refused(
    app: Flask,
    client: FlaskClient,
    build: Builders,
    database: Database,
    signed_in: Callable[..., MadeUser],
) -> None:
    signed_in(Role.ADMIN)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    stale = load_user(database, target.id).version
    second, _ = other_admin(app, build)
    renamed = post_form(
        second,
        f"/admin/users/{target.id}/edit",
        {"full_name": "Jo Renamed", "roles": ["worker"], "version": stale},
    )
    assert renamed.status_code == 302
    response = post_form(client, f"/admin/users/{target.id}/disable", {"version": stale})
    assert response.status_code == 409
    assert load_user(database, target.id).active
    assert audit(database, "admin.user.disable") == []


def test_an_administrator_cannot_disable_themself(
    client: FlaskClient, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    admin = signed_in(Role.ADMIN)
    page = client.get(f"/admin/users/{admin.id}/disable").get_data(as_text=True)
    assert "You cannot disable your own account" in page
    assert "Disable account</button>" not in page
    version = load_user(database, admin.id).version
    response = client.post(
        f"/admin/users/{admin.id}/disable",
        data={"version": version, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 400
    assert "You cannot disable your own account" in response.get_data(as_text=True)
    assert load_user(database, admin.id).active
    assert client.get("/admin/users/").status_code == 200  # still signed in


# --- resetting password and two-factor authentication -----------------------------------------


def test_reset_ends_sessions_clears_two_factor_and_gives_a_new_one_time_password(
    client: FlaskClient,
    build: Builders,
    signed_in: Callable[..., MadeUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, database, kit = client.application, build.database, build.kit
    signed_in(Role.ADMIN)
    target = build.user(Role.WORKER, full_name="Jo Sample")
    assert load_user(database, target.id).mfa_enrolled
    theirs = app.test_client()
    sign_in_directly(app, theirs, target)
    assert theirs.get("/account").status_code == 200
    caplog.set_level(logging.DEBUG)

    url = f"/admin/users/{target.id}/reset-credentials"
    page = client.get(url)
    assert page.status_code == 200
    assert not OTP_RE.search(page.get_data(as_text=True))  # GET never resets
    assert load_user(database, target.id).mfa_enrolled
    version = load_user(database, target.id).version
    response = post_form(client, url, {"version": version})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = OTP_RE.search(html)
    assert match
    password = match.group(1)
    assert "will not be shown again" in html
    user = load_user(database, target.id)
    assert not user.mfa_enrolled
    assert user.totp_secret_encrypted is None
    assert user.must_change_password
    assert kit.passwords.verify(user.password_hash, password)
    assert not kit.passwords.verify(user.password_hash, target.password)
    assert password not in (user.password_hash or "")
    assert live_sessions(database, target.id) == 0
    assert theirs.get("/account").status_code == 302
    assert len(audit(database, "admin.user.reset_credentials")) == 1
    assert password not in caplog.text

    # Sending the same form again is refused: the version moved on.
    again = post_form(client, url, {"version": version})
    assert again.status_code == 409
    assert kit.passwords.verify(load_user(database, target.id).password_hash, password)


def test_an_administrator_cannot_reset_their_own_account_here(
    client: FlaskClient, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    admin = signed_in(Role.ADMIN)
    url = f"/admin/users/{admin.id}/reset-credentials"
    version = load_user(database, admin.id).version
    response = post_form(client, url, {"version": version})
    assert response.status_code == 400
    assert not OTP_RE.search(response.get_data(as_text=True))
    assert load_user(database, admin.id).mfa_enrolled
    assert client.get("/admin/users/").status_code == 200


# --- the list: order, filters, pages ----------------------------------------------------------


def test_users_are_listed_by_name_with_agency_roles_status_and_two_factor(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    admin = signed_in(Role.ADMIN)
    with database.transaction() as db:
        user = db.get(User, admin.id)
        assert user is not None
        user.full_name = "Mo Admin"
    agency = build.agency("Northdale Probation Example")
    build.user(Role.WORKER, agency=agency, full_name="zed Placeholder")
    build.user(Role.ASSESSOR, Role.MANAGER, agency=agency, mfa=False, full_name="Bea Example")
    build.user(Role.PARTNERSHIP_LEAD, agency=agency, full_name="amy Sample")
    html = client.get("/admin/users/").get_data(as_text=True)
    order = [html.index(name) for name in ("amy Sample", "Bea Example", "Mo Admin")]
    order.append(html.index("zed Placeholder"))
    assert order == sorted(order)
    bea = html[html.index("Bea Example") :].split("</tr>", 1)[0]
    assert "Northdale Probation Example" in bea
    assert "Assessor" in bea
    assert "Manager" in bea
    assert "Active</strong>" in bea
    assert ">No</td>" in bea  # two-factor not set up
    assert "Showing 1 to 4 of 4 users" in html
    assert 'href="/admin/users/new"' in html


def test_filters_by_text_agency_role_and_disabled(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    housing = build.agency("Example Housing")
    police = build.agency("Example Police")
    build.user(Role.WORKER, agency=housing, email="kf@example.org", full_name="Kit Fictional")
    build.user(Role.MANAGER, agency=housing, full_name="Lee Placeholder")
    build.user(Role.WORKER, agency=police, email="sam@probe.example", full_name="Sam Sample")
    build.user(Role.WORKER, agency=housing, active=False, full_name="Kim Gone")

    def names(query: str) -> set[str]:
        response = client.get("/admin/users/?" + query)
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        people = ("Kit Fictional", "Lee Placeholder", "Sam Sample", "Kim Gone")
        return {name for name in people if name in html}

    assert names("") == {"Kit Fictional", "Lee Placeholder", "Sam Sample"}
    assert names("q=fictional") == {"Kit Fictional"}
    assert names("q=PROBE.example") == {"Sam Sample"}  # email, any case
    assert names("q=%25") == set()  # a wildcard is searched for literally
    assert names(f"agency={housing.id}") == {"Kit Fictional", "Lee Placeholder"}
    assert names(f"agency={housing.id}&include_disabled=y") == {
        "Kit Fictional",
        "Lee Placeholder",
        "Kim Gone",
    }
    assert names("role=worker") == {"Kit Fictional", "Sam Sample"}
    assert names(f"role=worker&agency={police.id}") == {"Sam Sample"}
    assert names("role=worker&include_disabled=y") == {"Kit Fictional", "Sam Sample", "Kim Gone"}

    bad = client.get("/admin/users/?role=superuser")
    assert bad.status_code == 400
    assert "Select a role from the list" in bad.get_data(as_text=True)
    assert client.get(f"/admin/users/?agency={uuid.uuid4()}").status_code == 400


def test_sixty_users_make_two_pages_and_links_keep_the_filters(
    client: FlaskClient, build: Builders, database: Database, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.ADMIN)
    agency = build.agency("Example Treatment Service")
    for _ in range(60):
        build.user(Role.WORKER, agency=agency, mfa=False)

    everyone = client.get("/admin/users/").get_data(as_text=True)
    assert rows(everyone) == 50
    assert "Showing 1 to 50 of 61 users" in everyone
    assert 'class="govuk-pagination' in everyone
    assert 'href="/admin/users/?page=2"' in everyone
    second = client.get("/admin/users/?page=2").get_data(as_text=True)
    assert rows(second) == 11
    assert "Showing 51 to 61 of 61 users" in second
    assert 'aria-current="page"' in second
    assert client.get("/admin/users/?page=3").status_code == 404
    assert client.get("/admin/users/?page=0").status_code == 404

    filtered = client.get(f"/admin/users/?agency={agency.id}&role=worker").get_data(as_text=True)
    assert rows(filtered) == 50
    assert "of 60 users" in filtered
    assert f"/admin/users/?agency={agency.id}&amp;role=worker&amp;page=2" in filtered
    last = client.get(f"/admin/users/?agency={agency.id}&role=worker&page=2")
    assert rows(last.get_data(as_text=True)) == 10
