"""Information governance's pages: the audit search, finding a person, a person's sharing
records and emergency accesses, and "who has seen this record" (for subject access)."""

from __future__ import annotations

import csv
import io
import uuid

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.roles import Role
from casework.access.rules import access, roles
from casework.audit import queries
from casework.audit.forms import AuditSearchForm
from casework.consent import queries as consent_queries
from casework.consent.rules import SharingRules, category_label
from casework.people import queries as people_queries
from casework.people.forms import SearchForm
from casework.people.queries import SearchCriteria
from casework.web import context
from casework.web.audit import audit_read
from casework.web.errors import register_case_errors

bp = Blueprint("audit", __name__, url_prefix="/governance")
register_case_errors(bp)

GOVERNANCE = roles(Role.INFORMATION_GOVERNANCE)


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 100_000:
        abort(404)
    return page


@bp.route("/audit")
@access(GOVERNANCE)
def search() -> ResponseReturnValue:
    db = context.db()
    form = AuditSearchForm(request.args)
    form.agency.choices = {"": "Any agency"} | {
        str(agency_id): name for agency_id, name in queries.agencies(db)
    }
    results = None
    person = None
    if form.validate():
        filters = form.to_filter()
        if filters.person_id is not None:
            person = consent_queries.person_identity(db, context.vault(), filters.person_id)
            audit_read(
                "governance.access_log_viewed",
                people=[filters.person_id],
                categories=[Category.IDENTITY],
            )
        results = queries.search(db, filters, page=_page_number())
    return render_template("audit/search.html", form=form, results=results, person=person)


@bp.route("/people")
@access(GOVERNANCE)
def find_person() -> ResponseReturnValue:
    form = SearchForm(request.args)
    found = None
    searched = any(request.args.get(key) for key in ("name", "identifier", "date_of_birth"))
    if searched and form.validate():
        criteria = SearchCriteria(
            name=form.name.data or "",
            date_of_birth=form.date_of_birth.data,
            identifier=form.identifier.data or "",
        )
        if criteria.empty:
            form.name.errors = ["Enter a name, date of birth or identifier"]
        else:
            found = people_queries.find_any(
                context.db(), context.vault(), context.kit().blind_index, context.viewer(), criteria
            )
            audit_read(
                "governance.people_found",
                people=[match.id for match in found],
                categories=[Category.IDENTITY],
            )
    return render_template("audit/find_person.html", form=form, found=found, searched=searched)


@bp.route("/people/<uuid:person_id>")
@access(GOVERNANCE)
def person(person_id: uuid.UUID) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    name, born = consent_queries.person_identity(db, vault, person_id)
    rules = SharingRules.from_settings(context.settings())
    bases = consent_queries.bases_for_person(db, viewer, person_id, rules)
    emergencies = consent_queries.emergencies_for_person(db, person_id)
    audit_read(
        "governance.person_viewed",
        people=[person_id],
        categories={Category.IDENTITY, *(c for basis in bases for c in basis.categories)},
    )
    return render_template(
        "audit/person.html",
        person_id=person_id,
        person_name=name,
        date_of_birth=born,
        bases=bases,
        emergencies=emergencies,
    )


@bp.route("/people/<uuid:person_id>/access")
@access(GOVERNANCE)
def access_log(person_id: uuid.UUID) -> ResponseReturnValue:
    db = context.db()
    name, born = consent_queries.person_identity(db, context.vault(), person_id)
    emergency = _uuid_arg("emergency")
    log = queries.access_log(db, person_id, emergency_access_id=emergency, page=_page_number())
    audit_read("governance.access_log_viewed", people=[person_id], categories=[Category.IDENTITY])
    return render_template(
        "audit/access_log.html",
        person_id=person_id,
        person_name=name,
        date_of_birth=born,
        log=log,
        emergency=emergency,
    )


@bp.route("/people/<uuid:person_id>/access.csv")
@access(GOVERNANCE)
def access_log_csv(person_id: uuid.UUID) -> ResponseReturnValue:
    """Who has seen this record, as a spreadsheet for a subject access request."""
    db = context.db()
    consent_queries.person_identity(db, context.vault(), person_id)  # 404 for no such person
    rows = queries.access_log_all(db, person_id)
    audit_read("governance.access_log_exported", people=[person_id], categories=[Category.IDENTITY])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "When (UTC)",
            "Who",
            "Email",
            "Agency",
            "What",
            "Outcome",
            "Categories",
            "Name and date of birth only",
            "Emergency access",
        ]
    )
    for row in rows:
        writer.writerow(
            _cell(value)
            for value in [
                row.occurred_at.isoformat(timespec="seconds"),
                row.user_name,
                row.user_email,
                row.agency_name,
                row.label,
                row.outcome,
                "; ".join(category_label(code) for code in row.categories),
                "yes" if row.revealed else "no",
                "yes" if row.emergency_access_id else "no",
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="access-log-{person_id}.csv"'},
    )


def _cell(value: str) -> str:
    """A spreadsheet cell that cannot run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _uuid_arg(name: str) -> uuid.UUID | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)
