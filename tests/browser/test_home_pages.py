"""Each role signs in through the real pages and lands on its own home page."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from playwright.sync_api import expect

from casework.access.roles import Role
from tests.browser.helpers import Visitor, sign_in, title
from tests.conftest import Builders, Clock


class Home(NamedTuple):
    role: Role
    path: str
    heading: str


HOMES = [
    Home(Role.WORKER, "/home/worker", "My work"),
    Home(Role.ASSESSOR, "/home/assessor", "Assessments"),
    Home(Role.CUSTODY_OFFICER, "/home/custody", "Custody bookings"),
    Home(Role.MANAGER, "/home/manager", "Team overview"),
    Home(Role.INFORMATION_GOVERNANCE, "/home/information-governance", "Information governance"),
    Home(Role.PARTNERSHIP_LEAD, "/home/partnership", "Partnership overview"),
    Home(Role.ADMIN, "/home/admin", "Administration"),
]


@pytest.mark.parametrize("home", HOMES, ids=[home.role.value for home in HOMES])
def test_role_lands_on_its_home_page_and_can_open_its_account(
    visitor: Visitor, build: Builders, frozen_clock: Clock, home: Home
) -> None:
    role = home.role
    agency = build.agency("Northdale Recovery Service")
    team = build.team(agency, "Eastfield outreach")
    user = build.user(role, agency=agency, team=team)
    page = visitor.page

    sign_in(visitor, user, frozen_clock)
    assert visitor.path == home.path
    expect(visitor.heading()).to_be_visible()
    expect(visitor.heading()).to_have_text(home.heading)
    expect(page).to_have_title(title(home.heading))
    expect(page.get_by_text("Eastfield outreach (1 member)")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # only on small screens
    visitor.screenshot(f"home-{role.value}")

    visitor.submit(nav.get_by_role("link", name="Your account"))
    assert visitor.path == "/account"
    expect(visitor.heading()).to_have_text("Your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text(user.email)
    expect(page.locator(".govuk-summary-list")).to_contain_text(role.label)
    expect(page.get_by_text("This device")).to_be_visible()
    expect(nav.get_by_role("link", name="Your account")).to_have_attribute(
        "aria-current", re.compile(r"true|page")
    )
    if role is Role.WORKER:
        visitor.screenshot("account")
