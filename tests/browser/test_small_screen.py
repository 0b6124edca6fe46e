"""A 390 px wide phone: nothing scrolls sideways, and the menu collapses behind a button."""

from __future__ import annotations

from playwright.sync_api import expect

from casework.access.roles import Role
from tests.browser.helpers import Visitor, sign_in
from tests.conftest import Builders, Clock

PAGE_WIDTH = "document.documentElement.scrollWidth"


def test_sign_in_page_fits_a_phone(phone: Visitor) -> None:
    phone.goto("/sign-in")
    assert phone.page.evaluate(PAGE_WIDTH) <= 390
    expect(phone.page.get_by_role("button", name="Sign in")).to_be_in_viewport()
    phone.screenshot("sign-in-390")


def test_home_page_fits_a_phone_and_the_menu_opens_when_tapped(
    phone: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    page = phone.page
    sign_in(phone, build.user(Role.ADMIN), frozen_clock)
    assert phone.path == "/home/admin"
    assert page.evaluate(PAGE_WIDTH) <= 390
    phone.screenshot("home-admin-390")

    menu = page.get_by_role("button", name="Menu")
    links = page.locator("#navigation")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(links).to_be_hidden()

    menu.tap()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(links).to_be_visible()
    for name in ("Home", "Users", "Agencies", "Your account"):
        expect(links.get_by_role("link", name=name)).to_be_visible()
    assert page.evaluate(PAGE_WIDTH) <= 390
    phone.check(screenshot="home-admin-390-menu-open")

    menu.tap()
    expect(links).to_be_hidden()
