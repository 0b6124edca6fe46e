"""Quick-logging a contact, reading one, and revising its note."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.policy import may_log_contact
from casework.access.rules import CASE_WORK, access
from casework.clock import london_datetime, london_today, to_london, utcnow
from casework.contacts import queries, services
from casework.contacts.forms import QuickLogForm, ReviseNoteForm
from casework.contacts.services import ContactInput
from casework.db import StaleVersion
from casework.people.codes import ContactKind, ContactOutcome
from casework.people.services import PersonError
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import person_page
from casework.web.errors import register_case_errors
from casework.web.fields import parse_time
from casework.web.forms import initial_data, show_error, submitted

bp = Blueprint("contacts", __name__, url_prefix="/people/<uuid:person_id>/contacts")
register_case_errors(bp)


@bp.route("/new", methods=["GET", "POST"])
@access(CASE_WORK)
def quick_log(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer = context.viewer()
    if not may_log_contact(viewer, header.access):
        abort(403)
    now = to_london(utcnow())
    form = QuickLogForm(
        **initial_data(occurred_on=london_today(), occurred_time=now.strftime("%H:%M"))
    )
    can_write_notes = Category.CASE_NOTES in viewer.categories
    if submitted(form) and form.occurred_on.data is not None:
        at = parse_time(form.occurred_time.data or "") or now.time().replace(
            second=0, microsecond=0
        )
        try:
            services.log_contact(
                context.db(),
                vault=context.vault(),
                actor=context.actor(),
                viewer=viewer,
                access=header.access,
                data=ContactInput(
                    occurred_at=london_datetime(form.occurred_on.data, at),
                    kind=ContactKind(form.kind.data),
                    outcome=ContactOutcome(form.outcome.data),
                    place=form.place.data or "",
                    duration_minutes=form.duration_minutes.data,
                    note=(form.note.data or "") if can_write_notes else "",
                    agency_only=bool(form.agency_only.data),
                ),
            )
        except PersonError as error:
            if error.field == "occurred_at":
                form.occurred_on.errors = [error.message]
            else:
                show_error(form, error)
        else:
            flash(f"Contact saved for {header.names.full}.", "success")
            return redirect(url_for("people.view", person_id=person_id))
    return render_template(
        "contacts/quick_log.html", form=form, header=header, can_write_notes=can_write_notes
    )


@bp.route("/<uuid:contact_id>")
@access(CASE_WORK)
def view(person_id: uuid.UUID, contact_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    contact = queries.contact_view(
        context.db(), context.vault(), context.viewer(), header.access, contact_id
    )
    shown = [contact.category, *([Category.CASE_NOTES] if contact.revisions else [])]
    audit_read("contact.viewed", categories=shown, details={"contact_id": str(contact_id)})
    return render_template("contacts/view.html", contact=contact, header=header)


@bp.route("/<uuid:contact_id>/note", methods=["GET", "POST"])
@access(CASE_WORK)
def revise(person_id: uuid.UUID, contact_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer = context.viewer()
    contact = queries.contact_view(context.db(), context.vault(), viewer, header.access, contact_id)
    if not contact.own or Category.CASE_NOTES not in viewer.categories:
        abort(403)
    current = contact.note
    form = ReviseNoteForm(
        **initial_data(
            note=current.body if current else "",
            agency_only=current.agency_only if current else False,
            version=contact.version,
        )
    )
    status = 200
    if submitted(form):
        try:
            services.revise_note(
                context.db(),
                vault=context.vault(),
                actor=context.actor(),
                viewer=viewer,
                access=header.access,
                contact_id=contact_id,
                body=form.note.data or "",
                agency_only=bool(form.agency_only.data),
                expected_version=form.version.data,
            )
        except StaleVersion:
            form.note.errors = [
                "Someone else saved a new version of this note while you were editing. "
                "Their version is shown below; your text is still in the box. "
                "Check both, then save again."
            ]
            form.version.data = contact.version
            status = 409
        except PersonError as error:
            show_error(form, error)
        else:
            flash("A new version of the note was saved. Earlier versions are kept.", "success")
            return redirect(url_for("contacts.view", person_id=person_id, contact_id=contact_id))
    return render_template(
        "contacts/revise.html", form=form, contact=contact, header=header
    ), status
