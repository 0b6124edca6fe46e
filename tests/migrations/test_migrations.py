"""Migrations: the models match `alembic upgrade head`, and every revision goes down and up.

Runs against a database of its own (a temporary SQLite file, or a PostgreSQL database named
after the test database with ``_migrations`` appended) so it never disturbs the shared one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text

from casework import migrate
from casework.db import make_engine
from casework.models import Base
from casework.settings import REPO_ROOT


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{url.database}_migrations"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_models_match_migrations(migration_url: str) -> None:
    migrate.upgrade(migration_url)
    assert _diff(migration_url) == []


def test_every_revision_goes_down_and_up_again(migration_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(migration_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for revision in revisions:
        migrate.upgrade(migration_url, revision)
        migrate.downgrade(migration_url, "-1")
        migrate.upgrade(migration_url, revision)
    assert _tables(migration_url) == set(Base.metadata.tables)
    migrate.downgrade(migration_url, "base")
    assert _tables(migration_url) == set()
    migrate.upgrade(migration_url)
    assert _diff(migration_url) == []


def test_single_head_recorded(migration_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(migration_url))
    heads = script.get_heads()
    assert len(heads) == 1, f"migration branches need merging: {heads}"
    recorded = (REPO_ROOT / "migrations" / ".current-alembic-head").read_text().strip()
    assert recorded == heads[0], "update migrations/.current-alembic-head with the new head"
