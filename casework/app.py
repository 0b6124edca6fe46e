"""The application factory."""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from casework.audit.recorder import enable_audit
from casework.db import Database
from casework.pathways.definitions import pathways
from casework.people.codes import information
from casework.security.kit import build_kit
from casework.settings import REPO_ROOT, Settings, load_settings
from casework.tasks.definitions import check_request_pathways, ladders
from casework.web.errors import init_errors
from casework.web.gate import init_gate
from casework.web.lifecycle import init_lifecycle
from casework.web.logs import configure_logging
from casework.web.templating import init_templating

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = config or load_settings()
    configure_logging(settings.log_level)

    app = Flask(
        "casework",
        static_folder=str(REPO_ROOT / "casework" / "static"),
        instance_path=str(settings.instance_dir),
        instance_relative_config=False,
    )
    secure_cookie = settings.https
    app.config.update(
        SECRET_KEY=settings.secret_key.material,
        SESSION_COOKIE_NAME="__Host-casework" if secure_cookie else "casework_session",
        SESSION_COOKIE_SECURE=secure_cookie,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The signed cookie holds only a session token; the server decides when it expires.
        SESSION_PERMANENT=False,
        MAX_CONTENT_LENGTH=settings.max_content_length_bytes,
        # CSRF tokens last as long as the (server-side, time-limited) session: a long note
        # typed slowly is not lost to an expired token.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=settings.https,
        TEMPLATES_AUTO_RELOAD=False,
    )
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    database = database or Database(settings.database_url)
    app.extensions["casework.database"] = database
    kit = build_kit(settings)
    enable_audit(database, kit.audit_keys)
    # Start-up checks: a wrong or missing key, or a bad information file, stops the app here
    # with one line naming the setting or file line, never as a 500 on the first page.
    kit.keystore.check()
    information()
    check_request_pathways(ladders(), frozenset(pathways().by_key))
    app.extensions["casework.kit"] = kit

    init_lifecycle(app)
    # Headers first: even a request the gate or CSRF check refuses gets its CSP nonce.
    Talisman(
        app,
        force_https=settings.is_production,
        strict_transport_security=settings.is_production,
        strict_transport_security_max_age=31_536_000,
        strict_transport_security_include_subdomains=True,
        session_cookie_secure=secure_cookie,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    init_gate(app)
    csrf = CSRFProtect(app)
    init_templating(app)
    init_errors(app)
    _register_blueprints(app)
    from casework.api.extension import init_api

    init_api(app, csrf)
    return app


def _register_blueprints(app: Flask) -> None:
    """Every blueprint, in one place."""
    from casework.agencies.views import bp as agencies_bp
    from casework.api.admin import bp as api_tokens_bp
    from casework.audit.views import bp as audit_bp
    from casework.auth.views import bp as auth_bp
    from casework.bookings.views import bp as bookings_bp
    from casework.consent.views import bp as consent_bp
    from casework.contacts.views import bp as contacts_bp
    from casework.erasure.views import bp as erasure_bp
    from casework.family.views import bp as family_bp
    from casework.home.views import bp as home_bp
    from casework.merging.views import bp as merging_bp
    from casework.notifications.views import bp as notifications_bp
    from casework.pathways.views import bp as pathways_bp
    from casework.people.views import bp as people_bp
    from casework.rectification.views import bp as rectification_bp
    from casework.reports.views import bp as reports_bp
    from casework.retention.views import bp as retention_bp
    from casework.rights.views import bp as rights_bp
    from casework.treatment.views import bp as treatment_bp
    from casework.users.views import bp as users_bp
    from casework.web.health import bp as health_bp
    from casework.web.pages import bp as pages_bp
    from casework.welfare.views import bp as welfare_bp

    for blueprint in (
        health_bp,
        pages_bp,
        auth_bp,
        home_bp,
        users_bp,
        agencies_bp,
        api_tokens_bp,
        people_bp,
        family_bp,
        contacts_bp,
        consent_bp,
        audit_bp,
        bookings_bp,
        pathways_bp,
        notifications_bp,
        welfare_bp,
        reports_bp,
        treatment_bp,
        rights_bp,
        rectification_bp,
        erasure_bp,
        retention_bp,
        merging_bp,
    ):
        app.register_blueprint(blueprint)
