"""Referral pages: one referral with its history and the transitions the user may make, a
transition's own page (its fields, from the pathway's definition), an assessor's day, the
referrals waiting for my agency, and a person's referrals with "Make a referral"."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.roles import Role
from casework.access.rules import CASE_WORK, access, roles
from casework.clock import london_today, utcnow
from casework.consent.rules import SharingRules
from casework.db import StaleVersion
from casework.family import queries as family_queries
from casework.pathways import queries, services
from casework.pathways.definitions import PathwayDef, TransitionDef, pathways
from casework.pathways.forms import QuickTransitionForm, referral_form, transition_form
from casework.pathways.queries import ReferralDetail, ReferralSummary
from casework.pathways.rules import TransitionInvalid, TransitionRefused, parse_values
from casework.people.services import PersonError
from casework.tasks import queries as task_queries
from casework.web import context
from casework.web.audit import audit_read, audit_refusal
from casework.web.case import person_page
from casework.web.errors import register_case_errors
from casework.web.forms import initial_data, show_error, submitted
from casework.workdays import working_days

bp = Blueprint("pathways", __name__)
register_case_errors(bp)

#: Roles that hold bookings and record their outcomes.
DAY_ROLES = frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER})
DAY_WORK = roles(*DAY_ROLES)
PER_PAGE = 50
#: Custody's pathway: booked through its own journey (``bookings``), never from "Make a referral".
BOOKED = "required_assessment"


def _pathways() -> Mapping[str, PathwayDef]:
    return pathways().by_key


def _categories(items: Iterable[ReferralSummary]) -> set[Category]:
    """Identity (names are shown) and the category of each stage shown."""
    found = {Category.IDENTITY}
    defs = _pathways()
    for item in items:
        pathway = defs.get(item.pathway)
        if item.stage_shown and pathway is not None and item.stage in pathway.stages:
            found.add(pathway.stages[item.stage].category)
    return found


def _audit_list(action: str, items: list[ReferralSummary], **details: Any) -> None:
    audit_read(
        action,
        people=[item.person_id for item in items],
        categories=_categories(items),
        details={"referrals": [str(item.id) for item in items][:50], **details},
    )


def _page() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() and len(value) < 6 else 1


# --- lists ------------------------------------------------------------------------------------


@bp.route("/referrals")
@access(CASE_WORK)
def index() -> ResponseReturnValue:
    """Open referrals addressed to my agency ("waiting for me"), or those my agency sent."""
    sent = request.args.get("show") == "sent"
    page = _page()
    found = queries.referral_list(
        context.db(),
        context.vault(),
        context.viewer(),
        _pathways(),
        to_my_agency=not sent,
        from_my_agency=sent,
        open_only=True,
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
    )
    shown = found[:PER_PAGE]
    _audit_list("referrals.listed", shown, show="sent" if sent else "waiting", page=page)
    return render_template(
        "pathways/index.html",
        referrals=shown,
        sent=sent,
        page=page,
        more=len(found) > PER_PAGE,
        show_today=bool(context.viewer().roles & DAY_ROLES),
        task_count=task_queries.count_open(context.db(), context.viewer()),
        now=utcnow(),
    )


@bp.route("/referrals/tasks")
@access(CASE_WORK)
def tasks() -> ResponseReturnValue:
    """The open tasks assigned to my agency, soonest due first."""
    viewer = context.viewer()
    page = _page()
    found = task_queries.open_tasks(
        context.db(),
        context.vault(),
        viewer,
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
    )
    shown = found[:PER_PAGE]
    audit_read(
        "tasks.listed",
        people=[item.person_id for item in shown if item.person_id is not None],
        categories={Category.IDENTITY},
        details={"tasks": [str(item.id) for item in shown], "page": page},
    )
    return render_template(
        "pathways/tasks.html",
        tasks=shown,
        page=page,
        more=len(found) > PER_PAGE,
        show_today=bool(viewer.roles & DAY_ROLES),
        task_count=task_queries.count_open(context.db(), viewer),
        now=utcnow(),
    )


def _day() -> date:
    value = request.args.get("day", "")
    try:
        return date.fromisoformat(value) if value else london_today()
    except ValueError:
        return london_today()


@bp.route("/referrals/today")
@access(DAY_WORK)
def today() -> ResponseReturnValue:
    """An assessor's day: the bookings with my agency on one day, with one-click outcomes."""
    day = _day()
    bookings = queries.bookings_on(
        context.db(), context.vault(), context.viewer(), _pathways(), day
    )
    _audit_list("referrals.bookings_listed", bookings, day=day.isoformat())
    return render_template(
        "pathways/today.html",
        bookings=bookings,
        day=day,
        is_today=day == london_today(),
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        form=None,
        quick_form=QuickTransitionForm(),
        now=utcnow(),
    )


