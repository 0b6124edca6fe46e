"""The ``casework`` command: a Flask CLI group with Casework's own commands.

casework db upgrade | downgrade REV | current
casework demo-data [--if-empty] [--people N [--contacts M] [--bench-manifest PATH]]
casework users create --email ... --name ... --agency ... --role ...
casework agencies create --name ... --kind ...
casework keys status | rotate [--batch-size N] | retire KEK_ID
casework audit seal [--batch-size N] | verify [--strict]
casework jobs run [--once] | status
casework serve [--host 127.0.0.1] [--port 5000] [--workers 2] [--no-jobs]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from casework.access.roles import Role
from casework.audit.recorder import SYSTEM
from casework.security.crypto import DecryptionError
from casework.security.keystore import Keystore, RotationProgress
from casework.security.kit import SecurityKit
from casework.settings import ConfigurationError
from casework.users.services import UserError


def _app() -> Flask:
    from casework.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Casework: case management for multi-agency complex cases."""


# Flask's own --app/--env-file/--debug options mean nothing here: the app is always Casework's.
cli.params = [p for p in cli.params if p.name not in {"app", "env_file", "debug"}]


def main() -> None:
    """The console script: a configuration error is one line on stderr, not a traceback."""
    try:
        cli.main(prog_name="casework")
    except ConfigurationError as exc:
        click.echo(f"casework: configuration error: {exc}", err=True)
        raise SystemExit(2) from None


def _database_url() -> str:
    return str(current_app.extensions["casework.database"].url)


def _kit() -> SecurityKit:
    return current_app.extensions["casework.kit"]  # type: ignore[no-any-return]


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from casework import migrate

    migrate.upgrade(_database_url(), revision)
    _kit().keystore.create_schema()
    click.echo(f"Database is at {revision}; the keystore is ready.")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations back to REVISION (e.g. base)."""
    from casework import migrate

    migrate.downgrade(_database_url(), revision)


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration revision."""
    from casework import migrate

    migrate.current(_database_url())


@cli.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has data.")
@click.option(
    "--people",
    "people_count",
    type=click.IntRange(min=1),
    default=None,
    help="Benchmark set: generate this many people (bulk inserts) instead of the ~60 of the "
    "default set.",
)
@click.option(
    "--contacts",
    "contact_count",
    type=click.IntRange(min=0),
    default=None,
    help="With --people: contacts in all (default: 20 per person).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="With --people: people written per transaction.",
)
@click.option(
    "--bench-manifest",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="With --people: write the benchmark's worker, person and password here (JSON).",
)
@with_appcontext
def demo_data(
    if_empty: bool,
    people_count: int | None,
    contact_count: int | None,
    batch_size: int,
    bench_manifest: Path | None,
) -> None:
    """Load the fictional Northdale partnership: agencies, teams, one account per role, more
    staff, and about 60 people supported with a year of history; or, with --people, a large
    generated set for benchmarks."""
    from casework.demo import data, people, welfare

    if people_count is None and (contact_count is not None or bench_manifest is not None):
        raise click.UsageError("--contacts and --bench-manifest go with --people")
    database = current_app.extensions["casework.database"]
    kit = current_app.extensions["casework.kit"]
    with database.reading() as session:
        empty = data.is_empty(session)
    if not empty:
        if if_empty:
            click.echo("Database already has data; demo data not loaded.")
            return
        raise click.ClickException("the database already has data; demo data needs an empty one")
    if people_count is not None:
        _large_demo_data(people_count, contact_count, batch_size, bench_manifest)
        return
    steps = len(data.AGENCIES) + len(data.ACCOUNTS) + len(data.STAFF) + people.EXPECTED_PEOPLE
    with (
        click.progressbar(length=steps, label="Loading demo data") as bar,
        database.transaction() as session,
    ):
        data.load(session, kit, progress=lambda _step: bar.update(1))
        summary = people.load(session, kit, progress=lambda _step: bar.update(1))
        schedules = welfare.load(session, worker_email=people.HOPE_WORKER)
    _seal_once(5000, quiet=True)
    click.echo(
        f"Loaded {len(data.AGENCIES)} agencies and {len(data.ACCOUNTS)} demo accounts "
        f"(password: {data.DEMO_PASSWORD})."
    )
    click.echo(
        f"Also {len(data.STAFF)} more staff, and {summary.people} people supported with "
        f"{summary.contacts} contacts over the last year. Sign in as {people.HOPE_WORKER} to "
        f"see a HOPE-team caseload, with {schedules} welfare-check schedules."
    )


