"""The JSON API, ``/api/v1``: pathway definitions, required-assessment bookings, referrals and
their transitions. Views are thin: they parse (flask-smorest and the schemas), call the
pathway queries and services with the token's viewer and actor, declare what they showed for
the audit, and leave errors to the problem-details handlers (``casework.api.http``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Blueprint as FlaskBlueprint
from flask import Response, json
from flask_smorest import Blueprint

from casework.access.roles import Role
from casework.access.rules import API_ANY_TOKEN, access, api
from casework.agencies.models import AgencyKind
from casework.api import problems
from casework.api.http import error_handler, idempotent, register_problem_handlers
from casework.api.problems import problem
from casework.api.schemas import (
    IdempotencyHeaderSchema,
    OutcomeSchema,
    PathwayDetailSchema,
    PathwayListSchema,
    ReferralDetailSchema,
    ReferralListArgs,
    ReferralPageSchema,
    RequiredAssessmentSchema,
    TransitionInSchema,
)
from casework.clock import london_today, utcnow
from casework.consent.rules import SharingRules
from casework.pathways import queries as pathway_queries
from casework.pathways import services as pathway_services
from casework.pathways.definitions import PathwayDef, pathways
from casework.pathways.queries import ReferralDetail, ReferralSummary
from casework.pathways.rules import TransitionInvalid, TransitionRefused, age_on
from casework.people import queries as people_queries
from casework.people import services as people_services
from casework.people.codes import FamilyRole, HousingStatus, Sex
from casework.people.records import Details, Names, PersonFields
from casework.people.services import NewInvolvement, PersonError
from casework.web import context
from casework.web.audit import audit_read

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Referral pathways: definitions, required-assessment bookings, referrals.",
)
#: The OpenAPI description, outside the documented blueprint (it does not describe itself).
docs_bp = FlaskBlueprint("api_docs", __name__, url_prefix="/api/v1")
register_problem_handlers(bp)

REQUIRED_ASSESSMENT = "required_assessment"
#: Every operation can answer these (the gate's token check, the request's size and shape).
COMMON = (400, 401, 403, 413)


def problems_doc(*codes: int) -> Callable[[F], F]:
    """Document the problem responses an operation can give (application/problem+json)."""

    def decorate(view: F) -> F:
        for code in sorted({*COMMON, *codes}, reverse=True):
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


@error_handler(bp, TransitionInvalid)
def _transition_invalid(error: TransitionInvalid) -> Response:
    return problem(422, errors={f"values.{name}": text for name, text in error.problems.items()})


@error_handler(bp, TransitionRefused)
def _transition_refused(error: TransitionRefused) -> Response:
    return problem(
        409,
        type_=problems.TRANSITION_REFUSED,
        title="That transition cannot be made now",
        detail=error.message,
    )


# --- the description ----------------------------------------------------------------------


@docs_bp.route("/openapi.json")
@access(API_ANY_TOKEN)
def openapi_json() -> Response:
    from flask import current_app

    spec = current_app.extensions["casework.api"].spec.to_dict()
    return Response(json.dumps(spec), mimetype="application/json")


# --- pathways -------------------------------------------------------------------------------


def _pathway_summary(pathway: PathwayDef) -> dict[str, Any]:
    return {
        "key": pathway.key,
        "name": pathway.name,
        "description": pathway.description,
        "reference_prefix": pathway.reference_prefix,
        "referring_kinds": [str(kind) for kind in pathway.referring_kinds],
        "receiving_kinds": [str(kind) for kind in pathway.receiving_kinds],
        "minimum_age": pathway.minimum_age,
    }


def _pathway_detail(pathway: PathwayDef) -> dict[str, Any]:
    return {
        **_pathway_summary(pathway),
        "main_path": list(pathway.main_path),
        "stages": [
            {
                "key": key,
                "label": stage.label,
                "category": str(stage.category),
                "terminal": stage.terminal,
                "outcome": stage.outcome,
            }
            for key, stage in pathway.stages.items()
        ],
        "transitions": [
            {
                "key": key,
                "label": step.label,
                "from_stages": list(step.from_),
                "to": step.to,
                "starts": step.starts,
                "sides": [str(side) for side in step.sides],
                "roles": [str(role) for role in step.roles],
                "notice": step.notice,
                "fields_": [
                    {
                        "name": spec.name,
                        "label": spec.label,
                        "kind": str(spec.kind),
                        "hint": spec.hint,
                        "required": spec.required,
                        "required_when": spec.required_when,
                        "choices": [
                            {"code": code, "label": label} for code, label in spec.choices.items()
                        ],
                        "minimum": spec.minimum,
                        "maximum": spec.maximum,
                        "max_length": spec.max_length,
                        "not_past": spec.not_past,
                        "not_future": spec.not_future,
                    }
                    for spec in step.fields
                ],
            }
            for key, step in pathway.transitions.items()
        ],
    }


@bp.route("/pathways")
@access(api("pathways:read"))
@bp.response(200, PathwayListSchema)
@problems_doc()
def list_pathways() -> dict[str, Any]:
    """The partnership's pathways."""
    return {"items": [_pathway_summary(pathway) for pathway in pathways().by_key.values()]}