@bp.route("/people/<uuid:person_id>/referrals")
@access(CASE_WORK)
def person_referrals(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id, action="person.referrals_viewed")
    viewer = context.viewer()
    found = queries.referral_list(
        context.db(), context.vault(), viewer, _pathways(), person_id=person_id, limit=200
    )
    audit_read(None, categories=_categories(found))
    return render_template(
        "pathways/person.html",
        header=header,
        referrals=found,
        may_refer=bool(_offered(viewer)) and header.died_on is None,
        now=utcnow(),
    )


def _starting_step(pathway: PathwayDef) -> tuple[str, TransitionDef] | None:
    starting = pathway.starting()
    return starting[0] if starting else None


def _offered(viewer: Any) -> list[tuple[PathwayDef, str, TransitionDef]]:
    """The pathways this viewer may start from "Make a referral": their agency's kind refers on
    it and one of their roles makes its starting transition. Not custody's booking."""
    found = []
    for pathway in pathways().for_referring(viewer.agency_kind):
        started = _starting_step(pathway)
        if pathway.key == BOOKED or started is None:
            continue
        if viewer.roles & set(started[1].roles):
            found.append((pathway, *started))
    return found


# --- making a referral --------------------------------------------------------------------------


@bp.route("/people/<uuid:person_id>/referrals/new", methods=["GET", "POST"])
@access(CASE_WORK)
def new_referral(person_id: uuid.UUID) -> ResponseReturnValue:
    """First the pathway (when more than one is offered), then its starting step's fields."""
    header = person_page(person_id)
    viewer = context.viewer()
    offered = _offered(viewer)
    if not offered:
        abort(404)
    chosen = request.values.get("pathway", "")
    if not chosen and len(offered) == 1:
        chosen = offered[0][0].key
    found = next((item for item in offered if item[0].key == chosen), None)
    if found is None:
        return render_template(
            "pathways/choose_pathway.html",
            header=header,
            offered=offered,
            error="Select the kind of referral" if "pathway" in request.values else None,
            page_heading="Make a referral",
        )
    pathway, key, step = found
    agencies = {
        str(agency_id): name
        for agency_id, name in family_queries.active_agencies(
            context.db(), kinds=pathway.receiving_kinds
        )
        if agency_id != viewer.agency_id
    }
    form = referral_form(step, agencies)(**initial_data())
    consent_needed = False
    if request.method == "POST":
        valid = submitted(form)
        values, problems = form.values()
        problems = {**_engine_problems(form, step, values), **problems}
        if valid and problems:
            _refused_fields(form, problems, person_id)
        elif problems:
            form.show_problems(problems)  # the refusal was audited by ``submitted``
        elif valid:
            try:
                outcome = services.start_referral(
                    context.db(),
                    context.vault(),
                    context.actor(),
                    viewer,
                    person_id=person_id,
                    pathway=pathway,
                    transition=key,
                    to_agency_id=_uuid_or_none(form.to_agency.data),
                    values=values,
                    rules=SharingRules.from_settings(context.settings()),
                )
            except TransitionInvalid as invalid:
                _refused_fields(form, invalid.problems, person_id)
            except PersonError as error:
                consent_needed = error.field == "to_agency" and "lawful basis" in error.message
                show_error(form, error)
            else:
                flash(f"Referral {outcome.reference} made.", "success")
                _flash_prompts(outcome.prompts)
                return redirect(url_for("pathways.view", referral_id=outcome.referral_id))
    return render_template(
        "pathways/new_referral.html",
        form=form,
        header=header,
        pathway=pathway,
        step=step,
        choose_again=len(offered) > 1,
        consent_needed=consent_needed,
        page_heading=f"Make a referral: {pathway.name}",
    )


def _engine_problems(
    form: Any, step: TransitionDef, values: Mapping[str, object]
) -> dict[str, str]:
    """The engine's checks on the fields, so that one submission reports every problem (with
    the agency's), not the form's first and then the engine's. Not for a field the form
    already found wrong."""
    try:
        parse_values(step, values, known={}, now=utcnow(), workdays=working_days())
    except TransitionInvalid as invalid:
        return {
            name: message
            for name, message in invalid.problems.items()
            if not (name in form and form[name].errors)
        }
    return {}


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _refused_fields(form: Any, problems: Mapping[str, str], person_id: uuid.UUID) -> None:
    used = form.show_problems(problems)
    audit_refusal("invalid_form", person_id=person_id, details={"fields": sorted(set(used))})


def _flash_prompts(prompts: Iterable[str]) -> None:
    for prompt in prompts:
        flash(prompt, "info")


# --- one referral -------------------------------------------------------------------------------


