"""Time-based one-time passwords (RFC 6238) with pyotp: enrolment, QR code, single use."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

STEP_SECONDS = 30
#: Accept the code for the previous and next 30-second step too (clock drift on phones).
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """An SVG QR code as a data URI (shown in an <img>, so no inline SVG styles break the CSP)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_timestep(secret: str, code: str, at: datetime, *, after: int | None) -> int | None:
    """The time-step ``code`` is valid for at ``at``, if any and later than ``after``.

    Returning the step lets the caller store it, so the same code cannot be used twice.
    """
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
