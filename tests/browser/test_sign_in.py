"""Signing in and out in a real browser: keyboard only, errors, two-factor set-up, sign-out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from casework.access.roles import Role
from tests.browser.helpers import (
    Visitor,
    code_for,
    enter_password,
    secret_shown,
    sign_in,
    title,
    wrong_code_for,
)
from tests.conftest import Builders, Clock

FOCUSED = """() => {
  const el = document.activeElement;
  return {
    id: el.id,
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || "").trim(),
    inHeader: Boolean(el.closest("header")),
    isSkipLink: el.classList.contains("govuk-skip-link"),
  };
}"""


def test_sign_in_page_works_with_the_keyboard_alone(visitor: Visitor, build: Builders) -> None:
    user = build.user(Role.WORKER)
    page = visitor.page
    visitor.goto("/sign-in")
    visitor.screenshot("sign-in-desktop")
    expect(page).to_have_title(title("Sign in"))
    expect(visitor.heading()).to_have_text("Sign in to Casework")
    # Casework's own, generic branding: no crown, no GOV.UK; no demo banner outside demos.
    expect(page.locator("header")).to_contain_text("Casework")
    expect(page.locator("header svg")).to_have_count(0)
    expect(page.get_by_text("GOV.UK")).to_have_count(0)
    expect(page.locator(".app-demo-banner")).to_have_count(0)

    # Tab from the top of the page, as a keyboard user would, until the Sign in button.
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["text"] == "Sign in":
            break
    assert stops[0]["isSkipLink"], stops
    assert stops[0]["text"] == "Skip to main content", stops
    email_at = next(i for i, stop in enumerate(stops) if stop["id"] == "email")
    # Before the form: only the header (the service's home link).
    assert all(stop["inHeader"] for stop in stops[1:email_at]), stops
    # Then email, password, the password's Show button, and Sign in: nothing else between.
    assert [(s["id"] if s["tag"] == "input" else s["text"]) for s in stops[email_at:]] == [
        "email",
        "password",
        "Show",
        "Sign in",
    ], stops

    # Back to the top: the skip link takes keyboard users straight to the form.
    page.reload()
    visitor.check()
    page.keyboard.press("Tab")
    expect(page.locator(".govuk-skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()

    # Type the details and press Enter in the password field: the form is sent.
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("not the right password")
    with visitor.navigates() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value.status == 401
    # The form's action has no "#main-content" from the skip link (it would take focus away).
    assert page.url == visitor.url("/sign-in"), page.url

    # The error summary is at the top, has focus, and says what to do.
    expect(page).to_have_title(title("Sign in", error=True))
    summary = visitor.error_summary()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Enter a correct email address and password")
    main_first = page.locator("#main-content > *").first
    expect(main_first).to_have_class(re.compile(r"\bgovuk-error-summary\b"))
    expect(page.locator("#password-error")).to_contain_text(
        "Enter a correct email address and password"
    )
    expect(page.get_by_label("Email address")).to_have_value(user.email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    visitor.check(screenshot="sign-in-error")

    # The error links to the password field: following it puts the cursor there.
    link = summary.get_by_role("link", name="Enter a correct email address and password")
    expect(link).to_have_attribute("href", "#password")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()


def test_empty_sign_in_form_names_each_field(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/sign-in")
    with visitor.navigates() as navigation:
        page.get_by_role("button", name="Sign in").click()
    assert navigation.value.status == 400
    summary = visitor.error_summary()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter your email address")).to_have_attribute(
        "href", "#email"
    )
    expect(summary.get_by_role("link", name="Enter your password")).to_have_attribute(
        "href", "#password"
    )
    visitor.check()


def test_first_sign_in_sets_up_two_factor(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user(Role.WORKER, mfa=False)
    page = visitor.page
    enter_password(visitor, user)
    assert visitor.path == "/sign-in/two-factor/set-up"
    expect(visitor.heading()).to_have_text("Set up two-factor authentication")
    visitor.screenshot("mfa-enrolment")

    qr = page.locator(".app-qr img")
    expect(qr).to_be_visible()
    expect(qr).to_have_attribute("alt", re.compile(r"^QR code .+"))
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] >= 150, box  # big enough for a phone to scan
    expect(page.locator("#mfa-secret")).to_be_visible()
    secret = secret_shown(visitor)

    code = page.get_by_label("Security code")
    code.fill(wrong_code_for(secret, frozen_clock))
    with visitor.navigates() as navigation:
        page.get_by_role("button", name="Continue").click()
    assert navigation.value.status == 400
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(visitor.error_summary()).to_be_focused()
    expect(visitor.error_summary()).to_contain_text("The security code is not correct")
    visitor.check(screenshot="mfa-enrolment-error")
    assert secret_shown(visitor) == secret  # the same key: the app already has it

    code.fill(code_for(secret, frozen_clock))
    visitor.submit(page.get_by_role("button", name="Continue"))
    assert visitor.path == "/home/worker"
    expect(visitor.heading()).to_have_text("My work")
    expect(visitor.banner()).to_contain_text("Two-factor authentication is set up.")


def test_wrong_security_code_is_refused(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    user = build.user(Role.WORKER)
    assert user.totp_secret
    page = visitor.page
    enter_password(visitor, user)
    expect(visitor.heading()).to_have_text("Enter your security code")
    page.get_by_label("Security code").fill(wrong_code_for(user.totp_secret, frozen_clock))
    with visitor.navigates() as navigation:
        page.get_by_role("button", name="Continue").click()
    assert navigation.value.status == 400
    expect(visitor.error_summary()).to_be_focused()
    expect(visitor.error_summary()).to_contain_text("The security code is not correct")
    visitor.check(screenshot="mfa-challenge-error")


def test_sign_out_ends_the_session_even_after_going_back(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    sign_in(visitor, build.user(Role.WORKER), frozen_clock)
    page = visitor.page
    assert visitor.path == "/home/worker"

    visitor.submit(page.get_by_role("button", name="Sign out"))
    assert visitor.path == "/sign-in"
    expect(visitor.banner()).to_contain_text("You have signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # Back to the page that was open: it is not shown again from the browser's memory
    # (Cache-Control: no-store), the server sends the visitor to sign in. Reloading: the same.
    page.go_back()
    assert visitor.path == "/sign-in", page.url
    expect(page.get_by_text("My work")).to_have_count(0)
    visitor.check()
    page.reload()
    assert visitor.path == "/sign-in", page.url
    expect(visitor.heading()).to_have_text("Sign in to Casework")
    expect(page.get_by_text("My work")).to_have_count(0)
    visitor.check()
