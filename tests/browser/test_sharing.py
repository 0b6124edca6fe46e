"""Consent, other lawful bases and emergency access, through the browser (issue 4).

Real journeys with two or three people, each in their own browser:

* a treatment worker records a note; the housing officer in the same professional family does
  not see it until the treatment worker records the person's consent in the browser, and no
  longer sees it on the very next page load after the consent is withdrawn;
* the consent form refuses bad input, each error on its field and in the error summary;
* a safeguarding basis shares at once, until information governance rejects it;
* a worker of an agency with no involvement finds the person (name and date of birth only),
  opens the record in an emergency, and loses it when the four hours are up; information
  governance sees it in the review queue and in "who has seen this record";
* the consent form can be completed with the keyboard alone.

Every page reached is checked by axe (``Visitor.check``), on a 1280 px desktop and on a 390 px
phone, where no page may scroll sideways. Screenshots go to /tmp/casework-shots/.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.clock import london_today
from casework.consent.models import SharingBasis
from casework.consent.rules import add_months
from tests.browser.helpers import Visitor, VisitorFactory, sign_in, title
from tests.conftest import Builders, Clock, MadeUser

#: Screenshots for people to look at: /tmp/casework-shots/ (outside the repository).
SHOTS = Path(tempfile.gettempdir()) / "casework-shots"

PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280
SCREENS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": DESKTOP_WIDTH, "height": 800}},
    "phone": {
        "viewport": {"width": PHONE_WIDTH, "height": 844},
        "is_mobile": True,
        "has_touch": True,
    },
}

#: What sticks out past the screen, for the failure message.
WIDE_ELEMENTS = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1).slice(0, 5)
  .map(e => e.tagName + '.' + e.className)"""

#: The treatment worker's note: nothing else on any page says this.
NOTE = "Slept in the Mill Lane underpass again; asked about a detox bed"

FOCUSED = """() => {
  const el = document.activeElement;
  return {id: el.id, tag: el.tagName.toLowerCase(), type: el.type || "",
          checked: Boolean(el.checked), text: (el.innerText || el.value || "").trim()};
}"""


# --- each person's browser ------------------------------------------------------------------


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    """Each journey runs twice: on a 1280 px desktop and on a 390 px phone."""
    return str(request.param)


@dataclass
class Tab:
    """One person's browser tab at the journey's screen size. Every page it reaches is checked
    (axe, console, CSP) and must not scroll sideways."""

    visitor: Visitor
    screen: str

    @property
    def page(self) -> Page:
        return self.visitor.page

    @property
    def path(self) -> str:
        return self.visitor.path

    @property
    def width(self) -> int:
        return PHONE_WIDTH if self.screen == "phone" else DESKTOP_WIDTH

    def sign_in(self, user: MadeUser, clock: Clock) -> Tab:
        sign_in(self.visitor, user, clock)
        self.fits()
        return self

    def goto(self, path: str, *, status: int = 200, shot: str | None = None) -> None:
        self.visitor.goto(path, status=status)
        self.fits(shot)

    def click(self, target: Locator, *, shot: str | None = None) -> None:
        """Follow a link or press a button that loads a page, then check that page."""
        self.visitor.submit(target)
        self.fits(shot)

    def refused(self, button: Locator, *, shot: str | None = None) -> None:
        """Send a form that comes back with errors: the error summary has the focus."""
        with self.visitor.navigates():
            button.click()
        self.visitor.check()
        self.fits(shot)
        expect(self.page).to_have_title(re.compile("^Error: "))
        expect(self.error_summary()).to_be_focused()
        expect(self.error_summary()).to_contain_text("There is a problem")

    def reload(self, *, status: int = 200, shot: str | None = None) -> None:
        response = self.page.reload()
        assert response is not None, self.page.url
        assert response.status == status, f"{self.page.url} answered {response.status}"
        self.visitor.check()
        self.fits(shot)

    def fits(self, shot: str | None = None) -> None:
        """Nothing sticks out sideways; a screenshot when asked for one."""
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= self.width, (
            self.page.url,
            self.page.evaluate(WIDE_ELEMENTS, self.width),
        )
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=SHOTS / f"{shot}-{self.width}.png", full_page=True)

    # --- what a user looks at -------------------------------------------------------------

    def heading(self) -> Locator:
        return self.page.locator("h1")

    def banner(self) -> Locator:
        return self.page.locator(".govuk-notification-banner")

    def error_summary(self) -> Locator:
        return self.page.locator(".govuk-error-summary")

    def emergency_banner(self) -> Locator:
        return self.page.get_by_role("region", name="Emergency access")

    def service_nav(self, name: str) -> Locator:
        """A link in the header's navigation (behind the Menu button on a phone)."""
        menu = self.page.get_by_role("button", name="Menu")
        if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
            menu.click()
        nav = self.page.get_by_role("navigation", name="Main menu")
        return nav.get_by_role("link", name=name, exact=True)

    def person_nav(self, name: str) -> Locator:
        nav = self.page.get_by_role("navigation", name="About this person")
        return nav.get_by_role("link", name=name, exact=True)

    def sees(self, text: str) -> None:
        expect(self.page.get_by_text(text)).not_to_have_count(0)

    def does_not_see(self, text: str) -> None:
        expect(self.page.get_by_text(text)).to_have_count(0)
        assert text not in self.page.content(), f"{text!r} is in the page {self.page.url}"


