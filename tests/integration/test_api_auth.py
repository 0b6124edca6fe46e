"""API tokens: bearer only, 401 for no, bad, revoked or expired tokens, 403 for a missing
scope or role; service accounts never sign in; creation and revocation are audited."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.access.roles import Role
from casework.api import services as api_services
from casework.api.models import ApiToken
from casework.audit.models import AuditEvent
from casework.audit.recorder import SYSTEM
from casework.auth import services as auth_services
from casework.db import Database
from tests.conftest import PASSWORD, Builders, Clock, sign_in_directly
from tests.integration.api_support import make_ends, make_token, service_account

PATHWAYS = "/api/v1/pathways"


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_no_token_is_401_problem_not_a_redirect(client: FlaskClient) -> None:
    for path in (PATHWAYS, "/api/v1/referrals", "/api/v1/openapi.json"):
        response = client.get(path)
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _problem(client.post("/api/v1/required-assessments", json={}), 401)


def test_a_session_cookie_does_not_authenticate_the_api(
    app: Flask, client: FlaskClient, build: Builders
) -> None:
    user = build.user(Role.CUSTODY_OFFICER)
    sign_in_directly(app, client, user)
    _problem(client.get(PATHWAYS), 401)


def test_bad_revoked_and_expired_tokens_are_401(
    client: FlaskClient, build: Builders, database: Database, frozen_clock: Clock
) -> None:
    ends = make_ends(build)
    token = make_token(database, ends.custody.id, days=1)
    assert client.get(PATHWAYS, headers=token.headers).status_code == 200
    for header in ("Bearer nonsense", "Bearer cw_" + "x" * 43, "Basic abc", token.value):
        _problem(client.get(PATHWAYS, headers={"Authorization": header}), 401)

    frozen_clock.advance(days=1, seconds=1)
    _problem(client.get(PATHWAYS, headers=token.headers), 401)

    fresh = make_token(database, ends.custody.id)
    with database.transaction() as db:
        assert api_services.revoke_token(db, SYSTEM, fresh.id)
    _problem(client.get(PATHWAYS, headers=fresh.headers), 401)
    with database.reading() as db:
        reasons = [
            event.details["reason"]
            for event in db.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused"))
        ]
    assert "token_expired" in reasons
    assert "token_revoked" in reasons


def test_a_disabled_account_cannot_use_its_token(
    client: FlaskClient, build: Builders, database: Database
) -> None:
    ends = make_ends(build)
    token = make_token(database, ends.custody.id)
    with database.transaction() as db:
        from casework.users.models import User

        db.get_one(User, ends.custody.id).active = False
    _problem(client.get(PATHWAYS, headers=token.headers), 401)


def test_wrong_scope_or_role_is_403_and_audited(
    client: FlaskClient, build: Builders, database: Database
) -> None:
    ends = make_ends(build)
    readonly = make_token(database, ends.custody.id, scopes=frozenset({"pathways:read"}))
    _problem(client.get("/api/v1/referrals", headers=readonly.headers), 403)
    _problem(client.post("/api/v1/required-assessments", json={}, headers=readonly.headers), 403)
    # An assessor may write transitions, but booking a required assessment is custody's.
    assessor = make_token(database, ends.assessor.id)
    _problem(client.post("/api/v1/required-assessments", json={}, headers=assessor.headers), 403)
    with database.reading() as db:
        refused = db.execute(
            select(AuditEvent.details, AuditEvent.outcome).where(
                AuditEvent.action == "access.refused"
            )
        ).all()
    assert {details["reason"] for details, _outcome in refused} == {"scope", "role"}
    assert all(outcome == "denied" for _details, outcome in refused)


def test_last_used_is_recorded(client: FlaskClient, build: Builders, database: Database) -> None:
    ends = make_ends(build)
    token = make_token(database, ends.custody.id)
    assert client.get(PATHWAYS, headers=token.headers).status_code == 200
    with database.reading() as db:
        assert db.get_one(ApiToken, token.id).last_used_at is not None


def test_tokens_are_stored_hashed_and_changes_audited(build: Builders, database: Database) -> None:
    ends = make_ends(build)
    token = make_token(database, ends.custody.id)
    with database.transaction() as db:
        api_services.revoke_token(db, SYSTEM, token.id)
    with database.reading() as db:
        row = db.get_one(ApiToken, token.id)
        assert token.value not in row.token_hash
        assert len(row.token_hash) == 64
        actions = db.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == str(token.id))
        ).all()
    assert sorted(actions) == ["api.token.created", "api.token.revoked"]


def test_a_service_account_acts_for_its_agency_and_cannot_sign_in(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    ends = make_ends(build)
    account = service_account(build, ends.police_id, Role.CUSTODY_OFFICER)
    token = make_token(database, account)
    assert client.get(PATHWAYS, headers=token.headers).status_code == 200
    with database.reading() as db:
        from casework.users.models import User

        email = db.get_one(User, account).email
    kit = app.extensions["casework.kit"]
    outcome = auth_services.check_password(
        database, kit, email=email, password=PASSWORD, ip_address="127.0.0.1"
    )
    assert outcome.result is not auth_services.SignInResult.OK


def test_admin_pages_create_show_once_and_revoke(
    app: Flask, client: FlaskClient, build: Builders, database: Database
) -> None:
    from tests.conftest import post_form

    ends = make_ends(build)
    admin = build.user(Role.ADMIN)
    sign_in_directly(app, client, admin)
    assert client.get("/admin/api-tokens/").status_code == 200
    created = post_form(
        client,
        "/admin/api-tokens/service-accounts/new",
        {"name": "Custody system", "agency_id": str(ends.police_id), "role": "custody_officer"},
    )
    assert created.status_code == 302
    page = client.get("/admin/api-tokens/new").get_data(as_text=True)
    assert "Custody system (service account)" in page
    response = post_form(
        client,
        "/admin/api-tokens/new",
        {
            "name": "Suite A",
            "user_id": str(ends.custody.id),
            "scopes": ["pathways:read", "referrals:write"],
            "lifetime": "30",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    value = html.split('id="api-token">', 1)[1].split("<", 1)[0]
    assert value.startswith("cw_")
    assert client.get(PATHWAYS, headers={"Authorization": f"Bearer {value}"}).status_code == 200
    listing = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert value not in listing
    assert "Suite A" in listing
    with database.reading() as db:
        token_id = db.scalar(select(ApiToken.id).where(ApiToken.name == "Suite A"))
    revoked = post_form(client, f"/admin/api-tokens/{token_id}/revoke", {})
    assert revoked.status_code == 302
    assert client.get(PATHWAYS, headers={"Authorization": f"Bearer {value}"}).status_code == 401
    # Refused input stays on the form.
    bad = post_form(client, "/admin/api-tokens/new", {"name": "", "lifetime": "30"})
    assert bad.status_code == 400
