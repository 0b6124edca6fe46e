"""The timeout warning's server side: the keep-alive endpoint and the timing on each page.

Idle timeout 30 minutes, absolute timeout 12 hours, "last seen" written at most once a minute
on ordinary requests (the test settings are the defaults).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from casework.auth.models import UserSession
from casework.db import Database
from tests.conftest import Builders, Clock, MadeUser, csrf_from, sign_in_directly

KEEP_ALIVE = "/account/keep-alive"
IDLE_MESSAGE = "You were signed out because you had not used Casework for a while."
ABSOLUTE_MESSAGE = "You were signed out because your session reached its time limit."

SignedIn = Callable[..., MadeUser]


def _token(client: FlaskClient) -> str:
    return csrf_from(client.get("/account").get_data(as_text=True))


def _keep_alive(client: FlaskClient, token: str) -> TestResponse:
    return client.post(KEEP_ALIVE, headers={"X-CSRFToken": token, "Accept": "application/json"})


def _last_seen(database: Database, user: MadeUser) -> datetime:
    with database.reading() as db:
        seen = db.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))
    assert seen is not None
    return seen


def _timing(html: str) -> dict[str, str]:
    dialog = re.search(r'<dialog[^>]*id="app-session-timeout"[^>]*>', html)
    assert dialog, "no timeout warning on the page"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', dialog.group(0)))


def _signed_out_with(client: FlaskClient, response: TestResponse, message: str) -> None:
    assert response.status_code == 302
    assert response.location.startswith("/sign-in")
    assert message in client.get(response.location).get_data(as_text=True)


def test_keep_alive_restarts_the_idle_clock(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    token = _token(client)
    frozen_clock.advance(minutes=25)
    assert _keep_alive(client, token).status_code == 200
    frozen_clock.advance(minutes=25)  # 50 minutes after the last page, 25 after keep-alive
    assert client.get("/account").status_code == 200


def test_without_keep_alive_the_session_ends_after_30_idle_minutes(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    _token(client)
    frozen_clock.advance(minutes=31)
    _signed_out_with(client, client.get("/account"), IDLE_MESSAGE)


def test_keep_alive_answers_json_with_both_deadlines_in_utc(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    started = frozen_clock.now
    token = _token(client)
    frozen_clock.advance(minutes=10, seconds=5)
    response = _keep_alive(client, token)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"idle_expires_at", "absolute_expires_at"}
    idle = datetime.fromisoformat(body["idle_expires_at"])
    absolute = datetime.fromisoformat(body["absolute_expires_at"])
    assert idle.utcoffset() == timedelta(0)
    assert absolute.utcoffset() == timedelta(0)
    assert idle == frozen_clock.now + timedelta(minutes=30)
    assert absolute == started + timedelta(hours=12)


def test_keep_alive_does_not_extend_the_absolute_limit(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    limit = frozen_clock.now + timedelta(hours=12)
    token = _token(client)
    # Kept alive every 20 minutes, all day: never signed out for being idle...
    for _ in range(35):
        frozen_clock.advance(minutes=20)
        response = _keep_alive(client, token)
        assert response.status_code == 200
        assert datetime.fromisoformat(response.get_json()["absolute_expires_at"]) == limit
    # ...but 12 hours after signing in it is over, and keep-alive cannot bring it back.
    frozen_clock.advance(minutes=20)
    response = _keep_alive(client, token)
    _signed_out_with(client, response, ABSOLUTE_MESSAGE)
    assert _keep_alive(client, token).status_code == 302


def test_keep_alive_needs_the_csrf_token(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock, database: Database
) -> None:
    user = signed_in()
    token = _token(client)
    before = _last_seen(database, user)
    # Within the minute, so the gate's ordinary touch does not write either.
    frozen_clock.advance(seconds=30)
    for headers in ({}, {"X-CSRFToken": "not-the-token"}):
        response = client.post(KEEP_ALIVE, headers={"Accept": "application/json", **headers})
        assert response.status_code == 400
    assert _last_seen(database, user) == before
    assert _keep_alive(client, token).status_code == 200
    assert _last_seen(database, user) == frozen_clock.now


def test_keep_alive_sends_anonymous_requests_to_sign_in(client: FlaskClient) -> None:
    # The gate runs before the CSRF check: no session, no further questions.
    response = client.post(KEEP_ALIVE, headers={"Accept": "application/json"})
    assert response.status_code == 302
    assert response.location == "/sign-in"


def test_keep_alive_is_post_only(client: FlaskClient, signed_in: SignedIn) -> None:
    signed_in()
    assert client.get(KEEP_ALIVE).status_code == 405


def test_keep_alive_after_the_session_ended_goes_to_sign_in(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    token = _token(client)
    frozen_clock.advance(minutes=30)
    _signed_out_with(client, _keep_alive(client, token), IDLE_MESSAGE)


def test_keep_alive_touches_now_but_pages_only_once_a_minute(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock, database: Database
) -> None:
    user = signed_in()
    started = frozen_clock.now
    token = _token(client)
    frozen_clock.advance(seconds=30)
    client.get("/account")
    assert _last_seen(database, user) == started  # ordinary GET: too soon to write
    frozen_clock.advance(seconds=31)
    client.get("/account")
    touched = frozen_clock.now
    assert _last_seen(database, user) == touched  # a minute on: written
    frozen_clock.advance(seconds=20)
    client.get("/account")
    client.get("/home/worker")
    assert _last_seen(database, user) == touched
    # "Stay signed in" is a person's choice: written at once, whatever the minute says.
    frozen_clock.advance(seconds=5)
    assert _keep_alive(client, token).status_code == 200
    assert _last_seen(database, user) == frozen_clock.now


def test_signed_in_pages_carry_the_timing(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    timing = _timing(client.get("/account").get_data(as_text=True))
    assert timing == {
        "idle-seconds": "1800",
        "absolute-seconds": str(12 * 3600),
        "idle-period-seconds": "1800",
        "keep-alive-url": KEEP_ALIVE,
        "sign-in-url": "/sign-in",
    }
    # 40 seconds later nothing was written (under a minute), so 40 seconds are gone.
    frozen_clock.advance(seconds=40)
    timing = _timing(client.get("/home/worker").get_data(as_text=True))
    assert timing["idle-seconds"] == str(1800 - 40)
    assert timing["absolute-seconds"] == str(12 * 3600 - 40)
    # Ten minutes later this very request is written down: the idle clock restarts now.
    frozen_clock.advance(minutes=10)
    timing = _timing(client.get("/account").get_data(as_text=True))
    assert timing["idle-seconds"] == "1800"
    assert timing["absolute-seconds"] == str(12 * 3600 - 640)


def test_dialog_markup_needs_javascript_to_show(client: FlaskClient, signed_in: SignedIn) -> None:
    signed_in()
    html = client.get("/account").get_data(as_text=True)
    dialog = html[html.index('<dialog class="app-session-timeout"') : html.index("</dialog>")]
    assert " open" not in dialog.split(">", 1)[0]
    assert "You will be signed out soon" in dialog
    assert ">Stay signed in</button>" in dialog
    assert 'aria-live="polite"' in dialog
    assert " style=" not in dialog
    assert "<script" not in dialog


def test_no_timing_before_sign_in_is_complete(
    client: FlaskClient, app: Flask, build: Builders
) -> None:
    assert "app-session-timeout" not in client.get("/sign-in").get_data(as_text=True)
    # Half signed in (password only): the two-factor page has no warning to keep alive.
    half = app.test_client()
    sign_in_directly(app, half, build.user(), mfa_verified=False)
    page = half.get("/sign-in/two-factor")
    assert page.status_code == 200
    assert "app-session-timeout" not in page.get_data(as_text=True)
    # A forced password change cannot use keep-alive (SIGNED_IN), so no warning there either.
    forced = app.test_client()
    sign_in_directly(app, forced, build.user(must_change_password=True))
    page = forced.get("/account/password")
    assert page.status_code == 200
    assert "app-session-timeout" not in page.get_data(as_text=True)


def test_sign_in_page_says_why_when_the_page_itself_came_here(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    """The warning's script goes to /sign-in?next=... itself when time runs out."""
    signed_in()
    client.get("/account")
    frozen_clock.advance(minutes=30, seconds=1)
    html = client.get("/sign-in?next=/account").get_data(as_text=True)
    assert html.count(IDLE_MESSAGE) == 1
    assert "app-session-timeout" not in html
    # The same ended session is not explained twice.
    assert IDLE_MESSAGE not in client.get("/sign-in").get_data(as_text=True)


def test_sign_in_page_says_why_after_the_absolute_limit(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock, database: Database
) -> None:
    user = signed_in()
    with database.transaction() as db:
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(created_at=frozen_clock.now - timedelta(hours=11, minutes=59))
        )
    assert client.get("/account").status_code == 200
    frozen_clock.advance(minutes=1)
    html = client.get("/sign-in?next=/account").get_data(as_text=True)
    assert html.count(ABSOLUTE_MESSAGE) == 1


def test_gate_message_is_not_repeated_by_the_sign_in_page(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    signed_in()
    client.get("/account")
    frozen_clock.advance(minutes=31)
    response = client.get("/account", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert response.get_data(as_text=True).count(IDLE_MESSAGE) == 1


def test_keep_alive_iso_times_parse_as_utc(
    client: FlaskClient, signed_in: SignedIn, frozen_clock: Clock
) -> None:
    """The values are what JavaScript's Date.parse needs: ISO 8601 with an explicit offset."""
    signed_in()
    token = _token(client)
    body = _keep_alive(client, token).get_json()
    for value in body.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", value), value
        assert datetime.fromisoformat(value).tzinfo is not None
    assert datetime.fromisoformat(body["idle_expires_at"]).astimezone(UTC) > frozen_clock.now
