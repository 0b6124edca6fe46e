"""``casework reports build``: a report as a CSV or XLSX file for a named manager or partnership
lead, suppressed, audited, written whole or not at all, with clear errors."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from casework import cli
from casework.access.roles import Role
from casework.audit.models import AuditEvent
from casework.db import Database
from casework.reports import queries
from tests.conftest import Builders, MadeUser
from tests.reports_support import sample_builder


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(queries.BUILDERS, "caseload", sample_builder())


@pytest.fixture
def manager(build: Builders) -> MadeUser:
    return build.user(Role.MANAGER, email="manager@example.org")


def _run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(cli.reports_build, list(args))
    return result.exit_code, result.output


def test_an_xlsx_is_written_whole_and_audited(
    app: Flask, manager: MadeUser, sample: None, tmp_path: Path, database: Database
) -> None:
    output = tmp_path / "caseload.xlsx"
    code, text = _run(
        app,
        "caseload",
        "--format=xlsx",
        "--from=2026-04-01",
        "--to=2026-09-30",
        f"--output={output}",
        "--as=Manager@example.org",
    )
    assert code == 0, text
    assert "Wrote" in text
    book = openpyxl.load_workbook(io.BytesIO(output.read_bytes()))
    assert book.sheetnames == ["Open cases per worker", "Open cases per team", "About"]
    # Suppressed, as every export is: 3 new cases is hidden.
    assert book["Open cases per worker"]["C3"].value == "<5"
    assert list(tmp_path.iterdir()) == [output]
    with database.reading() as db:
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "report.exported")))
        assert len(events) == 1
        assert events[0].actor_user_id == manager.id
        assert (events[0].details or {})["filters"] == {"from": "2026-04-01", "to": "2026-09-30"}


def test_a_csv_of_one_table(app: Flask, manager: MadeUser, sample: None, tmp_path: Path) -> None:
    output = tmp_path / "teams.csv"
    base = ["caseload", "--format=csv", "--from=2026-04-01", "--to=2026-09-30"]
    code, text = _run(app, *base, f"--output={output}", "--as=manager@example.org")
    assert code != 0
    assert "choose a table with --table: one of workers, teams" in text
    assert not output.exists()
    code, text = _run(app, *base, f"--output={output}", "--as=manager@example.org", "--table=teams")
    assert code == 0, text
    assert output.read_bytes().startswith(b"\xef\xbb\xbfTeam,Open cases\r\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nonsense"], "no report called 'nonsense'"),
        (["caseload", "--from=2026-13-01"], "--from: Enter a real date"),
        (["caseload", "--from=2026-05-01", "--to=2026-04-01"], "--to: The end of the period"),
        (["caseload", "--as=nobody@example.org"], "no active user"),
        (["caseload", "--as=worker@example.org"], "not a manager or a partnership lead"),
        (["caseload", "--table=nope", "--format=csv"], "no table 'nope'"),
    ],
)
def test_clear_errors_and_no_file(
    app: Flask,
    build: Builders,
    manager: MadeUser,
    sample: None,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    build.user(Role.WORKER, email="worker@example.org")
    output = tmp_path / "out.xlsx"
    defaults = {
        "--format": "xlsx",
        "--from": "2026-04-01",
        "--to": "2026-09-30",
        "--as": "manager@example.org",
    }
    given = {arg.split("=")[0] for arg in args[1:]}
    full = [
        args[0],
        *args[1:],
        *(f"{key}={value}" for key, value in defaults.items() if key not in given),
        f"--output={output}",
    ]
    code, text = _run(app, *full)
    assert code != 0
    assert message in text
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_left_alone_when_the_export_is_refused(
    make_app: Callable[..., Flask], build: Builders, sample: None, tmp_path: Path
) -> None:
    app = make_app(report_export_max_rows=2)
    build.user(Role.MANAGER, email="manager@example.org")
    output = tmp_path / "out.xlsx"
    output.write_bytes(b"the old file")
    code, text = _run(
        app,
        "caseload",
        "--format=xlsx",
        "--from=2026-04-01",
        "--to=2026-09-30",
        f"--output={output}",
        "--as=manager@example.org",
    )
    assert code != 0
    assert "more than the 2 allowed" in text
    assert output.read_bytes() == b"the old file"
    assert list(tmp_path.iterdir()) == [output]
