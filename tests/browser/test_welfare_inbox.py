"""Welfare checks in the browser: a worker on a 390 px phone opens "My work", records a due
check in a couple of taps and the item leaves the inbox; a manager sees an escalated (red)
check in the team view. Every page is checked by axe; screenshots go to screenshots/."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

from playwright.sync_api import expect
from sqlalchemy import select, update

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM
from casework.clock import london_today
from casework.tasks.models import Task, TaskSource, TaskState
from casework.welfare import services
from casework.welfare.models import Pattern
from casework.welfare.services import ScheduleInput
from tests.browser.helpers import Visitor, sign_in
from tests.conftest import Builders, Clock, MadeUser

PAGE_WIDTH = "document.documentElement.scrollWidth"
WIDE_ELEMENTS = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391).slice(0, 5)
  .map(e => e.tagName + '.' + e.className)"""


def _fits(phone: Visitor) -> None:
    assert phone.page.evaluate(PAGE_WIDTH) <= 390, (
        phone.page.url,
        phone.page.evaluate(WIDE_ELEMENTS),
    )


def _schedule(
    build: Builders,
    person_id: uuid.UUID,
    by: MadeUser,
    *,
    kind: str = "welfare_standard",
    team_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A daily check at 23:59 from today (so the first is due today), made by the service."""
    viewer = build.viewer(by)
    with build.database.transaction() as db:
        access = Builders._access_of(db, viewer, person_id)
        return services.create_schedule(
            db,
            SYSTEM,
            viewer,
            access,
            ScheduleInput(
                kind=kind,
                reason="recent_release",
                pattern=Pattern.EVERY_N_DAYS,
                at=time(23, 59),
                start=london_today(),
                interval_days=1,
                user_id=None if team_id else by.id,
                team_id=team_id,
            ),
        )


def _task_of(build: Builders, schedule_id: uuid.UUID) -> uuid.UUID:
    with build.database.reading() as db:
        found = db.scalar(
            select(Task.id).where(
                Task.source == TaskSource.WELFARE_CHECK,
                Task.source_id == schedule_id,
                Task.state == TaskState.OPEN,
            )
        )
        assert found is not None
        return found


def _make_red(build: Builders, task_id: uuid.UUID, clock: Clock) -> None:
    """What the job runner's "red" step does (the runner is not part of this test)."""
    with build.database.transaction() as db:
        db.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(red_since=clock.now, due_at=clock.now - timedelta(hours=2))
        )