TabFactory = Callable[[], Tab]


@pytest.fixture
def open_tab(open_visitor: VisitorFactory, screen: str) -> TabFactory:
    """A new browser (its own cookies) at the journey's screen size."""

    def open_() -> Tab:
        return Tab(open_visitor(**SCREENS[screen]), screen)

    return open_


# --- the people -------------------------------------------------------------------------------


@dataclass
class Partnership:
    treatment: Agency
    housing: Agency
    worker: MadeUser
    housing_officer: MadeUser
    person: uuid.UUID


@pytest.fixture
def partnership(build: Builders) -> Partnership:
    """Tess (treatment) and Hal (housing) are both in Sam Rowe's professional family.

    Sam agreed long ago that housing may tell the treatment service about his housing: so Tess
    sees Calder Housing in the professional family (the fact of a housing involvement is
    housing information). Nothing of the treatment service's is shared with housing yet."""
    treatment = build.agency("Northdale Recovery", kind=AgencyKind.TREATMENT)
    housing = build.agency("Calder Housing", kind=AgencyKind.HOUSING)
    worker = build.user(Role.WORKER, agency=treatment, full_name="Tess Worker")
    officer = build.user(Role.WORKER, agency=housing, full_name="Hal Officer")
    person = build.person(worker, "Sam", "Rowe", date_of_birth=date(1988, 2, 9))
    build.involve(person, officer, by=worker)
    build.consent(person, by=officer, to=worker, categories=[Category.IDENTITY, Category.HOUSING])
    return Partnership(treatment, housing, worker, officer, person)


def _governance(build: Builders) -> MadeUser:
    office = build.agency("Northdale Council", kind=AgencyKind.OTHER)
    return build.user(Role.INFORMATION_GOVERNANCE, agency=office, full_name="Iris Governance")


def _bases_of(build: Builders, person: uuid.UUID) -> int:
    with build.database.reading() as db:
        count = db.scalar(
            select(func.count()).select_from(SharingBasis).where(SharingBasis.person_id == person)
        )
    return int(count or 0)


# --- forms ------------------------------------------------------------------------------------


def _date_group(tab: Tab, legend: str | re.Pattern[str]) -> Locator:
    return tab.page.get_by_role("group", name=legend)


def _fill_date(group: Locator, day: date) -> None:
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _date_shown(group: Locator) -> date:
    return date(
        int(group.get_by_label("Year").input_value()),
        int(group.get_by_label("Month").input_value()),
        int(group.get_by_label("Day").input_value()),
    )


def _error_on(tab: Tab, field: str, message: str) -> None:
    """The message is in the error summary, linked to the field, and shown at the field."""
    link = tab.error_summary().get_by_role("link", name=message)
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    assert re.fullmatch(rf"#{field}(-day)?", href), (message, href)
    expect(tab.page.locator(f"#{field}-error")).to_contain_text(message)
    group = tab.page.locator(".govuk-form-group--error").filter(
        has=tab.page.locator(f"#{field}-error")
    )
    expect(group).to_have_count(1)
    expect(group.locator(href)).to_have_count(1)


def _errors(tab: Tab) -> list[str]:
    return [
        text.strip()
        for text in tab.error_summary().locator(".govuk-error-summary__list a").all_inner_texts()
    ]


def _record_row(tab: Tab, table: str, link: str) -> Locator:
    """The row of a sharing table whose link is ``link`` ("Consent for Calder Housing")."""
    page = tab.page
    rows = page.get_by_role("table", name=table).get_by_role("row")
    return rows.filter(has=page.get_by_role("link", name=link, exact=True))


def _open_sharing(tab: Tab, person: uuid.UUID) -> None:
    tab.goto(f"/people/{person}")
    tab.click(tab.person_nav("Sharing and consent"))
    expect(tab.heading()).to_have_text("Sharing and consent")


