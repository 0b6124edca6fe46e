"""An assessor's day in the browser (issue 5): a required assessment booked by custody (through
the builders), found on today's bookings by the date navigation, then attended → appropriate
for Fine Lines → group session attended → service taken up → 12 weeks completed, each in a
click or two. Every page is checked by axe, on a 1280 px desktop and a 390 px phone (where no
page may scroll sideways). Screenshots go to screenshots/ (gitignored)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import LONDON
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import Visitor, VisitorFactory, sign_in
from tests.conftest import Builders, Clock, booking_values

SCREENS: dict[str, dict[str, Any]] = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fits(visitor: Visitor, screen: str) -> None:
    width = SCREENS[screen]["viewport"]["width"]
    scroll = visitor.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (visitor.page.url, scroll)


def test_an_assessor_records_a_fine_lines_journey(
    open_visitor: VisitorFactory, build: Builders, frozen_clock: Clock, screen: str
) -> None:
    custody = build.user(
        Role.CUSTODY_OFFICER, agency=build.agency("Northgate Police", kind=AgencyKind.POLICE)
    )
    assessor = build.user(
        Role.ASSESSOR, agency=build.agency("Harbour Recovery"), full_name="Ash Assessor"
    )
    person = build.person(custody, "Robin", "Fairweather")
    values: dict[str, Any] = booking_values(clock.utcnow(), days_ahead=1)
    outcome = build.referral(person, by=custody, to=assessor, **values)
    # The assessor's day is the appointment's day, just after it (attendance is recorded from
    # the appointment's time, never before).
    appointment = datetime.fromisoformat(str(values["appointment_at"])).replace(tzinfo=LONDON)
    frozen_clock.now = appointment.astimezone(UTC) + timedelta(minutes=10)

    visitor = open_visitor(**SCREENS[screen])
    page = visitor.page
    sign_in(visitor, assessor, frozen_clock)

    def shot(name: str) -> None:
        _fits(visitor, screen)
        visitor.screenshot(f"assessor-day-{screen}-{name}")

    day_before = (appointment.date() - timedelta(days=1)).isoformat()
    visitor.goto(f"/referrals/today?day={day_before}")
    expect(page.get_by_text("No bookings with your agency on this day.")).to_be_visible()
    shot("1-today-empty")
    visitor.submit(page.get_by_role("link", name=re.compile("Next day")))
    card = page.locator(".govuk-summary-card", has_text="Fairweather, Robin")
    expect(card).to_contain_text("10:30am")
    expect(card).to_contain_text(outcome.reference)
    expect(card.get_by_role("link", name=re.compile("Failed to attend"))).to_be_visible()
    shot("2-tomorrow")

    # One click: attended, and back on the same day's list.
    visitor.submit(card.get_by_role("button", name=re.compile("^Attended")))
    expect(visitor.banner()).to_contain_text(
        "The referral is now at “Attended the initial assessment”"
    )
    shot("3-attended")

    # The referral: the rest of the programme, one button each.
    visitor.submit(card.get_by_role("link", name=re.compile(outcome.reference)))
    expect(visitor.heading()).to_contain_text(outcome.reference)
    shot("4-referral")
    for button, stage in (
        ("Follow-up assessment not required", "Follow-up assessment not required"),
        ("Appropriate for Fine Lines", "Appropriate for Fine Lines"),
        ("Attended the group session", "Attended the group session"),
        ("Took up service", "Took up service"),
    ):
        frozen_clock.advance(minutes=2)  # the history in a real order
        visitor.submit(page.get_by_role("button", name=re.compile("^" + re.escape(button))))
        expect(visitor.banner()).to_contain_text(f"now at “{stage}”")
    expect(page.locator(".moj-timeline__item")).to_have_count(6)
    expect(page.get_by_role("link", name=re.compile("Print notice RA3"))).to_be_visible()
    shot("5-service-taken-up")

    # The person's referrals and the timeline say the same.
    visitor.goto(f"/people/{person}/referrals")
    expect(page.locator("table")).to_contain_text("Took up service")
    shot("6-person-referrals")
    visitor.goto(f"/people/{person}/timeline")
    expect(
        page.get_by_role("link", name="Required assessment and Fine Lines: Took up service")
    ).to_be_visible()

    # The end of the programme ends the referral.
    visitor.goto(f"/referrals/{outcome.referral_id}")
    visitor.submit(page.get_by_role("button", name=re.compile("^Completed the 12-week")))
    expect(visitor.banner().first).to_contain_text("now at “Completed the 12-week programme”")
    shot("7-completed")
    visitor.goto("/referrals")
    shot("8-waiting")
    visitor.goto("/notifications")
    shot("9-notifications")


def test_failed_to_attend_is_a_short_form(
    open_visitor: VisitorFactory, build: Builders, frozen_clock: Clock, screen: str
) -> None:
    custody = build.user(
        Role.CUSTODY_OFFICER, agency=build.agency("Northgate Police", kind=AgencyKind.POLICE)
    )
    assessor = build.user(Role.ASSESSOR, agency=build.agency("Harbour Recovery"))
    person = build.person(custody, "Jo", "Marsh")
    values: dict[str, Any] = booking_values(clock.utcnow(), days_ahead=1)
    build.referral(person, by=custody, to=assessor, **values)
    appointment = datetime.fromisoformat(str(values["appointment_at"])).replace(tzinfo=LONDON)
    frozen_clock.now = appointment.astimezone(UTC) + timedelta(minutes=45)
    visitor = open_visitor(**SCREENS[screen])
    page = visitor.page
    sign_in(visitor, assessor, frozen_clock)
    visitor.goto(f"/referrals/today?day={str(values['appointment_at'])[:10]}")
    visitor.submit(page.get_by_role("link", name=re.compile("Failed to attend")))
    with visitor.navigates():
        page.get_by_role("button", name="Failed to attend or to remain").click()
    visitor.check()
    expect(visitor.error_summary()).to_be_focused()
    _fits(visitor, screen)
    visitor.screenshot(f"assessor-day-{screen}-fta-errors")
    page.get_by_label("Did not attend", exact=True).check()
    page.get_by_label("What was done to reach the person").fill("Called at 10:45 and 11:05")
    visitor.submit(page.get_by_role("button", name="Failed to attend or to remain"))
    expect(visitor.banner()).to_contain_text("Failed to attend or to remain")
    assert "/referrals/today" in page.url
    _fits(visitor, screen)
