"""In-app notifications: a user's list (newest first, unread marked), marking them read, and
following one to the page it is about (where the access policy decides, as for any link)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.roles import Role
from casework.access.rules import SIGNED_IN, access, roles
from casework.audit import recorder
from casework.notifications import queries, services
from casework.notifications.forms import MarkReadForm, RetryForm
from casework.web import context

bp = Blueprint("notifications", __name__)
PER_PAGE = 50


def _user_id() -> uuid.UUID:
    return context.principal().id


def _safe_link(link: str | None) -> str:
    """Only a path inside the app: never another site."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return url_for("notifications.index")


@bp.route("/notifications")
@access(SIGNED_IN)
def index() -> ResponseReturnValue:
    value = request.args.get("page", "1")
    page = max(1, int(value)) if value.isdigit() and len(value) < 6 else 1
    db, user_id = context.db(), _user_id()
    found = queries.notifications_for(db, user_id, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template(
        "notifications/index.html",
        notifications=found[:PER_PAGE],
        unread=queries.unread_count(db, user_id),
        page=page,
        more=len(found) > PER_PAGE,
        form=None,
        mark_form=MarkReadForm(),
    )


@bp.route("/notifications/<uuid:notification_id>/open", methods=["POST"])
@access(SIGNED_IN)
def open_one(notification_id: uuid.UUID) -> ResponseReturnValue:
    """Mark it read and go to what it is about."""
    if not MarkReadForm().validate_on_submit():
        abort(400)
    db, user_id = context.db(), _user_id()
    found = queries.notification_of(db, user_id, notification_id)
    if found is None:
        abort(404)
    services.mark_read(db, user_id=user_id, ids=[notification_id])
    return redirect(_safe_link(found.link))


@bp.route("/notifications/<uuid:notification_id>/read", methods=["POST"])
@access(SIGNED_IN)
def mark_one(notification_id: uuid.UUID) -> ResponseReturnValue:
    if not MarkReadForm().validate_on_submit():
        abort(400)
    db, user_id = context.db(), _user_id()
    if queries.notification_of(db, user_id, notification_id) is None:
        abort(404)
    services.mark_read(db, user_id=user_id, ids=[notification_id])
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read", methods=["POST"])
@access(SIGNED_IN)
def mark_all() -> ResponseReturnValue:
    if not MarkReadForm().validate_on_submit():
        abort(400)
    services.mark_read(context.db(), user_id=_user_id())
    return redirect(url_for("notifications.index"))


OUTBOX_STATES = ("queued", "sending", "sent", "failed")


@bp.route("/admin/outbox")
@access(roles(Role.ADMIN))
def outbox() -> ResponseReturnValue:
    """What went (or is to go) outside the app: content-free texts, with each provider's
    reference, and the failures to act on."""
    state = request.args.get("state")
    state = state if state in OUTBOX_STATES else None
    db = context.db()
    return render_template(
        "notifications/outbox.html",
        rows=queries.outbox_rows(db, state=state),
        counts=queries.outbox_counts(db),
        state=state,
        states=OUTBOX_STATES,
        form=RetryForm(),
    )


@bp.route("/admin/outbox/<uuid:outbox_id>/retry", methods=["POST"])
@access(roles(Role.ADMIN))
def retry(outbox_id: uuid.UUID) -> ResponseReturnValue:
    if not RetryForm().validate_on_submit():
        abort(400)
    db = context.db()
    if not services.retry_failed(db, [outbox_id]):
        abort(404)
    recorder.record(
        db, context.actor(), "outbox.retried", target_type="outbox", target_id=outbox_id
    )
    flash("The message will be sent again at the next sweep.", "success")
    return redirect(url_for("notifications.outbox", state="failed"))
