"""Layer 1 of access control: the request gate. Deny by default.

Runs before every view. An endpoint without a declared :class:`~casework.access.rules.Rule`
cannot be reached by anyone. Signed-in state, the second factor, a forced password change and
roles are checked here; decisions about a person's records are made by ``casework.access.policy``
(issue 3 on) inside the views' loaders.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user

from casework.access.rules import Stage, rule_of
from casework.audit import recorder
from casework.auth import services as auth_services
from casework.auth.services import SessionState
from casework.web import context
from casework.web.principal import Principal, load_for_token

log = logging.getLogger(__name__)

ENDED_MESSAGES = {
    SessionState.IDLE_EXPIRED: (
        "You were signed out because you had not used Casework for a while."
    ),
    SessionState.ABSOLUTE_EXPIRED: (
        "You were signed out because your session reached its time limit."
    ),
    SessionState.REVOKED: "You have been signed out. Sign in again to continue.",
    SessionState.USER_DISABLED: "You have been signed out. Sign in again to continue.",
}


def load_user(token: str) -> Principal | None:
    """Flask-Login's loader: the cookie's token must match a live server-side session."""
    database, kit = context.database(), context.kit()
    if request.method in context.SAFE_METHODS:
        # A page read: check the session on the request's own read transaction, so the page
        # costs one pooled connection (and, on PostgreSQL, one pre-ping), not two.
        loaded, principal = load_for_token(context.db().connection(), kit, token)
    else:
        # A write: its session takes the write lock (SQLite), so check in a short read first.
        with database.read_connection() as conn:
            loaded, principal = load_for_token(conn, kit, token)
    expired = (SessionState.IDLE_EXPIRED, SessionState.ABSOLUTE_EXPIRED)
    if loaded.state in expired and loaded.session_id is not None:
        auth_services.expire_session(database, loaded.session_id, loaded.state)
    if principal is None:
        g.session_ended = loaded.state
        return None
    if loaded.last_seen_at is not None and auth_services.needs_touch(kit, loaded.last_seen_at):
        auth_services.touch_session(database, kit, principal.session_id)
    return principal


def _audit_refusal(endpoint: str, reason: str) -> None:
    """A refused request is audited in a transaction of its own (the request's rolls back)."""
    with context.database().transaction() as db:
        recorder.record(
            db,
            context.actor(),
            "access.refused",
            outcome="denied",
            details={"endpoint": endpoint, "reason": reason},
        )


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def gate() -> ResponseReturnValue | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # routing errors (404/405) and static files
    rule = rule_of(current_app.view_functions.get(endpoint))
    if rule is None:
        log.error("endpoint %s has no access rule; refused", endpoint)
        abort(403)
    if rule.stage is Stage.PUBLIC:
        return None
    if rule.stage is Stage.API:
        # Token-authenticated: the session cookie is never read, and nothing redirects.
        from casework.api.auth import api_gate

        return api_gate(endpoint, rule)

    user = current_user._get_current_object()
    if not isinstance(user, Principal):
        ended = g.get("session_ended")
        if ended in ENDED_MESSAGES:
            flash(ENDED_MESSAGES[ended], "information")
        next_path = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=next_path))

    if context.settings().mfa_required and not user.mfa_verified:
        if rule.stage is Stage.PASSWORD_ONLY:
            return None
        target = "auth.mfa_challenge" if user.mfa_enrolled else "auth.mfa_enrol"
        return redirect(url_for(target))
    if rule.stage is Stage.PASSWORD_ONLY:
        return None
    if user.must_change_password and rule.stage is not Stage.PASSWORD_CHANGE:
        return redirect(url_for("auth.change_password"))
    if not rule.allows_roles(user.roles):
        _audit_refusal(endpoint, "role")
        abort(403)
    return None


def init_gate(app: Flask) -> LoginManager:
    manager = LoginManager()
    manager.session_protection = None  # server-side sessions do this job, see load_user
    manager.login_view = "auth.sign_in"
    manager.user_loader(load_user)
    manager.init_app(app)
    app.before_request(gate)
    return manager
