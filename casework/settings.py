"""Settings: non-secret values from ``config/<env>.toml``, secrets from the environment.

One frozen :class:`Settings` object is built at start-up and handed to ``create_app``. Nothing
else in the code base reads ``os.environ``. In development, missing secrets are generated once
into ``instance/secrets.json`` (mode 0600); in production a missing or default secret stops the
app with a one-line error naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_INSTANCE_DIR = REPO_ROOT / "instance"

ENVIRONMENTS = ("development", "test", "production")

#: The secrets, by environment variable name. Each is 32 random bytes, URL-safe base64.
SECRET_NAMES = (
    "CASEWORK_SECRET_KEY",
    "CASEWORK_KEK",
    "CASEWORK_BLIND_INDEX_KEY",
    "CASEWORK_AUDIT_KEY",
)

#: Where messages outside the app go (``notify_backend``).
NOTIFY_BACKENDS = ("log", "smtp", "govuk_notify")

#: Values that must never be accepted as a secret in production.
KNOWN_DEFAULTS = frozenset(
    {"", "changeme", "change-me", "secret", "dev", "development", "test", "default", "insecure"}
)


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong. The message is one line and names the variable."""


@dataclass(frozen=True)
class SecretKey:
    """A 32-byte key with a stable, non-secret id (a truncated SHA-256 fingerprint)."""

    name: str
    material: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.material).hexdigest()[:12]


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    instance_dir: Path
    secret_key: SecretKey
    kek: SecretKey
    blind_index_key: SecretKey
    audit_key: SecretKey
    #: The keystore: a separate database holding the wrapped per-person data keys.
    keystore_url: str = ""
    #: Earlier key-encryption keys, still needed until ``casework keys rotate`` re-wraps
    #: every person key made with them (``CASEWORK_KEK_PREVIOUS``, comma-separated).
    previous_keks: tuple[SecretKey, ...] = ()
    #: Earlier audit keys, kept so ``casework audit verify`` can check rows and seals made
    #: before the audit key changed (``CASEWORK_AUDIT_KEY_PREVIOUS``, comma-separated).
    previous_audit_keys: tuple[SecretKey, ...] = ()
    service_name: str = "Casework"
    partnership_name: str = ""
    mfa_required: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    session_touch_seconds: int = 60
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 30
    login_window_minutes: int = 15
    password_min_length: int = 12
    password_max_length: int = 256
    password_hash_profile: str = "interactive"  # noqa: S105 - a profile name
    #: How long a process may keep a person's unwrapped data key (0: never).
    data_key_cache_seconds: int = 30
    #: Consent: the default review date is this many months after consent was given.
    consent_review_months: int = 12
    #: Consent and other bases show as "expiring" this many days before they end.
    consent_expiring_days: int = 30
    #: Another lawful basis lasts at most (and by default) this many days.
    lawful_basis_max_days: int = 30
    #: Unreviewed for this many days, another lawful basis is overdue in the review queue.
    lawful_basis_review_days: int = 7
    #: Emergency ("break-glass") access lasts this many hours.
    break_glass_hours: int = 4
    #: Proxies in front of the app whose X-Forwarded-For and -Proto headers are trusted
    #: (0: none; the client address is the socket's peer).
    trusted_proxy_hops: int = 0
    #: Audit rows are sealed once they are this old (longer than any transaction may last).
    audit_seal_delay_seconds: int = 120
    max_content_length_bytes: int = 1_048_576
    demo_mode: bool = False
    https: bool = True
    log_level: str = "INFO"
    #: The job runner: seconds between sweeps of due reminders and the outbox, and between
    #: the slower sweeps (consent reviews, pathway clocks, sealing the audit log).
    jobs_sweep_seconds: int = 30
    jobs_slow_sweep_seconds: int = 300
    #: Email and SMS (content-free): "log" writes them to the outbox and the log only;
    #: "smtp" sends email through ``smtp_host``; "govuk_notify" uses GOV.UK Notify.
    notify_backend: str = "log"
    #: A message that failed this many times is shown to admins as failed (not retried).
    outbox_max_attempts: int = 8
    mail_from: str = "casework@localhost"
    #: Reports: counts from 1 to this minus 1 are hidden ("<5") in exports and in every figure
    #: a partnership lead sees (with secondary suppression); 0 turns suppression off.
    report_suppression_threshold: int = 5
    #: Reports: an export of more rows than this is refused with a message (no partial file).
    report_export_max_rows: int = 100_000
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_timeout_seconds: int = 10
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_email_template_id: str = ""
    notify_sms_template_id: str = ""
    #: Secrets for the senders, from the environment only (CASEWORK_SMTP_PASSWORD,
    #: CASEWORK_NOTIFY_API_KEY): never in config files.
    smtp_password: str = field(default="", repr=False)
    notify_api_key: str = field(default="", repr=False)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"configuration file {path} is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc


