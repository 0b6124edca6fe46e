"""The job runner's loop, its commands, /healthz, and the senders of the outbox (SMTP and
GOV.UK Notify against local fakes): retries with back-off, failures shown, nothing lost."""

from __future__ import annotations

import json
import socketserver
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import cli
from casework.access.roles import Role
from casework.db import Database
from casework.jobs import services as jobs
from casework.jobs.runner import Runner
from casework.notifications.models import Channel, OutboxMessage, OutboxState
from casework.notifications.senders import NotifySender, Outgoing, SmtpSender
from casework.security.kit import SecurityKit
from casework.settings import Settings
from casework.users.models import User
from tests.conftest import Builders, Clock
from tests.welfare_support import Captured, notifications, outbox, schedule


def _due_reminder(build: Builders, frozen_clock: Clock, *, email: bool = True) -> Any:
    agency = build.agency()
    worker = build.user(Role.WORKER, agency=agency)
    with build.database.transaction() as db:
        user = db.get_one(User, worker.id)
        user.notify_by_email = email
    person = build.person(worker, "Sam", "Birchwood")
    from casework.clock import to_london

    at = to_london(frozen_clock.now + timedelta(minutes=10)).time().replace(second=0, microsecond=0)
    schedule(build, person, by=worker, at=at)
    frozen_clock.advance(minutes=15)
    return worker


def test_the_runner_loop_sweeps_on_its_interval_and_stops_cleanly(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker = _due_reminder(build, frozen_clock)
    fast = Runner(database, kit, name="loop", sender=Captured())
    fast.settings = kit.settings.replace(jobs_sweep_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=fast.run_forever, args=(stop,))
    thread.start()
    try:
        for _ in range(50):
            if notifications(database, worker.id):
                break
            stop.wait(0.2)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert [n.subject for n in notifications(database, worker.id)] == ["A welfare check is due now"]


def test_jobs_run_once_and_status_and_healthz(
    app: Flask, client: FlaskClient, build: Builders, database: Database, frozen_clock: Clock
) -> None:
    worker = _due_reminder(build, frozen_clock)
    runner = app.test_cli_runner()
    before = runner.invoke(cli.jobs_status, [])
    assert "No sweep has run yet" in before.output
    assert "1 reminder(s) due" in before.output
    result = runner.invoke(cli.jobs_run, ["--once"])
    assert result.exit_code == 0, result.output
    assert "reminders: 1 reminders sent" in result.output
    assert "outbox: 1 sent" in result.output
    assert len(notifications(database, worker.id)) == 1
    status = runner.invoke(cli.jobs_status, [])
    assert "reminders" in status.output
    assert "0 reminder(s) due" in status.output
    health = client.get("/healthz").json
    assert health is not None
    assert health["jobs"] == {"last_sweep_finished_seconds_ago": 0, "state": "ok"}
    frozen_clock.advance(minutes=10)
    late = client.get("/healthz").json
    assert late is not None
    assert late["jobs"]["state"] == "late"


# --- SMTP -------------------------------------------------------------------------------------


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message and keep it."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 fake ESMTP\r\n")
        data: list[bytes] = []
        reading = False
        while line := self.rfile.readline():
            if reading:
                if line in {b".\r\n", b".\n"}:
                    reading = False
                    server.messages.append(b"".join(data).decode())
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 fake\r\n")
            elif command.startswith(b"RCPT") and server.refuse:
                self.wfile.write(b"550 no such user\r\n")
            elif command.startswith(b"DATA"):
                reading = True
                self.wfile.write(b"354 go on\r\n")
            elif command.startswith(b"QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages, server.refuse = [], False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_sends_a_content_free_email_with_the_outbox_id_as_message_id(
    settings: Settings, smtp_server: Any
) -> None:
    sender = SmtpSender(
        settings.replace(smtp_host="127.0.0.1", smtp_port=smtp_server.server_address[1])
    )
    outbox_id = uuid.uuid4()
    reference = sender.send(
        Outgoing(outbox_id, Channel.EMAIL, "worker@example.org", "You have work.")
    )
    assert reference == f"<{outbox_id}@localhost>"
    [message] = smtp_server.messages
    assert f"Message-ID: <{outbox_id}@localhost>" in message
    assert "You have work." in message


