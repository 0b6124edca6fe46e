"""Senders for messages outside the app: the log (default), SMTP, and GOV.UK Notify.

Every message is content-free and carries its outbox id as the provider's reference (the
email's Message-ID, Notify's ``reference``), so the one possible repeat — a crash after the
provider accepted a message and before the outbox recorded it — can be found and matched.
A sender raises :class:`TemporaryFailure` (tried again later, with back-off) or
:class:`PermanentFailure` (shown to admins as failed at once). Neither error's text holds the
address or the message: only the provider's code and reason.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from casework.notifications.models import Channel
from casework.settings import Settings

log = logging.getLogger("casework.outbox")

EMAIL_SUBJECT = "You have work due in Casework"


@dataclass(frozen=True)
class Outgoing:
    outbox_id: uuid.UUID
    channel: Channel
    to: str
    body: str


class TemporaryFailure(Exception):  # noqa: N818 - reads better at call sites
    """The provider could not take the message now (down, throttled): try again later."""


class PermanentFailure(Exception):  # noqa: N818 - reads better at call sites
    """The provider refused the message (a bad address, a bad key): trying again won't help."""


class Sender(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Hand the message over; return the provider's reference for it."""


class LogSender:
    """Development and demo: the outbox table is the record; the log says a message went."""

    name = "log"

    def send(self, message: Outgoing) -> str:
        log.info("outbox %s: %s message written (log sender)", message.outbox_id, message.channel)
        return f"log:{message.outbox_id}"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "casework.invalid"


class SmtpSender:
    """Email through an SMTP relay. SMS cannot go this way: it fails permanently."""

    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Outgoing) -> str:
        if message.channel is not Channel.EMAIL:
            raise PermanentFailure("the smtp sender sends email only")
        settings = self.settings
        email = EmailMessage()
        message_id = f"<{message.outbox_id}@{_domain(settings.mail_from)}>"
        email["Message-ID"] = message_id
        email["Date"] = formatdate(localtime=False)
        email["From"] = settings.mail_from
        email["To"] = message.to
        email["Subject"] = EMAIL_SUBJECT
        email.set_content(message.body)
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            ) as server:
                if settings.smtp_starttls:
                    server.starttls(context=ssl.create_default_context())
                if settings.smtp_username:
                    server.login(settings.smtp_username, settings.smtp_password)
                server.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("the mail server refused the recipient") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"the mail server refused the login ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"the mail server refused it ({exc.smtp_code})") from exc
            raise TemporaryFailure(f"the mail server deferred it ({exc.smtp_code})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                f"the mail server could not be reached ({type(exc).__name__})"
            ) from exc
        return message_id


class NotifySender:
    """GOV.UK Notify through its official client; the outbox id is Notify's ``reference``.
    Each template's body is the single placeholder ``((body))``."""

    name = "govuk_notify"

    def __init__(self, settings: Settings) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.settings = settings
        self.client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.notify_api_key,
            base_url=settings.notify_base_url,
            timeout=settings.smtp_timeout_seconds,
        )

    def send(self, message: Outgoing) -> str:
        from notifications_python_client.errors import APIError, HTTPError

        reference = str(message.outbox_id)
        try:
            if message.channel is Channel.EMAIL:
                response = self.client.send_email_notification(  # type: ignore[no-untyped-call]
                    email_address=message.to,
                    template_id=self.settings.notify_email_template_id,
                    personalisation={"body": message.body},
                    reference=reference,
                )
            else:
                response = self.client.send_sms_notification(  # type: ignore[no-untyped-call]
                    phone_number=message.to,
                    template_id=self.settings.notify_sms_template_id,
                    personalisation={"body": message.body},
                    reference=reference,
                )
        except HTTPError as exc:
            status = exc.status_code
            if status in {400, 403}:
                raise PermanentFailure(f"GOV.UK Notify refused it ({status})") from exc
            raise TemporaryFailure(f"GOV.UK Notify could not take it ({status})") from exc
        except APIError as exc:
            raise TemporaryFailure(
                f"GOV.UK Notify could not be reached ({type(exc).__name__})"
            ) from exc
        except OSError as exc:
            raise TemporaryFailure(
                f"GOV.UK Notify could not be reached ({type(exc).__name__})"
            ) from exc
        found = response.get("id") if isinstance(response, dict) else None
        return f"notify:{found or reference}"


def sender_for(settings: Settings) -> Sender:
    if settings.notify_backend == "smtp":
        return SmtpSender(settings)
    if settings.notify_backend == "govuk_notify":
        return NotifySender(settings)
    return LogSender()
