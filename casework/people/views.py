"""Finding a person, their record, corrections, alerts, needs, a death, and their timeline."""

from __future__ import annotations

import hashlib
import json
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.policy import may_add, may_change_identity, may_open_in_emergency
from casework.access.rules import CASE_WORK, access
from casework.clock import utcnow
from casework.db import StaleVersion
from casework.family import queries as family_queries
from casework.people import queries, services
from casework.people.codes import FamilyRole, TimelineKind
from casework.people.forms import (
    AlertForm,
    DeathForm,
    EditPersonForm,
    EndAlertForm,
    NeedsForm,
    NewPersonForm,
    SearchForm,
)
from casework.people.queries import SearchCriteria, TimelineFilter
from casework.people.records import PersonFields
from casework.people.services import NewInvolvement, PersonError
from casework.treatment import queries as treatment_queries
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import categories_of, person_page
from casework.web.errors import register_case_errors
from casework.web.forms import initial_data, show_error, submitted
from casework.welfare import labels as welfare_labels
from casework.welfare import queries as welfare_queries

bp = Blueprint("people", __name__, url_prefix="/people")
register_case_errors(bp)

FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "known_as": "Known as",
    "aliases": "Other names",
    "sex": "Sex",
    "housing_status": "Housing",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
    "pnc_id": "PNC ID",
    "local_id": "Local ID",
    "phone": "Phone number",
    "email": "Email address",
    "address": "Address",
    "postcode": "Postcode",
}


# --- search and create ----------------------------------------------------------------------


@bp.route("/")
@access(CASE_WORK)
def search() -> ResponseReturnValue:
    form = SearchForm(request.args)
    results = None
    searched = any(request.args.get(key) for key in ("name", "identifier", "date_of_birth"))
    if searched and form.validate():
        name, identifier = form.name.data or "", form.identifier.data or ""
        if any(ch.isdigit() for ch in name) and not identifier:
            # Names have no digits: an NHS number or PNC ID typed in the one search box.
            name, identifier = "", name
        criteria = SearchCriteria(
            name=name, date_of_birth=form.date_of_birth.data, identifier=identifier
        )
        if criteria.empty:
            form.name.errors = ["Enter a name, date of birth or identifier"]
        else:
            results = queries.search_people(
                context.db(), context.vault(), context.kit().blind_index, context.viewer(), criteria
            )
            audit_matches("people.searched", results)
    return render_template(
        "people/search.html",
        form=form if searched else SearchForm(request.args),
        results=results,
        searched=searched,
        emergency_allowed=may_open_in_emergency(context.viewer(), None),
    )