def _log_contact(tab: Tab, person: uuid.UUID, note: str) -> None:
    page = tab.page
    tab.goto(f"/people/{person}")
    tab.click(page.get_by_role("link", name="Log a contact"))
    page.get_by_label("Outreach").check()
    page.get_by_label("Seen, with concerns").check()
    page.get_by_label("Note (optional)").fill(note)
    tab.click(page.get_by_role("button", name="Save contact"))
    expect(tab.banner()).to_contain_text("Contact saved for Sam Rowe")


def _outreach_contacts(tab: Tab) -> Locator:
    return tab.page.locator(".moj-timeline__title", has_text="Outreach")


# --- a. consent, then its withdrawal, as the other agency sees it ---------------------------


def test_consent_shares_the_note_and_withdrawing_it_hides_it_on_the_next_page_load(
    open_tab: TabFactory, partnership: Partnership, build: Builders, frozen_clock: Clock
) -> None:
    p = partnership
    tess = open_tab().sign_in(p.worker, frozen_clock)
    hal = open_tab().sign_in(p.housing_officer, frozen_clock)
    page = tess.page

    # Tess logs an outreach contact with a note.
    _log_contact(tess, p.person, NOTE)
    tess.sees(NOTE)

    # Calder Housing is in the family but has no consent: neither the contact nor the note.
    hal.goto(f"/people/{p.person}/timeline", shot="timeline-before-consent")
    hal.does_not_see(NOTE)
    expect(_outreach_contacts(hal)).to_have_count(0)

    # Tess records Sam's verbal consent to share with Calder Housing.
    _open_sharing(tess, p.person)
    tess.fits("sharing-list")
    expect(_record_row(tess, "Current", "Consent for Northdale Recovery")).to_contain_text(
        "Recorded by Calder Housing"
    )
    tess.click(page.get_by_role("link", name="Record consent"), shot="consent-form")
    expect(tess.heading()).to_have_text("Record consent to share")
    expect(page).to_have_title(title("Record consent to share \N{EN DASH} Rowe, Sam"))
    page.get_by_label("Share with").select_option(label="Calder Housing")
    categories = page.get_by_role("group", name="What information may be shared?")
    expect(categories.get_by_label("Identity and contact")).to_be_checked()
    categories.get_by_label("Substance use and treatment").check()
    categories.get_by_label("Case notes").check()
    page.get_by_label("What is the information shared for?").fill(
        "So housing can support the move into supported accommodation"
    )
    today = london_today()
    assert _date_shown(_date_group(tess, "Date consent was given")) == today
    page.get_by_role("group", name="How was consent given?").get_by_label("Verbally").check()
    assert _date_shown(_date_group(tess, "Review date")) == add_months(today, 12)
    tess.click(page.get_by_role("button", name="Record consent"), shot="sharing-with-consent")
    assert tess.path == f"/people/{p.person}/sharing"
    expect(tess.banner()).to_contain_text("Consent recorded")
    row = _record_row(tess, "Current", "Consent for Calder Housing")
    for text in ("Substance use and treatment", "case notes", "Northdale Recovery", "In force"):
        expect(row).to_contain_text(text, ignore_case=True)
    assert _bases_of(build, p.person) == 2

    # The professional family shows Calder Housing as covered.
    tess.click(tess.person_nav("Professional family"), shot="family-covered")
    housing = page.get_by_role("row").filter(has_text="Calder Housing")
    expect(housing.locator(".govuk-tag", has_text="Covered")).to_be_visible()

    # Hal reloads: the contact and its note are on his timeline now.
    hal.reload(shot="timeline-with-consent")
    hal.sees(NOTE)
    expect(_outreach_contacts(hal)).to_have_count(1)

    # Tess withdraws the consent. The reason is needed.
    _open_sharing(tess, p.person)
    tess.click(page.get_by_role("link", name="Consent for Calder Housing"), shot="consent-detail")
    expect(tess.heading()).to_have_text("Consent for Calder Housing")
    tess.click(page.get_by_role("link", name="Withdraw consent"), shot="withdraw")
    expect(tess.heading()).to_have_text("Withdraw consent")
    assert _date_shown(_date_group(tess, "When did Sam withdraw consent?")) == today
    tess.refused(page.get_by_role("button", name="Withdraw consent"), shot="withdraw-error")
    _error_on(tess, "reason", "Enter why consent was withdrawn")
    assert _errors(tess) == ["Enter why consent was withdrawn"]
    expect(tess.banner()).to_have_count(0)

    # Nothing was withdrawn by the refused form: Hal still sees the note.
    hal.reload()
    hal.sees(NOTE)

    page.get_by_label("Why was consent withdrawn?").fill("Sam asked for housing not to be told")
    tess.click(page.get_by_role("button", name="Withdraw consent"), shot="sharing-withdrawn")
    expect(tess.banner()).to_contain_text("Consent withdrawn")
    expect(
        _record_row(tess, "Withdrawn, ended or replaced", "Consent for Calder Housing")
    ).to_contain_text("Withdrawn")

    # Hal's very next page load no longer shows the note, nor the contact.
    hal.reload(shot="timeline-after-withdrawal")
    hal.does_not_see(NOTE)
    expect(_outreach_contacts(hal)).to_have_count(0)

    # And the professional family says so.
    tess.click(tess.person_nav("Professional family"), shot="family-withdrawn")
    housing = page.get_by_role("row").filter(has_text="Calder Housing")
    expect(housing.locator(".govuk-tag", has_text="Withdrawn")).to_be_visible()


