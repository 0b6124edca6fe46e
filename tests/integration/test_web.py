"""Security headers, health, error pages and limits, as a browser or a load balancer sees them."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.access.roles import Role
from casework.app import create_app
from casework.db import Database
from casework.settings import SECRET_NAMES, Settings, load_settings
from casework.web.gate import safe_next
from casework.web.logs import RejectStructuredArgs
from tests.conftest import Builders, MadeUser, sign_in_directly


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests


def test_every_script_carries_the_csp_nonce(client: FlaskClient) -> None:
    response = client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    assert scripts
    for attributes in scripts:
        assert f'nonce="{nonce.group(1)}"' in attributes
    assert nonce.group(1) != re.search(
        r"'nonce-([^']+)'", client.get("/sign-in").headers["Content-Security-Policy"]
    ).group(1)  # type: ignore[union-attr]


def test_production_sends_hsts_and_secure_host_cookie(
    tmp_path: Path, database: Database, settings: Settings
) -> None:
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env.update(
        DATABASE_URL="postgresql://casework@db.example.org/casework",
        CASEWORK_KEYSTORE_URL=settings.keystore_url,
        CASEWORK_INSTANCE_DIR=str(tmp_path),
    )
    settings = load_settings("production", env=env)
    app = create_app(settings, database=database)
    client = app.test_client()
    response = client.get("/sign-in", base_url="https://casework.example.org")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-casework=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    plain = client.get("/sign-in", base_url="http://casework.example.org")
    assert plain.status_code in (301, 302)
    assert plain.location.startswith("https://")
    app.extensions["casework.kit"].keystore.dispose()


def test_healthz_does_a_database_round_trip(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "jobs": {"last_sweep_finished_seconds_ago": None, "state": "never_run"},
    }


def test_healthz_says_503_when_the_database_is_unreachable(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}")
    app = create_app(make_app().extensions["casework.kit"].settings, database=broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "reason": "database unreachable"}
    app.extensions["casework.kit"].keystore.dispose()


def test_unknown_page_is_a_plain_404(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.WORKER)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_wrong_role_is_a_plain_403(client: FlaskClient, signed_in: Callable[..., MadeUser]) -> None:
    signed_in(Role.WORKER)
    response = client.get("/home/admin")
    assert response.status_code == 403
    assert "You do not have permission to see this page" in response.get_data(as_text=True)


def test_wrong_method_is_405_not_500(client: FlaskClient) -> None:
    assert client.delete("/sign-in").status_code == 405


def test_oversized_request_is_413_and_checks_no_password(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 2_000_000})
    assert response.status_code == 413


def test_errors_do_not_leak_internals(make_app: Callable[..., Flask], build: Builders) -> None:
    app = make_app()
    view = app.view_functions["home.worker"]

    def explode() -> str:
        raise ZeroDivisionError("secret internal detail")

    explode.__access__ = getattr(view, "__access__")  # type: ignore[attr-defined]  # noqa: B009
    app.view_functions["home.worker"] = explode
    client = app.test_client()
    sign_in_directly(app, client, build.user(Role.WORKER))
    response = client.get("/home/worker")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("/home/worker?page=2", "/home/worker?page=2"),
        ("//evil.example.net/", None),
        ("https://evil.example.net/", None),
        ("/\\evil.example.net", None),
        ("account", None),
        (None, None),
    ],
)
def test_safe_next(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_structured_log_arguments_are_refused() -> None:
    record = logging.LogRecord(
        "casework.x", logging.INFO, __file__, 1, "value %s", ({"name": "someone"},), None
    )
    RejectStructuredArgs().filter(record)
    assert record.getMessage() == "log call with structured arguments refused (logger casework.x)"
    assert record.levelno == logging.ERROR


def test_role_refusals_are_audited(
    client: FlaskClient, signed_in: Callable[..., MadeUser], database: Database
) -> None:
    from sqlalchemy import select

    from casework.audit.models import AuditEvent

    user = signed_in(Role.WORKER)
    assert client.get("/home/admin").status_code == 403
    with database.reading() as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "access.refused"))
        assert event is not None
        assert event.actor_user_id == user.id
        assert event.outcome == "denied"
        assert event.details == {"endpoint": "home.admin", "reason": "role"}


def test_healthz_is_not_redirected_to_https_in_production(
    tmp_path: Path, database: Database, settings: Settings
) -> None:
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env.update(
        DATABASE_URL="postgresql://x@db.example.org/x",
        CASEWORK_KEYSTORE_URL=settings.keystore_url,
        CASEWORK_INSTANCE_DIR=str(tmp_path),
    )
    app = create_app(load_settings("production", env=env), database=database)
    response = app.test_client().get("/healthz", base_url="http://10.0.0.5")
    assert response.status_code == 200
    app.extensions["casework.kit"].keystore.dispose()


def test_a_user_with_several_roles_can_reach_each_home_page(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.WORKER, Role.ASSESSOR)
    page = client.get("/home/assessor").get_data(as_text=True)
    assert 'href="/home/worker"' in page
    assert 'href="/home/assessor"' in page
    assert (
        '<a class="govuk-service-navigation__link" href="/home/assessor" aria-current="true">'
        in (page)
    )
    assert 'href="/home/worker" aria-current' not in page


def test_one_role_gets_a_single_home_item(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.WORKER)
    page = client.get("/account").get_data(as_text=True)
    assert '<a class="govuk-service-navigation__link" href="/">' in page
    assert 'href="/home/worker"' not in page


def test_sign_in_page_sends_a_signed_in_user_home(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.WORKER)
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.location == "/"
