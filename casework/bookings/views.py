"""The custody booking journey (one question per page), its confirmation, and the printable
required-assessment notices (RA1 to RA5).

The answers wait in the user's session (encrypted, :mod:`casework.bookings.store`); nothing is
written until "Book the assessment" on the check-your-answers page, which creates the person if
they are new and starts the referral in one transaction. The journey's token is the referral's
id, so submitting the same journey twice books once.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from casework.access.roles import Role
from casework.access.rules import CASE_WORK, access, roles
from casework.bookings import notices, queries, services, store
from casework.bookings.forms import (
    AppointmentForm,
    CheckAnswersForm,
    ChoiceForm,
    MatchForm,
    PersonSearchForm,
    TextForm,
    date_form,
)
from casework.bookings.journey import STEP_OF_FIELD, Candidate, Journey
from casework.clock import london_today
from casework.consent.rules import SharingRules
from casework.pathways.definitions import FieldDef, PathwayDef, pathways
from casework.pathways.queries import referral_detail
from casework.people import queries as people_queries
from casework.people.codes import Sex
from casework.people.records import Details, Names, PersonFields
from casework.people.services import PersonError
from casework.people.views import audit_matches
from casework.web import context
from casework.web.audit import audit_read, audit_refusal
from casework.web.errors import register_case_errors
from casework.web.forms import submitted

bp = Blueprint("bookings", __name__)
register_case_errors(bp)

CUSTODY = roles(Role.CUSTODY_OFFICER)

#: Each question page's address and its question (the page's heading).
PAGES: dict[str, tuple[str, str]] = {
    "person": ("person", "Who has been arrested?"),
    "match": ("match", "Is this person already known?"),
    "test_result": ("test-result", "What did the drug test find?"),
    "tested_on": ("test-date", "When was the test taken?"),
    "trigger_offence": ("offence", "What is the trigger offence?"),
    "custody_suite": ("custody-suite", "Which custody suite is the person in?"),
    "disputed": ("disputed", "Does the person dispute the test result?"),
    "sample_sent_on": ("sample-sent", "When was the sample sent for confirmation?"),
    "provider": ("provider", "Which treatment provider will hold the assessment?"),
    "appointment": ("appointment", "When is the initial assessment?"),
    "place": ("place", "Where will the assessment be held?"),
    "check": ("check", "Check your answers before booking"),
}


def _pathway() -> PathwayDef:
    return pathways()[services.PATHWAY]


def _spec(name: str) -> FieldDef:
    return next(s for s in _pathway().transitions[services.TRANSITION].fields if s.name == name)


def _url(step: str) -> str:
    return url_for(f"bookings.{step}")


def _journey_or_start(step: str) -> Journey | ResponseReturnValue:
    """The journey in progress, if this question may be opened now; otherwise where to go."""
    journey = store.load()
    if journey is None:
        return redirect(url_for("bookings.start"))
    if not journey.may_open(step):
        return redirect(_url(journey.first_unanswered()))
    if request.method == "GET" and request.args.get("change") == "1":
        journey.checking = True
        store.save(journey)
    return journey


#: The form field that shows a problem found at the final submit, by pathway field.
FORM_FIELD_OF = {
    "date_of_birth": "date_of_birth",
    "given_name": "given_name",
    "family_name": "family_name",
    "person": "person",
    "appointment_at": "day",
}
_MAIN_FIELD = {
    "person": "date_of_birth",
    "match": "person",
    "appointment": "day",
    "check": "submit",
}


def _render(step: str, journey: Journey, form: FlaskForm, **extra: object) -> str:
    previous = journey.previous_of(step)
    if request.method == "GET" and step in journey.problems:
        # A problem the final submit found with this answer: shown once, on its question.
        field_name, message = journey.problems.pop(step)
        getattr(form, field_name).errors = [message]
        store.save(journey)
    return render_template(
        f"bookings/{'question' if 'template' not in extra else extra.pop('template')}.html",
        step=step,
        question=PAGES[step][1],
        form=form,
        back=_url(previous) if previous else url_for("home.index"),
        **extra,
    )


def _go_on(journey: Journey, step: str) -> ResponseReturnValue:
    store.save(journey)
    return redirect(_url(journey.next_after(step)))


def _refuse(form: FlaskForm, field_name: str, message: str) -> None:
    getattr(form, field_name).errors = [message]
    audit_refusal("refused", details={"fields": [field_name]})


# --- starting -------------------------------------------------------------------------------


@bp.route("/bookings/new")
@access(CUSTODY)
def start() -> ResponseReturnValue:
    """A fresh journey (any unfinished one is dropped), then its first question."""
    store.save(Journey())
    return redirect(_url("person"))


# --- the person -----------------------------------------------------------------------------


@bp.route("/bookings/new/person", methods=["GET", "POST"])
@access(CUSTODY)
def person() -> ResponseReturnValue:
    journey = _journey_or_start("person")
    if not isinstance(journey, Journey):
        return journey
    form = PersonSearchForm(
        data={
            "given_name": journey.given_name,
            "family_name": journey.family_name,
            "date_of_birth": journey.born,
        }
        if request.method == "GET"
        else None
    )
    if submitted(form):
        born: date = form.date_of_birth.data  # type: ignore[assignment]
        problem = services.age_problem(_pathway(), born, london_today())
        if problem:
            _refuse(form, "date_of_birth", problem)
        else:
            journey.set_search(form.given_name.data or "", form.family_name.data or "", born)
            store.save(journey)
            return redirect(_url("match"))
    return _render("person", journey, form, template="person")


@bp.route("/bookings/new/match", methods=["GET", "POST"])
@access(CUSTODY)
def match() -> ResponseReturnValue:
    journey = _journey_or_start("match")
    if not isinstance(journey, Journey):
        return journey
    if not journey.offered or request.method == "GET":
        _offer(journey)
    form = MatchForm(data={"person": journey.person} if request.method == "GET" else None)
    form.person.choices = [(c.id, c.name) for c in journey.offered] + [("new", "new")]
    if submitted(form):
        journey.person = form.person.data or ""
        journey.checking = journey.checking and journey.answered("match")
        return _go_on(journey, "match")
    born = journey.born
    return _render(
        "match",
        journey,
        form,
        template="match",
        candidates=journey.offered,
        journey_name=f"{journey.given_name} {journey.family_name}",
        journey_born=born.strftime("%-d %B %Y") if born else "",
    )


def _offer(journey: Journey) -> None:
    """The duplicate check of the people's "new person" page, on the search as typed: people
    the user's agency knows (name and date of birth only here) and people held elsewhere
    (revealed by name and date of birth). Both are audited, the reveal marked as such."""
    viewer = context.viewer()
    fields = PersonFields(
        names=Names(journey.given_name, journey.family_name),
        details=Details(date_of_birth=journey.born),
        sex=Sex.NOT_KNOWN,
    )
    found = people_queries.likely_duplicates(
        context.db(), context.vault(), context.kit().blind_index, viewer, fields
    )
    audit_matches("bookings.duplicates_shown", found)
    offered = [
        Candidate(str(hit.id), hit.names.display, _iso(hit.date_of_birth)) for hit in found.hits
    ]
    offered += [
        Candidate(str(m.id), m.name, _iso(m.date_of_birth), elsewhere=True) for m in found.revealed
    ]
    if journey.person not in {c.id for c in offered} | {"new"}:
        journey.person = ""
    journey.offered = offered
    store.save(journey)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- the booking's questions ----------------------------------------------------------------


def _choice_question(
    step: str, *, choices: list[tuple[str, str]], message: str
) -> ResponseReturnValue:
    journey = _journey_or_start(step)
    if not isinstance(journey, Journey):
        return journey
    name = step
    form = ChoiceForm(
        data={"answer": journey.answers.get(name)} if request.method == "GET" else None
    )
    form.offer(choices, message)
    if submitted(form):
        problems = services.check_fields(_pathway(), [name], {name: form.answer.data or ""})
        if problems:
            _refuse(form, "answer", problems[name])
        else:
            journey.set_answer(name, form.answer.data or "")
            return _go_on(journey, step)
    return _render(step, journey, form, kind="radios", hint=_spec(name).hint)


def _field_choices(name: str) -> list[tuple[str, str]]:
    return list(_spec(name).choices.items())


@bp.route("/bookings/new/test-result", methods=["GET", "POST"])
@access(CUSTODY)
def test_result() -> ResponseReturnValue:
    return _choice_question(
        "test_result",
        choices=_field_choices("test_result"),
        message="Select what the drug test found",
    )


@bp.route("/bookings/new/offence", methods=["GET", "POST"])
@access(CUSTODY)
def trigger_offence() -> ResponseReturnValue:
    return _choice_question(
        "trigger_offence",
        choices=_field_choices("trigger_offence"),
        message="Select the trigger offence",
    )


@bp.route("/bookings/new/disputed", methods=["GET", "POST"])
@access(CUSTODY)
def disputed() -> ResponseReturnValue:
    return _choice_question(
        "disputed",
        choices=[("yes", "Yes"), ("no", "No")],
        message="Select yes if the person disputes the test result",
    )


def _date_question(step: str, hint: str) -> ResponseReturnValue:
    journey = _journey_or_start(step)
    if not isinstance(journey, Journey):
        return journey
    name = step
    given = journey.answers.get(name)
    form = date_form(_spec(name).label, hint)(
        data={"answer": date.fromisoformat(given) if given else None}
        if request.method == "GET"
        else None
    )
    if submitted(form):
        day: date = form.answer.data  # type: ignore[assignment]
        problems = services.check_fields(
            _pathway(), [name], {**journey.answers, name: day.isoformat()}
        )
        if problems:
            _refuse(form, "answer", problems[name])
        else:
            journey.set_answer(name, day.isoformat())
            return _go_on(journey, step)
    return _render(step, journey, form, kind="date")


@bp.route("/bookings/new/test-date", methods=["GET", "POST"])
@access(CUSTODY)
def tested_on() -> ResponseReturnValue:
    return _date_question("tested_on", "For example, 27 3 2026")


@bp.route("/bookings/new/sample-sent", methods=["GET", "POST"])
@access(CUSTODY)
def sample_sent_on() -> ResponseReturnValue:
    return _date_question(
        "sample_sent_on",
        "The assessment must be at least 5 working days after this date. For example, 27 3 2026",
    )


def _text_question(step: str, *, message: str, width: str = "") -> ResponseReturnValue:
    journey = _journey_or_start(step)
    if not isinstance(journey, Journey):
        return journey
    name = step
    form = TextForm(
        data={"answer": journey.answers.get(name, "")} if request.method == "GET" else None
    )
    if submitted(form):
        value = form.answer.data or ""
        problems = (
            {name: message}
            if not value
            else services.check_fields(_pathway(), [name], {name: value})
        )
        if problems:
            _refuse(form, "answer", problems[name])
        else:
            journey.set_answer(name, value)
            return _go_on(journey, step)
    return _render(step, journey, form, kind="text", hint=_spec(name).hint, width=width)


@bp.route("/bookings/new/custody-suite", methods=["GET", "POST"])
@access(CUSTODY)
def custody_suite() -> ResponseReturnValue:
    return _text_question(
        "custody_suite", message="Enter the custody suite", width="govuk-!-width-two-thirds"
    )


@bp.route("/bookings/new/place", methods=["GET", "POST"])
@access(CUSTODY)
def place() -> ResponseReturnValue:
    return _text_question("place", message="Enter where the assessment will be held")


@bp.route("/bookings/new/provider", methods=["GET", "POST"])
@access(CUSTODY)
def provider() -> ResponseReturnValue:
    journey = _journey_or_start("provider")
    if not isinstance(journey, Journey):
        return journey
    providers = queries.receiving_agencies(context.db(), _pathway().receiving_kinds)
    form = ChoiceForm(data={"answer": journey.to_agency_id} if request.method == "GET" else None)
    form.offer([(str(p.id), p.name) for p in providers], "Select the treatment provider")
    if submitted(form):
        journey.to_agency_id = form.answer.data or ""
        return _go_on(journey, "provider")
    return _render("provider", journey, form, kind="radios", providers=providers)


@bp.route("/bookings/new/appointment", methods=["GET", "POST"])
@access(CUSTODY)
def appointment() -> ResponseReturnValue:
    journey = _journey_or_start("appointment")
    if not isinstance(journey, Journey):
        return journey
    given = journey.answers.get("appointment_at", "")
    form = AppointmentForm(
        data={"day": date.fromisoformat(given[:10]), "time": given[11:16]}
        if given and request.method == "GET"
        else None
    )
    if submitted(form):
        moment = form.wall_clock() or ""
        problems = services.check_fields(
            _pathway(), ["appointment_at"], {**journey.answers, "appointment_at": moment}
        )
        if problems:
            _refuse(form, "day", problems["appointment_at"])
        else:
            journey.set_answer("appointment_at", moment)
            return _go_on(journey, "appointment")
    return _render("appointment", journey, form, template="appointment", disputed=journey.disputed)


# --- check your answers and book ------------------------------------------------------------


@bp.route("/bookings/new/check", methods=["GET", "POST"])
@access(CUSTODY)
def check() -> ResponseReturnValue:
    journey = _journey_or_start("check")
    if not isinstance(journey, Journey):
        return journey
    if not journey.checking:
        journey.checking = True
        store.save(journey)
    form = CheckAnswersForm(data={"journey": journey.token} if request.method == "GET" else None)
    chosen = journey.chosen
    if chosen is not None:
        # The page shows the chosen person's name and date of birth again.
        audit_read(
            "bookings.answers_checked",
            people=[] if chosen.elsewhere else [uuid.UUID(chosen.id)],
            revealed=[uuid.UUID(chosen.id)] if chosen.elsewhere else [],
        )
    if submitted(form):
        if form.journey.data != journey.token:
            form.submit.errors = [
                "These answers changed in another tab or window. Check them again, then book"
            ]
            form.journey.data = journey.token
        else:
            outcome = _book(journey, form)
            if outcome is not None:
                return outcome
    return _render(
        "check",
        journey,
        form,
        template="check",
        rows=_summary_rows(journey),
    )


def _book(journey: Journey, form: CheckAnswersForm) -> ResponseReturnValue | None:
    try:
        outcome = services.book(
            context.db(),
            context.vault(),
            context.kit().blind_index,
            context.actor(),
            context.viewer(),
            pathway=_pathway(),
            journey=journey,
            rules=SharingRules.from_settings(context.settings()),
        )
    except services.AlreadyBooked as done:
        store.clear()
        return redirect(url_for("bookings.booked", referral_id=done.referral_id))
    except PersonError as error:
        return _send_back(journey, error.field, error.message)
    except services.TransitionInvalid as invalid:
        name, message = next(iter(invalid.problems.items()))
        return _send_back(journey, name, message)
    except LookupError:
        journey.person, journey.offered = "", []
        return _send_back(journey, "person", "That person's record is no longer available")
    store.clear()
    return redirect(url_for("bookings.booked", referral_id=outcome.referral_id))


def _send_back(journey: Journey, field_name: str, message: str) -> ResponseReturnValue:
    """A problem found at the final submit: back to the question it is about, which shows it
    (kept in the journey until that page is next shown)."""
    step = STEP_OF_FIELD.get(field_name, "check")
    audit_refusal("refused", details={"fields": [field_name]})
    journey.checking = True
    journey.problems[step] = (
        FORM_FIELD_OF.get(field_name, _MAIN_FIELD.get(step, "answer")),
        message,
    )
    store.save(journey)
    return redirect(_url(step))


def _summary_rows(journey: Journey) -> list[dict[str, str]]:
    pathway = _pathway()
    rows: list[dict[str, str]] = []
    chosen = journey.chosen
    if journey.new_person:
        who = f"{journey.given_name} {journey.family_name} (new record)"
    elif chosen is not None:
        who = chosen.name
    else:
        who = ""
    born = journey.born
    rows.append({"key": "Person", "value": who, "step": "person", "what": "the person"})
    rows.append(
        {
            "key": "Date of birth",
            "value": born.strftime("%-d %B %Y") if born else "",
            "step": "person",
            "what": "the date of birth",
        }
    )
    answers = journey.answers
    for name, step in (
        ("test_result", "test_result"),
        ("tested_on", "tested_on"),
        ("trigger_offence", "trigger_offence"),
        ("custody_suite", "custody_suite"),
        ("disputed", "disputed"),
        ("sample_sent_on", "sample_sent_on"),
    ):
        if not journey.applies(step):
            continue
        spec = _spec(name)
        rows.append(
            {
                "key": spec.label.rstrip("?"),
                "value": notices.shown(spec, answers.get(name, "")),
                "step": step,
                "what": spec.label.rstrip("?").lower(),
            }
        )
    providers = {
        str(p.id): p.name for p in queries.receiving_agencies(context.db(), pathway.receiving_kinds)
    }
    rows.append(
        {
            "key": "Treatment provider",
            "value": providers.get(journey.to_agency_id, ""),
            "step": "provider",
            "what": "the treatment provider",
        }
    )
    for name, step in (("appointment_at", "appointment"), ("place", "place")):
        spec = _spec(name)
        rows.append(
            {
                "key": spec.label,
                "value": notices.shown(spec, answers.get(name, "")),
                "step": step,
                "what": spec.label.lower(),
            }
        )
    return rows


# --- after booking --------------------------------------------------------------------------


@bp.route("/bookings/<uuid:referral_id>/booked")
@access(CUSTODY)
def booked(referral_id: uuid.UUID) -> ResponseReturnValue:
    detail = referral_detail(
        context.db(), context.vault(), context.viewer(), pathways().by_key, referral_id
    )
    if detail is None or detail.summary.pathway != services.PATHWAY:
        abort(404)
    audit_read("bookings.confirmation_viewed", access=detail.access, categories=["offending"])
    return render_template("bookings/booked.html", detail=detail)


def _notice(referral_id: uuid.UUID, code: str) -> ResponseReturnValue:
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    detail = referral_detail(db, vault, viewer, pathways().by_key, referral_id)
    if detail is None:
        abort(404)
    event = detail.notice_event(code)
    if event is None:
        abort(404)
    born = queries.date_of_birth(db, vault, detail.summary.person_id)
    audit_read(
        "bookings.notice_viewed",
        access=detail.access,
        categories=["identity", "offending"],
        details={"notice": code},
    )
    return render_template(
        "bookings/notice.html",
        detail=detail,
        notice=notices.notice_for(code, detail.pathway, event),
        born=born,
    )


@bp.route("/referrals/<uuid:referral_id>/notices/RA1")
@access(CASE_WORK)
def notice_ra1(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _notice(referral_id, "RA1")


@bp.route("/referrals/<uuid:referral_id>/notices/RA2")
@access(CASE_WORK)
def notice_ra2(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _notice(referral_id, "RA2")


@bp.route("/referrals/<uuid:referral_id>/notices/RA3")
@access(CASE_WORK)
def notice_ra3(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _notice(referral_id, "RA3")


@bp.route("/referrals/<uuid:referral_id>/notices/RA4")
@access(CASE_WORK)
def notice_ra4(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _notice(referral_id, "RA4")


@bp.route("/referrals/<uuid:referral_id>/notices/RA5")
@access(CASE_WORK)
def notice_ra5(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _notice(referral_id, "RA5")


#: The notice pages by code, for links (``url_for(NOTICE_ENDPOINTS["RA1"], ...)``).
NOTICE_ENDPOINTS = {code: f"bookings.notice_{code.lower()}" for code in notices.CODES}