def _decode_secret(name: str, raw: str) -> bytes:
    value = raw.strip()
    if value.lower() in KNOWN_DEFAULTS:
        raise ConfigurationError(f"{name} is missing or set to a default value")
    try:
        material = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{name} is not URL-safe base64") from exc
    if len(material) < 32:
        raise ConfigurationError(f"{name} must decode to at least 32 bytes")
    return material


def _development_secrets(instance_dir: Path) -> dict[str, str]:
    """Read, or create once, the development secrets file in ``instance/``.

    Several processes may start at once (gunicorn workers): the file is written to a private
    temporary name and hard-linked into place, which fails if another process won, and then
    everyone reads the winner's file.
    """
    path = instance_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    if all(name in stored for name in SECRET_NAMES):
        return stored
    instance_dir.mkdir(parents=True, exist_ok=True)
    for name in SECRET_NAMES:
        stored.setdefault(name, secrets.token_urlsafe(32))
    tmp = instance_dir / f".secrets-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(stored, handle, indent=2)
    try:
        if path.exists():
            tmp.replace(path)  # completing an older file that lacked a newer secret
        else:
            os.link(tmp, path)
    except FileExistsError:
        pass  # another process created it first; use theirs
    finally:
        tmp.unlink(missing_ok=True)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _environment_overrides(env: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
    """``CASEWORK_<SETTING>`` overrides a non-secret setting (e.g. CASEWORK_PARTNERSHIP_NAME)."""
    overrides: dict[str, Any] = {}
    for key, current in values.items():
        name = f"CASEWORK_{key.upper()}"
        if name not in env:
            continue
        raw = env[name].strip()
        if isinstance(current, bool):
            if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ConfigurationError(f"{name} must be true or false")
            overrides[key] = raw.lower() in {"true", "1", "yes"}
        elif isinstance(current, int):
            try:
                overrides[key] = int(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{name} must be a whole number") from exc
        else:
            overrides[key] = raw
    return overrides


def derive_keystore_url(database_url: str) -> str:
    """The keystore next to the main database: ``x.db`` -> ``x.keys.db`` on SQLite, database
    ``name`` -> ``name_keys`` on the same PostgreSQL server (production names it explicitly)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:":
            raise ConfigurationError("CASEWORK_KEYSTORE_URL must be set for an in-memory database")
        stem, dot, suffix = path.rpartition(".")
        keys_path = f"{stem}.keys.{suffix}" if dot else f"{path}.keys"
        return url.set(database=keys_path).render_as_string(hide_password=False)
    return url.set(database=f"{url.database}_keys").render_as_string(hide_password=False)


def _previous_keys(name: str, raw: str) -> tuple[SecretKey, ...]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    return tuple(SecretKey(name, _decode_secret(name, part)) for part in parts)


def _normalise_database_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


#: The senders' secrets: settings read from these environment variables only.
_SENDER_SECRETS = {
    "smtp_password": "CASEWORK_SMTP_PASSWORD",
    "notify_api_key": "CASEWORK_NOTIFY_API_KEY",
}


def load_settings(
    environment: str | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings for ``environment`` (default: ``CASEWORK_ENV`` or development)."""
    env = os.environ if env is None else env
    name = environment or env.get("CASEWORK_ENV", "development")
    if name not in ENVIRONMENTS:
        raise ConfigurationError(f"CASEWORK_ENV must be one of {', '.join(ENVIRONMENTS)}")

    values: dict[str, Any] = _read_toml(CONFIG_DIR / "base.toml")
    values.update(_read_toml(CONFIG_DIR / f"{name}.toml"))

    instance_dir = Path(env.get("CASEWORK_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)))
    if name == "production":
        raw_secrets = {key: env.get(key, "") for key in SECRET_NAMES}
    else:
        raw_secrets = dict(_development_secrets(instance_dir))
        raw_secrets.update({key: env[key] for key in SECRET_NAMES if env.get(key)})
    keys = {key: SecretKey(key, _decode_secret(key, raw)) for key, raw in raw_secrets.items()}

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'casework.db'}"
    if name == "production" and not env.get("DATABASE_URL"):
        raise ConfigurationError("DATABASE_URL must be set in production")

    keystore_url = env.get("CASEWORK_KEYSTORE_URL", "").strip()
    if name == "production" and not keystore_url:
        raise ConfigurationError(
            "CASEWORK_KEYSTORE_URL must be set in production (a separate keystore database)"
        )
    database_url = _normalise_database_url(database_url)
    keystore_url = _normalise_database_url(keystore_url or derive_keystore_url(database_url))

    known = {f.name for f in dataclasses.fields(Settings)} - {
        "keystore_url",
        "previous_keks",
        "previous_audit_keys",
        *_SENDER_SECRETS,
    }
    unknown = set(values) - known
    if unknown:
        raise ConfigurationError(f"unknown setting(s) in config/: {', '.join(sorted(unknown))}")
    values.update(_environment_overrides(env, values))
    settings = Settings(
        environment=name,
        database_url=database_url,
        keystore_url=keystore_url,
        previous_keks=_previous_keys("CASEWORK_KEK_PREVIOUS", env.get("CASEWORK_KEK_PREVIOUS", "")),
        previous_audit_keys=_previous_keys(
            "CASEWORK_AUDIT_KEY_PREVIOUS", env.get("CASEWORK_AUDIT_KEY_PREVIOUS", "")
        ),
        instance_dir=instance_dir,
        secret_key=keys["CASEWORK_SECRET_KEY"],
        kek=keys["CASEWORK_KEK"],
        blind_index_key=keys["CASEWORK_BLIND_INDEX_KEY"],
        audit_key=keys["CASEWORK_AUDIT_KEY"],
        smtp_password=env.get(_SENDER_SECRETS["smtp_password"], ""),
        notify_api_key=env.get(_SENDER_SECRETS["notify_api_key"], ""),
        **values,
    )
    if overrides:
        settings = settings.replace(**overrides)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Refuse combinations that must never run."""
    if settings.is_production:
        if settings.demo_mode:
            raise ConfigurationError(
                "demo_mode must be false in production (config/production.toml)"
            )
        if not settings.mfa_required:
            raise ConfigurationError(
                "mfa_required must be true in production (config/production.toml)"
            )
        if settings.is_sqlite:
            raise ConfigurationError("DATABASE_URL must point at PostgreSQL in production")
    if not settings.mfa_required and not settings.demo_mode:
        raise ConfigurationError("mfa_required may only be false when demo_mode is true")
    if settings.keystore_url == settings.database_url:
        raise ConfigurationError(
            "CASEWORK_KEYSTORE_URL must name a database other than DATABASE_URL"
        )
    if any(old.material == settings.kek.material for old in settings.previous_keks):
        raise ConfigurationError("CASEWORK_KEK_PREVIOUS must not repeat the current CASEWORK_KEK")
    if any(old.material == settings.audit_key.material for old in settings.previous_audit_keys):
        raise ConfigurationError(
            "CASEWORK_AUDIT_KEY_PREVIOUS must not repeat the current CASEWORK_AUDIT_KEY"
        )
    for name, value, low, high in (
        ("consent_review_months", settings.consent_review_months, 1, 60),
        ("consent_expiring_days", settings.consent_expiring_days, 1, 365),
        ("lawful_basis_max_days", settings.lawful_basis_max_days, 1, 366),
        ("lawful_basis_review_days", settings.lawful_basis_review_days, 1, 90),
        ("break_glass_hours", settings.break_glass_hours, 1, 72),
        ("trusted_proxy_hops", settings.trusted_proxy_hops, 0, 5),
        ("audit_seal_delay_seconds", settings.audit_seal_delay_seconds, 1, 86_400),
        ("jobs_sweep_seconds", settings.jobs_sweep_seconds, 1, 3_600),
        ("jobs_slow_sweep_seconds", settings.jobs_slow_sweep_seconds, 1, 86_400),
        ("outbox_max_attempts", settings.outbox_max_attempts, 1, 50),
        ("report_suppression_threshold", settings.report_suppression_threshold, 0, 100),
        ("report_export_max_rows", settings.report_export_max_rows, 1, 10_000_000),
        ("smtp_port", settings.smtp_port, 1, 65_535),
        ("smtp_timeout_seconds", settings.smtp_timeout_seconds, 1, 300),
    ):
        if not low <= value <= high:
            raise ConfigurationError(f"{name} must be between {low} and {high}")
    _validate_senders(settings)
    materials = [settings.secret_key, settings.kek, settings.blind_index_key, settings.audit_key]
    if len({key.material for key in materials}) != len(materials):
        raise ConfigurationError("CASEWORK_* secrets must all be different keys")


def _validate_senders(settings: Settings) -> None:
    if settings.notify_backend not in NOTIFY_BACKENDS:
        raise ConfigurationError(f"notify_backend must be one of {', '.join(NOTIFY_BACKENDS)}")
    if settings.notify_backend == "govuk_notify":
        if not settings.notify_api_key:
            raise ConfigurationError(
                "CASEWORK_NOTIFY_API_KEY must be set when notify_backend is govuk_notify"
            )
        if not (settings.notify_email_template_id and settings.notify_sms_template_id):
            raise ConfigurationError(
                "notify_email_template_id and notify_sms_template_id must be set when "
                "notify_backend is govuk_notify"
            )
    if settings.notify_backend == "smtp" and not settings.smtp_host:
        raise ConfigurationError("smtp_host must be set when notify_backend is smtp")