# --- b. the consent form refuses bad input ----------------------------------------------------


def test_the_consent_form_puts_each_error_on_its_field_and_saves_nothing(
    open_tab: TabFactory, partnership: Partnership, build: Builders, frozen_clock: Clock
) -> None:
    p = partnership
    tess = open_tab().sign_in(p.worker, frozen_clock)
    page = tess.page
    before = _bases_of(build, p.person)
    tess.goto(f"/people/{p.person}/sharing/consent/new")
    button = page.get_by_role("button", name="Record consent")
    categories = page.get_by_role("group", name="What information may be shared?")

    # Nothing chosen: no agency, no information (the one ticked box unticked), no method.
    categories.get_by_label("Identity and contact").uncheck()
    tess.refused(button, shot="consent-form-errors")
    _error_on(tess, "share_with", "Select the agency, or the kind of agency, to share with")
    _error_on(tess, "categories", "Select at least one kind of information")
    _error_on(tess, "method", "Select how consent was given")

    # What was typed is kept; the purpose is needed.
    page.get_by_label("Share with").select_option(label="Calder Housing")
    categories.get_by_label("Case notes").check()
    page.get_by_role("group", name="How was consent given?").get_by_label("Verbally").check()
    tess.refused(button)
    _error_on(tess, "purpose", "Enter the purpose")
    assert _errors(tess) == ["Enter the purpose"]
    expect(page.get_by_label("Share with")).to_have_value(re.compile("^agency:"))
    expect(categories.get_by_label("Case notes")).to_be_checked()

    # A review date in the past.
    page.get_by_label("What is the information shared for?").fill("To plan his move")
    _fill_date(_date_group(tess, "Review date"), london_today() - timedelta(days=1))
    tess.refused(button, shot="consent-form-review-date-error")
    _error_on(tess, "review_on", "The review date must be today or in the future")
    assert _errors(tess) == ["The review date must be today or in the future"]

    # Written consent needs the signed form's reference.
    _fill_date(_date_group(tess, "Review date"), add_months(london_today(), 6))
    page.get_by_role("group", name="How was consent given?").get_by_label(
        "In writing (a signed form)"
    ).check()
    tess.refused(button)
    _error_on(tess, "form_reference", "Enter the reference of the signed form")
    assert _errors(tess) == ["Enter the reference of the signed form"]

    # Nothing was saved by any of them.
    assert _bases_of(build, p.person) == before
    tess.click(page.get_by_role("link", name="Cancel"))
    expect(_record_row(tess, "Current", "Consent for Calder Housing")).to_have_count(0)


# --- c. another lawful basis, rejected by information governance ---------------------------


