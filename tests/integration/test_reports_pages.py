"""The Reports area: the landing page, report pages with their filters, charts and tables, the
people behind a figure, and the CSV and XLSX exports (suppressed, audited, whole or refused).

Most tests use a hand-made report (``tests/reports_support.py``) put in place of a builder, so
that the pages are tested on every kind of cell; ``test_every_report_renders_for_a_manager``
uses the real builders."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.access.roles import Role
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.db import Database
from casework.reports import queries
from casework.reports.definitions import REPORTS
from casework.reports.periods import Filters
from casework.reports.tables import Drill
from tests.conftest import Builders, MadeUser, sign_in_directly
from tests.reports_support import sample_builder


def _as(app: Flask, user: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return client


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caseload report is the hand-made one."""
    monkeypatch.setitem(queries.BUILDERS, "caseload", sample_builder())


@pytest.fixture
def manager(build: Builders) -> MadeUser:
    return build.user(Role.MANAGER, agency=build.agency("Harbour Recovery"))


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.reading() as db:
        rows = list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for row in rows:
            db.expunge(row)
        return rows


def _people_of(database: Database, event_id: uuid.UUID) -> set[uuid.UUID]:
    with database.reading() as db:
        return set(
            db.scalars(
                select(AuditEventPerson.person_id).where(AuditEventPerson.event_id == event_id)
            )
        )


# --- who may see reports -----------------------------------------------------------------


def test_the_landing_page_links_every_report_for_managers_and_partnership_leads(
    app: Flask, build: Builders, manager: MadeUser
) -> None:
    lead = build.user(Role.PARTNERSHIP_LEAD)
    for user in (manager, lead):
        response = _as(app, user).get("/reports")
        assert response.status_code == 200
        soup = _soup(response.get_data(as_text=True))
        links = {a["href"] for a in soup.select(".govuk-summary-card__title a")}
        assert links == {f"/reports/{name}" for name in REPORTS}
        nav = [a.get_text(strip=True) for a in soup.select(".govuk-service-navigation__link")]
        assert "Reports" in nav


@pytest.mark.parametrize("role", [Role.WORKER, Role.ADMIN, Role.INFORMATION_GOVERNANCE])
def test_other_roles_get_403(app: Flask, build: Builders, role: Role, sample: None) -> None:
    client = _as(app, build.user(role))
    for url in (
        "/reports",
        "/reports/caseload",
        "/reports/caseload/chart/workload.svg",
        "/reports/caseload/export.xlsx",
        "/reports/caseload/export.csv?table=workers",
        "/reports/caseload/people?measure=open_cases",
    ):
        assert client.get(url).status_code == 403, url


def test_an_unknown_report_is_404(app: Flask, manager: MadeUser) -> None:
    client = _as(app, manager)
    assert client.get("/reports/nonsense").status_code == 404
    assert client.get("/reports/nonsense/export.xlsx").status_code == 404
    assert client.get("/reports/nonsense/chart/x.svg").status_code == 404


def test_home_pages_link_to_reports(app: Flask, build: Builders, manager: MadeUser) -> None:
    assert 'href="/reports"' in _as(app, manager).get("/home/manager").get_data(as_text=True)
    lead = build.user(Role.PARTNERSHIP_LEAD)
    assert 'href="/reports"' in _as(app, lead).get("/home/partnership").get_data(as_text=True)


# --- the report page -----------------------------------------------------------------------


def test_every_report_renders_for_a_manager(app: Flask, manager: MadeUser) -> None:
    client = _as(app, manager)
    for name, definition in REPORTS.items():
        response = client.get(f"/reports/{name}")
        assert response.status_code == 200, name
        soup = _soup(response.get_data(as_text=True))
        assert soup.h1 is not None
        assert soup.h1.get_text(strip=True) == definition.title
        if name not in queries.BUILDERS:
            assert "not available yet" in soup.get_text()
            continue
        for img in soup.select(".app-report-chart img"):
            assert img["alt"]
            assert client.get(img["src"]).mimetype == "image/svg+xml"
        for caption in soup.select("table caption"):
            assert caption.get_text(strip=True)


