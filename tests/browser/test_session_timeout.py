"""The timeout warning in a real browser (WCAG 2.2.1 Timing Adjustable).

Time is moved, never waited for: the server's clock with ``frozen_clock.advance(...)``, the
page's with Playwright's ``page.clock`` (installed before the first page loads).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Locator, Request, expect
from sqlalchemy import select, update

from casework.access.roles import Role
from casework.auth.models import UserSession
from casework.db import Database
from tests.browser.helpers import Visitor, check_a11y, sign_in
from tests.conftest import Builders, Clock, MadeUser

IDLE_MESSAGE = "You were signed out because you had not used Casework for a while."
ABSOLUTE_MESSAGE = "You were signed out because your session reached its time limit."
COUNTDOWN = re.compile(r"^You will be signed out in (2 minutes|1 minute( \d\d seconds)?)\.$")
FOCUS_IN_DIALOG = "document.activeElement.closest('dialog')?.id ?? null"
PAGE_WIDTH = "document.documentElement.scrollWidth"


def _wait(visitor: Visitor, clock: Clock, minutes: int, seconds: int = 0) -> None:
    """Nobody saves or opens a page for a while: on the server and in the browser."""
    clock.advance(minutes=minutes, seconds=seconds)
    visitor.page.clock.fast_forward(f"{minutes:02d}:{seconds:02d}")


def _dialog(visitor: Visitor) -> Locator:
    return visitor.page.get_by_role("dialog", name="You will be signed out soon")


def _last_seen(database: Database, user: MadeUser) -> datetime:
    with database.reading() as db:
        seen = db.scalar(
            select(UserSession.last_seen_at).where(
                UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
            )
        )
    assert seen is not None
    return seen


def _assert_signed_out_to(visitor: Visitor, message: str, next_path: str) -> None:
    assert visitor.path == "/sign-in", visitor.page.url
    assert parse_qs(urlsplit(visitor.page.url).query) == {"next": [next_path]}
    expect(visitor.banner()).to_contain_text(message)
    visitor.check()


def test_warning_before_idle_timeout_lets_the_user_stay_signed_in(
    visitor: Visitor, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    user = build.user(Role.WORKER)
    page = visitor.page
    page.clock.install()
    sign_in(visitor, user, frozen_clock)
    visitor.goto("/account")
    dialog = _dialog(visitor)
    expect(dialog).to_be_hidden()

    # 27 minutes without saving or opening a page: nothing yet. At 28½ minutes, the warning.
    _wait(visitor, frozen_clock, 27)
    expect(dialog).to_be_hidden()
    _wait(visitor, frozen_clock, 1, 30)
    expect(dialog).to_be_visible()
    assert page.evaluate(FOCUS_IN_DIALOG) == "app-session-timeout"
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    countdown = dialog.locator("[aria-live=polite]")
    expect(countdown).to_have_text(COUNTDOWN)
    expect(dialog.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Continue")).to_be_hidden()
    visitor.screenshot("session-timeout-desktop")
    check_a11y(page)

    # The countdown moves on in 15-second steps (not every second).
    page.clock.fast_forward("00:15")
    expect(countdown).to_have_text(
        re.compile(r"^You will be signed out in 1 minute( 15 seconds)?\.$")
    )

    # "Stay signed in": the dialog closes and the server restarts its idle clock.
    requests: list[str] = []

    def seen(request: Request) -> None:
        requests.append(urlsplit(request.url).path)

    page.on("request", seen)
    stayed_at = frozen_clock.now
    page.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    assert _last_seen(database, user) == stayed_at
    # The page never asks the server by itself: that one click was the only request.
    _wait(visitor, frozen_clock, 5)
    page.remove_listener("request", seen)
    assert requests == ["/account/keep-alive"]
    assert _last_seen(database, user) == stayed_at

    # 33½ minutes after the page was opened, the server still knows this person.
    visitor.goto("/account")
    assert visitor.path == "/account"

    # Esc means "Stay signed in" too.
    _wait(visitor, frozen_clock, 28, 30)
    expect(dialog).to_be_visible()
    with page.expect_response(re.compile(r"/account/keep-alive$")) as answer:
        page.keyboard.press("Escape")
    assert answer.value.status == 200
    expect(dialog).to_be_hidden()
    assert _last_seen(database, user) == frozen_clock.now

    # Left alone, the warning counts down and then the page goes to sign-in, which says why.
    frozen_clock.advance(minutes=30, seconds=1)
    with visitor.navigates():
        page.clock.fast_forward("30:03")
    _assert_signed_out_to(visitor, IDLE_MESSAGE, "/account")


def test_warning_before_the_absolute_limit_fits_a_phone(
    phone: Visitor, build: Builders, frozen_clock: Clock, database: Database
) -> None:
    user = build.user(Role.WORKER)
    page = phone.page
    page.clock.install()
    sign_in(phone, user, frozen_clock)
    # Signed in 11½ hours ago: the session ends for good 31 minutes from now.
    with database.transaction() as db:
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(created_at=frozen_clock.now - timedelta(hours=11, minutes=29))
        )
    phone.goto("/home/worker")
    dialog = _dialog(phone)

    # First the idle warning, on a 390 px screen.
    _wait(phone, frozen_clock, 28, 30)
    expect(dialog).to_be_visible()
    assert page.evaluate(PAGE_WIDTH) <= 390
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_in_viewport()
    phone.screenshot("session-timeout-390")
    check_a11y(page)

    # Staying signed in cannot pass the absolute limit: 2½ minutes are left, so a warning
    # without "Stay signed in" follows half a minute later.
    dialog.get_by_role("button", name="Stay signed in").tap()
    expect(dialog).to_be_hidden()
    _wait(phone, frozen_clock, 0, 30)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("signs everyone out 12 hours after they signed in")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Continue")).to_be_focused()
    expect(dialog.get_by_role("button", name="Sign out now")).to_be_visible()
    expect(dialog.locator("[aria-live=polite]")).to_have_text(COUNTDOWN)
    assert page.evaluate(PAGE_WIDTH) <= 390
    phone.screenshot("session-timeout-absolute-390")
    check_a11y(page)

    # "Continue" closes it to finish off; at the limit the page goes to sign-in.
    dialog.get_by_role("button", name="Continue").tap()
    expect(dialog).to_be_hidden()
    frozen_clock.advance(minutes=2)
    with phone.navigates():
        page.clock.fast_forward("02:02")
    _assert_signed_out_to(phone, ABSOLUTE_MESSAGE, "/home/worker")
