"""Rotating the key-encryption key with `casework keys rotate`, killed half-way and resumed.

The keystore here is the test's own (a SQLite file, or ``<name>_rotationkeys`` on PostgreSQL);
the main database is the test run's, migrated, as the `casework` command builds the whole app.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from casework import cli
from casework.app import create_app
from casework.db import Database
from casework.security.keystore import Keystore
from casework.security.vault import Vault
from casework.settings import Settings
from tests.unit.test_keystore import (
    fresh_keystore,
    key_env,
    key_settings,
    new_kek,
    own_keystore_url,
)

CASEWORK = str(Path(sys.executable).with_name("casework"))

#: Enough batches of 50 that the kill lands part-way (fewer on SQLite, to keep the test short).
PEOPLE = 3000 if os.environ.get("DATABASE_URL", "").startswith("postgres") else 1500


@dataclass
class Rotation:
    tmp_path: Path
    keystore_url: str
    database_url: str
    kek_a: str
    kek_b: str
    people: list[uuid.UUID]
    sealed: dict[uuid.UUID, bytes]
    kek_a_id: str

    def settings(self, kek: str, *previous: str) -> Settings:
        return key_settings(
            self.tmp_path, self.keystore_url, kek, previous, database_url=self.database_url
        )

    def env(self, kek: str, *previous: str) -> dict[str, str]:
        """The environment of a `casework` process: these keys, and no CASEWORK_* setting or
        DATABASE_URL from the environment running the tests."""
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CASEWORK_") and k != "DATABASE_URL"
        }
        return {
            **inherited,
            **key_env(
                self.tmp_path, self.keystore_url, kek, previous, database_url=self.database_url
            ),
            "CASEWORK_ENV": "test",
        }

    def run(
        self, kek: str, previous: Sequence[str], *args: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console script
            [CASEWORK, *args],
            env=self.env(kek, *previous),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def assert_everyone_readable(self, keystore: Keystore) -> None:
        """Every person key unwraps and every sealed value opens, in one keystore read."""
        vault = Vault(keystore)
        vault.prefetch(self.people)
        for index, person in enumerate(self.people):
            opened = vault.open(person, "people", "given_name", person, self.sealed[person])
            assert opened == f"Person {index}"


@pytest.fixture
def rotation(tmp_path: Path, settings: Settings, database: Database) -> Iterator[Rotation]:
    """PEOPLE person keys under KEK A, each with a value sealed under it."""
    kek_a, kek_b = new_kek(), new_kek()
    keystore_url = own_keystore_url(tmp_path, "rotationkeys")
    under_a = fresh_keystore(
        key_settings(tmp_path, keystore_url, kek_a, database_url=settings.database_url)
    )
    people = [uuid.uuid4() for _ in range(PEOPLE)]
    vault = Vault(under_a)
    vault.new_people(people)
    sealed = {
        person: vault.seal(person, "people", "given_name", person, f"Person {index}")
        for index, person in enumerate(people)
    }
    yield Rotation(
        tmp_path,
        keystore_url,
        settings.database_url,
        kek_a,
        kek_b,
        people,
        sealed,
        under_a.current_kek_id,
    )
    under_a.drop_schema()
    under_a.dispose()


@contextmanager
def cli_app(settings: Settings, database: Database) -> Iterator[Flask]:
    """The app the `casework` command would build, for running its commands in-process."""
    app = create_app(settings, database=database)
    try:
        yield app
    finally:
        app.extensions["casework.kit"].keystore.dispose()


def test_rotation_killed_half_way_then_resumed(rotation: Rotation, database: Database) -> None:
    kek_a, kek_b = rotation.kek_a, rotation.kek_b
    observer = Keystore(rotation.settings(kek_b, kek_a))
    kek_b_id = observer.current_kek_id
    errors = rotation.tmp_path / "rotate.err"
    try:
        with errors.open("w") as stderr:
            child = subprocess.Popen(  # noqa: S603 - our own console script
                [CASEWORK, "keys", "rotate", "--batch-size", "50"],
                env=rotation.env(kek_b, kek_a),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 60
        while True:
            done = observer.usage().get(kek_b_id, 0)
            if PEOPLE // 3 <= done < PEOPLE:
                os.kill(child.pid, signal.SIGKILL)
                break
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                pytest.fail(
                    f"rotation was not caught part-way ({done} of {PEOPLE} re-wrapped, "
                    f"exit {child.returncode}): " + (rotation.tmp_path / "rotate.err").read_text()
                )
            time.sleep(0.002)
        assert child.wait(timeout=30) == -signal.SIGKILL

        # Killed: each key is under A or under B, never lost, and everything still decrypts.
        usage = observer.usage()
        assert set(usage) == {rotation.kek_a_id, kek_b_id}
        assert sum(usage.values()) == PEOPLE
        assert 0 < usage[kek_b_id] < PEOPLE
        rotation.assert_everyone_readable(observer)

        # Retiring A now is refused: keys still use it.
        with cli_app(rotation.settings(kek_b, kek_a), database) as app:
            refused = app.test_cli_runner().invoke(cli.keys_retire, [rotation.kek_a_id])
        assert refused.exit_code == 1
        assert f"still use key {rotation.kek_a_id}" in refused.output

        # Resumed: it goes on from where it stopped and finishes.
        resumed = rotation.run(kek_b, [kek_a], "keys", "rotate", "--batch-size", "50")
        assert resumed.returncode == 0, resumed.stderr
        assert f"Re-wrapped {usage[rotation.kek_a_id]} person key(s)" in resumed.stdout
        assert "0 to go" in resumed.stderr
        assert observer.usage() == {kek_b_id: PEOPLE}
        with cli_app(rotation.settings(kek_b, kek_a), database) as app:
            again = app.test_cli_runner().invoke(cli.keys_rotate, [])
        assert again.exit_code == 0, again.output
        assert f"Every person key is already under {kek_b_id}" in again.output

        retired = rotation.run(kek_b, [kek_a], "keys", "retire", rotation.kek_a_id)
        assert retired.returncode == 0, retired.stderr
        assert f"Key {rotation.kek_a_id} is retired" in retired.stdout

        # A leaves the configuration: the app starts and reads everyone with B alone.
        status = rotation.run(kek_b, [], "keys", "status")
        assert status.returncode == 0, status.stderr
        assert f"Current key-encryption key (CASEWORK_KEK): {kek_b_id}" in status.stdout
        assert f"{rotation.kek_a_id}         0 person key(s)  retired" in status.stdout
        only_b = Keystore(rotation.settings(kek_b))
        try:
            only_b.check()
            rotation.assert_everyone_readable(only_b)
        finally:
            only_b.dispose()
    finally:
        observer.dispose()


def test_keys_status_and_retire_explain_themselves(
    tmp_path: Path, settings: Settings, database: Database
) -> None:
    kek_a, kek_b = new_kek(), new_kek()
    url = own_keystore_url(tmp_path, "statuskeys")
    under_a = fresh_keystore(key_settings(tmp_path, url, kek_a))
    under_a.create_keys([uuid.uuid4() for _ in range(3)])
    kek_a_id = under_a.current_kek_id
    try:
        with cli_app(key_settings(tmp_path, url, kek_b, [kek_a]), database) as app:
            runner = app.test_cli_runner()
            kek_b_id = app.extensions["casework.kit"].keystore.current_kek_id

            status = runner.invoke(cli.keys_status)
            assert status.exit_code == 0, status.output
            assert f"Current key-encryption key (CASEWORK_KEK): {kek_b_id}" in status.output
            assert "Person keys: 3" in status.output
            assert f"{kek_b_id}         0 person key(s)  current" in status.output
            assert (
                f"{kek_a_id}         3 person key(s)  earlier key: run `casework keys rotate`"
                in status.output
            )

            for args, message in [
                ([kek_b_id], "Error: the current CASEWORK_KEK cannot be retired"),
                ([kek_a_id], f"Error: 3 person key(s) still use key {kek_a_id}"),
                (["nonsense"], "Error: 'nonsense' is not a key id"),
            ]:
                refused = runner.invoke(cli.keys_retire, args)
                assert refused.exit_code == 1
                assert message in refused.output
                assert len(refused.output.strip().splitlines()) == 1

            assert runner.invoke(cli.keys_rotate, ["--batch-size", "0"]).exit_code == 2
            rotated = runner.invoke(cli.keys_rotate, ["--batch-size", "2"])
            assert rotated.exit_code == 0, rotated.output
            assert "re-wrapped 2, 1 to go" in rotated.output  # progress, on stderr
            assert "Re-wrapped 3 person key(s)" in rotated.output
            assert f"`casework keys retire {kek_a_id}`" in rotated.output

            assert runner.invoke(cli.keys_retire, [kek_a_id.upper()]).exit_code == 0
            status = runner.invoke(cli.keys_status)
            assert (
                f"{kek_a_id}         0 person key(s)  retired: remove it from "
                "CASEWORK_KEK_PREVIOUS" in status.output
            )
    finally:
        under_a.drop_schema()
        under_a.dispose()