def _large_demo_data(
    people_count: int, contact_count: int | None, batch_size: int, manifest_path: Path | None
) -> None:
    import json

    from casework.demo import data, large

    database = current_app.extensions["casework.database"]
    kit = current_app.extensions["casework.kit"]
    contacts = 20 * people_count if contact_count is None else contact_count
    with database.transaction() as session:
        data.load(session, kit)
    manifest = large.generate(
        database,
        kit,
        people=people_count,
        contacts=contacts,
        batch_size=batch_size,
        progress=lambda p: click.echo(p.line(), err=True),
    )
    click.echo(
        f"Generated {manifest.people:,} people, {manifest.contacts:,} contacts and "
        f"{manifest.workers:,} more workers in {manifest.seconds:,.0f} s."
    )
    click.echo(
        f"Benchmark: sign in as {manifest.worker_email} (caseload {manifest.worker_caseload}, "
        f"password {manifest.password}); person {manifest.person_id} has "
        f"{manifest.person_contacts} contacts."
    )
    if manifest_path is not None:
        manifest_path.write_text(json.dumps(manifest.as_json(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"Wrote {manifest_path}.")


@cli.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--agency", "agency_name", required=True, help="The agency's exact name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.password_option(prompt="Password (the user must change it at first sign-in)")
@with_appcontext
def users_create(
    email: str, full_name: str, agency_name: str, roles: tuple[str, ...], password: str
) -> None:
    """Create a user account (e.g. the first administrator)."""
    from sqlalchemy import select

    from casework.agencies.models import Agency
    from casework.users import services

    database = current_app.extensions["casework.database"]
    kit = current_app.extensions["casework.kit"]
    try:
        with database.transaction() as session:
            agency = session.scalar(select(Agency).where(Agency.name == agency_name))
            if agency is None:
                raise click.ClickException(f"no agency called {agency_name!r}")
            user = services.create_user(
                session,
                kit,
                SYSTEM,
                email=email,
                full_name=full_name,
                agency=agency,
                roles=[Role(r) for r in roles],
                password=password,
            )
            click.echo(
                f"Created {user.email}. They set a new password and two-factor "
                "authentication at first sign-in."
            )
    except UserError as exc:
        raise click.ClickException(exc.message) from exc


@cli.group("agencies")
def agencies_group() -> None:
    """Agencies."""


@agencies_group.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, help="e.g. treatment, housing, police, other")
@with_appcontext
def agencies_create(name: str, kind: str) -> None:
    """Create an agency (for bootstrapping a new installation)."""
    from casework.agencies import services
    from casework.agencies.models import AgencyKind

    try:
        agency_kind = AgencyKind(kind)
    except ValueError as exc:
        raise click.BadParameter(
            "one of " + ", ".join(k.value for k in AgencyKind), param_hint="--kind"
        ) from exc
    database = current_app.extensions["casework.database"]
    try:
        with database.transaction() as session:
            services.create_agency(session, SYSTEM, name=name, kind=agency_kind)
    except services.AgencyError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created agency {name}.")


@cli.group("pathways")
def pathways_group() -> None:
    """Referral pathways (config/pathways/*.toml)."""


@pathways_group.command("check")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def pathways_check(directory: Path | None) -> None:
    """Check pathway files before a restart (the app checks them again at start-up)."""
    from casework.pathways.definitions import PATHWAYS_DIR, load_pathways
    from casework.people.codes import information

    try:
        found = load_pathways(directory or PATHWAYS_DIR, frozenset(information().alerts))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    for pathway in found.all():
        click.echo(
            f"{pathway.key}: {pathway.name} ({len(pathway.stages)} stages, "
            f"{len(pathway.transitions)} transitions)"
        )


@cli.group("keys")
def keys_group() -> None:
    """Key-encryption keys (CASEWORK_KEK) and the person keys they wrap, in the keystore."""


def _keystore() -> Keystore:
    return _kit().keystore


def _keystore_error(exc: SQLAlchemyError) -> click.ClickException:
    reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown"])[0]
    return click.ClickException(
        f"cannot use the keystore ({reason}); has `casework db upgrade` been run?"
    )


@keys_group.command("status")
@with_appcontext
def keys_status() -> None:
    """Show the current key-encryption key and how many person keys each key wraps."""
    keystore = _keystore()
    try:
        usage = keystore.usage()
        retired = keystore.retired()
    except SQLAlchemyError as exc:
        raise _keystore_error(exc) from exc
    current = keystore.current_kek_id
    previous = keystore.previous_kek_ids
    click.echo(f"Current key-encryption key (CASEWORK_KEK): {current}")
    click.echo(f"Person keys: {sum(usage.values())}")
    for kek_id in sorted({current, *previous, *usage, *retired}):
        count = usage.get(kek_id, 0)
        if kek_id == current:
            state = "current"
        elif kek_id in retired:
            state = "retired" + (
                ": remove it from CASEWORK_KEK_PREVIOUS" if kek_id in previous else ""
            )
        elif count:
            state = "earlier key: run `casework keys rotate`"
        else:
            state = f"earlier key, unused: `casework keys retire {kek_id}`"
        click.echo(f"  {kek_id}  {count:>8} person key(s)  {state}")


@keys_group.command("rotate")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Person keys re-wrapped per transaction.",
)
@with_appcontext
def keys_rotate(batch_size: int) -> None:
    """Re-wrap every person key made under an earlier key with the current CASEWORK_KEK.

    Safe to stop at any point and run again: each batch commits on its own."""
    keystore = _keystore()

    def report(progress: RotationProgress) -> None:
        click.echo(f"re-wrapped {progress.rewrapped}, {progress.remaining} to go", err=True)

    try:
        rewrapped = keystore.rotate(batch_size=batch_size, progress=report)
    except (ConfigurationError, DecryptionError) as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _keystore_error(exc) from exc
    current = keystore.current_kek_id
    if rewrapped:
        click.echo(f"Re-wrapped {rewrapped} person key(s) under {current}.")
    else:
        click.echo(f"Every person key is already under {current}.")
    from casework.auth.services import reencrypt_totp_secrets

    with current_app.extensions["casework.database"].transaction() as db:
        secrets_done = reencrypt_totp_secrets(db, _kit())
    if secrets_done:
        click.echo(f"Re-encrypted {secrets_done} two-factor secret(s) under {current}.")
    retired = keystore.retired()
    for kek_id in keystore.previous_kek_ids:
        if kek_id in retired:
            continue
        click.echo(f"No person key uses {kek_id} now: `casework keys retire {kek_id}`.")


