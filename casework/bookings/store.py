"""Where a booking journey's answers wait until the final submit: the user's Flask session.

Casework's Flask session is a signed cookie (it otherwise holds only the server-side session's
token), so the answers are **encrypted** (AES-GCM with the system key for users' secrets) and
bound to the user's server-side session: a copied cookie value does not open in another
session, and signing out (which ends the server-side session) makes the answers unreadable.
Nothing of the journey is in a URL, and nothing is written to the database until the submit.
"""

from __future__ import annotations

import base64
import json

from flask import session

from casework.bookings.journey import Journey
from casework.security.crypto import DecryptionError
from casework.web import context

KEY = "booking_journey"


def _aad() -> bytes:
    return f"booking_journey|answers|{context.principal().session_id}".encode()


def load() -> Journey | None:
    sealed = session.get(KEY)
    if not isinstance(sealed, str):
        return None
    try:
        plain = context.kit().user_secrets.decrypt(base64.b64decode(sealed), _aad())
        return Journey.from_dict(json.loads(plain))
    except (DecryptionError, ValueError, TypeError):
        session.pop(KEY, None)
        return None


def save(journey: Journey) -> None:
    plain = json.dumps(journey.to_dict(), separators=(",", ":")).encode()
    session[KEY] = base64.b64encode(context.kit().user_secrets.encrypt(plain, _aad())).decode()


def clear() -> None:
    session.pop(KEY, None)
