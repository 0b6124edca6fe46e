"""Configuration: production refuses to start without real secrets, with a one-line error."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from casework.settings import SECRET_NAMES, ConfigurationError, load_settings


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env["DATABASE_URL"] = "postgresql://casework@db.example.org/casework"
    env["CASEWORK_KEYSTORE_URL"] = "postgresql://casework@keys.example.org/casework_keys"
    env["CASEWORK_INSTANCE_DIR"] = str(tmp_path)
    return env


def test_production_starts_with_all_secrets(tmp_path: Path) -> None:
    settings = load_settings("production", env=_production_env(tmp_path))
    assert settings.is_production
    assert settings.mfa_required
    assert not settings.demo_mode
    assert settings.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize("name", SECRET_NAMES)
@pytest.mark.parametrize("value", [None, "", "changeme", "secret", "dGVzdA"])
def test_production_refuses_missing_or_default_secret(
    tmp_path: Path, name: str, value: str | None
) -> None:
    env = _production_env(tmp_path)
    if value is None:
        del env[name]
    else:
        env[name] = value
    with pytest.raises(ConfigurationError) as raised:
        load_settings("production", env=env)
    message = str(raised.value)
    assert name in message
    assert "\n" not in message


def test_production_needs_a_database_url(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    del env["DATABASE_URL"]
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings("production", env=env)


def test_production_needs_a_separate_keystore(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    del env["CASEWORK_KEYSTORE_URL"]
    with pytest.raises(ConfigurationError, match="CASEWORK_KEYSTORE_URL"):
        load_settings("production", env=env)
    env["CASEWORK_KEYSTORE_URL"] = env["DATABASE_URL"]
    with pytest.raises(ConfigurationError, match="CASEWORK_KEYSTORE_URL"):
        load_settings("production", env=env)


def test_keystore_sits_beside_the_database_outside_production(tmp_path: Path) -> None:
    env = {"CASEWORK_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    assert load_settings("test", env=env).keystore_url == f"sqlite:///{tmp_path}/c.keys.db"
    env["DATABASE_URL"] = "postgresql://postgres@127.0.0.1/casework"
    assert load_settings("test", env=env).keystore_url.endswith("/casework_keys")


def test_production_refuses_sqlite(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    env["DATABASE_URL"] = "sqlite:////tmp/x.db"
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        load_settings("production", env=env)


def test_production_never_writes_a_secrets_file(tmp_path: Path) -> None:
    load_settings("production", env=_production_env(tmp_path))
    assert not (tmp_path / "secrets.json").exists()


def test_development_generates_secrets_once_with_private_permissions(tmp_path: Path) -> None:
    env = {"CASEWORK_INSTANCE_DIR": str(tmp_path)}
    first = load_settings("development", env=env)
    second = load_settings("development", env=env)
    path = tmp_path / "secrets.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.secret_key.material == second.secret_key.material
    assert first.kek.key_id == second.kek.key_id
    assert len({first.secret_key.material, first.kek.material, first.audit_key.material}) == 3


def test_mfa_may_only_be_off_in_demo_mode(tmp_path: Path) -> None:
    env = {"CASEWORK_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError, match="mfa_required"):
        load_settings("test", env=env, mfa_required=False)
    assert not load_settings("development", env=env).mfa_required  # demo turns it off


def test_production_refuses_demo_mode_and_mfa_off(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="demo_mode"):
        load_settings("production", env=_production_env(tmp_path), demo_mode=True)


def test_unknown_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CASEWORK_ENV"):
        load_settings("staging", env={"CASEWORK_INSTANCE_DIR": str(tmp_path)})


def test_environment_overrides_non_secret_settings(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    env.update(CASEWORK_PARTNERSHIP_NAME="Eastmoor Partnership", CASEWORK_SESSION_IDLE_MINUTES="20")
    settings = load_settings("production", env=env)
    assert settings.partnership_name == "Eastmoor Partnership"
    assert settings.session_idle_minutes == 20
    env["CASEWORK_MFA_REQUIRED"] = "maybe"
    with pytest.raises(ConfigurationError, match="CASEWORK_MFA_REQUIRED must be true or false"):
        load_settings("production", env=env)
    env["CASEWORK_MFA_REQUIRED"] = "false"
    with pytest.raises(ConfigurationError, match="mfa_required must be true in production"):
        load_settings("production", env=env)