@keys_group.command("retire")
@click.argument("kek_id")
@with_appcontext
def keys_retire(kek_id: str) -> None:
    """Record that the earlier key KEK_ID is no longer used (refused while any key uses it)."""
    keystore = _keystore()
    kek_id = kek_id.strip().lower()
    from casework.auth.services import totp_secrets_under

    with current_app.extensions["casework.database"].reading() as db:
        in_use = totp_secrets_under(db, kek_id)
    if in_use:
        raise click.ClickException(
            f"{in_use} two-factor secret(s) still use key {kek_id}: "
            "run `casework keys rotate` first"
        )
    try:
        keystore.retire(kek_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _keystore_error(exc) from exc
    click.echo(
        f"Key {kek_id} is retired: remove it from CASEWORK_KEK_PREVIOUS. Keystore backups "
        "taken before the rotation still need it."
    )


@cli.group("audit")
def audit_group() -> None:
    """The audit log's tamper evidence: row MACs, seals over batches, the outside copy."""


def _audit_outside_copy() -> Path:
    """Where each new seal is copied, outside the database (append-only)."""
    return _kit().settings.instance_dir / "audit-seals.log"


def _audit_database_error(exc: SQLAlchemyError) -> click.ClickException:
    reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown"])[0]
    return click.ClickException(
        f"cannot use the audit tables ({reason}); has `casework db upgrade` been run?"
    )


@audit_group.command("seal")
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Audit rows per seal (each seal is one short transaction).",
)
@click.option(
    "--every",
    "every_seconds",
    type=click.IntRange(min=1),
    default=None,
    help="Keep running and seal every this many seconds, until stopped (SIGTERM or Ctrl+C).",
)
@with_appcontext
def audit_seal(batch_size: int, every_seconds: int | None) -> None:
    """Seal every audit row older than the sealing delay that no seal covers yet.

    Safe to run at any time, and from several places at once: sealers queue for each other."""
    if every_seconds is None:
        _seal_once(batch_size)
        return
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Sealing the audit log every {every_seconds} s.")
    try:
        while not stop.is_set():
            try:
                _seal_once(batch_size, quiet=True)
            except click.ClickException as exc:
                click.echo(f"casework audit seal: {exc.message}", err=True)
            stop.wait(every_seconds)
    except KeyboardInterrupt:
        pass