@bp.route("/new", methods=["GET", "POST"])
@access(CASE_WORK)
def create() -> ResponseReturnValue:
    form = NewPersonForm(**initial_data(sex="not_known", housing_status="not_known"))
    if Category.HOUSING not in context.viewer().categories:
        del form.housing_status
    duplicates = None
    if submitted(form):
        fields = form.to_fields()
        db = context.db()
        if form.confirmed.data != "yes":
            duplicates = queries.likely_duplicates(
                db, context.vault(), context.kit().blind_index, context.viewer(), fields
            )
            if duplicates.hits or duplicates.elsewhere:
                audit_matches("people.duplicates_shown", duplicates)
                form.confirmed.data = "yes"
                form.submit.label.text = "Create a new record"
                return render_template("people/create.html", form=form, duplicates=duplicates)
        try:
            person_id = services.create_person(
                db,
                vault=context.vault(),
                blind=context.kit().blind_index,
                actor=context.actor(),
                viewer=context.viewer(),
                fields=fields,
                involvement=NewInvolvement(FamilyRole.KEY_WORKER, context.principal().id),
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash(
                f"{fields.names.full}'s record was created. Your agency is the lead professional.",
                "success",
            )
            return redirect(url_for("people.view", person_id=person_id))
    return render_template("people/create.html", form=form, duplicates=duplicates)


def audit_matches(action: str, results: queries.SearchResults) -> None:
    """A search shows the people it found and reveals (name and date of birth only) those
    held by other agencies: both are audited, the reveal marked as such."""
    audit_read(
        action,
        people=[hit.id for hit in results.hits],
        revealed=[match.id for match in results.revealed],
        categories=categories_of(*(hit.alerts for hit in results.hits)),
    )


# --- one person -----------------------------------------------------------------------------


@bp.route("/<uuid:person_id>")
@access(CASE_WORK)
def view(person_id: uuid.UUID) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    record = queries.person_record(db, vault, viewer, person_id)
    members = family_queries.family(db, viewer, record.access)
    recent = queries.timeline(db, vault, viewer, record.access, per_page=5)
    welfare = welfare_queries.person_schedules(db, viewer, record.access)
    treatment = treatment_queries.episodes_for_person(db, viewer, record.access)
    shown = categories_of(record.alerts, record.needs, members, recent.items, welfare, treatment)
    if record.housing_status is not None:
        shown.add(Category.HOUSING)
    if any(item.note for item in recent.items):
        shown.add(Category.CASE_NOTES)
    audit_read("person.viewed", access=record.access, categories=shown)
    return render_template(
        "people/view.html",
        record=record,
        header=record.header,
        family=members,
        recent=recent,
        welfare=welfare,
        welfare_now=utcnow(),
        welfare_due=welfare_labels.due_words,
        treatment=treatment,
        treatment_may_record=treatment_queries.recording_allowed(db, viewer, record.access),
    )


def _audit_record(record: queries.PersonRecord, *extra: Category) -> None:
    """A form page about one person shows their header and identity details."""
    audit_read(
        None,
        access=record.access,
        categories=categories_of(record.alerts) | set(extra),
    )


def _baseline(fields: PersonFields, *, with_housing: bool = True) -> str:
    """Short digests of each value as the form was opened, so a conflict can say which
    fields someone else changed (kept in the form; the values themselves are on the page)."""
    return json.dumps(
        {
            key: hashlib.sha256(value.encode()).hexdigest()[:12]
            for key, value in fields.flat().items()
        },
        separators=(",", ":"),
    )


@bp.route("/<uuid:person_id>/edit", methods=["GET", "POST"])
@access(CASE_WORK)
def edit(person_id: uuid.UUID) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    record = queries.person_record(db, vault, viewer, person_id)
    if not may_change_identity(viewer, record.access):
        raise services.NotAllowed("identity")
    form = EditPersonForm(**initial_data(**EditPersonForm.data_from(record.fields, record.version)))
    may_read_housing = Category.HOUSING in viewer.categories
    _audit_record(record, Category.HOUSING if may_read_housing else Category.IDENTITY)
    if not may_read_housing:
        del form.housing_status
    baseline = (
        request.form.get("baseline")
        if request.method == "POST"
        else _baseline(record.fields, with_housing=may_read_housing)
    )
    conflict: list[dict[str, str]] = []
    status = 200
    if submitted(form):
        try:
            changed = services.update_person(
                db,
                vault=vault,
                blind=context.kit().blind_index,
                actor=context.actor(),
                viewer=viewer,
                access=record.access,
                fields=form.to_fields(record.fields.housing_status),
                expected_version=form.version.data,
            )
        except PersonError as error:
            show_error(form, error)
        except StaleVersion:
            conflict = _what_changed(
                record.fields, baseline, form.to_fields(record.fields.housing_status)
            )
            if not may_read_housing:
                conflict = [
                    row for row in conflict if row["field"] != FIELD_LABELS["housing_status"]
                ]
            form.version.data = record.version
            baseline = _baseline(record.fields, with_housing=may_read_housing)
            status = 409
        else:
            flash("Details saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("people.view", person_id=person_id))
    return (
        render_template(
            "people/edit.html",
            form=form,
            record=record,
            baseline=baseline,
            conflict=conflict,
            header=record.header,
        ),
        status,
    )


def _what_changed(
    current: PersonFields, baseline: str | None, yours: PersonFields
) -> list[dict[str, str]]:
    """The fields someone else changed since the form was opened: their value and yours."""
    try:
        digests = json.loads(baseline or "{}")
    except ValueError:
        digests = {}
    now, typed = current.flat(), yours.flat()
    rows = []
    for key, value in now.items():
        if digests.get(key) != hashlib.sha256(value.encode()).hexdigest()[:12]:
            rows.append(
                {
                    "field": FIELD_LABELS.get(key, key),
                    "theirs": value or "(empty)",
                    "yours": typed.get(key) or "(empty)",
                }
            )
    return rows


# --- alerts, needs, death -------------------------------------------------------------------


@bp.route("/<uuid:person_id>/alerts/new", methods=["GET", "POST"])
@access(CASE_WORK)
def add_alert(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer = context.viewer()
    if not may_add(viewer, header.access):
        raise services.NotAllowed("alert")
    form = AlertForm()
    form.set_choices(set(viewer.categories))
    if submitted(form):
        try:
            services.raise_alert(
                context.db(),
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                alert_type=form.alert_type.data or "",
                detail=form.detail.data or "",
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Alert added. Everyone who can see this person's alerts will see it.", "success")
            return redirect(url_for("people.view", person_id=person_id))
    return render_template("people/add_alert.html", form=form, header=header)


@bp.route("/<uuid:person_id>/alerts/<uuid:alert_id>/end", methods=["POST"])
@access(CASE_WORK)
def end_alert(person_id: uuid.UUID, alert_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    form = EndAlertForm()
    if not submitted(form):
        abort(400)
    try:
        services.end_alert(context.db(), context.actor(), context.viewer(), header.access, alert_id)
    except LookupError:
        abort(404)
    flash("Alert ended.", "success")
    return redirect(url_for("people.view", person_id=person_id))


@bp.route("/<uuid:person_id>/needs", methods=["GET", "POST"])
@access(CASE_WORK)
def edit_needs(person_id: uuid.UUID) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    record = queries.person_record(db, vault, viewer, person_id)
    if not may_add(viewer, record.access):
        raise services.NotAllowed("needs")
    _audit_record(record, *(need.category for need in record.needs))
    form = NeedsForm(**initial_data(needs=[need.code for need in record.needs]))
    form.needs.choices = {need.code: need.label for need in record.editable_needs}
    if submitted(form):
        try:
            services.set_needs(
                db, context.actor(), viewer, record.access, set(form.needs.data or [])
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Needs saved.", "success")
            return redirect(url_for("people.view", person_id=person_id))
    return render_template("people/needs.html", form=form, record=record, header=record.header)


@bp.route("/<uuid:person_id>/death", methods=["GET", "POST"])
@access(CASE_WORK)
def record_death(person_id: uuid.UUID) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    record = queries.person_record(db, vault, viewer, person_id)
    if record.died_on is not None:
        abort(404)
    if not may_change_identity(viewer, record.access):
        raise services.NotAllowed("death")
    _audit_record(record)
    form = DeathForm(**initial_data(version=record.version))
    if submitted(form) and form.died_on.data is not None:
        try:
            services.record_death(
                db,
                context.actor(),
                viewer,
                record.access,
                died_on=form.died_on.data,
                expected_version=form.version.data,
            )
        except PersonError as error:
            show_error(form, error)
        except StaleVersion:
            abort(409)
        else:
            flash(
                f"Death recorded for {record.names.full}. Every involvement is closed.",
                "success",
            )
            if not queries.is_visible(db, viewer, person_id):
                # With every involvement closed, only the agency that created the record
                # still sees it: everyone else goes back to their caseload.
                return redirect(url_for("family.caseload"))
            return redirect(url_for("people.view", person_id=person_id))
    return render_template("people/death.html", form=form, record=record, header=record.header)


# --- timeline -------------------------------------------------------------------------------


@bp.route("/<uuid:person_id>/timeline")
@access(CASE_WORK)
def timeline(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    db, viewer = context.db(), context.viewer()
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        abort(404)
    kinds = [kind for kind in TimelineKind if kind.value in request.args.getlist("kind")]
    agency_id = _uuid_or_none(request.args.get("agency"))
    if request.args.get("agency") and agency_id is None:
        abort(404)
    result = queries.timeline(
        db,
        context.vault(),
        viewer,
        header.access,
        filters=TimelineFilter(kinds=kinds, agency_id=agency_id),
        page=page,
    )
    shown = categories_of(header.alerts, result.items)
    if any(item.note for item in result.items):
        shown.add(Category.CASE_NOTES)
    audit_read("person.timeline_viewed", access=header.access, categories=shown)
    return render_template(
        "people/timeline.html",
        timeline=result,
        kinds=list(TimelineKind),
        chosen_kinds={kind.value for kind in kinds},
        agencies=queries.timeline_agencies(db, viewer, header.access),
        chosen_agency=str(agency_id) if agency_id else "",
        header=header,
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
