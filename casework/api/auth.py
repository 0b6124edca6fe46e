"""The request gate for API endpoints: a bearer token, never the session cookie.

Called by ``casework.web.gate`` for every endpoint whose rule has the API stage. No token, or
an unknown, revoked or expired one, or one whose account is disabled: **401** problem details
(never a redirect to the sign-in page). A valid token without the rule's scopes, or whose
account holds none of its roles: **403**, audited. The token's principal is kept in ``g`` for
``casework.web.context`` (actor and viewer); "last used" is written at most once a minute in a
short transaction of its own.
"""

from __future__ import annotations

import logging

from flask import Response, g, request

from casework.access.rules import Rule
from casework.api import services
from casework.api.problems import problem
from casework.api.queries import TokenPrincipal, TokenState, check_token
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import utcnow
from casework.web import context

log = logging.getLogger(__name__)

PRINCIPAL_KEY = "api_principal"  # read by casework.web.context


def api_principal() -> TokenPrincipal | None:
    found = g.get(PRINCIPAL_KEY)
    return found if isinstance(found, TokenPrincipal) else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _refuse(endpoint: str, reason: str, actor: Actor, **details: str) -> None:
    with context.database().transaction() as db:
        recorder.record(
            db,
            actor,
            "access.refused",
            outcome="denied",
            details={"endpoint": endpoint, "reason": reason, **details},
        )


def api_gate(endpoint: str, rule: Rule) -> Response | None:
    raw = bearer_token()
    if raw is None:
        return problem(401, detail="Send an API token: Authorization: Bearer <token>.")
    now = utcnow()
    if request.method in context.SAFE_METHODS:
        checked = check_token(context.db().connection(), raw, now=now)
    else:
        with context.database().read_connection() as conn:
            checked = check_token(conn, raw, now=now)
    if checked.state is not TokenState.OK or checked.principal is None:
        if checked.token_id is not None:
            # A known token that no longer works: worth a row (who tried, which token).
            anonymous = Actor(
                user_id=checked.user_id,
                agency_id=None,
                request_id=context.request_id(),
                ip_address=context.client_ip(),
            )
            _refuse(endpoint, f"token_{checked.state}", anonymous, token_id=str(checked.token_id))
        return problem(401, detail="The API token is not valid: it is unknown, revoked or expired.")
    principal = checked.principal
    g.setdefault(PRINCIPAL_KEY, principal)
    if services.needs_touch(principal.last_used_at, now):
        with context.database().transaction() as db:
            services.touch_token(db, principal.token_id, now)
    if not rule.scopes <= principal.scopes:
        _refuse(endpoint, "scope", context.actor(), token_id=str(principal.token_id))
        return problem(403, detail="This token does not carry the scope this operation needs.")
    if not rule.allows_roles(principal.roles):
        _refuse(endpoint, "role", context.actor(), token_id=str(principal.token_id))
        return problem(403, detail="This token's account does not hold a role that may do this.")
    return None
