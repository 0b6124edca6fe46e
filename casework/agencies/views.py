"""Administration of agencies and their teams (admin role only)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.rules import ADMIN, access
from casework.agencies import queries, services
from casework.agencies.forms import (
    AddMemberForm,
    ConfirmAgencyForm,
    CreateAgencyForm,
    CreateTeamForm,
    EditAgencyForm,
    ManagerForm,
    RemoveMemberForm,
)
from casework.agencies.models import AgencyKind, Team
from casework.agencies.queries import NotFoundError
from casework.agencies.services import AgencyError
from casework.db import StaleVersion
from casework.users import queries as user_queries
from casework.users.models import User
from casework.web import context
from casework.web.errors import render_error
from casework.web.forms import initial_data, show_error

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")


@bp.errorhandler(NotFoundError)
def _not_found(_error: NotFoundError) -> ResponseReturnValue:
    return render_error(404)


# --- agencies ----------------------------------------------------------------------------------


@bp.route("/")
@access(ADMIN)
def list_agencies() -> ResponseReturnValue:
    return render_template(
        "agencies/list_agencies.html", agencies=queries.agency_summaries(context.db())
    )


@bp.route("/new", methods=["GET", "POST"])
@access(ADMIN)
def create_agency() -> ResponseReturnValue:
    form = CreateAgencyForm()
    status = 200
    if form.validate_on_submit():
        try:
            agency = services.create_agency(
                context.db(),
                context.actor(),
                name=form.name.data or "",
                kind=AgencyKind(form.kind.data),
            )
        except AgencyError as error:
            show_error(form, error)
            status = 400
        else:
            flash(f"{agency.name} has been created. Add its teams and users next.", "success")
            return redirect(url_for("agencies.view_agency", agency_id=agency.id))
    elif request.method == "POST":
        status = 400
    return render_template("agencies/create_agency.html", form=form), status


@bp.route("/<uuid:agency_id>")
@access(ADMIN)
def view_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    agency = queries.get_agency(db, agency_id)
    return render_template(
        "agencies/view_agency.html",
        agency=agency,
        teams=queries.team_summaries(db, agency.id),
        active_users=queries.count_active_users(db, agency.id),
    )


@bp.route("/<uuid:agency_id>/edit", methods=["GET", "POST"])
@access(ADMIN)
def edit_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    agency = queries.get_agency(db, agency_id, lock=request.method == "POST")
    form = EditAgencyForm(
        **initial_data(name=agency.name, kind=agency.kind.value, version=agency.version)
    )
    status = 200
    if form.validate_on_submit():
        try:
            services.update_agency(
                db,
                context.actor(),
                agency,
                name=form.name.data or "",
                kind=AgencyKind(form.kind.data),
                version=form.version.data,
            )
        except StaleVersion:
            return render_error(409)
        except AgencyError as error:
            show_error(form, error)
            status = 400
        else:
            flash(f"{agency.name}'s details have been saved.", "success")
            return redirect(url_for("agencies.view_agency", agency_id=agency.id))
    elif request.method == "POST":
        status = 400
    return render_template("agencies/edit_agency.html", form=form, agency=agency), status


def _set_active(agency_id: uuid.UUID, *, active: bool) -> ResponseReturnValue:
    db = context.db()
    agency = queries.get_agency(db, agency_id, lock=request.method == "POST")
    template = "agencies/enable_agency.html" if active else "agencies/disable_agency.html"
    form = ConfirmAgencyForm(**initial_data(version=agency.version))
    page = {"agency": agency, "active_users": queries.count_active_users(db, agency.id)}
    if request.method == "GET":
        if agency.active == active:
            return redirect(url_for("agencies.view_agency", agency_id=agency.id))
        return render_template(template, form=form, **page)
    if not form.validate_on_submit():
        return render_template(template, form=form, **page), 400
    if form.version.data != agency.version:
        return render_error(409)
    if agency.active == active:  # nothing to change
        return redirect(url_for("agencies.view_agency", agency_id=agency.id))
    try:
        services.set_agency_active(
            db, context.actor(), agency, active=active, version=form.version.data
        )
    except StaleVersion:
        return render_error(409)
    if active:
        flash(f"{agency.name} has been enabled.", "success")
    else:
        flash(f"{agency.name} has been disabled. Its users' accounts are unchanged.", "success")
    return redirect(url_for("agencies.view_agency", agency_id=agency.id))


@bp.route("/<uuid:agency_id>/disable", methods=["GET", "POST"])
@access(ADMIN)
def disable_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    return _set_active(agency_id, active=False)


@bp.route("/<uuid:agency_id>/enable", methods=["GET", "POST"])
@access(ADMIN)
def enable_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    return _set_active(agency_id, active=True)


# --- teams -------------------------------------------------------------------------------------


@bp.route("/<uuid:agency_id>/teams/new", methods=["GET", "POST"])
@access(ADMIN)
def create_team(agency_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    agency = queries.get_agency(db, agency_id)
    form = CreateTeamForm()
    status = 200
    if form.validate_on_submit():
        try:
            team = services.create_team(db, context.actor(), agency, name=form.name.data or "")
        except AgencyError as error:
            show_error(form, error)
            status = 400
        else:
            flash(f"{team.name} has been created. Add its members below.", "success")
            return redirect(url_for("agencies.view_team", agency_id=agency.id, team_id=team.id))
    elif request.method == "POST":
        status = 400
    return render_template("agencies/create_team.html", form=form, agency=agency), status


def _team_page(team: Team, form: AddMemberForm, status: int = 200) -> ResponseReturnValue:
    db = context.db()
    return render_template(
        "agencies/view_team.html",
        team=team,
        agency=team.agency,
        members=queries.team_members(db, team.id),
        form=form,
    ), status


def _add_member_form(team: Team) -> AddMemberForm:
    form = AddMemberForm()
    form.user_id.choices = {"": "Select a user"} | {
        str(user.id): f"{user.full_name} ({user.email})"
        for user in queries.users_who_could_join(context.db(), team)
    }
    return form


@bp.route("/<uuid:agency_id>/teams/<uuid:team_id>")
@access(ADMIN)
def view_team(agency_id: uuid.UUID, team_id: uuid.UUID) -> ResponseReturnValue:
    team = queries.get_team(context.db(), agency_id, team_id)
    return _team_page(team, _add_member_form(team))


@bp.route("/<uuid:agency_id>/teams/<uuid:team_id>/members", methods=["POST"])
@access(ADMIN)
def add_team_member(agency_id: uuid.UUID, team_id: uuid.UUID) -> ResponseReturnValue:
    """The add-a-member form on the team page; errors show on that page (status 400)."""
    db = context.db()
    team = queries.get_team(db, agency_id, team_id)
    form = _add_member_form(team)
    if not form.validate_on_submit():
        return _team_page(team, form, 400)
    user = user_queries.get_user(db, uuid.UUID(form.user_id.data))
    try:
        services.set_membership(
            db, context.actor(), team, user, member=True, is_manager=bool(form.is_manager.data)
        )
    except AgencyError as error:
        show_error(form, error)
        return _team_page(team, form, 400)
    role = "a manager" if form.is_manager.data else "a member"
    flash(f"{user.full_name} is now {role} of {team.name}.", "success")
    return redirect(url_for("agencies.view_team", agency_id=agency_id, team_id=team.id))


def _member(agency_id: uuid.UUID, team_id: uuid.UUID, user_id: uuid.UUID) -> tuple[Team, User]:
    """The team (of that agency) and one of its members, or 404."""
    db = context.db()
    team = queries.get_team(db, agency_id, team_id)
    if queries.find_membership(db, team.id, user_id) is None:
        raise NotFoundError(f"user {user_id} in team {team.id}")
    return team, user_queries.get_user(db, user_id)


@bp.route("/<uuid:agency_id>/teams/<uuid:team_id>/members/<uuid:user_id>", methods=["POST"])
@access(ADMIN)
def update_team_member(
    agency_id: uuid.UUID, team_id: uuid.UUID, user_id: uuid.UUID
) -> ResponseReturnValue:
    """Make a member a manager of the team, or an ordinary member again."""
    db = context.db()
    team, user = _member(agency_id, team_id, user_id)
    form = ManagerForm()
    if not form.validate_on_submit():
        return render_error(400)
    manager = form.manager.data == "yes"
    services.set_membership(db, context.actor(), team, user, member=True, is_manager=manager)
    if manager:
        flash(f"{user.full_name} is now a manager of {team.name}.", "success")
    else:
        flash(f"{user.full_name} is no longer a manager of {team.name}.", "success")
    return redirect(url_for("agencies.view_team", agency_id=agency_id, team_id=team.id))


@bp.route("/<uuid:agency_id>/teams/<uuid:team_id>/members/<uuid:user_id>/remove", methods=["POST"])
@access(ADMIN)
def remove_team_member(
    agency_id: uuid.UUID, team_id: uuid.UUID, user_id: uuid.UUID
) -> ResponseReturnValue:
    db = context.db()
    team, user = _member(agency_id, team_id, user_id)
    if not RemoveMemberForm().validate_on_submit():
        return render_error(400)
    services.set_membership(db, context.actor(), team, user, member=False)
    flash(f"{user.full_name} has been removed from {team.name}.", "success")
    return redirect(url_for("agencies.view_team", agency_id=agency_id, team_id=team.id))
