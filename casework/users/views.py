"""Administration of user accounts (admin role only; administrators never see case records)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.roles import Role
from casework.access.rules import ADMIN, access
from casework.agencies import queries as agency_queries
from casework.db import StaleVersion
from casework.users import queries, services
from casework.users.forms import (
    ConfirmUserForm,
    CreateUserForm,
    EditUserForm,
    UserFilterForm,
    role_items,
)
from casework.users.queries import NotFoundError, UserFilters, UserPage
from casework.users.services import UserError
from casework.web import context
from casework.web.errors import render_error
from casework.web.forms import initial_data, show_error

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.errorhandler(NotFoundError)
def _not_found(_error: NotFoundError) -> ResponseReturnValue:
    return render_error(404)


@bp.context_processor
def _roles() -> dict[str, Any]:
    return {"all_roles": list(Role)}


# --- list ----------------------------------------------------------------------------------


def pagination(page: UserPage, link: Callable[[int], str]) -> dict[str, Any] | None:
    """Parameters for the GOV.UK pagination component: first, last, and the current page with
    its neighbours, with ellipses between."""
    if page.pages <= 1:
        return None
    shown = sorted(
        {1, page.pages, page.page - 1, page.page, page.page + 1} & set(range(1, page.pages + 1))
    )
    items: list[dict[str, Any]] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": link(number), "current": number == page.page})
        previous = number
    params: dict[str, Any] = {"items": items, "landmarkLabel": "Pages of users"}
    if page.page > 1:
        params["previous"] = {"href": link(page.page - 1)}
    if page.page < page.pages:
        params["next"] = {"href": link(page.page + 1)}
    return params


@bp.route("/")
@access(ADMIN)
def list_users() -> ResponseReturnValue:
    db = context.db()
    form = UserFilterForm(request.args)
    form.agency.choices = {"": "All agencies"} | {
        str(agency.id): agency.name if agency.active else f"{agency.name} (disabled)"
        for agency in agency_queries.list_agencies(db)
    }
    page_number = request.args.get("page", 1, type=int)
    if page_number < 1:
        abort(404)
    if not form.validate():
        return render_template("users/list_users.html", form=form, page=None), 400
    filters = UserFilters(
        text=form.q.data or "",
        agency_id=uuid.UUID(form.agency.data) if form.agency.data else None,
        role=Role(form.role.data) if form.role.data else None,
        include_disabled=bool(form.include_disabled.data),
    )
    page = queries.list_users(db, filters, page=page_number)
    if page_number > page.pages:
        abort(404)
    given = {
        "q": " ".join(filters.text.split()),
        "agency": form.agency.data,
        "role": form.role.data,
        "include_disabled": "y" if filters.include_disabled else "",
    }
    args: dict[str, Any] = {key: value for key, value in given.items() if value}

    def link(number: int) -> str:
        return url_for("users.list_users", **(args | {"page": number} if number > 1 else args))

    return render_template(
        "users/list_users.html",
        form=form,
        page=page,
        pagination=pagination(page, link),
        filtered=bool(args),
    )


# --- create ----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@access(ADMIN)
def create_user() -> ResponseReturnValue:
    db = context.db()
    form = CreateUserForm(**initial_data(agency_id=request.args.get("agency", "")))
    form.agency_id.choices = {"": "Select an agency"} | {
        str(agency.id): agency.name for agency in agency_queries.list_agencies(db, active_only=True)
    }
    status = 200
    if form.validate_on_submit():
        kit = context.kit()
        agency = agency_queries.get_agency(db, uuid.UUID(form.agency_id.data))
        email = form.email.data or ""
        one_time_password = services.one_time_password(kit, email=email)
        try:
            user = services.create_user(
                db,
                kit,
                context.actor(),
                email=email,
                full_name=form.full_name.data or "",
                agency=agency,
                roles=[Role(value) for value in form.roles.data or []],
                password=one_time_password,
            )
        except UserError as error:
            show_error(form, error)
            status = 400
        else:
            # Shown once, on this response only: not flashed, not redirected, never logged.
            return render_template(
                "users/create_user.html",
                form=None,
                user=user,
                one_time_password=one_time_password,
            )
    elif request.method == "POST":
        status = 400
    return render_template("users/create_user.html", form=form, role_items=role_items), status


# --- one user ----------------------------------------------------------------------------------


@bp.route("/<uuid:user_id>")
@access(ADMIN)
def view_user(user_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    user = queries.get_user(db, user_id)
    return render_template(
        "users/view_user.html",
        user=user,
        teams=queries.teams_of_user(db, user.id),
        roles=[role for role in Role if role in user.roles],
        is_self=user.id == context.principal().id,
    )


@bp.route("/<uuid:user_id>/edit", methods=["GET", "POST"])
@access(ADMIN)
def edit_user(user_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    user = queries.get_user(db, user_id, lock=request.method == "POST")
    form = EditUserForm(
        **initial_data(
            full_name=user.full_name,
            roles=[role.value for role in Role if role in user.roles],
            version=user.version,
        )
    )
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user(
                db,
                context.actor(),
                user,
                full_name=form.full_name.data or "",
                roles=[Role(value) for value in form.roles.data or []],
                version=form.version.data,
            )
        except StaleVersion:
            return render_error(409)
        except UserError as error:
            show_error(form, error)
            status = 400
        else:
            flash(f"{user.full_name}'s details have been saved.", "success")
            return redirect(url_for("users.view_user", user_id=user.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "users/edit_user.html", form=form, user=user, role_items=role_items
    ), status


def _set_active(user_id: uuid.UUID, *, active: bool) -> ResponseReturnValue:
    db = context.db()
    user = queries.get_user(db, user_id, lock=request.method == "POST")
    template = "users/enable_user.html" if active else "users/disable_user.html"
    is_self = user.id == context.principal().id
    form = ConfirmUserForm(**initial_data(version=user.version))
    if request.method == "GET":
        if user.active == active:
            return redirect(url_for("users.view_user", user_id=user.id))
        return render_template(template, form=form, user=user, is_self=is_self)
    if not form.validate_on_submit():
        return render_template(template, form=form, user=user, is_self=is_self), 400
    if form.version.data != user.version:
        return render_error(409)
    if user.active == active:  # nothing to change
        return redirect(url_for("users.view_user", user_id=user.id))
    try:
        services.set_user_active(
            db, context.actor(), user, active=active, version=form.version.data
        )
    except StaleVersion:
        return render_error(409)
    except UserError as error:
        show_error(form, error)
        return render_template(template, form=form, user=user, is_self=is_self), 400
    if active:
        flash(f"{user.full_name}'s account has been enabled. They can sign in again.", "success")
    else:
        flash(
            f"{user.full_name}'s account has been disabled. They have been signed out everywhere.",
            "success",
        )
    return redirect(url_for("users.view_user", user_id=user.id))


@bp.route("/<uuid:user_id>/disable", methods=["GET", "POST"])
@access(ADMIN)
def disable_user(user_id: uuid.UUID) -> ResponseReturnValue:
    return _set_active(user_id, active=False)


@bp.route("/<uuid:user_id>/enable", methods=["GET", "POST"])
@access(ADMIN)
def enable_user(user_id: uuid.UUID) -> ResponseReturnValue:
    return _set_active(user_id, active=True)


@bp.route("/<uuid:user_id>/reset-credentials", methods=["GET", "POST"])
@access(ADMIN)
def reset_credentials(user_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    user = queries.get_user(db, user_id, lock=request.method == "POST")
    is_self = user.id == context.principal().id
    form = ConfirmUserForm(**initial_data(version=user.version))
    status = 200
    if form.validate_on_submit():
        kit = context.kit()
        one_time_password = services.one_time_password(kit, email=user.email)
        try:
            services.reset_credentials(
                db,
                kit,
                context.actor(),
                user,
                temporary_password=one_time_password,
                version=form.version.data,
            )
        except StaleVersion:
            return render_error(409)
        except UserError as error:
            show_error(form, error)
            status = 400
        else:
            # Shown once, on this response only: not flashed, not redirected, never logged.
            return render_template(
                "users/reset_credentials.html",
                form=None,
                user=user,
                one_time_password=one_time_password,
            )
    elif request.method == "POST":
        status = 400
    return render_template(
        "users/reset_credentials.html", form=form, user=user, is_self=is_self
    ), status
