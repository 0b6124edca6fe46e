"""A wrong key-encryption key stops Casework at start-up with one line naming CASEWORK_KEK."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from casework.app import create_app
from casework.security.keystore import Keystore
from casework.settings import ConfigurationError
from tests.unit.test_keystore import (
    fresh_keystore,
    key_env,
    key_settings,
    new_kek,
    own_keystore_url,
)

CASEWORK = str(Path(sys.executable).with_name("casework"))
KEK_A = new_kek()


@pytest.fixture
def keystore_url(tmp_path: Path) -> str:
    return own_keystore_url(tmp_path, "startupkeys")


@pytest.fixture
def keys_under_a(tmp_path: Path, keystore_url: str) -> Iterator[Keystore]:
    """A keystore holding a few person keys wrapped under KEK A."""
    keystore = fresh_keystore(key_settings(tmp_path, keystore_url, KEK_A))
    keystore.create_keys([uuid.uuid4() for _ in range(3)])
    yield keystore
    keystore.drop_schema()
    keystore.dispose()


def _starts(tmp_path: Path, keystore_url: str, kek: str, *previous: str) -> None:
    app = create_app(key_settings(tmp_path, keystore_url, kek, previous))
    app.extensions["casework.kit"].keystore.dispose()


def test_an_app_with_the_wrong_kek_does_not_start(
    tmp_path: Path, keystore_url: str, keys_under_a: Keystore
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _starts(tmp_path, keystore_url, new_kek())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("CASEWORK_KEK ")
    assert keys_under_a.current_kek_id in message
    assert KEK_A not in message  # the id of the key, never the key


def test_an_app_starts_with_the_right_kek_or_with_it_as_an_earlier_one(
    tmp_path: Path, keystore_url: str, keys_under_a: Keystore
) -> None:
    _starts(tmp_path, keystore_url, KEK_A)
    _starts(tmp_path, keystore_url, new_kek(), KEK_A)


def test_an_empty_keystore_accepts_any_kek(tmp_path: Path, keystore_url: str) -> None:
    keystore = fresh_keystore(key_settings(tmp_path, keystore_url, KEK_A))
    try:
        _starts(tmp_path, keystore_url, new_kek())
    finally:
        keystore.drop_schema()
        keystore.dispose()


def test_an_unreachable_keystore_names_casework_keystore_url(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'no-such-directory' / 'casework.keys.db'}"
    with pytest.raises(ConfigurationError, match=r"^CASEWORK_KEYSTORE_URL: cannot open"):
        _starts(tmp_path, missing, KEK_A)


def test_the_casework_command_with_the_wrong_kek_prints_one_line(
    tmp_path: Path, keystore_url: str, keys_under_a: Keystore
) -> None:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_") and k != "DATABASE_URL"
    }
    env = {**inherited, **key_env(tmp_path, keystore_url, new_kek()), "CASEWORK_ENV": "test"}
    result = subprocess.run(  # noqa: S603 - our own console script
        [CASEWORK, "keys", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("casework: configuration error: CASEWORK_KEK ")
    assert keys_under_a.current_kek_id in lines[0]
