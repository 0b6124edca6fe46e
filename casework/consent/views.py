"""Sharing: a person's consent and other lawful bases, emergency access, and information
governance's review queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.policy import (
    may_change_basis,
    may_open_in_emergency,
    may_record_basis,
    may_withdraw_basis,
    person_access,
)
from casework.access.roles import Role
from casework.access.rules import CASE_WORK, access, roles
from casework.clock import london_today
from casework.consent import queries, services
from casework.consent.forms import (
    BasisForm,
    ConsentForm,
    CorrectConsentForm,
    EmergencyForm,
    EndEmergencyForm,
    ReviewBasisForm,
    ReviewEmergencyForm,
    WithdrawForm,
    basis_kind,
    chosen_categories,
    method_of,
    parse_recipient,
    reason_of,
    recipient_choices,
    recipient_value,
)
from casework.consent.queries import BasisView
from casework.consent.rules import SharingRules
from casework.consent.services import BasisInput, ConsentInput, Recipient
from casework.db import StaleVersion
from casework.family import queries as family_queries
from casework.people.queries import PersonHeader
from casework.people.services import NotAllowed, PersonError
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import person_page
from casework.web.errors import register_case_errors
from casework.web.forms import initial_data, show_error, submitted

bp = Blueprint("consent", __name__)
register_case_errors(bp)

EMERGENCY_WORK = roles(Role.WORKER, Role.ASSESSOR, Role.MANAGER)
GOVERNANCE = roles(Role.INFORMATION_GOVERNANCE)


def _rules() -> SharingRules:
    return SharingRules.from_settings(context.settings())


def _share_with_choices() -> dict[str, str]:
    return recipient_choices(family_queries.active_agencies(context.db()))


def _audit_bases(header: PersonHeader, bases: list[BasisView]) -> None:
    audit_read(
        None,
        access=header.access,
        categories={Category.IDENTITY} | {c for basis in bases for c in basis.categories},
        details={"bases": [str(basis.id) for basis in bases][:50]},
    )


# --- a person's sharing records -------------------------------------------------------------


@bp.route("/people/<uuid:person_id>/sharing")
@access(CASE_WORK)
def index(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer = context.viewer()
    bases = queries.bases_for_person(context.db(), viewer, person_id, _rules())
    _audit_bases(header, bases)
    return render_template(
        "consent/index.html",
        header=header,
        current=[basis for basis in bases if basis.current],
        past=[basis for basis in bases if not basis.current],
        may_record=may_record_basis(viewer, header.access),
        may_open_in_emergency=may_open_in_emergency(viewer, header.access),
        hours=_rules().break_glass_hours,
    )


@bp.route("/people/<uuid:person_id>/sharing/consent/new", methods=["GET", "POST"])
@access(CASE_WORK)
def new_consent(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer, rules, today = context.viewer(), _rules(), london_today()
    if not may_record_basis(viewer, header.access):
        raise NotAllowed("consent")
    form = ConsentForm(
        **initial_data(
            given_on=today,
            review_on=rules.default_review_date(today),
            categories=[Category.IDENTITY.value],
        )
    )
    form.share_with.choices = _share_with_choices()
    if submitted(form):
        try:
            services.record_consent(
                context.db(),
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                data=_consent_input(form),
                rules=rules,
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Consent recorded. The agency it names can see what it covers now.", "success")
            return redirect(url_for("consent.index", person_id=person_id))
    return render_template(
        "consent/consent_form.html",
        form=form,
        header=header,
        page_heading="Record consent to share",
        correcting=None,
    )


def _consent_input(form: ConsentForm) -> ConsentInput:
    return ConsentInput(
        recipient=parse_recipient(form.share_with.data),
        categories=chosen_categories(form.categories.data),
        purpose=form.purpose.data or "",
        given_on=form.given_on.data,
        method=method_of(form.method.data),
        form_reference=form.form_reference.data or "",
        review_on=form.review_on.data,
    )


def _basis(header: PersonHeader, basis_id: uuid.UUID) -> queries.BasisHistory:
    return queries.basis_detail(
        context.db(),
        context.vault(),
        context.viewer(),
        person_id=header.person_id,
        basis_id=basis_id,
        rules=_rules(),
    )


@bp.route("/people/<uuid:person_id>/sharing/<uuid:basis_id>")
@access(CASE_WORK)
def detail(person_id: uuid.UUID, basis_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    history = _basis(header, basis_id)
    _audit_bases(header, history.line)
    viewer, basis = context.viewer(), history.basis
    return render_template(
        "consent/detail.html",
        header=header,
        basis=basis,
        line=history.line,
        may_correct=basis.is_consent
        and basis.current
        and may_change_basis(viewer, basis.parties, header.access),
        may_withdraw=basis.current and may_withdraw_basis(viewer, basis.parties, header.access),
    )


@bp.route("/people/<uuid:person_id>/sharing/<uuid:basis_id>/correct", methods=["GET", "POST"])
@access(CASE_WORK)
def correct(person_id: uuid.UUID, basis_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    history = _basis(header, basis_id)
    old, viewer, rules = history.basis, context.viewer(), _rules()
    _audit_bases(header, [old])
    if not old.is_consent or not old.current:
        abort(404)
    if not may_change_basis(viewer, old.parties, header.access):
        raise NotAllowed("consent")
    renewing = request.args.get("renew") == "1"
    today = london_today()
    form = CorrectConsentForm(
        **initial_data(
            share_with=recipient_value(Recipient(old.agency_id, old.agency_kind)),
            categories=[category.value for category in old.categories],
            purpose=old.statement,
            given_on=today if renewing else old.starts_on,
            method=old.method.value if old.method else "",
            form_reference=old.form_reference,
            review_on=rules.default_review_date(today) if renewing else old.ends_on,
            version=old.version,
        )
    )
    form.share_with.choices = _share_with_choices()
    status = 200
    if submitted(form):
        try:
            services.supersede_consent(
                context.db(),
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                basis_id=basis_id,
                data=_consent_input(form),
                expected_version=form.version.data,
                rules=rules,
            )
        except StaleVersion:
            form.purpose.errors = [
                "Someone else changed this consent while you were editing it. Check it again "
                "below; what you typed is still in the form."
            ]
            form.version.data = old.version
            status = 409
        except PersonError as error:
            show_error(form, error)
        else:
            flash("Saved as a new record. The earlier record is kept in the history.", "success")
            return redirect(url_for("consent.index", person_id=person_id))
    return render_template(
        "consent/consent_form.html",
        form=form,
        header=header,
        page_heading="Renew consent" if renewing else "Correct a consent record",
        correcting=old,
    ), status


@bp.route("/people/<uuid:person_id>/sharing/basis/new", methods=["GET", "POST"])
@access(CASE_WORK)
def new_basis(person_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    viewer, rules, today = context.viewer(), _rules(), london_today()
    if not may_record_basis(viewer, header.access):
        raise NotAllowed("basis")
    form = BasisForm(**initial_data(ends_on=rules.default_end_date(today)))
    form.share_with.choices = _share_with_choices()
    if submitted(form):
        try:
            services.record_basis(
                context.db(),
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                data=BasisInput(
                    kind=basis_kind(form.kind.data),
                    recipient=parse_recipient(form.share_with.data),
                    categories=chosen_categories(form.categories.data),
                    justification=form.justification.data or "",
                    ends_on=form.ends_on.data,
                ),
                rules=rules,
            )
        except PersonError as error:
            show_error(form, error)
        else:
            flash(
                "Lawful basis recorded. Sharing starts now; information governance will review it.",
                "success",
            )
            return redirect(url_for("consent.index", person_id=person_id))
    return render_template("consent/basis_form.html", form=form, header=header)


@bp.route("/people/<uuid:person_id>/sharing/<uuid:basis_id>/withdraw", methods=["GET", "POST"])
@access(CASE_WORK)
def withdraw(person_id: uuid.UUID, basis_id: uuid.UUID) -> ResponseReturnValue:
    header = person_page(person_id)
    basis, viewer = _basis(header, basis_id).basis, context.viewer()
    _audit_bases(header, [basis])
    if not basis.current:
        abort(404)
    if not may_withdraw_basis(viewer, basis.parties, header.access):
        raise NotAllowed("withdraw")
    form = WithdrawForm(**initial_data(withdrawn_on=london_today(), version=basis.version))
    if not basis.is_consent:
        form.submit.label.text = "End this lawful basis"
    status = 200
    if submitted(form):
        try:
            services.withdraw(
                context.db(),
                context.vault(),
                context.actor(),
                viewer,
                header.access,
                basis_id=basis_id,
                on=form.withdrawn_on.data,
                reason=form.reason.data or "",
                expected_version=form.version.data,
            )
        except StaleVersion:
            form.reason.errors = ["Someone else changed this record first. Check it again."]
            form.version.data = basis.version
            status = 409
        except PersonError as error:
            show_error(form, error)
        else:
            flash(
                "Consent withdrawn: sharing stopped now."
                if basis.is_consent
                else "The lawful basis has ended: sharing stopped now.",
                "success",
            )
            return redirect(url_for("consent.index", person_id=person_id))
    return render_template("consent/withdraw.html", form=form, header=header, basis=basis), status


# --- emergency access -------------------------------------------------------------------------


@bp.route("/people/<uuid:person_id>/emergency", methods=["GET", "POST"])
@access(EMERGENCY_WORK)
def emergency(person_id: uuid.UUID) -> ResponseReturnValue:
    """Break-glass: works for a person the user cannot see yet (found by the search's reveal),
    and shows them only as the search did (name and date of birth)."""
    db, viewer = context.db(), context.viewer()
    current = person_access(db, viewer, person_id)
    if current is not None and not may_open_in_emergency(viewer, current):
        return redirect(url_for("people.view", person_id=person_id))
    name, born = queries.person_identity(db, context.vault(), person_id)
    audit_read(None, revealed=[person_id], categories=[Category.IDENTITY])
    form = EmergencyForm()
    if submitted(form):
        try:
            services.start_emergency(
                db,
                context.vault(),
                context.actor(),
                viewer,
                person_id=person_id,
                access=current,
                reason=reason_of(form.reason.data),
                detail=form.detail.data or "",
                rules=_rules(),
            )
        except PersonError as error:
            show_error(form, error)
        else:
            # The banner and the record's own warning say what this means; no third message.
            return redirect(url_for("people.view", person_id=person_id))
    return render_template(
        "consent/emergency.html",
        form=form,
        person_name=name,
        date_of_birth=born,
        person_id=person_id,
        hours=_rules().break_glass_hours,
        involved=current is not None,
    )


@bp.route("/emergency-access")
@access(EMERGENCY_WORK)
def my_emergencies() -> ResponseReturnValue:
    active = queries.active_emergencies(context.db(), context.vault(), context.viewer().user_id)
    audit_read(None, people=[item.person_id for item in active], categories=[Category.IDENTITY])
    return render_template("consent/my_emergencies.html", active=active, form=EndEmergencyForm())


@bp.route("/emergency-access/<uuid:access_id>/end", methods=["POST"])
@access(EMERGENCY_WORK)
def end_emergency(access_id: uuid.UUID) -> ResponseReturnValue:
    form = EndEmergencyForm()
    if not submitted(form):
        abort(400)
    try:
        services.end_emergency(context.db(), context.actor(), context.viewer(), access_id)
    except LookupError:
        abort(404)
    flash("Emergency access ended.", "success")
    return redirect(url_for("home.index"))


# --- information governance --------------------------------------------------------------------


@bp.route("/governance/reviews")
@access(GOVERNANCE)
def review_queue() -> ResponseReturnValue:
    queue = queries.review_queue(context.db(), context.vault(), _rules())
    audit_read("governance.review_queue", people=queue.people, categories=[Category.IDENTITY])
    return render_template("consent/review_queue.html", queue=queue)


def _save_review(
    form: ReviewBasisForm | ReviewEmergencyForm,
    decisions: dict[str, bool],
    save: Callable[[bool | None], None],
) -> tuple[ResponseReturnValue | None, int]:
    """Handle a review form's submission: the saved review's redirect, or the page's status."""
    if not submitted(form):
        return None, 200
    try:
        save(decisions.get(form.decision.data or ""))
    except StaleVersion:
        form.decision.errors = ["Someone else reviewed or changed this first."]
        return None, 409
    except PersonError as error:
        show_error(form, error)
        return None, 200
    flash("Review saved.", "success")
    return redirect(url_for("consent.review_queue")), 302


@bp.route("/governance/reviews/bases/<uuid:basis_id>", methods=["GET", "POST"])
@access(GOVERNANCE)
def review_basis(basis_id: uuid.UUID) -> ResponseReturnValue:
    db, vault = context.db(), context.vault()
    item = queries.governance_basis(db, vault, basis_id, _rules())
    audit_read(
        "governance.basis_viewed",
        people=[item.basis.person_id],
        categories={Category.IDENTITY, *item.basis.categories},
        details={"basis_id": str(basis_id)},
    )
    if item.basis.is_consent and request.method == "POST":
        abort(404)  # consent is read here, not reviewed
    form = ReviewBasisForm(**initial_data(version=item.basis.version))
    done, status = _save_review(
        form,
        {"approve": True, "reject": False},
        lambda decision: services.review_basis(
            db,
            vault,
            context.actor(),
            context.viewer(),
            basis_id,
            approve=decision,
            note=form.note.data or "",
            expected_version=form.version.data,
        ),
    )
    if done is not None:
        return done
    return render_template("consent/review_basis.html", item=item, form=form), status


@bp.route("/governance/reviews/emergency/<uuid:access_id>", methods=["GET", "POST"])
@access(GOVERNANCE)
def review_emergency(access_id: uuid.UUID) -> ResponseReturnValue:
    db, vault = context.db(), context.vault()
    found = queries.emergency_detail(db, vault, access_id)
    name, born = queries.person_identity(db, vault, found.person_id)
    audit_read(
        "governance.emergency_viewed",
        people=[found.person_id],
        categories=[Category.IDENTITY],
        details={"emergency_access_id": str(access_id)},
    )
    form = ReviewEmergencyForm(**initial_data(version=found.version))
    done, status = _save_review(
        form,
        {"appropriate": True, "concern": False},
        lambda decision: services.review_emergency(
            db,
            vault,
            context.actor(),
            context.viewer(),
            access_id,
            appropriate=decision,
            note=form.note.data or "",
            expected_version=form.version.data,
        ),
    )
    if done is not None:
        return done
    return render_template(
        "consent/review_emergency.html",
        access_item=found,
        person_name=name,
        date_of_birth=born,
        form=form,
    ), status