def test_a_worker_records_a_check_from_the_inbox_on_a_phone(
    phone: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    agency = build.agency("Harbour Recovery Test", kind=AgencyKind.TREATMENT)
    build.agency("Northdale Police Test", kind=AgencyKind.POLICE)
    team = build.team(agency, "Harbour outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Robin Worker")
    build.user(Role.WORKER, agency=agency, team=team, full_name="Sam Colleague")
    released = build.person(worker, "Jordan", "Reyes")
    overdose = build.person(worker, "Kit", "Marlow")
    first = _schedule(build, released, worker)
    _schedule(build, overdose, worker, kind="welfare_high_risk", team_id=team.id)
    _make_red(build, _task_of(build, first), frozen_clock)

    page = phone.page
    sign_in(phone, worker, frozen_clock)
    assert phone.path == "/home/worker"
    _fits(phone)
    checks = page.locator("ul[aria-labelledby=checks] > li")
    expect(checks).to_have_count(2)
    # The escalated check first, marked in words, not colour alone.
    expect(checks.first).to_contain_text("Escalated \N{EN DASH} overdue")
    expect(checks.first).to_contain_text("Reyes, Jordan")
    nav = page.get_by_role("button", name="Menu")
    expect(nav).to_be_visible()
    phone.screenshot("welfare-inbox-390")

    # Two taps: the check's button, an outcome, then save.
    phone.submit(page.get_by_role("link", name="Record check for Marlow, Kit"))
    assert phone.path.startswith("/welfare/checks/")
    _fits(phone)
    expect(phone.heading()).to_have_text("Marlow, Kit")
    phone.screenshot("welfare-record-390")
    page.get_by_role("radio", name="Seen and well").check()
    page.get_by_role("textbox", name="Note (optional)").fill("Fine, at the day centre.")
    phone.submit(page.get_by_role("button", name="Save check"))
    assert phone.path == "/home/worker"
    expect(phone.banner()).to_contain_text("Welfare check saved for Marlow, Kit")
    expect(phone.banner()).to_contain_text("The next check is due Tomorrow 23:59")
    expect(checks).to_have_count(1)
    expect(page.get_by_role("link", name="Record check for Marlow, Kit")).to_have_count(0)
    _fits(phone)
    phone.screenshot("welfare-inbox-after-390")

    # The person page's section, the schedule and its history, the form with its reveals.
    phone.submit(page.get_by_role("link", name="Record check for Reyes, Jordan"))
    phone.goto(f"/people/{released}")
    _fits(phone)
    section = page.locator("#welfare-checks + ul")
    expect(section).to_contain_text("Every day at 23:59")
    expect(section).to_contain_text("Overdue \N{EN DASH} escalated")
    phone.screenshot("welfare-person-section-390")
    phone.submit(section.get_by_role("link").first)
    _fits(phone)
    expect(page.get_by_text("Schedule made")).to_be_visible()
    phone.screenshot("welfare-detail-390")
    phone.submit(page.get_by_role("link", name="Change"))
    _fits(phone)
    interval = page.get_by_role("textbox", name="Every how many days?")
    monday = page.get_by_role("checkbox", name="Monday")
    expect(interval).to_be_visible()
    expect(monday).to_be_hidden()
    page.get_by_role("radio", name="On chosen days of the week").check()
    expect(monday).to_be_visible()
    expect(interval).to_be_hidden()
    monday.check()
    page.get_by_role("checkbox", name="Thursday").check()
    page.get_by_role("textbox", name="Time of the check").fill("10:00")
    phone.check(screenshot="welfare-change-390")
    phone.submit(page.get_by_role("button", name="Save changes"))
    expect(phone.banner()).to_contain_text("Schedule changed")
    expect(page.get_by_text("Mondays and Thursdays at 10:00")).to_have_count(1)
    expect(page.get_by_text("Time: 23:59 → 10:00")).to_be_visible()
    _fits(phone)
    phone.screenshot("welfare-detail-changed-390")

    # A form with errors: on the field, in the summary.
    phone.goto(f"/people/{overdose}/welfare/new")
    page.get_by_role("textbox", name="Time of the check").fill("25:00")
    page.get_by_role("radio", name="On chosen days of the week").check()
    phone.submit(page.get_by_role("button", name="Save schedule"))
    expect(phone.error_summary()).to_contain_text("Enter a time like 09:00")
    expect(phone.error_summary()).to_contain_text("Select at least one day of the week")
    _fits(phone)
    phone.screenshot("welfare-new-errors-390")

    phone.goto("/account")
    _fits(phone)
    expect(page.get_by_text("never contain names")).to_be_visible()
    page.get_by_role("checkbox", name="Also by text message").check()
    page.get_by_role("textbox", name="Work mobile number").fill("07700 900")
    phone.submit(page.get_by_role("button", name="Save notification settings"))
    expect(phone.error_summary()).to_contain_text("Enter a UK mobile number")
    page.get_by_role("textbox", name="Work mobile number").fill("07700 900123")
    phone.submit(page.get_by_role("button", name="Save notification settings"))
    expect(phone.banner()).to_contain_text("Notification settings saved")
    phone.screenshot("account-notifications-390")


def test_a_manager_sees_an_escalated_check_in_the_team_view(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    agency = build.agency("Harbour Recovery Test", kind=AgencyKind.TREATMENT)
    team = build.team(agency, "Harbour outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Robin Worker")
    manager = build.user(
        Role.MANAGER, agency=agency, team=team, manager=True, full_name="Morgan Manager"
    )
    late = build.person(worker, "Jordan", "Reyes")
    calm = build.person(worker, "Kit", "Marlow")
    _make_red(build, _task_of(build, _schedule(build, late, worker)), frozen_clock)
    _schedule(build, calm, worker)

    page = visitor.page
    sign_in(visitor, manager, frozen_clock)
    assert visitor.path == "/home/manager"
    expect(visitor.heading()).to_have_text("Team overview")
    expect(page.locator(".govuk-warning-text")).to_contain_text("1 check is escalated")
    items = page.locator("ul[aria-labelledby=team-checks] > li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Escalated \N{EN DASH} overdue")
    expect(items.first).to_contain_text("Reyes, Jordan")
    expect(items.first).to_contain_text("Robin Worker")
    visitor.screenshot("welfare-team-view-desktop")
    visitor.submit(page.get_by_role("link", name="Harbour outreach's caseload"))
    expect(page.get_by_text("Welfare check overdue")).to_have_count(1)
    visitor.screenshot("welfare-caseload-red-desktop")
    visitor.goto(f"/people/{late}")
    visitor.screenshot("welfare-person-section-desktop")
    visitor.submit(page.locator("#welfare-checks + ul").get_by_role("link").first)
    visitor.screenshot("welfare-detail-desktop")


def test_the_worker_pages_on_a_desktop(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    agency = build.agency("Harbour Recovery Test", kind=AgencyKind.TREATMENT)
    build.agency("Northdale Police Test", kind=AgencyKind.POLICE)
    team = build.team(agency, "Harbour outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Robin Worker")
    person = build.person(worker, "Jordan", "Reyes")
    schedule = _schedule(build, person, worker)
    page = visitor.page
    sign_in(visitor, worker, frozen_clock)
    expect(page.get_by_role("link", name="Home 1 due or overdue")).to_be_visible()
    visitor.screenshot("welfare-inbox-desktop")
    visitor.goto(f"/welfare/checks/{_task_of(build, schedule)}")
    visitor.screenshot("welfare-record-desktop")
    visitor.goto(f"/people/{person}/welfare/new")
    page.get_by_role("radio", name="On chosen days of the week").check()
    visitor.check(screenshot="welfare-new-desktop")
    visitor.goto("/account")
    visitor.screenshot("account-desktop")