def test_a_mail_server_that_is_down_is_retried_with_back_off_then_marked_failed(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    _due_reminder(build, frozen_clock)
    down = SmtpSender(
        kit.settings.replace(smtp_host="127.0.0.1", smtp_port=9, smtp_timeout_seconds=1)
    )
    jobs.sweep_reminders(database, _vault(kit), _rules(kit), runner="t")
    first = jobs.deliver_outbox(database, down, runner="t", max_attempts=3)
    assert first.counts == {"to try again": 1}
    [row] = outbox(database)
    assert row.state is OutboxState.QUEUED
    assert row.next_attempt_at == frozen_clock.now + timedelta(minutes=1)
    assert "could not be reached" in (row.last_error or "")
    # Not before its back-off; then again, and after the third attempt it is failed.
    assert jobs.deliver_outbox(database, down, runner="t", max_attempts=3).counts == {}
    for _ in range(2):
        frozen_clock.advance(hours=1)
        jobs.deliver_outbox(database, down, runner="t", max_attempts=3)
    [row] = outbox(database)
    assert row.state is OutboxState.FAILED
    assert row.attempts == 3
    # An admin sends it again once the server is back: it goes, once.
    assert jobs.retry_failed(database, [row.id]) == 1
    captured = Captured()
    jobs.deliver_outbox(database, captured, runner="t", max_attempts=3)
    assert len(captured.sent) == 1
    assert outbox(database)[0].state is OutboxState.SENT


def test_a_refused_recipient_fails_at_once(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock, smtp_server: Any
) -> None:
    smtp_server.refuse = True
    _due_reminder(build, frozen_clock)
    sender = SmtpSender(
        kit.settings.replace(smtp_host="127.0.0.1", smtp_port=smtp_server.server_address[1])
    )
    jobs.sweep_reminders(database, _vault(kit), _rules(kit), runner="t")
    assert jobs.deliver_outbox(database, sender, runner="t", max_attempts=5).counts == {"failed": 1}
    assert outbox(database)[0].last_error == "the mail server refused the recipient"


# --- GOV.UK Notify ----------------------------------------------------------------------------


class _Notify(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: Any = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append((self.path, body))
        status = server.status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        answer = (
            {"id": "notify-123"}
            if status == 201
            else {"errors": [{"error": "BadRequestError", "message": "bad"}], "status_code": status}
        )
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def notify_server() -> Iterator[Any]:
    server: Any = HTTPServer(("127.0.0.1", 0), _Notify)
    server.requests, server.status = [], 201
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _notify_settings(settings: Settings, server: Any) -> Settings:
    key = f"casework_test-{uuid.uuid4()}-{uuid.uuid4()}"
    return settings.replace(
        notify_backend="govuk_notify",
        notify_api_key=key,
        notify_base_url=f"http://127.0.0.1:{server.server_address[1]}",
        notify_email_template_id=str(uuid.uuid4()),
        notify_sms_template_id=str(uuid.uuid4()),
    )


@pytest.mark.parametrize(("status", "state"), [(201, "sent"), (400, "failed"), (500, "queued")])
def test_notify_gets_the_outbox_id_as_its_reference_and_errors_are_sorted(
    settings: Settings,
    notify_server: Any,
    status: int,
    state: str,
    build: Builders,
    database: Database,
    kit: SecurityKit,
    frozen_clock: Clock,
) -> None:
    notify_server.status = status
    _due_reminder(build, frozen_clock)
    jobs.sweep_reminders(database, _vault(kit), _rules(kit), runner="t")
    sender = NotifySender(_notify_settings(settings, notify_server))
    jobs.deliver_outbox(database, sender, runner="t", max_attempts=5)
    [row] = outbox(database)
    assert row.state.value == state
    [(path, body)] = notify_server.requests
    assert path == "/v2/notifications/email"
    assert body["reference"] == str(row.id)
    assert body["personalisation"] == {"body": row.body}
    if status == 201:
        assert row.provider_ref == "notify:notify-123"


def _vault(kit: SecurityKit) -> Any:
    from casework.security.vault import Vault

    return Vault(kit.keystore)


def _rules(kit: SecurityKit) -> Any:
    from casework.consent.rules import SharingRules

    return SharingRules.from_settings(kit.settings)


def test_outbox_rows_are_unique_per_reminder_user_and_channel(database: Database) -> None:
    with database.reading() as db:
        assert db.scalars(select(OutboxMessage)).all() == []
    assert OutboxMessage.__table__.c.dedupe_key.unique


def test_admins_see_the_outbox_and_send_a_failed_message_again(
    signed_in: Any, client: FlaskClient, build: Builders, database: Database, frozen_clock: Clock
) -> None:
    _due_reminder(build, frozen_clock)
    with database.transaction() as db:
        db.add(
            OutboxMessage(
                id=uuid.uuid4(),
                user_id=db.scalars(select(User.id)).first(),
                channel=Channel.EMAIL,
                kind="reminder",
                body="You have work due.",
                dedupe_key="test:1",
                state=OutboxState.FAILED,
                attempts=8,
                last_error="the mail server refused it (550)",
                created_at=frozen_clock.now,
                next_attempt_at=frozen_clock.now,
            )
        )
    signed_in(Role.ADMIN)
    page = client.get("/admin/outbox?state=failed")
    assert page.status_code == 200
    assert "the mail server refused it (550)" in page.text
    [row] = outbox(database)
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 400  # no CSRF token