def _seal_once(batch_size: int, *, quiet: bool = False) -> None:
    from casework.audit import sealing
    from casework.clock import utcnow

    kit = _kit()
    outside = _audit_outside_copy()
    try:
        sealed = sealing.seal_pending(
            current_app.extensions["casework.database"],
            kit.audit_keys,
            now=utcnow(),
            delay_seconds=kit.settings.audit_seal_delay_seconds,
            outside=outside,
            batch_size=batch_size,
        )
    except SQLAlchemyError as exc:
        raise _audit_database_error(exc) from exc
    except OSError as exc:
        raise click.ClickException(
            f"a seal is in the database but could not be copied to {outside} ({exc}): "
            "fix the file and run `casework audit verify`"
        ) from exc
    if quiet:
        return
    rows = sum(seal.count for seal in sealed)
    if not sealed:
        click.echo("Sealed 0 audit rows in 0 seals: nothing was waiting to be sealed.")
        return
    click.echo(
        f"Sealed {rows} audit row(s) in {len(sealed)} seal(s) "
        f"(seals {sealed[0].seq} to {sealed[-1].seq})."
    )


@audit_group.command("verify")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on warnings too (unsealed old rows, rows without a MAC, seals not yet copied "
    "outside the database).",
)
@with_appcontext
def audit_verify(strict: bool) -> None:
    """Check every audit row's MAC, every seal and the outside copy of the seals.

    Exit status 1 if anything was edited, deleted or reordered (or, with --strict, on any
    warning)."""
    from casework.audit import sealing
    from casework.clock import utcnow

    kit = _kit()
    outside = _audit_outside_copy()
    try:
        report = sealing.verify(
            current_app.extensions["casework.database"],
            kit.audit_keys,
            now=utcnow(),
            delay_seconds=kit.settings.audit_seal_delay_seconds,
            outside=outside,
        )
    except SQLAlchemyError as exc:
        raise _audit_database_error(exc) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot read the outside copy {outside} ({exc})") from exc
    if report.ok:
        click.echo(
            f"Audit log intact: {report.rows_checked} rows, {report.seals_checked} seals checked."
        )
    else:
        for problem in report.problems:
            click.echo(f"problem: {problem}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if not report.ok:
        raise click.ClickException(
            f"the audit log fails verification: {len(report.problems)} problem(s) in "
            f"{report.rows_checked} rows and {report.seals_checked} seals"
        )
    if strict and report.warnings:
        raise click.ClickException(f"{len(report.warnings)} warning(s), and --strict was given")


@cli.group("jobs")
def jobs_group() -> None:
    """The job runner: reminders, escalation, consent reviews, the outbox, audit sealing."""


def _runner() -> Any:
    from casework.jobs.runner import Runner

    return Runner(current_app.extensions["casework.database"], _kit())


@jobs_group.command("run")
@click.option("--once", is_flag=True, help="Run every sweep once and exit (for cron and tests).")
@with_appcontext
def jobs_run(once: bool) -> None:
    """Run the sweeps: every jobs_sweep_seconds for reminders and the outbox, every
    jobs_slow_sweep_seconds for the rest, until stopped (SIGTERM or Ctrl+C). Any number of
    runners may run at once: reminders and messages are claimed row by row."""
    runner = _runner()
    if not once:
        click.echo(f"casework jobs run: runner {runner.name} started (Ctrl+C to stop)")
        runner.run_forever()
        return
    failed = []
    for outcome in runner.run_once():
        if outcome.skipped:
            click.echo(f"{outcome.name}: skipped (another runner holds its lease)")
        elif outcome.error:
            failed.append(outcome.name)
            click.echo(f"{outcome.name}: failed ({outcome.error}); see the log")
        elif outcome.result is not None:
            click.echo(f"{outcome.name}: {outcome.result.summary()}")
    if failed:
        raise click.ClickException(f"{len(failed)} sweep(s) failed: {', '.join(failed)}")


def _ago(moment: Any, now: Any) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


@jobs_group.command("status")
@with_appcontext
def jobs_status() -> None:
    """Each sweep's last run and lag, and what is waiting."""
    from casework.clock import utcnow
    from casework.jobs import queries

    now = utcnow()
    with current_app.extensions["casework.database"].reading() as db:
        runs = queries.job_runs(db)
        figures = queries.queue_figures(db, now)
    if not runs:
        click.echo("No sweep has run yet: start `casework jobs run`.")
    for run in runs:
        click.echo(
            f"{run.name:<16} last finished {_ago(run.last_finished_at, now):<12} "
            f"{run.last_outcome or '-':<7} runs {run.runs:<6} "
            f"{run.last_error or run.last_summary or ''}"
        )
    oldest = (
        f", the oldest due {_ago(figures.oldest_due_reminder, now)}"
        if figures.oldest_due_reminder
        else ""
    )
    click.echo(
        f"Waiting: {figures.reminders_due} reminder(s) due{oldest}; "
        f"{figures.outbox_queued} message(s) to send; {figures.outbox_failed} failed."
    )


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--jobs/--no-jobs",
    default=True,
    show_default=True,
    help="Also run `casework jobs run` beside the server, in a process of its own.",
)
def serve(host: str, port: int, workers: int, jobs: bool) -> None:
    """Serve Casework with gunicorn and, beside it, the job runner (reminders, escalation,
    the outbox, audit sealing) in a process of its own: never inside the gunicorn workers."""
    import subprocess
    import sys

    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)

        def load(self) -> Any:
            return _app()

    runner = None
    if jobs:
        runner = subprocess.Popen([sys.executable, "-m", "casework.cli", "jobs", "run"])
    click.echo(f"Casework is running at http://{host}:{port}/ (press Ctrl+C to stop)")
    try:
        Server().run()
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=30)