@bp.route("/pathways/<key:key>")
@access(api("pathways:read"))
@bp.response(200, PathwayDetailSchema)
@problems_doc(404)
def get_pathway(key: str) -> dict[str, Any]:
    """One pathway: its stages, transitions and the fields each transition records."""
    pathway = pathways().get(key)
    if pathway is None:
        raise LookupError(key)
    return _pathway_detail(pathway)


# --- referrals ------------------------------------------------------------------------------


def _referral(summary: ReferralSummary, now: Any) -> dict[str, Any]:
    clock = summary.clock
    return {
        "id": summary.id,
        "reference": summary.reference,
        "pathway": summary.pathway,
        "pathway_name": summary.pathway_name,
        "person_id": summary.person_id,
        "person_name": summary.person_name,
        "stage": summary.stage if summary.stage_shown else None,
        "stage_label": summary.stage_label,
        "from_agency_id": summary.from_agency_id,
        "from_agency": summary.from_agency,
        "to_agency_id": summary.to_agency_id,
        "to_agency": summary.to_agency,
        "created_at": summary.created_at,
        "closed_at": summary.closed_at,
        "open": summary.open,
        "version": summary.version,
        "clock": (
            {"title": clock.title, "due_at": clock.due_at, "state": clock.state(now)}
            if clock is not None
            else None
        ),
    }


def _detail(found: ReferralDetail, now: Any) -> dict[str, Any]:
    return {
        **_referral(found.summary, now),
        "data": dict(found.data) if found.summary.stage_shown else {},
        "events": [
            {
                "id": event.id,
                "transition": event.transition,
                "label": event.label,
                "stage_label": event.stage_label,
                "occurred_at": event.occurred_at,
                "agency": event.agency,
                "actor": event.actor,
                "notice": event.notice,
                "answers": [{"label": a.label, "value": a.value} for a in event.answers],
            }
            for event in found.events
        ],
        "transitions": [{"key": key, "label": step.label} for key, step in found.transitions],
        "tasks": [
            {"title": task.title, "due_at": task.due_at, "state": task.state(now)}
            for task in found.tasks
        ],
    }


@bp.route("/referrals")
@access(api("referrals:read"))
@bp.arguments(ReferralListArgs, location="query")
@bp.response(200, ReferralPageSchema)
@problems_doc(422)
def list_referrals(args: dict[str, Any]) -> dict[str, Any]:
    """Referrals this token may read, newest first (the same policy as the pages)."""
    now = utcnow()
    limit, offset = args["limit"], args["offset"]
    found = pathway_queries.referral_list(
        context.db(),
        context.vault(),
        context.viewer(),
        pathways().by_key,
        pathway=args.get("pathway"),
        to_my_agency=args["to_my_agency"],
        open_only=args["open"],
        limit=limit + 1,
        offset=offset,
        now=now,
    )
    page = found[:limit]
    audit_read(
        "api.referrals.listed",
        people=[summary.person_id for summary in page],
        details={"count": len(page), "offset": offset},
    )
    return {
        "items": [_referral(summary, now) for summary in page],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(found) > limit else None,
    }


@bp.route("/referrals/<uuid:referral_id>")
@access(api("referrals:read"))
@bp.response(200, ReferralDetailSchema)
@problems_doc(404)
def get_referral(referral_id: uuid.UUID) -> dict[str, Any]:
    """One referral with its history (what this token may see of it)."""
    now = utcnow()
    found = pathway_queries.referral_detail(
        context.db(), context.vault(), context.viewer(), pathways().by_key, referral_id, now=now
    )
    if found is None:
        raise LookupError(str(referral_id))
    audit_read(
        "api.referral.viewed", access=found.access, details={"referral_id": str(referral_id)}
    )
    return _detail(found, now)


def _outcome(outcome: pathway_services.Outcome) -> dict[str, Any]:
    return {
        "referral_id": str(outcome.referral_id),
        "reference": outcome.reference,
        "stage": outcome.stage,
        "version": outcome.version,
        "prompts": list(outcome.prompts),
    }


