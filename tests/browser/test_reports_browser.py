"""A manager reads every report, filters one, drills down to the people behind a figure and
downloads the CSV and the spreadsheet, on a desktop and on a 390 px phone. axe runs on every
page; charts must load as images and no page may scroll sideways."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from casework.access.roles import Role
from casework.reports.definitions import REPORTS
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import Visitor, VisitorFactory, sign_in, title
from tests.conftest import Builders, Clock

SIZES = {"desktop": DESKTOP, "phone": PHONE}


def _fits(page: Page) -> None:
    """Nothing wider than the window: wide tables scroll inside their own region."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


def _charts_loaded(page: Page) -> int:
    images = page.locator(".app-report-chart img")
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")
    return images.count()


def _download(page: Page, link_text: str, tmp_path: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_text).first.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path


@pytest.mark.parametrize("size", list(SIZES))
def test_a_manager_reads_filters_drills_down_and_downloads(
    open_visitor: VisitorFactory,
    build: Builders,
    frozen_clock: Clock,
    tmp_path: Path,
    size: str,
) -> None:
    agency = build.agency("Northdale Recovery Service")
    team = build.team(agency, "Eastfield outreach")
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Casey Worker")
    for given, family in [("Ann", "Able"), ("Bob", "Baker"), ("Cara", "Cole"), ("Dev", "Dunn")]:
        build.person(worker, given, family)
    for number in range(5):
        build.person(worker, f"Eli{number}", "Evans")
    visitor: Visitor = open_visitor(**SIZES[size])
    page = visitor.page
    sign_in(visitor, manager, frozen_clock)

    nav = page.get_by_role("navigation", name="Main menu")
    if size == "phone":
        page.get_by_role("button", name="Menu").click()
    visitor.submit(nav.get_by_role("link", name="Reports"))
    assert visitor.path == "/reports"
    expect(page).to_have_title(title("Reports"))
    visitor.screenshot(f"reports-index-{size}")
    _fits(page)

    charts = 0
    for name, definition in REPORTS.items():
        visitor.goto(f"/reports/{name}")
        expect(visitor.heading()).to_have_text(definition.title)
        charts += _charts_loaded(page)
        _fits(page)
        visitor.check(screenshot=f"report-{name}-{size}")
    assert charts > 0

    # Filter: the last full quarter.
    visitor.goto("/reports/caseload")
    page.get_by_label("Period", exact=True).select_option("last_quarter")
    visitor.submit(page.get_by_role("button", name="Apply filters"))
    assert "preset=last_quarter" in page.url
    expect(page.get_by_label("Period", exact=True)).to_have_value("last_quarter")

    # A bad period: the message is on its field.
    page.get_by_label("From", exact=True).fill("2026-05-01")
    page.get_by_label("To", exact=True).fill("2026-04-01")
    visitor.submit(page.get_by_role("button", name="Apply filters"))
    expect(page).to_have_title(title("Caseload and workload", error=True))
    expect(visitor.error_summary()).to_contain_text("The end of the period must be on or after")
    expect(page.locator("#to-error")).to_be_visible()

    # Drill down from the first figure that links.
    visitor.goto("/reports/caseload")
    link = page.locator(".app-report-table a").first
    expect(link).to_be_visible()
    visitor.submit(link)
    assert visitor.path == "/reports/caseload/people"
    expect(page.locator("tbody")).to_contain_text("Able, Ann")
    _fits(page)
    visitor.screenshot(f"report-people-{size}")

    # Downloads.
    visitor.goto("/reports/caseload")
    xlsx = _download(page, "Download every table as a spreadsheet (XLSX", tmp_path)
    assert xlsx.name.startswith("caseload-")
    assert xlsx.suffix == ".xlsx"
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames[-1] == "About"
    first = book[book.sheetnames[0]]
    assert first.freeze_panes == "A2"
    csv_file = _download(page, "as CSV", tmp_path)
    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows: list[list[Any]] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]


def test_a_partnership_lead_reads_suppressed_figures_without_links(
    visitor: Visitor, build: Builders, frozen_clock: Clock
) -> None:
    lead = build.user(Role.PARTNERSHIP_LEAD, agency=build.agency("Northdale partnership office"))
    agency = build.agency("Harbour Recovery")
    worker = build.user(Role.WORKER, agency=agency)
    for number in range(3):
        build.person(worker, f"Fay{number}", "Field")
    page = visitor.page
    sign_in(visitor, lead, frozen_clock)
    for name in ("caseload", "partnership"):
        visitor.goto(f"/reports/{name}")
        assert _charts_loaded(page) > 0
        _fits(page)
        visitor.check(screenshot=f"report-{name}-lead")
        expect(page.locator(".app-report-table a")).to_have_count(0)
    expect(page.get_by_label("Agency", exact=True)).to_be_visible()
