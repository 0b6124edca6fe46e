"""Error pages explain in plain words what happened and what to do next."""

from __future__ import annotations

from playwright.sync_api import expect

from casework.access.roles import Role
from tests.browser.helpers import Visitor, check_a11y, sign_in, title
from tests.conftest import Builders, Clock


def test_page_not_found(visitor: Visitor) -> None:
    visitor.goto("/no-such-page", status=404)
    expect(visitor.heading()).to_have_text("Page not found")
    expect(visitor.page).to_have_title(title("Page not found"))
    expect(
        visitor.page.get_by_text("If you typed the web address, check it is correct.")
    ).to_be_visible()
    visitor.screenshot("404")


def test_worker_opening_an_admin_page_is_told_why_not(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    sign_in(visitor, build.user(Role.WORKER), frozen_clock)
    visitor.goto("/admin/users/", status=403, check=False)
    expect(visitor.heading()).to_have_text("You do not have permission to see this page")
    expect(visitor.page).to_have_title(title("You do not have permission to see this page"))
    expect(
        visitor.page.get_by_text("Your account does not have a role that allows this.")
    ).to_be_visible()
    visitor.screenshot("403")
    check_a11y(visitor.page)
    visitor.check()  # console and CSP: a refused page still gets its nonce

    visitor.submit(visitor.page.get_by_role("link", name="Go to your home page"))
    assert visitor.path == "/home/worker"


def test_form_sent_with_an_expired_token_explains_that_nothing_was_saved(
    visitor: Visitor, build: Builders
) -> None:
    user = build.user(Role.WORKER)
    page = visitor.page
    visitor.goto("/sign-in")
    # As if the page had been left open past the token's life (or the form came from elsewhere).
    page.locator("input[name=csrf_token]").evaluate("(input) => { input.value = 'expired'; }")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(user.password)
    with visitor.navigates() as navigation:
        page.get_by_role("button", name="Sign in").click()
    assert navigation.value.status == 400
    expect(visitor.heading()).to_have_text("There is a problem with your request")
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    visitor.screenshot("400-expired-form")
    check_a11y(page)
    visitor.check()  # console and CSP: a refused page still gets its nonce