def test_a_safeguarding_basis_shares_at_once_until_information_governance_rejects_it(
    open_tab: TabFactory, partnership: Partnership, build: Builders, frozen_clock: Clock
) -> None:
    p = partnership
    build.contact(p.person, p.worker, note=NOTE)
    iris = _governance(build)
    tess = open_tab().sign_in(p.worker, frozen_clock)
    hal = open_tab().sign_in(p.housing_officer, frozen_clock)
    page = tess.page
    hal.goto(f"/people/{p.person}/timeline")
    hal.does_not_see(NOTE)

    # Tess records a safeguarding basis for Calder Housing; 31 days is too long.
    _open_sharing(tess, p.person)
    tess.click(page.get_by_role("link", name="Record another lawful basis"), shot="basis-form")
    expect(tess.heading()).to_have_text("Record another lawful basis")
    page.get_by_role("group", name="Which lawful basis?").get_by_label("Safeguarding").check()
    page.get_by_label("Share with").select_option(label="Calder Housing")
    categories = page.get_by_role("group", name="What information may be shared?")
    categories.get_by_label("Substance use and treatment").check()
    categories.get_by_label("Case notes").check()
    page.get_by_label("Why is sharing without consent necessary?").fill(
        "Sam is being exploited at his flat and housing must act this week"
    )
    today = london_today()
    ends = _date_group(tess, "End date")
    assert _date_shown(ends) == today + timedelta(days=30)
    _fill_date(ends, today + timedelta(days=31))
    tess.refused(
        page.get_by_role("button", name="Record the lawful basis"), shot="basis-form-error"
    )
    message = "The end date must be within 30 days: record a new basis if it is still needed then"
    _error_on(tess, "ends_on", message)
    assert _errors(tess) == [message]
    assert _bases_of(build, p.person) == 1
    _fill_date(ends, today + timedelta(days=14))
    tess.click(page.get_by_role("button", name="Record the lawful basis"))
    expect(tess.banner()).to_contain_text("Lawful basis recorded")
    row = _record_row(tess, "Current", "Safeguarding for Calder Housing")
    expect(row).to_contain_text("In force")
    tess.click(
        page.get_by_role("link", name="Safeguarding for Calder Housing"), shot="basis-detail"
    )
    expect(tess.heading()).to_have_text("Safeguarding basis for Calder Housing")
    expect(page.get_by_role("definition").filter(has_text="Waiting for review")).to_have_count(1)

    # In force from when it was recorded: Hal sees the note at once.
    hal.reload()
    hal.sees(NOTE)

    # Iris (information governance) finds it waiting for review, and rejects it.
    ig = open_tab().sign_in(iris, frozen_clock)
    assert ig.path == "/home/information-governance"
    ig.fits("ig-home")
    ig.click(ig.page.get_by_role("link", name="1 lawful basis waiting for review"))
    expect(ig.heading()).to_have_text("Review queue")
    ig.fits("review-queue-basis")
    queued = ig.page.get_by_role("table", name=re.compile("Lawful bases waiting")).get_by_role(
        "row"
    )
    queued = queued.filter(has_text="Safeguarding")
    expect(queued).to_contain_text("Calder Housing")
    expect(queued).to_contain_text("Tess Worker, Northdale Recovery")
    ig.click(queued.get_by_role("link"), shot="review-basis")
    expect(ig.page.get_by_text("Sam is being exploited at his flat")).to_be_visible()
    decision = ig.page.get_by_role("group", name="Is sharing without consent justified here?")
    decision.get_by_label("Reject: stop the sharing now").check()
    save = ig.page.get_by_role("button", name="Save the review")
    ig.refused(save, shot="review-basis-error")
    _error_on(ig, "note", "Enter the reason for rejecting it")
    ig.page.get_by_label("Notes for the worker who recorded it").fill(
        "Housing can act on what Sam has consented to share"
    )
    ig.click(save)
    expect(ig.banner()).to_contain_text("Review saved")
    expect(ig.page.get_by_text("Nothing to review.").first).to_be_visible()

    # Calder Housing stops seeing it at once.
    hal.reload()
    hal.does_not_see(NOTE)

    # Tess sees the rejection and why.
    _open_sharing(tess, p.person)
    past = _record_row(tess, "Withdrawn, ended or replaced", "Safeguarding for Calder Housing")
    expect(past).to_contain_text("Rejected by information governance")
    tess.click(page.get_by_role("link", name="Safeguarding for Calder Housing"))
    tess.sees("Housing can act on what Sam has consented to share")
    tess.fits("basis-detail-rejected")


# --- d. emergency access ---------------------------------------------------------------------