if __name__ == "__main__":
    main()


# --- reports -------------------------------------------------------------------------------


@cli.group("reports")
def reports_group() -> None:
    """Manager and partnership reports."""


def _report_viewer(email: str) -> Any:
    """The named user as the access policy sees them; they need a reports role."""
    from sqlalchemy import func, select

    from casework.access.policy import Viewer
    from casework.reports import services
    from casework.users.models import User

    database = current_app.extensions["casework.database"]
    with database.reading() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None or not user.active or user.is_service_account:
            raise click.ClickException(f"no active user with the email address {email!r}")
        viewer = Viewer(user.id, user.agency_id, user.agency.kind, user.roles)
    if services.scope_for(viewer) is None:
        raise click.ClickException(
            f"{email} is not a manager or a partnership lead, so has no reports"
        )
    return viewer


def _temporary_beside(output: Path, body: bytes) -> Path:
    """``body`` written whole to a temporary file in ``output``'s folder (renamed over
    ``output`` once the export is audited, so ``output`` is the whole export or untouched)."""
    import os
    import tempfile

    handle, temporary = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


@reports_group.command("build")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--from", "start", required=True, help="First day of the period, e.g. 2026-04-01.")
@click.option("--to", "end", required=True, help="Last day of the period, e.g. 2027-03-31.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The file to write (replaced whole, or left alone on an error).",
)
@click.option("--table", "table_key", default=None, help="CSV: the table to write (its key).")
@click.option(
    "--as",
    "email",
    required=True,
    help="The manager or partnership lead the report is for: the figures depend on who asks.",
)
@with_appcontext
def reports_build(
    *,
    name: str,
    fmt: str,
    start: str,
    end: str,
    output: Path,
    table_key: str | None,
    email: str,
) -> None:
    """Build report NAME as a CSV (one table) or XLSX file, suppressed as every export is."""
    from casework.audit.recorder import Actor
    from casework.clock import london_today, utcnow
    from casework.reports import exports, services
    from casework.reports.definitions import REPORTS

    if name not in REPORTS:
        raise click.ClickException(f"no report called {name!r}; one of: {', '.join(REPORTS)}")
    if not output.parent.is_dir():
        raise click.ClickException(f"no folder {str(output.parent)!r} to write {output.name} in")
    viewer = _report_viewer(email)
    database = current_app.extensions["casework.database"]
    limit = _kit().settings.report_export_max_rows
    with database.reading() as session:
        try:
            filters = services.check_filters(
                session, viewer, {"from": start, "to": end}, today=london_today()
            )
        except services.FilterError as error:
            raise click.ClickException(
                f"--{error.field.replace('_', '-')}: {error.message}"
            ) from None
        with click.progressbar(length=1, label=f"Building {name}") as bar:
            report = services.build(
                session,
                viewer,
                name,
                filters,
                now=utcnow(),
                export=True,
                threshold=_kit().settings.report_suppression_threshold,
            )
            bar.update(1)
    keys = [table.key for table in report.tables()]
    if fmt == "csv":
        if table_key is None and len(keys) == 1:
            table_key = keys[0]
        if table_key not in keys:
            raise click.ClickException(
                f"choose a table with --table: one of {', '.join(keys)}"
                if table_key is None
                else f"no table {table_key!r} in {name}; one of: {', '.join(keys)}"
            )
    try:
        exports.check_size(report, limit, table_key if fmt == "csv" else None)
    except exports.ExportTooLargeError as error:
        raise click.ClickException(str(error)) from None
    with click.progressbar(length=len(keys), label="Writing tables") as bar:
        if fmt == "csv":
            body = exports.table_csv(report.table(str(table_key)))
            bar.update(len(keys))
        else:
            body = exports.report_xlsx(report, on_table=lambda _table: bar.update(1))
    temporary = _temporary_beside(output, body)
    actor = Actor(viewer.user_id, viewer.agency_id, "cli", roles=frozenset(viewer.roles))
    try:
        _audit_export(
            database,
            actor,
            name=name,
            fmt=fmt,
            filters=filters,
            report=report,
            table_key=table_key,
        )
        temporary.replace(output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {output} ({len(body):,} bytes).")


def _audit_export(
    database: Any,
    actor: Any,
    *,
    name: str,
    fmt: str,
    filters: Any,
    report: Any,
    table_key: str | None,
) -> None:
    from casework.audit.recorder import record
    from casework.reports import exports

    with database.transaction() as session:
        details: dict[str, object] = {
            "report": name,
            "format": fmt,
            "filters": filters.query_args(),
            "rows": exports.row_count(report, table_key if fmt == "csv" else None),
            "via": "command line",
        }
        if fmt == "csv":
            details["table"] = table_key
        record(session, actor, "report.exported", details=details)
