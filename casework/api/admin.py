"""Administrators' pages for API tokens and service accounts (``/admin/api-tokens``): list,
create (the token is shown once, on the response to the POST that made it) and revoke."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from casework.access.roles import Role
from casework.access.rules import ADMIN, API_SCOPES, access
from casework.agencies import queries as agency_queries
from casework.api import queries, services
from casework.api.forms import CreateServiceAccountForm, CreateTokenForm, RevokeTokenForm
from casework.api.services import TokenError
from casework.clock import utcnow
from casework.web import context
from casework.web.forms import show_error, submitted

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


@bp.route("/")
@access(ADMIN)
def list_tokens() -> ResponseReturnValue:
    return render_template(
        "api_tokens/list_tokens.html",
        tokens=queries.list_tokens(context.db()),
        now=utcnow(),
        scope_labels=API_SCOPES,
    )


@bp.route("/new", methods=["GET", "POST"])
@access(ADMIN)
def create_token() -> ResponseReturnValue:
    db = context.db()
    form = CreateTokenForm()
    form.user_id.choices = {"": "Select a user or service account"} | {
        str(holder.id): holder.label for holder in queries.token_holders(db)
    }
    status = 200
    if submitted(form):
        now = utcnow()
        try:
            token_id, value = services.create_token(
                db,
                context.actor(),
                user_id=uuid.UUID(form.user_id.data or ""),
                name=form.name.data or "",
                scopes=frozenset(form.scopes.data or ()),
                expires_at=now + timedelta(days=int(form.lifetime.data or "90")),
                now=now,
            )
        except TokenError as error:
            show_error(form, error)
            status = 400
        else:
            # Shown once, on this response only: never flashed, redirected or logged.
            return render_template(
                "api_tokens/create_token.html", form=None, token_value=value, token_id=token_id
            )
    elif form.is_submitted():
        status = 400
    return render_template("api_tokens/create_token.html", form=form), status


@bp.route("/service-accounts/new", methods=["GET", "POST"])
@access(ADMIN)
def create_service_account() -> ResponseReturnValue:
    db = context.db()
    form = CreateServiceAccountForm()
    form.agency_id.choices = {"": "Select an agency"} | {
        str(agency.id): agency.name for agency in agency_queries.list_agencies(db, active_only=True)
    }
    status = 200
    if submitted(form):
        try:
            services.create_service_account(
                db,
                context.actor(),
                agency_id=uuid.UUID(form.agency_id.data or ""),
                name=form.name.data or "",
                role=Role(form.role.data),
            )
        except TokenError as error:
            show_error(form, error)
            status = 400
        else:
            flash(f"Service account '{form.name.data}' created. Now create a token for it.")
            return redirect(url_for("api_tokens.create_token"))
    elif form.is_submitted():
        status = 400
    return render_template("api_tokens/create_service_account.html", form=form), status


@bp.route("/<uuid:token_id>/revoke", methods=["GET", "POST"])
@access(ADMIN)
def revoke_token(token_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    token = queries.get_token(db, token_id)
    if token is None:
        abort(404)
    form = RevokeTokenForm()
    if form.validate_on_submit():
        if services.revoke_token(db, context.actor(), token_id):
            flash(f"Token '{token.name}' revoked. It stops working at once.")
        return redirect(url_for("api_tokens.list_tokens"))
    return render_template("api_tokens/revoke_token.html", form=form, token=token)
