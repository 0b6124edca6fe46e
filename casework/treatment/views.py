"""Treatment episodes on a person's record (start, end), and the prevalence estimates that
the partnership's reports compare them with."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.roles import Role
from casework.access.rules import CASE_WORK, access, roles
from casework.clock import london_today
from casework.db import StaleVersion
from casework.people.services import PersonError
from casework.treatment import queries, services
from casework.treatment.forms import EndEpisodeForm, EstimateForm, StartEpisodeForm
from casework.treatment.models import DischargeReason, Modality, SubstanceGroup
from casework.treatment.services import EstimateExists
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import person_page
from casework.web.errors import register_case_errors
from casework.web.forms import initial_data, show_error, submitted

bp = Blueprint("treatment", __name__)
register_case_errors(bp)

ESTIMATES = roles(Role.MANAGER, Role.PARTNERSHIP_LEAD)


def _conflict(person_id: uuid.UUID) -> ResponseReturnValue:
    return render_template("treatment/conflict.html", person_id=person_id), 409


@bp.route("/people/<uuid:person_id>/treatment/new", methods=["GET", "POST"])
@access(CASE_WORK)
def start(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id, action="treatment.start_viewed")
    db, viewer = context.db(), context.viewer()
    if not queries.recording_allowed(db, viewer, header.access):
        abort(403)
    form = StartEpisodeForm(**initial_data(started_on=london_today()))
    if submitted(form) and form.started_on.data is not None:
        try:
            services.start_episode(
                db,
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                started_on=form.started_on.data,
                substance_group=SubstanceGroup(form.substance_group.data),
                modality=Modality(form.modality.data),
                worker_id=viewer.user_id,
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Treatment episode started.", "success")
            return redirect(url_for("people.view", person_id=person_id) + "#treatment")
    return render_template("treatment/start.html", form=form, header=header)


@bp.route("/people/<uuid:person_id>/treatment/<uuid:episode_id>/end", methods=["GET", "POST"])
@access(CASE_WORK)
def end(person_id: uuid.UUID, episode_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id, action="treatment.end_viewed")
    db, viewer = context.db(), context.viewer()
    episode = queries.episode(db, viewer, header.access, episode_id)
    audit_read(None, categories={Category.SUBSTANCE_USE}, details={"episode_id": str(episode_id)})
    if not episode.own or not queries.recording_allowed(db, viewer, header.access):
        abort(403)
    if not episode.open:
        abort(404)
    form = EndEpisodeForm(**initial_data(ended_on=london_today(), version=episode.version))
    if submitted(form) and form.ended_on.data is not None:
        try:
            services.end_episode(
                db,
                context.actor(),
                viewer,
                header.access,
                episode_id,
                version=form.version.data,
                ended_on=form.ended_on.data,
                discharge_reason=DischargeReason(form.discharge_reason.data),
            )
        except StaleVersion:
            return _conflict(person_id)
        except PersonError as error:
            show_error(form, error)
        except LookupError:
            abort(404)
        else:
            flash("Treatment episode ended.", "success")
            return redirect(url_for("people.view", person_id=person_id) + "#treatment")
    return render_template("treatment/end.html", form=form, header=header, episode=episode)


@bp.route("/reports/reference/prevalence", methods=["GET", "POST"])
@access(ESTIMATES)
def prevalence() -> ResponseReturnValue:
    db, viewer = context.db(), context.viewer()
    form = EstimateForm(**initial_data(**_replacing(request.args.get("replace"))))
    if submitted(form):
        try:
            services.save_estimate(
                db,
                context.actor(),
                viewer,
                substance_group=SubstanceGroup(form.substance_group.data),
                year=form.year_value,
                estimate=form.estimate_value,
                source=form.source.data or "",
                version=form.version.data,
            )
        except StaleVersion:
            return render_template("treatment/prevalence_conflict.html"), 409
        except EstimateExists as exists:
            show_error(form, exists)
            form.version.data = exists.version
            form.version.raw_data = [str(exists.version)]
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Prevalence estimate saved.", "success")
            return redirect(url_for("treatment.prevalence"))
    estimates = queries.prevalence_estimates(db)
    audit_read("treatment.prevalence_viewed", details={"estimates": len(estimates)})
    return render_template("treatment/prevalence.html", form=form, estimates=estimates)


def _replacing(estimate_id: str | None) -> dict[str, object]:
    """The "Change" link of a row: the form starts with that estimate and its version."""
    try:
        wanted = uuid.UUID(estimate_id or "")
    except ValueError:
        return {}
    found = queries.estimate_by_id(context.db(), wanted)
    if found is None:
        return {}
    return {
        "substance_group": found.substance_group.value,
        "year": str(found.year),
        "estimate": str(found.estimate),
        "source": found.source,
        "version": found.version,
    }
