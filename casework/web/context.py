"""Request-scoped access to the database, the security kit and the acting user.

Views use these instead of reaching into ``current_app`` or ``g`` themselves.
"""

from __future__ import annotations

import uuid

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.api.queries import TokenPrincipal
from casework.audit.recorder import Actor
from casework.db import Database
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.settings import Settings
from casework.web.principal import Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database() -> Database:
    return current_app.extensions["casework.database"]  # type: ignore[no-any-return]


def kit() -> SecurityKit:
    return current_app.extensions["casework.kit"]  # type: ignore[no-any-return]


def settings() -> Settings:
    return kit().settings


def db() -> Session:
    """The request's session: read-only on GET/HEAD, one write transaction otherwise.

    The lifecycle commits it after a successful (2xx/3xx) non-GET response and rolls it back
    otherwise. Services only flush.
    """
    session: Session | None = g.get("_casework_db")
    if session is None:
        session = database().session(write=request.method not in SAFE_METHODS)
        g._casework_db = session
    return session


def principal() -> Principal:
    user = current_user._get_current_object()
    if not isinstance(user, Principal):
        raise RuntimeError("principal() called outside a signed-in request")
    return user


def request_id() -> str:
    rid: str | None = g.get("request_id")
    if rid is None:
        rid = uuid.uuid4().hex
        g.request_id = rid
    return rid


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _api_principal() -> TokenPrincipal | None:
    found = g.get("api_principal")
    return found if isinstance(found, TokenPrincipal) else None


def actor() -> Actor:
    """The acting user as the services see it (anonymous before sign-in). On the API, the
    token's user or service account."""
    token = _api_principal()
    if token is not None:
        return Actor(
            user_id=token.user_id,
            agency_id=token.agency_id,
            request_id=request_id(),
            ip_address=client_ip(),
            roles=frozenset(str(role) for role in token.roles),
        )
    user = current_user._get_current_object()
    if isinstance(user, Principal):
        return Actor(
            user_id=user.id,
            agency_id=user.agency_id,
            request_id=request_id(),
            ip_address=client_ip(),
            roles=frozenset(str(role) for role in user.roles),
        )
    return Actor(user_id=None, agency_id=None, request_id=request_id(), ip_address=client_ip())


def vault() -> Vault:
    """The request's vault: each person's data key is fetched once per request."""
    found: Vault | None = g.get("_casework_vault")
    if found is None:
        found = Vault(kit().keystore)
        g._casework_vault = found
    return found


def viewer() -> Viewer:
    token = _api_principal()
    if token is not None:
        return token.viewer
    return principal().viewer