def test_emergency_access_opens_the_record_for_four_hours_and_is_reviewed(
    open_tab: TabFactory, partnership: Partnership, build: Builders, frozen_clock: Clock
) -> None:
    p = partnership
    build.contact(p.person, p.worker, note=NOTE)
    outreach = build.agency("Northdale Street Outreach", kind=AgencyKind.VOLUNTARY)
    olly = build.user(Role.WORKER, agency=outreach, full_name="Olly Outreach")
    iris = _governance(build)
    tab = open_tab().sign_in(olly, frozen_clock)
    page = tab.page

    # Olly's agency has no involvement: Sam's record answers 404, as a missing one would.
    tab.goto(f"/people/{p.person}", status=404)
    tab.does_not_see("Sam")

    # A search by name and date of birth reveals only that Sam is known: name and birth date.
    tab.click(tab.service_nav("Find a person"))
    page.get_by_label("Name").fill("Sam Rowe")
    _fill_date(_date_group(tab, "Date of birth"), date(1988, 2, 9))
    tab.click(page.get_by_role("button", name="Search"), shot="search-reveal")
    expect(page.get_by_role("heading", name="Known to other agencies")).to_be_visible()
    revealed = page.get_by_role("table", name=re.compile("known to other agencies"))
    expect(revealed.get_by_role("row")).to_have_count(2)  # the header and Sam
    cells = revealed.get_by_role("row").nth(1).get_by_role("cell")
    texts = [text.strip() for text in cells.all_inner_texts()]
    assert texts[:2] == ["Rowe, Sam", "9 Feb 1988"], texts
    assert len(texts) == 3, texts
    assert texts[2].startswith("Open in an emergency"), texts
    for hidden in (NOTE, "Northdale Recovery", "Calder Housing", "Tess Worker", "Face to face"):
        tab.does_not_see(hidden)

    # Olly opens the record in an emergency: the kind of emergency and what is happening.
    tab.click(
        page.get_by_role(
            "link", name=re.compile(r"^Open in an emergency\W+the record of Rowe, Sam$")
        )
    )
    expect(tab.heading()).to_have_text("Open this record in an emergency")
    tab.fits("emergency")
    expect(page.locator(".govuk-caption-l")).to_have_text(re.compile("Sam.*9 February 1988"))
    tab.does_not_see(NOTE)
    button = page.get_by_role("button", name="Open the record in an emergency")
    tab.refused(button, shot="emergency-error")
    _error_on(tab, "reason", "Select the kind of emergency")
    page.get_by_role("group", name="What kind of emergency is it?").get_by_label(
        "Someone's life may be at risk"
    ).check()
    tab.refused(button)
    _error_on(tab, "detail", "Enter what the emergency is")
    page.get_by_label("What is happening, and why do you need the record now?").fill(
        "Found unconscious at the bus station; the ambulance crew ask what he takes"
    )
    tab.click(button, shot="person-in-emergency")
    assert tab.path == f"/people/{p.person}"
    expect(tab.emergency_banner()).to_contain_text("You are using emergency access")
    expect(page.locator(".app-emergency-notice")).to_contain_text("through emergency access")

    # Olly reads the record; the orange banner is on every page, the warning on Sam's pages.
    tab.click(tab.person_nav("Timeline"), shot="timeline-in-emergency")
    tab.sees(NOTE)
    expect(page.locator(".app-emergency-notice")).to_be_visible()
    tab.click(tab.service_nav("Home"))
    expect(tab.emergency_banner()).to_be_visible()
    tab.click(tab.emergency_banner().get_by_role("link"), shot="my-emergencies")
    expect(tab.heading()).to_have_text("Your emergency access")
    expect(page.get_by_role("link", name="Sam Rowe")).to_have_attribute(
        "href", re.compile(f"/people/{p.person}$")
    )

    # Still open just before the four hours are up (the session kept alive by using it)...
    tab.goto(f"/people/{p.person}/timeline")
    for _ in range(9):
        frozen_clock.advance(minutes=25)  # 3 hours 45 minutes in all
        tab.reload()
    tab.sees(NOTE)
    expect(tab.emergency_banner()).to_be_visible()
    # ... and gone on the first request after: the record answers 404, as a missing one.
    frozen_clock.advance(minutes=25)
    tab.reload(status=404)
    tab.does_not_see(NOTE)
    expect(tab.emergency_banner()).to_have_count(0)
    tab.goto(f"/people/{p.person}", status=404)

    # Information governance sees the emergency access in the review queue...
    ig = open_tab().sign_in(iris, frozen_clock)
    ig.click(ig.page.get_by_role("link", name="1 emergency access waiting for review"))
    queued = ig.page.get_by_role("table", name=re.compile("Emergency access waiting"))
    row = queued.get_by_role("row").filter(has_text="Olly Outreach")
    expect(row).to_contain_text("Northdale Street Outreach")
    expect(row).to_contain_text("Someone's life may be at risk")
    ig.fits("review-queue-emergency")
    ig.click(row.get_by_role("link"), shot="review-emergency")
    ig.sees("Found unconscious at the bus station")

    # ... and in "who has seen this record" for Sam, with the emergency tag.
    ig.click(ig.service_nav("Find records"), shot="ig-find-person")
    ig.page.get_by_label("Name").fill("Sam Rowe")
    ig.click(ig.page.get_by_role("button", name="Search"), shot="ig-find-person-results")
    ig.click(ig.page.get_by_role("link", name=re.compile("Sam")), shot="ig-person")
    ig.click(ig.page.get_by_role("link", name="Who has seen this record"), shot="ig-access-log")
    log = ig.page.get_by_role("table", name=re.compile("Who has seen this record"))
    olly_rows = log.get_by_role("row").filter(has_text="Olly Outreach")
    emergency_rows = olly_rows.filter(
        has=ig.page.locator(".govuk-tag", has_text="Emergency access")
    )
    expect(emergency_rows.first).to_be_visible()
    assert emergency_rows.count() >= 10, emergency_rows.count()  # every page Olly opened
    revealed_rows = olly_rows.filter(has_text="Name and date of birth only")
    expect(revealed_rows.first).to_be_visible()


