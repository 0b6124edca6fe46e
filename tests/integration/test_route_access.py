"""Deny by default, checked on every route the app has.

* Every endpoint declares an access rule, and the rules match the checked-in manifest
  (`route_access.json`): a new route fails the build until someone classifies it.
  To update the manifest after a deliberate change: ``UPDATE_ROUTE_MANIFEST=1 pytest <this file>``.
* Every non-public route refuses an anonymous request and a half-signed-in (pre-MFA) one.
* Route ids are typed (``<uuid:...>``), so a malformed id is a 404, never a 500.
* GET requests never write case data: only session bookkeeping and audit rows.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from werkzeug.routing import Rule as UrlRule

from casework.access.roles import Role
from casework.access.rules import Stage, rule_of
from casework.agencies.models import AgencyKind
from casework.db import Database
from tests.conftest import Builders, sign_in_directly

MANIFEST = Path(__file__).with_name("route_access.json")

#: Tables a GET request may write to: session bookkeeping, throttling and audit.
#: What a GET may write (DECISIONS §4): session bookkeeping and the audit of what it showed.
BOOKKEEPING_TABLES = {"user_sessions", "login_attempts", "audit_events", "audit_event_people"}


def _rules(app: Flask) -> list[UrlRule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.rule, r.endpoint),
    )


def _declared(app: Flask) -> dict[str, str]:
    declared: dict[str, str] = {}
    for rule in _rules(app):
        access = rule_of(app.view_functions[rule.endpoint])
        declared[rule.endpoint] = access.describe() if access else "UNDECLARED"
    return declared


def test_every_route_declares_access_and_matches_the_manifest(app: Flask) -> None:
    declared = _declared(app)
    undeclared = sorted(e for e, r in declared.items() if r == "UNDECLARED")
    assert not undeclared, f"routes without @access(...): {undeclared}"
    if os.environ.get("UPDATE_ROUTE_MANIFEST") == "1":
        MANIFEST.write_text(json.dumps(declared, indent=2, sort_keys=True) + "\n")
    expected = json.loads(MANIFEST.read_text())
    assert declared == expected, (
        "route access differs from tests/integration/route_access.json; review the change, then "
        "run UPDATE_ROUTE_MANIFEST=1 pytest tests/integration/test_route_access.py"
    )


def test_public_routes_are_a_short_known_list(app: Flask) -> None:
    public = sorted(e for e, r in _declared(app).items() if r == Stage.PUBLIC)
    assert public == ["auth.sign_in", "health.healthz", "pages.accessibility", "pages.cookies"]


#: Keys from configuration (a pathway's transition, a notice's code, a report's name, a report
#: section's key), not record ids: strings.
CONFIG_KEYS = {"key", "code", "name", "section"}


def test_ids_in_urls_are_typed(app: Flask) -> None:
    for rule in _rules(app):
        for argument in rule.arguments:
            converter = type(rule._converters[argument]).__name__
            if argument in CONFIG_KEYS and converter in ("UnicodeConverter", "KeyConverter"):
                # Configuration keys (a pathway's key, a notice's code) are short identifiers.
                continue
            assert converter == "UUIDConverter", f"{rule.rule}: <{argument}> must be <uuid:...>"


def _example_url(rule: UrlRule) -> str:
    return re.sub(r"<[^>]+>", str(uuid.uuid4()), rule.rule)


def _non_public(app: Flask) -> Iterator[tuple[UrlRule, str]]:
    for rule in _rules(app):
        access = rule_of(app.view_functions[rule.endpoint])
        if access is None or access.stage in (Stage.PUBLIC, Stage.API):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_anonymous_requests_are_sent_to_sign_in(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # reach the gate, not the CSRF check
    try:
        client = app.test_client()
        for rule, method in _non_public(app):
            response = client.open(_example_url(rule), method=method)
            assert response.status_code == 302, (method, rule.rule)
            assert response.location.startswith("/sign-in"), (method, rule.rule)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def _api_routes(app: Flask) -> Iterator[tuple[UrlRule, str]]:
    for rule in _rules(app):
        access = rule_of(app.view_functions[rule.endpoint])
        if access is not None and access.stage is Stage.API:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_api_routes_answer_401_without_a_token_even_when_signed_in(
    app: Flask, build: Builders
) -> None:
    """The API never redirects to sign-in and never accepts the session cookie."""
    client = app.test_client()
    sign_in_directly(app, client, build.user(Role.CUSTODY_OFFICER, Role.ASSESSOR))
    api_routes = list(_api_routes(app))
    assert api_routes
    for rule, method in api_routes:
        url = (
            _example_url(rule) if "<key:" not in rule.rule else rule.rule.replace("<key:key>", "x")
        )
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, (method, rule.rule)
        assert response.mimetype == "application/problem+json", (method, rule.rule)


def test_half_signed_in_users_reach_only_the_second_factor(app: Flask, build: Builders) -> None:
    user = build.user(Role.ADMIN, Role.WORKER)
    client = app.test_client()
    sign_in_directly(app, client, user, mfa_verified=False)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        for rule, method in _non_public(app):
            access = rule_of(app.view_functions[rule.endpoint])
            assert access is not None
            if access.stage is Stage.PASSWORD_ONLY:
                continue
            response = client.open(_example_url(rule), method=method)
            assert response.status_code == 302, (method, rule.rule)
            assert response.location.startswith("/sign-in/two-factor"), (method, rule.rule)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_role_rules_refuse_other_roles(app: Flask, build: Builders) -> None:
    for rule, method in _non_public(app):
        access = rule_of(app.view_functions[rule.endpoint])
        assert access is not None
        if not access.roles or method != "GET":
            continue
        outsider_roles = [r for r in Role if r not in access.roles]
        user = build.user(outsider_roles[0])
        client = app.test_client()
        sign_in_directly(app, client, user)
        response = client.get(_example_url(rule))
        assert response.status_code == 403, rule.rule


def test_get_requests_never_write_case_data(
    app: Flask, build: Builders, database: Database
) -> None:
    writes: list[str] = []

    def spy(conn, cursor, statement: str, *_rest) -> None:
        match = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", statement, re.I)
        if match and match.group(2) not in BOOKKEEPING_TABLES:
            writes.append(statement.split("\n", maxsplit=1)[0])

    agency = build.agency()
    team = build.team(agency)
    users = [build.user(role, agency=agency, team=team) for role in Role]
    worker = next(u for u, role in zip(users, Role, strict=True) if role is Role.WORKER)
    person = build.person(worker)
    contact = build.contact(person, worker, note="a note")
    consent = build.consent(person, by=worker, to=worker)
    basis = build.basis(person, by=worker, to=worker)
    emergency = build.emergency(person, build.user(Role.MANAGER))  # another agency's manager
    (involvement,) = involvements_of(database, person)
    custody = build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))
    booking = build.referral(build.person(custody), by=custody, to=agency).referral_id
    users.append(custody)
    referral = build.referral(person, by=custody, to=worker).referral_id
    event.listen(database.engine, "before_cursor_execute", spy)
    try:
        build.agency()  # the spy must see a real write, or this test proves nothing
        assert writes, "the statement spy did not see an INSERT"
        writes.clear()
        for user in users:
            client = app.test_client()
            sign_in_directly(app, client, user)
            for rule in _rules(app):
                if "GET" in (rule.methods or set()):
                    url = _example_url(rule)
                    assert client.get(url).status_code < 500, url
            # Real ids too, where routes take them.
            for path in (
                "/admin/users/",
                f"/admin/users/{user.id}",
                f"/admin/agencies/{agency.id}",
                f"/admin/agencies/{agency.id}/teams/{team.id}",
                "/people/?name=Alex",
                f"/people/{person}",
                f"/people/{person}/timeline",
                f"/people/{person}/family",
                f"/people/{person}/edit",
                f"/people/{person}/needs",
                f"/people/{person}/contacts/new",
                f"/people/{person}/contacts/{contact}",
                f"/people/{person}/contacts/{contact}/note",
                f"/people/{person}/family/{involvement}/edit",
                f"/people/{person}/family/{involvement}/end",
                f"/caseload?team={team.id}",
                f"/people/{person}/sharing",
                f"/people/{person}/sharing/{consent}",
                f"/people/{person}/sharing/{consent}/correct",
                f"/people/{person}/sharing/{consent}/withdraw",
                f"/people/{person}/sharing/{basis}",
                f"/people/{person}/sharing/consent/new",
                f"/people/{person}/sharing/basis/new",
                f"/people/{person}/emergency",
                "/emergency-access",
                "/governance/reviews",
                f"/governance/reviews/bases/{basis}",
                f"/governance/reviews/emergency/{emergency}",
                "/governance/people?name=Alex",
                f"/governance/people/{person}",
                f"/governance/people/{person}/access",
                f"/governance/people/{person}/access.csv",
                f"/governance/audit?person={person}",
                f"/bookings/{booking}/booked",
                f"/referrals/{booking}/notices/RA1",
                "/bookings/new/check",
                "/referrals?show=sent",
                "/referrals/tasks",
                "/referrals/today?day=2026-02-30",
                f"/referrals/{referral}",
                f"/referrals/{referral}/transitions/attend",
                f"/referrals/{referral}/transitions/fail_to_attend",
                f"/people/{person}/referrals",
                f"/people/{person}/referrals/new",
            ):
                assert client.get(path).status_code < 500, (path, user.email)
    finally:
        event.remove(database.engine, "before_cursor_execute", spy)
    assert writes == []


def involvements_of(database: Database, person: uuid.UUID) -> list[uuid.UUID]:
    from sqlalchemy import select

    from casework.family.models import Involvement

    with database.reading() as db:
        return list(db.scalars(select(Involvement.id).where(Involvement.person_id == person)))


def test_read_sessions_refuse_to_flush(database: Database) -> None:
    from casework.agencies.models import Agency, AgencyKind

    with database.reading() as db:
        db.add(Agency(id=uuid.uuid4(), name="Should not be written", kind=AgencyKind.OTHER))
        with pytest.raises(RuntimeError, match="read-only"):
            db.flush()
