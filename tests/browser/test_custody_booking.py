"""Issue 5's end-to-end journey: a custody officer books a required assessment for a person
nobody knows yet, one question per page, checks the answers, sees the reference and opens the
RA1 notice; then, on the day, the treatment provider's assessor finds the booking on their day's
list and records attended → follow-up not required (RA5) → appropriate for Fine Lines → group
session attended → service taken up → 12-week programme completed. Every page is checked by
axe (``visitor.submit``/``goto`` run the checks); one page also at 390 px."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from playwright.sync_api import expect

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import LONDON
from casework.workdays import working_days
from tests.browser.helpers import Visitor, VisitorFactory, sign_in, title
from tests.conftest import Builders, Clock

PAGE_WIDTH = "document.documentElement.scrollWidth"


def _date(visitor: Visitor, legend: str, day: date) -> None:
    group = visitor.page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _continue(visitor: Visitor, shot: str) -> None:
    visitor.screenshot(shot)
    visitor.submit(visitor.page.get_by_role("button", name="Continue"))


def test_custody_books_and_the_assessor_records_fine_lines_to_completion(
    visitor: Visitor,
    phone: Visitor,
    open_visitor: VisitorFactory,
    build: Builders,
    frozen_clock: Clock,
) -> None:
    police = build.agency("Northdale Police Test", kind=AgencyKind.POLICE)
    treatment = build.agency("Harbour Recovery Test", kind=AgencyKind.TREATMENT)
    officer = build.user(Role.CUSTODY_OFFICER, agency=police, full_name="Casey Custody")
    page = visitor.page
    sign_in(visitor, officer, frozen_clock)
    assert visitor.path == "/home/custody"
    visitor.screenshot("booking-00-home")
    visitor.submit(page.get_by_role("button", name="Book a required assessment"))

    # Who: an empty answer first, to see the error summary take the focus.
    assert visitor.path == "/bookings/new/person"
    expect(visitor.heading()).to_have_text("Who has been arrested?")
    visitor.submit(page.get_by_role("button", name="Continue"))
    expect(page).to_have_title(title("Who has been arrested?", error=True))
    expect(visitor.error_summary()).to_be_focused()
    visitor.screenshot("booking-01-person-errors")
    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Family name").fill("Quillfeather")
    _date(visitor, "Date of birth", date(1990, 4, 2))
    _continue(visitor, "booking-02-person")

    assert visitor.path == "/bookings/new/match"
    expect(visitor.heading()).to_have_text("Nobody has a record for this person yet")
    _continue(visitor, "booking-03-match")

    page.get_by_label("Cocaine", exact=True).check()
    _continue(visitor, "booking-04-test-result")
    today = frozen_clock.now.date()
    _date(visitor, "When was the test taken?", today)
    _continue(visitor, "booking-05-test-date")
    page.get_by_label("Theft").check()
    _continue(visitor, "booking-06-offence")
    page.get_by_label("Which custody suite is the person in?").fill("Northgate custody suite")
    _continue(visitor, "booking-07-custody-suite")
    page.get_by_label("Yes").check()
    _continue(visitor, "booking-08-disputed")
    _date(visitor, "When was the sample sent for confirmation?", today)
    _continue(visitor, "booking-09-sample-sent")
    page.get_by_label("Harbour Recovery Test").check()
    _continue(visitor, "booking-10-provider")

    # Too soon for a disputed test: the engine's rule, on the date.
    _date(visitor, "Date", working_days().add(today, 2))
    page.get_by_label("Time").fill("10:30")
    visitor.submit(page.get_by_role("button", name="Continue"))
    expect(visitor.error_summary()).to_contain_text("at least 5 working days")
    visitor.screenshot("booking-11-appointment-error")
    appointment_day = working_days().add(today, 6)
    _date(visitor, "Date", appointment_day)
    _continue(visitor, "booking-12-appointment")
    page.get_by_label("Where will the assessment be held?").fill(
        "Harbour Recovery Test, 4 Mill Lane, Northdale"
    )
    _continue(visitor, "booking-13-place")

    assert visitor.path == "/bookings/new/check"
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("Robin Quillfeather (new record)")
    expect(summary).to_contain_text("2 April 1990")
    visitor.screenshot("booking-14-check")

    # The first question on a phone, for a colleague in the same custody suite.
    colleague = build.user(Role.CUSTODY_OFFICER, agency=police, full_name="Cary Custody")
    sign_in(phone, colleague, frozen_clock)
    phone.goto("/bookings/new")
    assert phone.path == "/bookings/new/person"
    assert phone.page.evaluate(PAGE_WIDTH) <= 390
    phone.screenshot("booking-person-390")

    visitor.submit(page.get_by_role("button", name="Book the assessment"))
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Required assessment booked")
    reference = panel.locator(".app-reference").inner_text()
    assert reference.startswith("RA-")
    visitor.screenshot("booking-15-confirmation")

    visitor.submit(page.get_by_role("link", name="Print the notice (RA1)"))
    expect(visitor.heading()).to_have_text("You must attend an initial assessment")
    notice = page.locator(".app-notice")
    expect(notice).to_contain_text(reference)
    expect(notice).to_contain_text("Quillfeather, Robin")
    expect(notice).to_contain_text("2 April 1990")
    expect(notice).to_contain_text("Harbour Recovery Test, 4 Mill Lane")
    expect(page.get_by_role("button", name="Print this notice")).to_be_visible()
    visitor.screenshot("booking-16-notice")
    page.emulate_media(media="print")
    expect(page.locator(".app-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this notice")).to_be_hidden()
    visitor.screenshot("booking-17-notice-print")
    page.emulate_media(media="screen")

    # On the day: the assessor finds the booking on their list and records the programme.
    frozen_clock.now = datetime.combine(appointment_day, time(10, 45), tzinfo=LONDON)
    assessor = build.user(Role.ASSESSOR, agency=treatment, full_name="Ash Assessor")
    desk = open_visitor()
    sign_in(desk, assessor, frozen_clock)
    desk.goto("/referrals/today")
    card = desk.page.locator(".govuk-summary-card", has_text="Quillfeather, Robin")
    expect(card).to_contain_text("10:30am")
    expect(card).to_contain_text(reference)
    desk.submit(card.get_by_role("button", name=re.compile("^Attended")))
    expect(desk.banner()).to_contain_text("now at “Attended the initial assessment”")
    desk.submit(card.get_by_role("link", name=re.compile(reference)))
    expect(desk.heading()).to_contain_text(reference)
    for button in (
        "Follow-up assessment not required",
        "Appropriate for Fine Lines",
        "Attended the group session",
        "Took up service",
        "Completed the 12-week programme",
    ):
        frozen_clock.advance(minutes=5)
        desk.submit(desk.page.get_by_role("button", name=re.compile("^" + re.escape(button))))
        expect(desk.banner().first).to_contain_text(f"now at “{button}”")
    desk.screenshot("booking-18-fine-lines-completed")
    # Taking up service made the treatment provider part of the professional family: the
    # completed referral stays in view, with its whole history.
    desk.submit(desk.page.get_by_role("link", name=re.compile("All referrals for")))
    expect(desk.page.locator("table")).to_contain_text("Completed the 12-week programme")