# --- e. the keyboard alone ---------------------------------------------------------------------


def _tab_to(page: Page, element_id: str, *, most: int) -> list[dict[str, Any]]:
    """Press Tab until the element with this id has the focus (at most ``most`` times)."""
    stops: list[dict[str, Any]] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["id"] == element_id:
            return stops
    raise AssertionError(f"Tab did not reach #{element_id}: {stops}")


@pytest.mark.parametrize("screen", ["desktop"], indirect=True)
def test_consent_can_be_recorded_with_the_keyboard_alone(
    open_tab: TabFactory, partnership: Partnership, frozen_clock: Clock
) -> None:
    p = partnership
    tess = open_tab().sign_in(p.worker, frozen_clock)
    page = tess.page
    tess.goto(f"/people/{p.person}/sharing/consent/new")

    # The skip link, then straight into the page: the person's sub-navigation, then the form.
    page.keyboard.press("Tab")
    expect(page.locator(".govuk-skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    stops = _tab_to(page, "share_with", most=7)
    assert [stop["text"] for stop in stops[:-1]] == [
        "Overview",
        "Timeline",
        "Professional family",
        "Sharing and consent",
        "Referrals",
    ], stops

    # Type-ahead picks the agency in the select.
    page.keyboard.type("Calder")
    expect(page.get_by_label("Share with")).to_have_value(re.compile("^agency:"))
    expect(page.get_by_label("Share with").locator("option:checked")).to_have_text("Calder Housing")

    # The boxes, one Tab each: Space ticks.
    assert _tab_to(page, "categories", most=1)[-1]["checked"]  # identity, ticked already
    _tab_to(page, "categories-2", most=1)
    page.keyboard.press("Space")
    _tab_to(page, "categories-7", most=5)
    page.keyboard.press("Space")
    _tab_to(page, "purpose", most=1)
    page.keyboard.type("So housing can help with his tenancy")
    # The date consent was given is today already: Tab past its three boxes.
    _tab_to(page, "given_on-year", most=3)
    # The radios are one stop: Space chooses the first ("Verbally").
    stop = _tab_to(page, "method", most=1)[-1]
    assert stop["type"] == "radio", stop
    page.keyboard.press("Space")
    _tab_to(page, "form_reference", most=1)
    _tab_to(page, "review_on-year", most=3)
    stop = _tab_to(page, "submit", most=1)[-1]
    assert stop["text"] == "Record consent", stop

    with tess.visitor.navigates():
        page.keyboard.press("Enter")
    tess.visitor.check()
    expect(tess.banner()).to_contain_text("Consent recorded")
    row = _record_row(tess, "Current", "Consent for Calder Housing")
    for text in ("Identity and contact", "substance use and treatment", "case notes", "In force"):
        expect(row).to_contain_text(text, ignore_case=True)
    expect(page.get_by_role("group", name="How was consent given?")).to_have_count(0)


# --- every other sharing page, at both sizes --------------------------------------------------


def test_renewing_reviewing_and_ending_pages(
    open_tab: TabFactory, partnership: Partnership, build: Builders, frozen_clock: Clock
) -> None:
    """The rest of the sharing pages, each checked by axe and photographed: consents due for
    review on the worker's home page (one expired, one ending soon), the professional family,
    renewing a consent (and its history), correcting one, information governance approving a
    basis and reviewing an emergency access, the audit log, and a worker ending their own
    emergency access."""
    p = partnership
    today = london_today()
    # A consent recorded 13 months ago by Tess for Calder Housing: expired, never renewed.
    frozen_clock.advance(days=-396)
    build.consent(p.person, by=p.worker, to=p.housing_officer, categories=[Category.CASE_NOTES])
    frozen_clock.advance(days=396)
    # A consent from the treatment service to every housing agency, ending in ten days.
    expiring = build.consent(
        p.person,
        by=p.worker,
        kind=AgencyKind.HOUSING,
        categories=[Category.IDENTITY, Category.SUBSTANCE_USE],
        review_on=today + timedelta(days=10),
    )
    # Hal opens Sam's record in an emergency (before the basis below shares everything).
    build.emergency(p.person, p.housing_officer)
    basis = build.basis(
        p.person, by=p.worker, to=p.housing_officer, ends_on=today + timedelta(days=20)
    )

    tess = open_tab().sign_in(p.worker, frozen_clock)
    page = tess.page
    assert tess.path == "/home/worker"
    tess.fits("worker-home-due")
    expect(
        page.get_by_role("heading", name="Consent and lawful bases due for review")
    ).to_be_visible()
    rows = page.get_by_role("row")
    expired = rows.filter(
        has=page.get_by_role("link", name=re.compile("^Consent for Calder Housing"))
    )
    expect(expired).to_contain_text("Expired")
    ending = rows.filter(
        has=page.get_by_role("link", name=re.compile("^Consent for every housing agency"))
    )
    expect(ending).to_contain_text("Expiring soon")
    expect(ending).to_contain_text((today + timedelta(days=10)).strftime("%-d %b %Y"))

    # The professional family shows the expiring consent (Calder Housing is a housing agency).
    tess.goto(f"/people/{p.person}/family", shot="family-expiring")
    expect(page.get_by_role("row").filter(has_text="Calder Housing")).to_contain_text("Covered")

    # Renew the consent that ends soon: the form starts from today and a year ahead.
    tess.goto(f"/people/{p.person}/sharing/{expiring}", shot="consent-detail-expiring")
    expect(page.get_by_role("definition").filter(has_text="Expiring soon")).to_have_count(1)
    tess.click(page.get_by_role("link", name="Renew consent"), shot="consent-renew")
    expect(tess.heading()).to_have_text("Renew consent")
    assert _date_shown(_date_group(tess, "Date consent was given")) == today
    assert _date_shown(_date_group(tess, "Review date")) == add_months(today, 12)
    page.get_by_role("group", name="How was consent given?").get_by_label("Electronically").check()
    tess.click(page.get_by_role("button", name="Save as a new record"))
    expect(tess.banner()).to_contain_text("Saved as a new record")
    replaced = _record_row(tess, "Withdrawn, ended or replaced", "Consent for every housing agency")
    expect(replaced).to_contain_text("Replaced by a newer record")
    tess.click(
        _record_row(tess, "Current", "Consent for every housing agency").get_by_role("link"),
        shot="consent-history",
    )
    expect(page.get_by_role("heading", name="History of this record")).to_be_visible()
    tess.click(page.get_by_role("link", name="Correct this record"), shot="consent-correct")
    expect(tess.heading()).to_have_text("Correct a consent record")

    # Information governance approves the basis, and finds the emergency access appropriate.
    ig = open_tab().sign_in(_governance(build), frozen_clock)
    ig.fits("ig-home-both")
    ig.goto(f"/governance/reviews/bases/{basis}")
    ig.page.get_by_role("group", name="Is sharing without consent justified here?").get_by_label(
        "Approve: the basis is justified"
    ).check()
    ig.click(ig.page.get_by_role("button", name="Save the review"))
    expect(ig.banner()).to_contain_text("Review saved")
    ig.goto(f"/governance/reviews/bases/{basis}", shot="review-basis-approved")
    expect(ig.page.get_by_role("button", name="Save the review")).to_have_count(0)
    ig.click(ig.page.get_by_role("link", name="Back to the review queue"))
    ig.click(ig.page.get_by_role("table", name=re.compile("Emergency access")).get_by_role("link"))
    ig.page.get_by_role("group", name="Was the emergency access appropriate?").get_by_label(
        "Yes, it was appropriate"
    ).check()
    ig.click(ig.page.get_by_role("button", name="Save the review"))
    expect(ig.banner()).to_contain_text("Review saved")
    ig.goto(f"/governance/people/{p.person}", shot="ig-person-records")
    expect(ig.page.get_by_role("table", name="Consent and lawful bases")).to_contain_text(
        "Safeguarding"
    )
    expect(ig.page.get_by_role("table", name="Emergency access")).to_contain_text("Appropriate")
    ig.click(ig.page.get_by_role("link", name="Who has seen this record"))
    ig.click(ig.service_nav("Audit log"), shot="audit-search")
    ig.page.get_by_label("Their agency").select_option(label="Northdale Recovery")
    ig.click(ig.page.get_by_role("button", name="Search the audit log"), shot="audit-results")
    expect(ig.page.get_by_role("table")).to_contain_text("Tess Worker")

    # Hal ends his own emergency access early.
    hal = open_tab().sign_in(p.housing_officer, frozen_clock)
    expect(hal.emergency_banner()).to_be_visible()
    hal.click(hal.emergency_banner().get_by_role("link"), shot="my-emergencies-open")
    hal.click(hal.page.get_by_role("button", name=re.compile("^End emergency access")))
    expect(hal.banner()).to_contain_text("Emergency access ended")
    expect(hal.emergency_banner()).to_have_count(0)
    hal.goto("/emergency-access", shot="my-emergencies-none")
    hal.sees("You have no emergency access open.")