def _detail(referral_id: uuid.UUID) -> ReferralDetail:
    detail = queries.referral_detail(
        context.db(), context.vault(), context.viewer(), _pathways(), referral_id
    )
    if detail is None:
        abort(404)  # audited as a refusal by register_case_errors
    return detail


def _audit_detail(detail: ReferralDetail) -> Any:
    """The person's header, and the page view (one row: the person and what was shown)."""
    header = person_page(detail.summary.person_id, action="referral.viewed")
    pathway = detail.pathway
    shown = _categories([detail.summary])
    for event in detail.events:
        step = pathway.transitions.get(event.transition)
        if step is not None and step.to in pathway.stages:
            shown.add(pathway.stages[step.to].category)
    audit_read(None, categories=shown, details={"referral_id": str(detail.summary.id)})
    return header


@bp.route("/referrals/<uuid:referral_id>")
@access(CASE_WORK)
def view(referral_id: uuid.UUID) -> ResponseReturnValue:
    detail = _detail(referral_id)
    header = _audit_detail(detail)
    return render_template(
        "pathways/view.html",
        detail=detail,
        summary=detail.summary,
        header=header,
        quick_form=QuickTransitionForm(),
        buttons=[(key, step) for key, step in detail.transitions if not step.fields],
        pages=[(key, step) for key, step in detail.transitions if step.fields],
        now=utcnow(),
    )


def _after_transition(referral_id: uuid.UUID, detail: ReferralDetail) -> str:
    """Where to go next. A referral that has ended may no longer be visible to the receiving
    agency (an open referral is what made it involved): then the list, saying why."""
    target = _next_url(referral_id)
    if target != url_for("pathways.view", referral_id=referral_id):
        return target
    still = queries.referral_detail(
        context.db(), context.vault(), context.viewer(), _pathways(), referral_id
    )
    if still is None:
        flash(
            "The referral has ended, and your agency is no longer involved with this person, "
            "so their record is not shown to you any more.",
            "info",
        )
        return url_for("pathways.index")
    return target


def _next_url(referral_id: uuid.UUID) -> str:
    """Back to where the button was (today's bookings), else the referral. Only our own
    referral pages: never another site."""
    target = request.values.get("next", "")
    if target.startswith("/referrals") and "//" not in target and "\\" not in target:
        return target
    return url_for("pathways.view", referral_id=referral_id)


@bp.route("/referrals/<uuid:referral_id>/transitions/<key>", methods=["GET", "POST"])
@access(CASE_WORK)
def transition(referral_id: uuid.UUID, key: str) -> ResponseReturnValue:
    detail = _detail(referral_id)
    offered = dict(detail.transitions)
    step = offered.get(key) or detail.pathway.transitions.get(key)
    if step is None:
        abort(404)
    form = transition_form(step)(**initial_data(version=detail.summary.version))
    if submitted(form):
        values, problems = form.values()
        try:
            if problems:
                raise TransitionInvalid(problems)
            outcome = services.make_transition(
                context.db(),
                context.vault(),
                context.actor(),
                context.viewer(),
                referral_id=referral_id,
                transition=key,
                values=values,
                expected_version=form.version.data,
                pathways=_pathways(),
            )
        except LookupError:
            abort(404)
        except StaleVersion:
            abort(409)
        except TransitionRefused as refused:
            return _refused(detail, refused.message)
        except TransitionInvalid as invalid:
            _refused_fields(form, invalid.problems, detail.summary.person_id)
        else:
            stage = detail.pathway.label_of(outcome.stage)
            flash(
                f"{detail.summary.reference}: {step.label}. The referral is now at “{stage}”.",
                "success",
            )
            _flash_prompts(outcome.prompts)
            return redirect(_after_transition(referral_id, detail))
    elif request.method == "POST" and form.errors and not step.fields:
        # A button without fields whose version is missing: nothing to correct on a form.
        abort(400)
    if key not in offered:
        # Not from here, or not by this user: say why rather than show a form that will fail.
        return _refused(
            detail,
            f"“{step.label}” cannot be recorded now: the referral is at "
            f"“{detail.summary.stage_label}”, or it is not for you to record.",
        )
    header = _audit_detail(detail)
    return render_template(
        "pathways/transition.html",
        detail=detail,
        summary=detail.summary,
        header=header,
        form=form,
        step=step,
        next_url=request.values.get("next", ""),
    )


def _refused(detail: ReferralDetail, message: str) -> ResponseReturnValue:
    audit_refusal(
        "transition_refused",
        person_id=detail.summary.person_id,
        details={"referral_id": str(detail.summary.id)},
    )
    return (
        render_template("pathways/refused.html", summary=detail.summary, message=message),
        409,
    )
