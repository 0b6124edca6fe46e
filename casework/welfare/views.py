"""Welfare-check schedules on a person's record, and recording a due check."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.policy import may_log_contact
from casework.access.rules import CASE_WORK, access
from casework.clock import london_today, utcnow
from casework.db import StaleVersion
from casework.people.codes import ContactOutcome
from casework.people.queries import PersonHeader
from casework.people.services import PersonError
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import person_page
from casework.web.errors import register_case_errors
from casework.web.fields import parse_time
from casework.web.forms import initial_data, show_error, submitted
from casework.welfare import labels, queries, services
from casework.welfare.forms import (
    OUTCOME_HINTS,
    ChangeScheduleForm,
    RecordCheckForm,
    ScheduleActionForm,
    ScheduleForm,
)
from casework.welfare.models import Pattern, ScheduleState
from casework.welfare.queries import ScheduleDetail, ScheduleFields
from casework.welfare.services import CheckClosed, ScheduleInput

bp = Blueprint("welfare", __name__)
register_case_errors(bp)

#: A service refusal on a field the form does not have goes on the nearest one.
_FIELD_FOR = {"state": "submit", "user_id": "assignee", "team_id": "assignee"}


def _may_schedule(header: PersonHeader) -> bool:
    return may_log_contact(context.viewer(), header.access) and header.access.involved


def _input(form: ScheduleForm) -> ScheduleInput:
    """The form as the service's input (the form has checked every value's shape)."""
    kind, _, raw = (form.assignee.data or "").partition(":")
    assignee = uuid.UUID(raw) if raw else None
    request_agency = form.request_agency.data or ""
    assert form.start_date.data is not None  # noqa: S101 - required: validated above
    return ScheduleInput(
        kind=form.kind.data or "",
        reason=form.reason.data or "",
        pattern=Pattern(form.pattern.data),
        at=parse_time(form.at_time.data or "") or parse_time("09:00"),  # type: ignore[arg-type]
        start=form.start_date.data,
        end=form.end_date.data,
        interval_days=form.interval_days.data,
        weekdays=frozenset(int(day) for day in form.weekdays.data or []),
        working_days_only=bool(form.working_days_only.data),
        user_id=assignee if kind == "user" else None,
        team_id=assignee if kind == "team" else None,
        request_agency_id=uuid.UUID(request_agency) if request_agency else None,
    )


def _show(form: ScheduleForm, error: PersonError) -> None:
    name = _FIELD_FOR.get(error.field, error.field)
    show_error(form, PersonError(name, error.message))


def _assignee_value(fields: ScheduleFields) -> str:
    if fields.user_id is not None:
        return f"user:{fields.user_id}"
    if fields.team_id is not None:
        return f"team:{fields.team_id}"
    return ""


def _audit_schedule(detail: ScheduleDetail) -> None:
    audit_read(
        "welfare.schedule_viewed",
        categories={Category.IDENTITY, detail.summary.category},
        details={"schedule_id": str(detail.summary.id)},
    )


def _conflict(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    return render_template(
        "welfare/conflict.html", person_id=person_id, schedule_id=schedule_id
    ), 409


@bp.route("/people/<uuid:person_id>/welfare/new", methods=["GET", "POST"])
@access(CASE_WORK)
def new(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    if not _may_schedule(header) or header.died_on is not None:
        abort(403)
    db, viewer = context.db(), context.viewer()
    choices = queries.form_choices(db, viewer)
    form = ScheduleForm(
        **initial_data(
            kind=choices.kinds[0][0] if len(choices.kinds) == 1 else None,
            pattern=Pattern.EVERY_N_DAYS.value,
            interval_days=1,
            at_time="09:00",
            start_date=london_today(),
            assignee=f"user:{viewer.user_id}",
        )
    )
    form.offer(choices)
    if submitted(form):
        try:
            schedule_id = services.create_schedule(
                db, context.actor(), viewer, header.access, _input(form)
            )
        except PersonError as error:
            _show(form, error)
        else:
            flash("Welfare checks scheduled.", "success")
            return redirect(url_for("welfare.detail", person_id=person_id, schedule_id=schedule_id))
    return render_template(
        "welfare/schedule_form.html",
        form=form,
        header=header,
        choices=choices,
        heading="Schedule welfare checks",
        cancel=url_for("people.view", person_id=person_id),
    )


@bp.route("/people/<uuid:person_id>/welfare/<uuid:schedule_id>")
@access(CASE_WORK)
def detail(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    detail = queries.schedule_detail(context.db(), context.viewer(), header.access, schedule_id)
    _audit_schedule(detail)
    summary = detail.summary
    return render_template(
        "welfare/detail.html",
        header=header,
        detail=detail,
        summary=summary,
        may_change=summary.own and may_log_contact(context.viewer(), header.access),
        action_form=ScheduleActionForm(data={"version": summary.version}),
        now=utcnow(),
        due_words=labels.due_words,
    )


@bp.route("/people/<uuid:person_id>/welfare/<uuid:schedule_id>/change", methods=["GET", "POST"])
@access(CASE_WORK)
def change(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    db, viewer = context.db(), context.viewer()
    detail = queries.schedule_detail(db, viewer, header.access, schedule_id)
    _audit_schedule(detail)
    summary, fields = detail.summary, detail.fields
    if not summary.own or not may_log_contact(viewer, header.access):
        abort(403)
    if summary.state is ScheduleState.ENDED:
        abort(404)
    choices = queries.form_choices(db, viewer)
    form = ChangeScheduleForm(
        **initial_data(
            kind=fields.kind,
            reason=fields.reason,
            pattern=fields.pattern.value,
            interval_days=fields.interval_days,
            weekdays=[str(day) for day in sorted(fields.weekdays)],
            at_time=labels.hhmm(fields.at_time),
            working_days_only=fields.working_days_only,
            start_date=fields.start_date,
            end_date=fields.end_date,
            assignee=_assignee_value(fields),
            request_agency=str(fields.request_agency_id) if fields.request_agency_id else "",
            version=summary.version,
        )
    )
    form.offer(choices)
    if submitted(form):
        try:
            services.change_schedule(
                db,
                context.actor(),
                viewer,
                header.access,
                schedule_id=schedule_id,
                data=_input(form),
                expected_version=form.version.data,
            )
        except StaleVersion:
            return _conflict(person_id, schedule_id)
        except PersonError as error:
            _show(form, error)
        except LookupError:
            abort(404)
        else:
            flash("Schedule changed.", "success")
            return redirect(url_for("welfare.detail", person_id=person_id, schedule_id=schedule_id))
    return render_template(
        "welfare/schedule_form.html",
        form=form,
        header=header,
        choices=choices,
        heading="Change welfare checks",
        cancel=url_for("welfare.detail", person_id=person_id, schedule_id=schedule_id),
    )


_ACTIONS = {
    "pause": (services.pause_schedule, "Schedule paused. No checks are due until it is resumed."),
    "resume": (services.resume_schedule, "Schedule resumed."),
    "end": (services.end_schedule, "Schedule ended. No more checks will be due."),
}


def _act(person_id: uuid.UUID, schedule_id: uuid.UUID, action: str) -> ResponseReturnValue:
    header = person_page(person_id)
    form = ScheduleActionForm()
    if not form.validate_on_submit():
        abort(400)
    service, message = _ACTIONS[action]
    try:
        service(
            context.db(),
            context.actor(),
            context.viewer(),
            header.access,
            schedule_id=schedule_id,
            expected_version=form.version.data,
        )
    except StaleVersion:
        return _conflict(person_id, schedule_id)
    except PersonError as error:
        flash(error.message, "error")
        return redirect(url_for("welfare.detail", person_id=person_id, schedule_id=schedule_id))
    except LookupError:
        abort(404)
    flash(message, "success")
    return redirect(url_for("welfare.detail", person_id=person_id, schedule_id=schedule_id))


@bp.route("/people/<uuid:person_id>/welfare/<uuid:schedule_id>/pause", methods=["POST"])
@access(CASE_WORK)
def pause(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    return _act(person_id, schedule_id, "pause")


@bp.route("/people/<uuid:person_id>/welfare/<uuid:schedule_id>/resume", methods=["POST"])
@access(CASE_WORK)
def resume(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    return _act(person_id, schedule_id, "resume")


@bp.route("/people/<uuid:person_id>/welfare/<uuid:schedule_id>/end", methods=["POST"])
@access(CASE_WORK)
def end(person_id: uuid.UUID, schedule_id: uuid.UUID) -> ResponseReturnValue:
    return _act(person_id, schedule_id, "end")


# --- recording a check ----------------------------------------------------------------------


def _next_words(next_due_at: object) -> str:
    from datetime import datetime

    if not isinstance(next_due_at, datetime):
        return "There are no more checks in this schedule."
    return f"The next check is due {labels.due_words(next_due_at, utcnow())}."


@bp.route("/welfare/checks/<uuid:task_id>", methods=["GET", "POST"])
@access(CASE_WORK)
def record(task_id: uuid.UUID) -> ResponseReturnValue:
    db, viewer = context.db(), context.viewer()
    header = person_page(queries.check_person(db, task_id), action="welfare.check_viewed")
    check = queries.due_check(db, viewer, header.access, task_id)
    audit_read(None, categories={check.category}, details={"task_id": str(task_id)})
    if check.agency_id != viewer.agency_id or not may_log_contact(viewer, header.access):
        abort(403)
    can_write_notes = Category.CASE_NOTES in viewer.categories
    form = RecordCheckForm()
    if not can_write_notes:
        del form.note
    status = 200
    already = not check.open
    if not already and submitted(form):
        try:
            done = services.record_check(
                db,
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                task_id=task_id,
                outcome=ContactOutcome(form.outcome.data),
                note=(form.note.data or "") if can_write_notes else "",
            )
        except CheckClosed:
            already, status = True, 409
        except PersonError as error:
            show_error(form, error)
        except LookupError:
            abort(404)
        else:
            flash(
                f"Welfare check saved for {header.names.display}. {_next_words(done.next_due_at)}",
                "success",
            )
            return redirect(url_for("home.index"))
    if already and status == 200 and form.is_submitted():
        status = 409
    return render_template(
        "welfare/record.html",
        form=form,
        header=header,
        check=check,
        already=already,
        hints=OUTCOME_HINTS,
        due=labels.due_words(check.due_at, utcnow()),
        now=utcnow(),
    ), status