def test_the_report_page_shows_headline_chart_table_and_notes(
    app: Flask, manager: MadeUser, sample: None
) -> None:
    response = _as(app, manager).get("/reports/caseload?preset=last_quarter")
    assert response.status_code == 200
    soup = _soup(response.get_data(as_text=True))
    section = soup.select_one("#section-workload")
    assert section is not None
    assert "Worker 2 has the most open cases." in soup.get_text()
    img = soup.select_one(".app-report-chart img")
    assert img is not None
    assert str(img["src"]).startswith("/reports/caseload/chart/workload.svg?")
    assert "data is in the table below" in img["alt"]
    table = soup.select_one("#table-workers")
    assert table is not None
    assert table.caption is not None
    assert table.caption.get_text(strip=True) == ("Open cases per worker")
    assert len(table.select("th.govuk-table__header--numeric")) == 4
    # Formula-looking text is just text on the page (escaped by Jinja).
    assert '=HYPERLINK("x")' in table.get_text()
    assert "How these figures are worked out" in soup.get_text()
    # The preset chosen stays chosen.
    selected = soup.select_one("#preset option[selected]")
    assert selected is not None
    assert selected["value"] == "last_quarter"


def test_a_manager_sees_exact_figures_with_drill_links_but_not_for_zero(
    app: Flask, manager: MadeUser, sample: None
) -> None:
    soup = _soup(_as(app, manager).get("/reports/caseload").get_data(as_text=True))
    table = soup.select_one("#table-workers")
    assert table is not None
    links = [a["href"] for a in table.select("a")]
    assert any("measure=open_cases" in href and "d_worker=w0" in href for href in links)
    # 3 new cases for Worker 2 is shown exactly to a manager, and links.
    assert any("measure=new_cases" in href and "d_worker=w1" in href for href in links)
    # Zero has no link.
    assert not any("measure=new_cases" in href and "d_worker=w0" in href for href in links)
    teams = soup.select_one("#table-teams")
    assert teams is not None
    assert not any("d_team=south" in a["href"] for a in teams.select("a"))


def test_a_partnership_lead_sees_suppressed_figures_and_no_drill_links(
    app: Flask, build: Builders, sample: None
) -> None:
    lead = build.user(Role.PARTNERSHIP_LEAD)
    soup = _soup(_as(app, lead).get("/reports/caseload").get_data(as_text=True))
    table = soup.select_one("#table-workers")
    assert table is not None
    assert "<5" in table.get_text()
    assert not table.select("a")
    assert _as(app, lead).get("/reports/caseload/people?measure=open_cases").status_code == 403


def test_filters_are_applied_and_kept_in_links(app: Flask, build: Builders, sample: None) -> None:
    agency = build.agency("Harbour Recovery")
    team = build.team(agency, "North")
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    url = f"/reports/caseload?from=2026-01-01&to=2026-03-31&team={team.id}"
    soup = _soup(_as(app, manager).get(url).get_data(as_text=True))
    assert "1 January 2026 to 31 March 2026" in soup.get_text()
    img = soup.select_one(".app-report-chart img")
    assert img is not None
    assert "from=2026-01-01" in img["src"]
    assert f"team={team.id}" in img["src"]
    download = soup.find("a", string=lambda s: bool(s and "XLSX" in s))
    assert download is not None
    assert f"team={team.id}" in str(download["href"])


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-03-01&to=2026-01-01", "to", "must be on or after its start"),
        ("from=2026-13-01&to=2026-01-01", "from", "Enter a real date"),
        ("worker=0b4f6c00-0000-4000-8000-000000000001", "worker", "Choose a worker from the list"),
        ("agency=0b4f6c00-0000-4000-8000-000000000002", "agency", "Choose a agency from the list"),
        ("preset=forever", "preset", "Choose a period from the list"),
    ],
)
def test_a_bad_filter_is_400_with_the_message_on_its_field(
    app: Flask, manager: MadeUser, sample: None, query: str, field: str, message: str
) -> None:
    response = _as(app, manager).get(f"/reports/caseload?{query}")
    assert response.status_code == 400
    soup = _soup(response.get_data(as_text=True))
    assert soup.title is not None
    assert soup.title.get_text().startswith("Error:")
    summary = soup.select_one(".govuk-error-summary")
    assert summary is not None
    assert message in summary.get_text()
    error = soup.select_one(f"#{field}-error")
    assert error is not None
    assert message in error.get_text()
    assert not soup.select(".app-report-chart")


