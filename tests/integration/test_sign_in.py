"""Sign-in as a user would: password, second factor, sessions, throttling, CSRF."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.roles import Role
from casework.audit.models import AuditEvent
from casework.auth.models import LoginAttempt, UserSession
from casework.db import Database
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, totp_code


def _password_step(client: FlaskClient, user: MadeUser, password: str | None = None):
    return post_form(
        client, "/sign-in", {"email": user.email, "password": password or user.password}
    )


def _full_sign_in(client: FlaskClient, user: MadeUser, clock: Clock):
    response = _password_step(client, user)
    assert response.status_code == 302
    assert response.location.endswith("/sign-in/two-factor")
    return post_form(client, "/sign-in/two-factor", {"code": totp_code(user, clock.now)})


def test_each_role_lands_on_its_home_page(
    client: FlaskClient, build: Builders, frozen_clock: Clock
) -> None:
    homes = {
        Role.WORKER: "/home/worker",
        Role.ASSESSOR: "/home/assessor",
        Role.CUSTODY_OFFICER: "/home/custody",
        Role.MANAGER: "/home/manager",
        Role.INFORMATION_GOVERNANCE: "/home/information-governance",
        Role.PARTNERSHIP_LEAD: "/home/partnership",
        Role.ADMIN: "/home/admin",
    }
    for role, path in homes.items():
        user = build.user(role)
        client.delete_cookie("casework_session")
        response = _full_sign_in(client, user, frozen_clock)
        assert response.status_code == 302, role
        home = client.get(response.location, follow_redirects=True)
        assert home.request.path == path, role
        assert home.status_code == 200


def test_wrong_password_is_refused_with_a_field_error(
    client: FlaskClient, build: Builders, database: Database
) -> None:
    user = build.user()
    response = _password_step(client, user, "not the right password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Enter a correct email address and password" in html
    assert 'href="#password"' in html  # error summary links to the field
    assert "<title>Error:" in html
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(UserSession)) == 0
        denied = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "auth.password", AuditEvent.outcome == "denied")
        )
    assert denied == 1


def test_unknown_email_gets_the_same_answer(client: FlaskClient) -> None:
    response = post_form(
        client, "/sign-in", {"email": "nobody@example.org", "password": "whatever password"}
    )
    assert response.status_code == 401
    assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_empty_form_names_each_field(client: FlaskClient) -> None:
    response = post_form(client, "/sign-in", {"email": "", "password": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html
    assert "Enter your password" in html


def test_wrong_totp_code_is_refused_and_session_stays_half_signed_in(
    client: FlaskClient, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    _password_step(client, user)
    response = post_form(client, "/sign-in/two-factor", {"code": "000000"})
    assert response.status_code == 400
    assert "The security code is not correct" in response.get_data(as_text=True)
    # Still cannot reach a signed-in page.
    assert client.get("/account").location.endswith("/sign-in/two-factor")


def test_totp_code_works_once_only(
    client: FlaskClient, app: Flask, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    assert _full_sign_in(client, user, frozen_clock).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    replay = post_form(other, "/sign-in/two-factor", {"code": totp_code(user, frozen_clock.now)})
    assert replay.status_code == 400


def test_mfa_enrolment_shows_qr_and_secret_then_requires_a_valid_code(
    client: FlaskClient, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    import pyotp

    from casework.users.models import User

    user = build.user(mfa=False)
    response = _password_step(client, user)
    assert response.location.endswith("/sign-in/two-factor/set-up")
    page = client.get("/sign-in/two-factor/set-up").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    secret = page.split('id="mfa-secret">', 1)[1].split("<", 1)[0].replace(" ", "").strip()
    bad = client.post(
        "/sign-in/two-factor/set-up", data={"code": "123456", "csrf_token": csrf_from(page)}
    )
    assert bad.status_code == 400
    good = client.post(
        "/sign-in/two-factor/set-up",
        data={"code": pyotp.TOTP(secret).at(frozen_clock.now), "csrf_token": csrf_from(page)},
    )
    assert good.status_code == 302
    assert client.get("/account").status_code == 200
    with database.reading() as db:
        stored = db.get(User, user.id)
        assert stored is not None
        assert stored.mfa_enrolled
        assert secret.encode() not in (stored.totp_secret_encrypted or b"")


def test_replayed_cookie_after_sign_out_gets_nothing(
    client: FlaskClient, build: Builders, frozen_clock: Clock, app: Flask
) -> None:
    user = build.user()
    _full_sign_in(client, user, frozen_clock)
    assert client.get("/account").status_code == 200
    cookie = client.get_cookie("casework_session")
    assert cookie is not None
    stolen = cookie.value
    page = client.get("/account").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_from(page)})
    attacker = app.test_client()
    attacker.set_cookie("casework_session", stolen)
    response = attacker.get("/account")
    assert response.status_code == 302
    assert "/sign-in" in response.location


def test_idle_and_absolute_timeouts(
    client: FlaskClient, build: Builders, frozen_clock: Clock, app: Flask
) -> None:
    user = build.user()
    _full_sign_in(client, user, frozen_clock)
    frozen_clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    frozen_clock.advance(minutes=31)
    response = client.get("/account")
    assert response.status_code == 302
    assert "/sign-in" in response.location
    assert "had not used Casework for a while" in client.get(response.location).get_data(
        as_text=True
    )

    # Absolute: active every 20 minutes, still ends after 12 hours.
    frozen_clock.advance(minutes=1)
    _full_sign_in(client, user, frozen_clock)
    for _ in range(35):
        frozen_clock.advance(minutes=20)
        assert client.get("/account").status_code == 200
    frozen_clock.advance(minutes=20)
    response = client.get("/account")
    assert response.status_code == 302


def test_missing_csrf_token_is_refused_and_nothing_changes(
    client: FlaskClient, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    user = build.user()
    _full_sign_in(client, user, frozen_clock)
    response = client.post("/account/sign-out-everywhere", data={})
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    with database.reading() as db:
        live = db.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
        )
    assert live == 1
    assert client.get("/account").status_code == 200


def test_throttling_stops_password_checks_after_five_failures(
    client: FlaskClient, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    user = build.user()
    for _ in range(5):
        assert _password_step(client, user, "wrong password here").status_code == 401
    # Even the right password is not checked now.
    response = _password_step(client, user)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    frozen_clock.advance(minutes=16)
    assert _password_step(client, user).status_code == 302
    with database.reading() as db:
        checked = db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.outcome.in_(["failed", "succeeded"]))
        )
    assert checked == 6


def test_password_change_ends_other_sessions(
    app: Flask, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    first, second = app.test_client(), app.test_client()
    _full_sign_in(first, user, frozen_clock)
    frozen_clock.advance(seconds=31)
    _full_sign_in(second, user, frozen_clock)
    response = post_form(
        first,
        "/account/password",
        {"current_password": user.password, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert first.get("/account").status_code == 200
    assert second.get("/account").status_code == 302


def test_sign_out_everywhere_ends_every_session(
    app: Flask, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    first, second = app.test_client(), app.test_client()
    _full_sign_in(first, user, frozen_clock)
    frozen_clock.advance(seconds=31)
    _full_sign_in(second, user, frozen_clock)
    assert post_form(first, "/account/sign-out-everywhere", {}, page="/account").status_code == 302
    assert first.get("/account").status_code == 302
    assert second.get("/account").status_code == 302


def test_no_remember_me_cookie_and_cookie_flags(
    client: FlaskClient, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    response = _full_sign_in(client, user, frozen_clock)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    assert all("remember_token" not in c for c in cookies)
    assert all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


def test_open_redirect_after_sign_in_is_ignored(
    client: FlaskClient, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user()
    client.get("/sign-in?next=//evil.example.net/")
    response = _full_sign_in(client, user, frozen_clock)
    assert response.location == "/"


def test_a_sign_in_is_counted_once_for_information_governance(
    app: Flask, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    user = build.user()
    _full_sign_in(app.test_client(), user, frozen_clock)
    with database.reading() as db:
        sign_ins = db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.sign_in")
        )
    assert sign_ins == 1
    ig = build.user(Role.INFORMATION_GOVERNANCE)
    client = app.test_client()
    frozen_clock.advance(seconds=31)
    _full_sign_in(client, ig, frozen_clock)
    page = client.get("/home/information-governance").get_data(as_text=True)
    assert (
        'Successful sign-ins</th><td class="govuk-table__cell govuk-table__cell--numeric">2<'
        in page
    )
