"""An outreach worker on a 390 px phone: find the person, see the alerts and the professional
family, and quick-log a contact — every page checked by axe."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from casework.access.policy import PersonAccess
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM
from casework.people import services
from casework.people.codes import HousingStatus
from casework.security.vault import Vault
from tests.browser.helpers import Visitor, sign_in
from tests.conftest import Builders, Clock

PAGE_WIDTH = "document.documentElement.scrollWidth"


#: What sticks out past a 390 px screen, for the failure message.
WIDE_ELEMENTS = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391).slice(0, 5)
  .map(e => e.tagName + '.' + e.className)"""


def _fits(phone: Visitor) -> None:
    assert phone.page.evaluate(PAGE_WIDTH) <= 390, (
        phone.page.url,
        phone.page.evaluate(WIDE_ELEMENTS),
    )


def test_find_a_person_see_alerts_and_family_then_quick_log_a_contact(
    phone: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    treatment = build.agency("Northdale Recovery Test", kind=AgencyKind.TREATMENT)
    housing = build.agency("Northdale Housing Test", kind=AgencyKind.HOUSING)
    worker = build.user(Role.WORKER, agency=treatment, full_name="Hope Worker")
    housing_officer = build.user(Role.WORKER, agency=housing, full_name="Harper Housing")
    person = build.person(
        worker,
        "John",
        "Smith",
        known_as="Smithy",
        housing=HousingStatus.NO_FIXED_ABODE,
        phone="07700 900321",
    )
    build.involve(person, housing_officer, by=worker)
    # The person agreed that the HOPE team sees what housing records (and the other way).
    build.consent(person, by=worker, to=worker)
    build.consent(person, by=worker, to=housing_officer)
    build.contact(person, housing_officer, note="Offered a hostel bed for tonight.")
    with build.database.transaction() as db:
        services.raise_alert(
            db,
            Vault(build.kit.keystore),
            SYSTEM,
            build.viewer(worker),
            PersonAccess(person, involved=True, creator=True),
            alert_type="cuckooing",
            detail="Flat taken over by dealers in March",
        )

    page = phone.page
    sign_in(phone, worker, frozen_clock)
    assert phone.path == "/home/worker"
    _fits(phone)
    expect(page.get_by_role("link", name="Smith, John (Smithy)")).to_be_visible()
    phone.screenshot("worker-home-390")

    started = time.monotonic()
    page.get_by_role("searchbox", name="Find a person").fill("Jon Smyth")
    phone.submit(page.get_by_role("button", name="Search"))
    _fits(phone)
    phone.screenshot("search-results-390")
    phone.submit(page.get_by_role("link", name="Smith, John (Smithy)"))
    _fits(phone)
    alerts = page.get_by_role("region", name="Alerts")
    expect(alerts).to_be_visible()
    expect(alerts).to_contain_text("Criminal exploitation or cuckooing")
    expect(page.get_by_text("Northdale Housing Test").first).to_be_visible()
    phone.screenshot("person-390")

    phone.submit(page.get_by_role("link", name="Professional family", exact=True))
    _fits(phone)
    expect(page.get_by_role("table")).to_contain_text("Harper Housing")
    phone.screenshot("family-390")

    phone.submit(page.get_by_role("link", name="Overview", exact=True))
    phone.submit(page.get_by_role("link", name="Log a contact"))
    _fits(phone)
    phone.screenshot("quick-log-390")
    page.get_by_label("Outreach").check()
    page.get_by_label("Seen, with concerns").check()
    page.get_by_label("Note (optional)").fill("Met at the market. Wounds on his legs look worse.")
    phone.submit(page.get_by_role("button", name="Save contact"))
    elapsed = time.monotonic() - started
    expect(phone.banner()).to_contain_text("Contact saved for John Smith")
    expect(page.get_by_text("Met at the market. Wounds on his legs look worse.")).to_be_visible()
    _fits(phone)
    phone.screenshot("person-after-log-390")
    assert elapsed < 60


def test_quick_log_errors_point_at_the_field(
    phone: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker, "Ava", "Lind")
    sign_in(phone, worker, frozen_clock)
    phone.goto(f"/people/{person}/contacts/new")
    phone.page.get_by_role("button", name="Save contact").click()
    phone.page.wait_for_load_state()
    phone.check(screenshot="quick-log-errors-390")
    expect(phone.error_summary()).to_contain_text("Select what kind of contact it was")
    expect(phone.error_summary()).to_contain_text("Select the outcome")
    _fits(phone)


def test_creating_a_person_warns_about_a_likely_duplicate(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    worker = build.user(Role.WORKER)
    build.person(worker, "Morgan", "Tate")
    page = visitor.page
    sign_in(visitor, worker, frozen_clock)
    visitor.goto("/people/new", check=False)
    visitor.check(screenshot="create-person")
    page.get_by_label("Given name").fill("Morgan")
    page.get_by_label("Family name").fill("Tait")
    page.get_by_label("Day").fill("17")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("1980")
    visitor.submit(page.get_by_role("button", name="Continue"))
    assert not visitor.error_summary().count(), visitor.error_summary().inner_text()
    expect(page.get_by_text("This person may already have a record")).to_be_visible()
    expect(page.get_by_role("link", name="Tate, Morgan")).to_be_visible()
    visitor.screenshot("create-person-duplicate")
    visitor.submit(page.get_by_role("button", name="Create a new record"))
    expect(visitor.banner()).to_contain_text("Morgan Tait's record was created")
