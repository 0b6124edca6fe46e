"""In-app notifications: the list (newest first, unread marked), the unread count in every
page's menu, opening one (marks it read, goes to its page, where access is checked again),
marking one or all read, and nobody reaching another user's."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient

from casework.access.roles import Role
from casework.notifications.services import notify
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, sign_in_directly


def _as(app: Flask, user: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return client


def _badge(html: str) -> str | None:
    match = re.search(
        r'moj-notification-badge">(\d+\+?)<span class="govuk-visually-hidden"> unread', html
    )
    return match.group(1) if match else None


def _send(build: Builders, user: MadeUser, subject: str, link: str | None = None) -> None:
    with build.database.transaction() as db:
        notify(db, user_ids=[user.id], kind="referral.answered", subject=subject, link=link)


def test_the_list_and_the_count_in_the_menu(
    app: Flask, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user(Role.ADMIN)  # every signed-in user has notifications
    client = _as(app, user)
    html = client.get("/notifications").get_data(as_text=True)
    assert "You have no notifications" in html
    assert _badge(html) is None
    _send(
        build,
        user,
        "Referral: referral REF-2026-AAAAAA — declined",
        "/referrals/" + str(uuid.uuid4()),
    )
    frozen_clock.advance(minutes=5)
    _send(build, user, "Referral: referral REF-2026-BBBBBB — declined")
    html = client.get("/notifications").get_data(as_text=True)
    assert _badge(html) == "2"
    assert html.index("BBBBBB") < html.index("AAAAAA"), "newest first"
    assert html.count('govuk-tag--blue">Unread') == 2
    # Another page shows the count too.
    assert _badge(client.get("/account").get_data(as_text=True)) == "2"


def test_opening_one_marks_it_read_and_follows_its_link(app: Flask, build: Builders) -> None:
    user = build.user(Role.WORKER)
    link = f"/referrals/{uuid.uuid4()}"
    _send(build, user, "Referral REF-2026-CCCCCC declined", link)
    client = _as(app, user)
    html = client.get("/notifications").get_data(as_text=True)
    (notification_id,) = re.findall(r"/notifications/([0-9a-f-]{36})/open", html)
    answer = client.post(
        f"/notifications/{notification_id}/open", data={"csrf_token": csrf_from(html)}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(link)
    # The page it links to applies the access policy: this referral is not there (404).
    assert client.get(link).status_code == 404
    html = client.get("/notifications").get_data(as_text=True)
    assert _badge(html) is None
    assert "Nothing unread" in html


def test_mark_one_and_mark_all(app: Flask, build: Builders) -> None:
    user = build.user(Role.WORKER)
    for n in range(3):
        _send(build, user, f"Referral REF-2026-DDDDD{n} declined")
    client = _as(app, user)
    html = client.get("/notifications").get_data(as_text=True)
    first = re.findall(r"/notifications/([0-9a-f-]{36})/read", html)[0]
    assert (
        post_form(client, f"/notifications/{first}/read", {}, page="/notifications").status_code
        == 302
    )
    assert _badge(client.get("/notifications").get_data(as_text=True)) == "2"
    assert post_form(client, "/notifications/read", {}, page="/notifications").status_code == 302
    assert _badge(client.get("/notifications").get_data(as_text=True)) is None


def test_nobody_reaches_another_users_notifications(app: Flask, build: Builders) -> None:
    owner, other = build.user(Role.WORKER), build.user(Role.WORKER)
    _send(build, owner, "Referral REF-2026-EEEEEE declined", "/referrals/x")
    html = _as(app, owner).get("/notifications").get_data(as_text=True)
    (notification_id,) = re.findall(r"/notifications/([0-9a-f-]{36})/open", html)
    client = _as(app, other)
    assert "EEEEEE" not in client.get("/notifications").get_data(as_text=True)
    for action in ("open", "read"):
        answer = post_form(
            client, f"/notifications/{notification_id}/{action}", {}, page="/notifications"
        )
        assert answer.status_code == 404
    assert _badge(_as(app, owner).get("/notifications").get_data(as_text=True)) == "1"
    # Without the CSRF token nothing is marked.
    assert _as(app, owner).post(f"/notifications/{notification_id}/read").status_code == 400


def test_a_link_outside_the_app_is_never_followed(app: Flask, build: Builders) -> None:
    user = build.user(Role.WORKER)
    _send(build, user, "Odd", "//evil.example/")
    client = _as(app, user)
    html = client.get("/notifications").get_data(as_text=True)
    (notification_id,) = re.findall(r"/notifications/([0-9a-f-]{36})/open", html)
    answer = client.post(
        f"/notifications/{notification_id}/open", data={"csrf_token": csrf_from(html)}
    )
    assert answer.headers["Location"].endswith("/notifications")


def test_a_decline_notifies_the_referrer_at_once(app: Flask, build: Builders) -> None:
    worker = build.user(Role.WORKER)
    housing = build.user(Role.WORKER)
    person = build.person(worker)
    build.consent(person, by=worker, to=housing)
    made = build.referral(
        person, by=worker, to=housing, pathway="general", transition="refer", reason="housing"
    )
    build.move(made.referral_id, "decline", by=housing, reason="no_capacity")
    html = _as(app, worker).get("/notifications").get_data(as_text=True)
    assert made.reference in html
    assert "declined (No capacity now)" in html
    assert _badge(html) == "1"