@bp.route("/referrals/<uuid:referral_id>/transitions", methods=["POST"])
@access(api("referrals:write"))
@bp.arguments(TransitionInSchema)
@bp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@bp.response(200, OutcomeSchema)
@problems_doc(404, 409, 422)
@idempotent
def record_transition(data: dict[str, Any], referral_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """Record a stage transition (send the version you read to refuse a lost update)."""
    outcome = pathway_services.make_transition(
        context.db(),
        context.vault(),
        context.actor(),
        context.viewer(),
        referral_id=referral_id,
        transition=data["transition"],
        values=data["values"],
        expected_version=data.get("version"),
        pathways=pathways().by_key,
    )
    audit_read("api.referral.transition", details={"referral_id": str(referral_id)})
    return _outcome(outcome), 200


# --- required-assessment bookings ------------------------------------------------------------


def _new_person(data: dict[str, Any], pathway: PathwayDef) -> uuid.UUID | Response:
    """Create the minimal record for someone nobody knows yet, after the duplicate check (and
    the age check, so that no record is made for a booking that cannot be)."""
    given = data["given_name"].strip()
    family = data["family_name"].strip()
    born: date = data["date_of_birth"]
    if pathway.minimum_age is not None and age_on(born, london_today()) < pathway.minimum_age:
        raise PersonError(
            "date_of_birth",
            f"The person is under {pathway.minimum_age}: {pathway.name.lower()} is only for "
            f"people aged {pathway.minimum_age} or over",
        )
    fields = PersonFields(
        names=Names(given, family), details=Details(date_of_birth=born), sex=Sex.NOT_KNOWN
    )
    db, vault, viewer = context.db(), context.vault(), context.viewer()
    if not data.get("confirm"):
        found = people_queries.likely_duplicates(
            db, vault, context.kit().blind_index, viewer, fields
        )
        if found.hits or found.revealed or found.elsewhere:
            audit_read(
                "api.person.duplicate_check",
                people=[hit.id for hit in found.hits],
                revealed=[match.id for match in found.revealed],
            )
            return problem(
                409,
                type_=problems.POSSIBLE_DUPLICATE,
                title="This person may already be known",
                detail="People with these names and date of birth exist. Book for one your "
                "agency may see with person_id, or send confirm_new_person: true if this is "
                "someone else.",
                extra={
                    "matches": len(found.hits) + max(found.elsewhere, len(found.revealed)),
                    "people": [str(hit.id) for hit in found.hits],
                },
            )
    role = FamilyRole.POLICE_CONTACT if viewer.agency_kind is AgencyKind.POLICE else None
    return people_services.create_person(
        db,
        vault=vault,
        blind=context.kit().blind_index,
        actor=context.actor(),
        viewer=viewer,
        fields=PersonFields(
            names=fields.names,
            details=fields.details,
            sex=Sex.NOT_KNOWN,
            housing_status=HousingStatus.NOT_KNOWN,
        ),
        involvement=NewInvolvement(role or FamilyRole.SUPPORT_WORKER, viewer.user_id),
    )


@bp.route("/required-assessments", methods=["POST"])
@access(api("referrals:write", Role.CUSTODY_OFFICER))
@bp.arguments(RequiredAssessmentSchema)
@bp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@bp.response(201, OutcomeSchema)
@problems_doc(404, 409, 422)
@idempotent
def book_required_assessment(data: dict[str, Any]) -> tuple[dict[str, Any], int] | Response:
    """Book a required assessment (custody to treatment) for a known or a new person."""
    pathway = pathways().get(REQUIRED_ASSESSMENT)
    if pathway is None:  # pragma: no cover - the pathway ships with Casework
        raise LookupError(REQUIRED_ASSESSMENT)
    db, viewer = context.db(), context.viewer()
    if "person_id" in data:
        person_id = data["person_id"]
        if not people_queries.is_visible(db, viewer, person_id):
            raise LookupError(str(person_id))
    else:
        made = _new_person({**data["person"], "confirm": data["confirm_new_person"]}, pathway)
        if isinstance(made, Response):
            return made
        person_id = made
    (start, _step), *_ = pathway.starting()
    outcome = pathway_services.start_referral(
        db,
        context.vault(),
        context.actor(),
        viewer,
        person_id=person_id,
        pathway=pathway,
        transition=start,
        to_agency_id=data["to_agency_id"],
        values=data["values"],
        rules=SharingRules.from_settings(context.settings()),
    )
    # The checks read the person's date of birth; the booking shows their reference only.
    audit_read("api.required_assessment.booked", people=[person_id])
    return _outcome(outcome), 201
