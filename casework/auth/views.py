"""Sign in, two-factor set-up and challenge, sign out, password change, account page."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from casework.access.rules import PASSWORD_CHANGE, PASSWORD_ONLY, PUBLIC, SIGNED_IN, access
from casework.audit import recorder
from casework.auth import queries, services
from casework.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    NotificationPreferencesForm,
    SignInForm,
)
from casework.auth.models import RevokeReason
from casework.auth.services import PasswordChangeError, SessionState, SignInResult
from casework.security import totp
from casework.security.crypto import DecryptionError, associated_data
from casework.users.models import User
from casework.web import context
from casework.web.gate import ENDED_MESSAGES, safe_next
from casework.web.navigation import home_endpoint
from casework.web.principal import Principal, load_for_token

bp = Blueprint("auth", __name__)

PENDING_SECRET_KEY = "mfa_pending"  # noqa: S105 - a session key name
NEXT_KEY = "after_sign_in"
TIMED_OUT = (SessionState.IDLE_EXPIRED, SessionState.ABSOLUTE_EXPIRED)


def _establish(user_id: uuid.UUID, *, mfa_verified: bool, replacing: uuid.UUID | None) -> None:
    """Start a fresh server-side session (new token; nothing carried over from before)."""
    database = context.database()
    next_path = session.get(NEXT_KEY)
    with database.transaction() as db:
        if replacing is not None:
            services.revoke_session(db, replacing, RevokeReason.MFA_COMPLETED)
        token = services.start_session(
            db,
            context.actor(),
            user_id,
            mfa_verified=mfa_verified,
            user_agent=request.user_agent.string,
        )
        if mfa_verified or not context.settings().mfa_required:
            # Counted once per person signing in, whichever step completes it.
            recorder.record(
                db,
                context.actor(),
                "auth.sign_in",
                target_type="user",
                target_id=user_id,
                details={"mfa": mfa_verified},
            )
    with database.read_connection() as conn:
        _loaded, principal = load_for_token(conn, context.kit(), token)
    if principal is None:
        raise RuntimeError("a session was started for a user that cannot be loaded")
    session.clear()
    if next_path and not mfa_verified:
        session[NEXT_KEY] = next_path
    login_user(principal)


def _after_sign_in(principal: Principal) -> ResponseReturnValue:
    if context.settings().mfa_required and not principal.mfa_verified:
        return redirect(
            url_for("auth.mfa_challenge" if principal.mfa_enrolled else "auth.mfa_enrol")
        )
    target = safe_next(session.pop(NEXT_KEY, None))
    return redirect(target or url_for("home.index"))


def _say_if_timed_out() -> None:
    """The timeout warning's script comes here itself when time runs out, so the gate (which
    says why a session ended on protected pages) never sees the ended session: say it here.
    A session the gate already ended is revoked by now, so this never repeats its message."""
    current_user._get_current_object()  # loads the cookie's session; sets g.session_ended
    ended = g.get("session_ended")
    if ended in TIMED_OUT:
        flash(ENDED_MESSAGES[ended], "information")


@bp.route("/sign-in", methods=["GET", "POST"])
@access(PUBLIC)
def sign_in() -> ResponseReturnValue:
    form = SignInForm()
    status = 200
    error: str | None = None
    if request.method == "GET":
        user = current_user._get_current_object()
        if isinstance(user, Principal) and (
            user.mfa_verified or not context.settings().mfa_required
        ):
            return redirect(url_for("home.index"))  # already signed in
        _say_if_timed_out()
        if next_path := safe_next(request.args.get("next")):
            session[NEXT_KEY] = next_path
    if form.validate_on_submit():
        outcome = services.check_password(
            context.database(),
            context.kit(),
            email=form.email.data or "",
            password=form.password.data or "",
            ip_address=context.client_ip(),
        )
        if outcome.result is SignInResult.OK and outcome.user_id is not None:
            _establish(outcome.user_id, mfa_verified=False, replacing=None)
            return _after_sign_in(context.principal())
        if outcome.result is SignInResult.THROTTLED:
            status = 429
            minutes = context.settings().login_window_minutes
            error = f"Too many attempts to sign in. Wait {minutes} minutes, then try again."
        else:
            status = 401
            error = "Enter a correct email address and password"
        form.password.errors = [error]
    elif request.method == "POST":
        status = 400
    return render_template("auth/sign_in.html", form=form, error=error), status


def _pending_secret(user_id: uuid.UUID) -> str | None:
    blob = session.get(PENDING_SECRET_KEY)
    if not blob:
        return None
    try:
        return (
            context.kit()
            .user_secrets.decrypt(
                base64.b64decode(blob), associated_data("mfa_enrolment", "secret", user_id)
            )
            .decode()
        )
    except (DecryptionError, ValueError):
        return None


@bp.route("/sign-in/two-factor/set-up", methods=["GET", "POST"])
@access(PASSWORD_ONLY)
def mfa_enrol() -> ResponseReturnValue:
    principal = context.principal()
    if principal.mfa_enrolled:
        return redirect(url_for("auth.mfa_challenge"))
    secret = _pending_secret(principal.id)
    if secret is None or request.method == "GET":
        secret = totp.new_secret()
        session[PENDING_SECRET_KEY] = base64.b64encode(
            context.kit().user_secrets.encrypt(
                secret.encode(), associated_data("mfa_enrolment", "secret", principal.id)
            )
        ).decode()
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if services.check_totp(
            context.database(),
            context.kit(),
            context.actor(),
            principal.id,
            form.code.data or "",
            enrolling_secret=secret,
        ):
            session.pop(PENDING_SECRET_KEY, None)
            _establish(principal.id, mfa_verified=True, replacing=principal.session_id)
            flash("Two-factor authentication is set up.", "success")
            return _after_sign_in(context.principal())
        form.code.errors = ["The security code is not correct. Check your app and try again"]
        status = 400
    elif request.method == "POST":
        status = 400
    uri = totp.provisioning_uri(
        secret, account=principal.email, issuer=context.settings().service_name
    )
    return render_template(
        "auth/mfa_enrol.html",
        form=form,
        qr_code=totp.qr_code_data_uri(uri),
        secret=totp.grouped(secret),
    ), status


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@access(PASSWORD_ONLY)
def mfa_challenge() -> ResponseReturnValue:
    principal = context.principal()
    if not principal.mfa_enrolled:
        return redirect(url_for("auth.mfa_enrol"))
    if principal.mfa_verified:
        return redirect(url_for("home.index"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if services.check_totp(
            context.database(), context.kit(), context.actor(), principal.id, form.code.data or ""
        ):
            _establish(principal.id, mfa_verified=True, replacing=principal.session_id)
            return _after_sign_in(context.principal())
        form.code.errors = [
            "The security code is not correct, or was already used. Wait for a new code"
        ]
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/mfa_challenge.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@access(PASSWORD_ONLY)
def sign_out() -> ResponseReturnValue:
    principal = context.principal()
    with context.database().transaction() as db:
        services.sign_out(db, context.actor(), principal.session_id, everywhere=False)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@access(SIGNED_IN)
def sign_out_everywhere() -> ResponseReturnValue:
    principal = context.principal()
    with context.database().transaction() as db:
        services.sign_out(db, context.actor(), principal.session_id, everywhere=True)
    logout_user()
    session.clear()
    flash("You have signed out on every device.", "success")
    return redirect(url_for("auth.sign_in"))


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@bp.route("/account/keep-alive", methods=["POST"])
@access(SIGNED_IN)
def keep_alive() -> ResponseReturnValue:
    """The timeout warning's "Stay signed in": restart the idle timer now (JSON for its
    script). Never called by a timer: only a person choosing to stay keeps a session alive."""
    expiry = services.keep_session_alive(
        context.db(), context.kit(), context.principal().session_id
    )
    if expiry is None:  # ended since the gate looked, e.g. signed out in another tab
        return redirect(url_for("auth.sign_in"))
    return jsonify(
        idle_expires_at=_iso_utc(expiry.idle_at),
        absolute_expires_at=_iso_utc(expiry.absolute_at),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@access(PASSWORD_CHANGE)
def change_password() -> ResponseReturnValue:
    principal = context.principal()
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        db = context.db()
        user = db.get(User, principal.id)
        if user is None:
            abort(404)
        try:
            services.change_password(
                db,
                context.kit(),
                context.actor(),
                user,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                current_session_id=principal.session_id,
            )
        except PasswordChangeError as exc:
            getattr(form, exc.field).errors = [exc.message]
            status = 400
        else:
            flash(
                "Your password has been changed. You have been signed out on other devices.",
                "success",
            )
            return redirect(url_for(home_endpoint(principal.roles)))
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/change_password.html",
        form=form,
        forced=principal.must_change_password,
        min_length=context.settings().password_min_length,
    ), status


@bp.route("/account")
@access(SIGNED_IN)
def account() -> ResponseReturnValue:
    return _account_page(None)


def _account_page(
    preferences: NotificationPreferencesForm | None, status: int = 200
) -> ResponseReturnValue:
    principal = context.principal()
    db = context.db()
    if preferences is None:
        saved = queries.notification_preferences(db, principal.id)
        preferences = NotificationPreferencesForm(
            data={
                "channels": [
                    c for c, on in (("email", saved.by_email), ("sms", saved.by_sms)) if on
                ],
                "mobile_number": saved.mobile_number,
            }
        )
    return render_template(
        "auth/account.html",
        principal=principal,
        teams=queries.team_names_for(db, principal.id),
        sessions=queries.active_sessions(db, principal.id),
        form=ConfirmForm(),
        preferences=preferences,
    ), status


@bp.route("/account/notifications", methods=["POST"])
@access(SIGNED_IN)
def notification_preferences() -> ResponseReturnValue:
    """Also by email, also by text message, and the work mobile number."""
    form = NotificationPreferencesForm()
    if form.validate_on_submit():
        try:
            services.set_notification_preferences(
                context.db(),
                context.actor(),
                context.principal().id,
                by_email="email" in (form.channels.data or []),
                by_sms="sms" in (form.channels.data or []),
                mobile_number=(form.mobile_number.data or "").strip(),
            )
        except ValueError:
            form.mobile_number.errors = ["Enter a UK mobile number, like 07700 900123"]
        else:
            flash("Notification settings saved.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(form, 400)
