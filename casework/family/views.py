"""The professional family of a person, and caseloads."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.policy import may_manage_family
from casework.access.rules import CASE_WORK, access
from casework.clock import london_today
from casework.consent import queries as consent_queries
from casework.consent.rules import SharingRules
from casework.db import StaleVersion
from casework.family import queries, services
from casework.family.forms import (
    AddInvolvementForm,
    EditInvolvementForm,
    EndInvolvementForm,
    MakeLeadForm,
)
from casework.family.queries import CaseloadSort, FamilyMember
from casework.people.codes import ClosureReason, FamilyRole
from casework.people.queries import PersonHeader
from casework.people.services import NotAllowed, PersonError
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import categories_of, person_page
from casework.web.errors import register_case_errors
from casework.web.forms import initial_data, show_error, submitted

bp = Blueprint("family", __name__)
register_case_errors(bp)


def _member(involvement_id: uuid.UUID, header: PersonHeader) -> FamilyMember:
    members = queries.family(context.db(), context.viewer(), header.access)
    member = queries.involvement_of(members, involvement_id)
    if member is None:
        abort(404)
    return member


@bp.route("/people/<uuid:person_id>/family")
@access(CASE_WORK)
def view(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    db, viewer = context.db(), context.viewer()
    members = queries.family(db, viewer, header.access)
    bases = consent_queries.bases_for_person(
        db, viewer, person_id, SharingRules.from_settings(context.settings())
    )
    coverage = consent_queries.family_coverage(
        bases, [(m.agency_id, m.agency_kind) for m in members if m.ended_on is None]
    )
    audit_read(
        "family.viewed",
        categories=categories_of(members) | {c for b in bases for c in b.categories},
    )
    return render_template(
        "family/view.html",
        coverage=coverage,
        members=members,
        open_members=[m for m in members if m.ended_on is None],
        ended_members=[m for m in members if m.ended_on is not None],
        lead_form=MakeLeadForm(),
        header=header,
    )


@bp.route("/people/<uuid:person_id>/family/add", methods=["GET", "POST"])
@access(CASE_WORK)
def add(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    db, viewer = context.db(), context.viewer()
    if not may_manage_family(viewer, header.access):
        raise NotAllowed("family")
    form = AddInvolvementForm(
        **initial_data(
            agency=str(viewer.agency_id),
            started_on=london_today(),
            role=FamilyRole.KEY_WORKER.value,
        )
    )
    form.agency.choices = {"": "Select an agency"} | {
        str(aid): name for aid, name in queries.active_agencies(db)
    }
    form.worker.choices = {"": "No named worker"} | {
        str(uid): name for uid, name in queries.agency_workers(db, viewer.agency_id)
    }
    if submitted(form) and form.started_on.data is not None:
        agency_id = uuid.UUID(form.agency.data)
        worker_id = uuid.UUID(form.worker.data) if form.worker.data else None
        if worker_id is not None and agency_id != viewer.agency_id:
            form.worker.errors = ["Only name a worker for your own agency"]
        else:
            try:
                services.add_involvement(
                    db,
                    actor=context.actor(),
                    viewer=viewer,
                    access=header.access,
                    agency_id=agency_id,
                    worker_id=worker_id,
                    role=FamilyRole(form.role.data),
                    started_on=form.started_on.data,
                    make_lead=bool(form.make_lead.data),
                )
            except PersonError as error:
                show_error(form, error)
            else:
                flash("Added to the professional family.", "success")
                return redirect(url_for("family.view", person_id=person_id))
    return render_template("family/add.html", form=form, header=header)


@bp.route("/people/<uuid:person_id>/family/<uuid:involvement_id>/lead", methods=["POST"])
@access(CASE_WORK)
def make_lead(person_id: uuid.UUID, involvement_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    _member(involvement_id, header)
    form = MakeLeadForm()
    if not submitted(form):
        abort(400)
    try:
        services.make_lead(
            context.db(),
            actor=context.actor(),
            viewer=context.viewer(),
            access=header.access,
            involvement_id=involvement_id,
            expected_version=form.version.data,
        )
    except StaleVersion:
        abort(409)
    except PersonError:
        abort(400)
    flash("Lead professional changed.", "success")
    return redirect(url_for("family.view", person_id=person_id))


@bp.route("/people/<uuid:person_id>/family/<uuid:involvement_id>/edit", methods=["GET", "POST"])
@access(CASE_WORK)
def edit(person_id: uuid.UUID, involvement_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    member = _member(involvement_id, header)
    viewer = context.viewer()
    if not member.own or member.ended_on is not None:
        abort(403)
    form = EditInvolvementForm(
        **initial_data(
            worker=str(member.worker_id or ""), role=member.role.value, version=member.version
        )
    )
    form.worker.choices = {"": "No named worker"} | {
        str(uid): name for uid, name in queries.agency_workers(context.db(), viewer.agency_id)
    }
    if submitted(form):
        try:
            services.update_involvement(
                context.db(),
                actor=context.actor(),
                viewer=viewer,
                access=header.access,
                involvement_id=involvement_id,
                worker_id=uuid.UUID(form.worker.data) if form.worker.data else None,
                role=FamilyRole(form.role.data),
                expected_version=form.version.data,
            )
        except StaleVersion:
            abort(409)
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Involvement updated.", "success")
            return redirect(url_for("family.view", person_id=person_id))
    return render_template("family/edit.html", form=form, member=member, header=header)


@bp.route("/people/<uuid:person_id>/family/<uuid:involvement_id>/end", methods=["GET", "POST"])
@access(CASE_WORK)
def end(person_id: uuid.UUID, involvement_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    member = _member(involvement_id, header)
    if not member.own or member.ended_on is not None:
        abort(403)
    form = EndInvolvementForm(**initial_data(ended_on=london_today(), version=member.version))
    if submitted(form) and form.ended_on.data is not None:
        try:
            services.end_involvement(
                context.db(),
                actor=context.actor(),
                viewer=context.viewer(),
                access=header.access,
                involvement_id=involvement_id,
                ended_on=form.ended_on.data,
                reason=ClosureReason(form.reason.data),
                expected_version=form.version.data,
            )
        except StaleVersion:
            abort(409)
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Involvement ended.", "success")
            return redirect(url_for("family.view", person_id=person_id))
    return render_template("family/end.html", form=form, member=member, header=header)


# --- caseloads -------------------------------------------------------------------------------


@bp.route("/caseload")
@access(CASE_WORK)
def caseload() -> ResponseReturnValue:
    db, viewer = context.db(), context.viewer()
    teams = queries.managed_teams(db, viewer)
    team_id = request.args.get("team", "")
    team = next((t for t in teams if str(t.id) == team_id), None)
    if team_id and team is None:
        abort(404)
    try:
        sort = CaseloadSort(request.args.get("sort", CaseloadSort.NAME.value))
    except ValueError:
        abort(404)
    page_number = request.args.get("page", 1, type=int)
    if page_number < 1:
        abort(404)
    workers = queries.team_members(db, team.id) if team else [viewer.user_id]
    page = queries.caseload(db, context.vault(), viewer, workers, sort=sort, page=page_number)
    audit_read(
        "caseload.viewed",
        people=[row.person_id for row in page.rows],
        categories=categories_of(*(row.alerts for row in page.rows)),
        details={"team_id": str(team.id)} if team else None,
    )
    return render_template(
        "family/caseload.html",
        page=page,
        teams=teams,
        team=team,
        sort=sort.value,
        today=london_today(),
    )
