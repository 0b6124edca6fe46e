"""An administrator sets up an agency, a team and an account, entirely in the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from casework.access.roles import Role
from tests.browser.helpers import Visitor, sign_in, title
from tests.conftest import Builders, Clock
from tests.integration.api_support import make_token


def test_admin_creates_an_agency_a_team_and_a_user(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    page = visitor.page
    home_agency = build.agency("Northdale Council Public Health")
    admin = build.user(Role.ADMIN, agency=home_agency)
    sign_in(visitor, admin, frozen_clock)

    # A new agency, with a mistake first.
    visitor.goto("/admin/agencies/")
    visitor.submit(page.get_by_role("button", name="Create an agency"))
    visitor.submit(page.get_by_role("button", name="Create agency"))
    expect(page).to_have_title(title("Create an agency", error=True))
    expect(visitor.error_summary()).to_contain_text("Enter the agency's name")
    page.get_by_label("Name").fill("Eastfield Housing Trust")
    page.get_by_label("Housing").check()
    visitor.submit(page.get_by_role("button", name="Create agency"))
    expect(visitor.banner()).to_be_visible()
    visitor.screenshot("admin-agency")

    # A team in it.
    visitor.submit(page.get_by_role("button", name="Create a team"))
    page.get_by_label("Team name").fill("Tenancy sustainment")
    visitor.submit(page.get_by_role("button", name="Create team"))
    expect(visitor.heading()).to_have_text("Tenancy sustainment")

    # A user of that agency: the one-time password is shown once.
    visitor.goto("/admin/users/new")
    visitor.submit(page.get_by_role("button", name="Create user"))
    expect(visitor.error_summary()).to_contain_text("Enter the user's full name")
    page.get_by_label("Full name").fill("Quinn Harbottle")
    page.get_by_label("Email address").fill("quinn.harbottle@example.org")
    page.get_by_label("Agency").select_option(label="Eastfield Housing Trust")
    page.get_by_label("Worker").check()
    visitor.submit(page.get_by_role("button", name="Create user"))
    expect(visitor.heading()).to_contain_text("Account created")
    visitor.screenshot("admin-user-created")

    visitor.goto("/admin/users/?q=quinn")
    expect(page.locator("table")).to_contain_text("quinn.harbottle@example.org")
    visitor.screenshot("admin-users")
    visitor.submit(page.get_by_role("link", name="Quinn Harbottle"))
    expect(visitor.heading()).to_contain_text("Quinn Harbottle")
    visitor.screenshot("admin-user")


def test_admin_pages_fit_a_phone(phone: Visitor, build: Builders, frozen_clock: Clock) -> None:
    agency = build.agency("Northdale Recovery Service")
    team = build.team(agency, "HOPE team")
    for index in range(3):
        build.user(Role.WORKER, agency=agency, team=team, email=f"worker{index}@example.org")
    admin = build.user(Role.ADMIN, agency=agency)
    custody = build.user(Role.CUSTODY_OFFICER, agency=agency, full_name="Casey Custody-Officer")
    make_token(build.database, custody.id)
    sign_in(phone, admin, frozen_clock)
    for path in (
        "/account",
        "/admin/api-tokens/",
        "/admin/users/",
        f"/admin/agencies/{agency.id}",
        f"/admin/agencies/{agency.id}/teams/{team.id}",
        "/admin/agencies/",
    ):
        phone.goto(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
    phone.screenshot("admin-team-phone")
