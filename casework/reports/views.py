"""The Reports area: the landing page, each report with its filters, charts and tables, the
people behind a figure, the chart images and the CSV and XLSX exports.

Managers see their agency's figures (exact on the page), partnership leads the partnership's
(always suppressed); anyone else gets 403. Every export is built with ``export=True`` (always
suppressed), whole in memory before it is sent, and audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.policy import Viewer
from casework.access.roles import Role
from casework.access.rules import access, roles
from casework.clock import london_today, utcnow
from casework.reports import charts, exports, queries, services
from casework.reports.definitions import REPORTS, ReportDef
from casework.reports.forms import FilterForm
from casework.reports.people import people_lines
from casework.reports.periods import Filters
from casework.reports.services import FilterError, ReportNotFoundError
from casework.reports.tables import Cell, Drill, Report, Section
from casework.web import context
from casework.web.audit import audit_read

bp = Blueprint("reports", __name__)

#: Managers (their agency) and partnership leads (the partnership). ``scope_for`` decides.
REPORTS_RULE = roles(Role.MANAGER, Role.PARTNERSHIP_LEAD)
#: A chart image may be kept by the user's own browser for a short while (never shared).
CHART_CACHE = "private, max-age=300"


def _url(endpoint: str, values: dict[str, Any]) -> str:
    """``url_for`` with the filters' query arguments (``from`` is a Python keyword)."""
    return url_for(endpoint, **values)


def _definition(name: str) -> ReportDef:
    definition = REPORTS.get(name)
    if definition is None:
        abort(404)
    return definition


def _viewer() -> Viewer:
    viewer = context.viewer()
    if services.scope_for(viewer) is None:
        abort(403)
    return viewer


def _arg_id(key: str) -> uuid.UUID | None:
    """An id in the query string, only to choose which lists the form offers (the filters
    themselves are checked by the service)."""
    try:
        return uuid.UUID(request.args.get(key) or "")
    except ValueError:
        return None


def _form(viewer: Viewer) -> FilterForm:
    form = FilterForm(request.args)
    form.offer(
        services.filter_choices(
            context.db(), viewer, agency_id=_arg_id("agency"), team_id=_arg_id("team")
        )
    )
    if not any(request.args.get(key) for key in ("preset", "from", "to")):
        form.preset.data = services.DEFAULT_PRESET.value
    return form


def _filters(viewer: Viewer, form: FilterForm | None = None) -> Filters | None:
    """The request's filters, or None with the problem put on its field."""
    try:
        return services.check_filters(context.db(), viewer, request.args, today=london_today())
    except FilterError as error:
        if form is not None:
            form.show(error.field, error.message)
        return None


def _filters_or_400(viewer: Viewer) -> Filters:
    try:
        return services.check_filters(context.db(), viewer, request.args, today=london_today())
    except FilterError as error:
        abort(Response(_problem_page("Check the report's filters", error.message), 400))


def _problem_page(heading: str, message: str) -> str:
    return render_template("reports/problem.html", heading=heading, message=message)


def _available(name: str) -> bool:
    # Until a report's builder lands, its page says so instead of failing.
    return name in queries.BUILDERS


def _build(viewer: Viewer, name: str, filters: Filters, *, export: bool = False) -> Report:
    try:
        return services.build(
            context.db(),
            viewer,
            name,
            filters,
            now=utcnow(),
            export=export,
            threshold=context.settings().report_suppression_threshold,
        )
    except ReportNotFoundError:
        abort(404)
    except PermissionError:
        abort(403)


@bp.route("/reports")
@access(REPORTS_RULE)
def index() -> ResponseReturnValue:
    viewer = _viewer()
    return render_template(
        "reports/index.html",
        reports=list(REPORTS.values()),
        scope=services.scope_for(viewer),
        threshold=context.settings().report_suppression_threshold,
    )


def _drill_href(report: Report, may_drill: bool) -> Callable[[Cell], str | None]:
    args = report.filters.query_args()

    def href(cell: Cell) -> str | None:
        if not may_drill or cell.drill is None or cell.suppressed:
            return None
        value = cell.value
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            return None
        return _url("reports.people", {"name": report.name, **args, **cell.drill.as_args()})

    return href


@bp.route("/reports/<name>")
@access(REPORTS_RULE)
def report(name: str) -> ResponseReturnValue:
    definition = _definition(name)
    viewer = _viewer()
    form = _form(viewer)
    filters = _filters(viewer, form)
    page = {
        "definition": definition,
        "form": form,
        "scope": services.scope_for(viewer),
        "threshold": context.settings().report_suppression_threshold,
    }
    if filters is None:
        return render_template("reports/report.html", report=None, **page), 400
    if not _available(name):
        return render_template("reports/report.html", report=None, unavailable=True, **page)
    built = _build(viewer, name, filters)
    args = filters.query_args()
    audit_read("report.viewed", details={"report": name, "filters": args})
    return render_template(
        "reports/report.html",
        report=built,
        args=args,
        drill_href=_drill_href(built, services.may_drill_down(viewer)),
        chart_src=lambda section: _url(
            "reports.chart", {"name": name, "section": section.key, **args}
        ),
        csv_href=lambda table: _url(
            "reports.export_csv", {"name": name, "table": table.key, **args}
        ),
        xlsx_href=_url("reports.export_xlsx", {"name": name, **args}),
        **page,
    )