# --- charts --------------------------------------------------------------------------------


def test_the_chart_is_a_private_svg_without_external_resources(
    app: Flask, manager: MadeUser, sample: None
) -> None:
    response = _as(app, manager).get("/reports/caseload/chart/workload.svg?preset=last_quarter")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"].startswith("private")
    svg = response.get_data(as_text=True)
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "<script src" not in svg.replace("'", '"')
    assert 'src="http' not in svg
    assert 'xlink:href="http' not in svg
    assert "cdn" not in svg.lower()
    assert "Open and new cases per worker" in svg
    assert _as(app, manager).get("/reports/caseload/chart/nope.svg").status_code == 404
    bad = _as(app, manager).get("/reports/caseload/chart/workload.svg?from=2026-02-01&to=x")
    assert bad.status_code == 400


# --- exports -------------------------------------------------------------------------------


def test_the_csv_has_a_bom_a_header_suppressed_counts_and_no_formulas(
    app: Flask, manager: MadeUser, sample: None, database: Database
) -> None:
    response = _as(app, manager).get(
        "/reports/caseload/export.csv?table=workers&preset=last_quarter"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "caseload-workers-" in disposition
    assert disposition.endswith('.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Worker", "Open cases", "New cases"]
    assert "Contacted in the last 28 days: out of" in rows[0]
    # The first label looked like a formula: it is neutralised.
    assert rows[1][0] == '\'=HYPERLINK("x")'
    # 3 new cases is shown to the manager on the page but hidden in every export.
    assert rows[2][2] == "<5"
    # Dates are ISO 8601.
    assert rows[1][-1] == "2026-11-20"
    events = _events(database, "report.exported")
    assert len(events) == 1
    details: dict[str, Any] = events[0].details or {}
    assert details["report"] == "caseload"
    assert details["format"] == "csv"
    assert details["table"] == "workers"
    assert _people_of(database, events[0].id) == set()


def test_a_csv_of_an_unknown_table_is_400(app: Flask, manager: MadeUser, sample: None) -> None:
    assert _as(app, manager).get("/reports/caseload/export.csv?table=nope").status_code == 400


def test_the_xlsx_has_a_sheet_per_table_frozen_headers_and_real_numbers(
    app: Flask, manager: MadeUser, sample: None, database: Database
) -> None:
    response = _as(app, manager).get("/reports/caseload/export.xlsx")
    assert response.status_code == 200
    assert (response.mimetype or "").endswith("spreadsheetml.sheet")
    assert response.headers.get("Content-Disposition", "").endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Open cases per worker", "Open cases per team", "About"]
    sheet = book["Open cases per worker"]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Worker", "Open cases", "New cases"]
    assert sheet["B2"].value == 12
    assert isinstance(sheet["B2"].value, int)
    assert sheet["C3"].value == "<5"
    # Ratio: count, out of, % (a real fraction with a percent format).
    total = [cell.value for cell in sheet[5]]
    assert total[3:6] == [9, 39, pytest.approx(0.23)]
    assert sheet.cell(row=5, column=6).number_format == "0%"
    assert sheet.cell(row=2, column=8).is_date
    assert (sheet.column_dimensions["A"].width or 0) >= 10
    events = _events(database, "report.exported")
    assert len(events) == 1
    assert (events[0].details or {})["format"] == "xlsx"


def test_an_export_over_the_row_limit_is_refused_with_a_message(
    make_app: Callable[..., Flask], build: Builders, sample: None, database: Database
) -> None:
    app = make_app(report_export_max_rows=3)
    manager = build.user(Role.MANAGER)
    client = _as(app, manager)
    response = client.get("/reports/caseload/export.xlsx")
    assert response.status_code == 400
    assert "more than the 3 allowed" in response.get_data(as_text=True)
    assert client.get("/reports/caseload/export.csv?table=workers").status_code == 400
    assert client.get("/reports/caseload/export.csv?table=teams").status_code == 200
    assert len(_events(database, "report.exported")) == 1


# --- drill-down ------------------------------------------------------------------------------


@pytest.fixture
def people_behind(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What queries.people_behind answers (ids, total, label); the calls it got."""
    answer: list[Any] = [[], 0, "Open cases"]
    calls: list[Drill] = []

    def fake(
        db: object, viewer: object, name: str, filters: Filters, drill: Drill, *, now: object
    ) -> tuple[list[uuid.UUID], int, str]:
        calls.append(drill)
        return answer[0], answer[1], answer[2]

    monkeypatch.setattr(queries, "people_behind", fake)
    answer.append(calls)
    return answer


def test_the_drill_down_lists_only_people_the_viewer_may_see_and_audits_them(
    app: Flask,
    build: Builders,
    database: Database,
    sample: None,
    people_behind: list[Any],
) -> None:
    agency = build.agency("Harbour Recovery")
    manager = build.user(Role.MANAGER, agency=agency)
    worker = build.user(Role.WORKER, agency=agency)
    first = build.person(worker, "Ann", "Able")
    second = build.person(worker, "Bob", "Baker")
    elsewhere = build.person(build.user(Role.WORKER), "Cy", "Hidden")
    people_behind[:3] = [[second, first, elsewhere], 3, "Open cases of Worker 1"]
    response = _as(app, manager).get(
        "/reports/caseload/people?measure=open_cases&d_worker=w0&preset=last_quarter"
    )
    assert response.status_code == 200
    soup = _soup(response.get_data(as_text=True))
    assert soup.h1 is not None
    assert soup.h1.get_text(strip=True) == "Open cases of Worker 1"
    names = [a.get_text(strip=True) for a in soup.select("tbody a")]
    assert names == ["Able, Ann", "Baker, Bob"]
    assert soup.select_one(f'a[href="/people/{first}"]') is not None
    assert "17 May 1980" in soup.get_text()
    assert "Hidden" not in soup.get_text()
    assert "1 person is not listed" in soup.get_text()
    assert people_behind[3][-1] == Drill("open_cases", (("worker", "w0"),))
    events = _events(database, "report.people_listed")
    assert len(events) == 1
    assert _people_of(database, events[0].id) == {first, second}


def test_the_drill_down_says_when_it_shows_only_some(
    app: Flask, build: Builders, sample: None, people_behind: list[Any]
) -> None:
    agency = build.agency()
    manager = build.user(Role.MANAGER, agency=agency)
    person = build.person(build.user(Role.WORKER, agency=agency))
    people_behind[:3] = [[person], 700, "Open cases"]
    html = (
        _as(app, manager).get("/reports/caseload/people?measure=open_cases").get_data(as_text=True)
    )
    assert "Showing 1 of 700 people" in html


def test_the_drill_down_needs_a_measure_and_good_filters(
    app: Flask, manager: MadeUser, sample: None, people_behind: list[Any]
) -> None:
    client = _as(app, manager)
    assert client.get("/reports/caseload/people").status_code == 404
    assert client.get("/reports/caseload/people?measure=x&from=2026-02-01").status_code == 400