def _section(report: Report, key: str) -> Section:
    found = next((section for section in report.sections if section.key == key), None)
    if found is None:
        abort(404)
    return found


@bp.route("/reports/<name>/chart/<section>.svg")
@access(REPORTS_RULE)
def chart(name: str, section: str) -> ResponseReturnValue:
    _definition(name)
    viewer = _viewer()
    filters = _filters_or_400(viewer)
    if not _available(name):
        abort(404)
    found = _section(_build(viewer, name, filters), section)
    if found.chart is None:
        abort(404)
    narrow = request.args.get("size") == "narrow"
    response = Response(charts.render_svg(found.chart, narrow=narrow), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = CHART_CACHE
    # The image refers to nothing outside itself; its own inline style may apply.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _drill_from(args: Mapping[str, str]) -> Drill:
    measure = (args.get("measure") or "").strip()
    if not measure:
        abort(404)
    params = tuple((key[2:], value) for key, value in args.items() if key.startswith("d_"))
    return Drill(measure, params)


def _breakdown(viewer: Viewer, drill: Drill) -> list[tuple[str, str]]:
    """The figure's breakdown in words: an agency, team, worker or pathway by its name."""
    choices = services.filter_choices(context.db(), viewer, every=True)
    named = {
        "agency": dict((str(key), name) for key, name in choices.agencies),
        "team": dict((str(key), name) for key, name in choices.teams),
        "worker": dict((str(key), name) for key, name in choices.workers),
        "pathway": dict(choices.pathways),
    }
    return [
        (key.replace("_", " ").capitalize(), named.get(key, {}).get(value, value.replace("_", " ")))
        for key, value in drill.params
    ]


@bp.route("/reports/<name>/people")
@access(REPORTS_RULE)
def people(name: str) -> ResponseReturnValue:
    definition = _definition(name)
    viewer = _viewer()
    if not services.may_drill_down(viewer):
        abort(403)
    filters = _filters_or_400(viewer)
    drill = _drill_from(request.args)
    db, now = context.db(), utcnow()
    try:
        result = services.drill_down(db, viewer, name, filters, drill, now=now)
    except ReportNotFoundError:
        abort(404)
    except PermissionError:
        abort(403)
    listed = people_lines(db, context.vault(), viewer, result.person_ids, now=now)
    audit_read(
        "report.people_listed",
        people=[line.person_id for line in listed.people],
        categories={Category.IDENTITY},
        details={
            "report": name,
            "measure": drill.measure,
            "breakdown": dict(drill.params),
            "filters": filters.query_args(),
            "total": result.total,
        },
    )
    return render_template(
        "reports/people.html",
        definition=definition,
        result=result,
        listed=listed,
        breakdown=_breakdown(viewer, drill),
        filters=filters,
        back=_url("reports.report", {"name": name, **filters.query_args()}),
    )


def _export_limit() -> int:
    return context.settings().report_export_max_rows


def _too_large(error: exports.ExportTooLargeError) -> ResponseReturnValue:
    return _problem_page("This export is too large", str(error)), 400


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(len(body))
    return response


def _audit_export(name: str, fmt: str, filters: Filters, rows: int, table: str = "") -> None:
    details: dict[str, object] = {
        "report": name,
        "format": fmt,
        "filters": filters.query_args(),
        "rows": rows,
    }
    if table:
        details["table"] = table
    audit_read("report.exported", details=details)


@bp.route("/reports/<name>/export.csv")
@access(REPORTS_RULE)
def export_csv(name: str) -> ResponseReturnValue:
    _definition(name)
    viewer = _viewer()
    filters = _filters_or_400(viewer)
    if not _available(name):
        abort(404)
    built = _build(viewer, name, filters, export=True)
    key = (request.args.get("table") or "").strip()
    tables = {table.key: table for table in built.tables()}
    if key not in tables:
        return _problem_page("Choose a table to download", "That table is not in this report."), 400
    try:
        exports.check_size(built, _export_limit(), key)
    except exports.ExportTooLargeError as error:
        return _too_large(error)
    body = exports.table_csv(tables[key])
    _audit_export(name, "csv", filters, len(tables[key].rows), key)
    return _download(body, "text/csv; charset=utf-8", exports.filename(built, "csv", key))


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/reports/<name>/export.xlsx")
@access(REPORTS_RULE)
def export_xlsx(name: str) -> ResponseReturnValue:
    _definition(name)
    viewer = _viewer()
    filters = _filters_or_400(viewer)
    if not _available(name):
        abort(404)
    built = _build(viewer, name, filters, export=True)
    try:
        exports.check_size(built, _export_limit())
    except exports.ExportTooLargeError as error:
        return _too_large(error)
    body = exports.report_xlsx(built)
    _audit_export(name, "xlsx", filters, exports.row_count(built))
    return _download(body, XLSX_TYPE, exports.filename(built, "xlsx"))
