"""What the API accepts and returns, as marshmallow schemas: flask-smorest parses requests with
them and apispec turns them into the OpenAPI description. Unknown fields are refused (422)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

#: Keys, like the pathway definitions' (stage, transition and field keys).
KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")
#: Visible ASCII: what an Idempotency-Key may hold.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"


class Strict(ma.Schema):
    """Refuse unknown fields (marshmallow's default, stated here on purpose)."""

    class Meta:
        unknown = ma.RAISE


class Scalar(fields.Field):  # type: ignore[type-arg]
    """A recorded value: a string, an integer or true/false (dates are ISO strings)."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own class attribute
        "invalid": "Give a string, a whole number or true/false.",
        "too_long": "Use at most 20000 characters.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool | int):
            return value
        if isinstance(value, str):
            if len(value) > 20000:
                raise self.make_error("too_long")
            return value
        raise self.make_error("invalid")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


SCALAR_DOC = {
    "oneOf": [
        {"type": "string", "maxLength": 20000},
        {"type": "integer"},
        {"type": "boolean"},
    ]
}


def _at_most_60(value: dict[str, Any]) -> None:
    if len(value) > 60:
        raise ma.ValidationError("Give at most 60 values")


def values_field(description: str) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=KEY),
        values=Scalar(metadata=SCALAR_DOC),
        load_default=dict,
        validate=_at_most_60,
        metadata={"description": description, "maxProperties": 60},
    )


# --- problems --------------------------------------------------------------------------------


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "A URI naming the problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "One message per field (422)"},
    )
    matches = fields.Integer(
        metadata={"description": "Possible duplicates found (a possible-duplicate problem)"}
    )
    people = fields.List(
        fields.UUID(),
        metadata={"description": "Possible duplicates this token may see: book with person_id"},
    )


# --- pathways -------------------------------------------------------------------------------


class ChoiceSchema(ma.Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)


class FieldSchema(ma.Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["choice", "date", "datetime", "integer", "text", "yes_no"]),
        metadata={
            "description": "choice: a code; date: YYYY-MM-DD; datetime: YYYY-MM-DDTHH:MM "
            "(Europe/London); integer; text; yes_no: true or false"
        },
    )
    hint = fields.String(required=True)
    required = fields.Boolean(required=True)
    required_when = fields.String(allow_none=True, required=True)
    choices = fields.List(fields.Nested(ChoiceSchema), required=True)
    minimum = fields.Integer(allow_none=True, required=True)
    maximum = fields.Integer(allow_none=True, required=True)
    max_length = fields.Integer(required=True)
    not_past = fields.Boolean(required=True)
    not_future = fields.Boolean(required=True)


class StageSchema(ma.Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    category = fields.String(required=True)
    terminal = fields.Boolean(required=True)
    outcome = fields.String(required=True)


class TransitionDefSchema(ma.Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    from_stages = fields.List(fields.String(), required=True, data_key="from")
    to = fields.String(required=True)
    starts = fields.Boolean(required=True)
    sides = fields.List(fields.String(), required=True)
    roles = fields.List(fields.String(), required=True)
    notice = fields.String(allow_none=True, required=True)
    fields_ = fields.List(fields.Nested(FieldSchema), required=True, data_key="fields")


class PathwaySchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    reference_prefix = fields.String(required=True)
    referring_kinds = fields.List(fields.String(), required=True)
    receiving_kinds = fields.List(fields.String(), required=True)
    minimum_age = fields.Integer(allow_none=True, required=True)


class PathwayListSchema(ma.Schema):
    items = fields.List(fields.Nested(PathwaySchema), required=True)


class PathwayDetailSchema(PathwaySchema):
    main_path = fields.List(fields.String(), required=True)
    stages = fields.List(fields.Nested(StageSchema), required=True)
    transitions = fields.List(fields.Nested(TransitionDefSchema), required=True)


# --- bookings and transitions ------------------------------------------------------------------


class IdempotencyHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Regexp(IDEMPOTENCY_KEY),
        metadata={
            "description": "A key of your choosing (1-200 visible ASCII characters). A retry "
            "with the same key and body gets the first response again and changes nothing; "
            "the same key with another body is refused (422)."
        },
    )


class NewPersonSchema(Strict):
    given_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    family_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    date_of_birth = fields.Date(required=True)


class RequiredAssessmentSchema(Strict):
    person_id = fields.UUID(
        metadata={"description": "An existing person this token's agency may see"}
    )
    person = fields.Nested(
        NewPersonSchema, metadata={"description": "A person nobody has recorded yet"}
    )
    confirm_new_person = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Create the new person even though people with the same name "
            "and date of birth exist (after checking they are someone else)"
        },
    )
    to_agency_id = fields.UUID(
        required=True, metadata={"description": "The treatment provider the booking is with"}
    )
    values = values_field(
        "The booking transition's fields, by name (GET /pathways/required_assessment)"
    )

    @ma.validates_schema
    def _one_person(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("person_id" in data) == ("person" in data):
            raise ma.ValidationError("Give either person_id or person, not both", "person_id")


class TransitionInSchema(Strict):
    transition = fields.String(required=True, validate=KEY)
    values = values_field("The transition's fields, by name")
    version = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The referral's version you last read (409 if it moved on)"},
    )


class OutcomeSchema(ma.Schema):
    referral_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    stage = fields.String(required=True)
    version = fields.Integer(required=True)
    prompts = fields.List(fields.String(), required=True)


# --- referrals -------------------------------------------------------------------------------


class ReferralListArgs(Strict):
    pathway = fields.String(validate=KEY, metadata={"description": "Only this pathway"})
    open = fields.Boolean(load_default=False, metadata={"description": "Only open referrals"})
    to_my_agency = fields.Boolean(
        load_default=False, metadata={"description": "Only those addressed to my agency"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class ClockSchema(ma.Schema):
    title = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf(["due", "due_today", "at_risk", "overdue"])
    )


class ReferralSchema(ma.Schema):
    id = fields.UUID(required=True)
    reference = fields.String(required=True)
    pathway = fields.String(required=True)
    pathway_name = fields.String(required=True)
    person_id = fields.UUID(required=True)
    person_name = fields.String(required=True)
    stage = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The stage key; null when its category is not shared with you"},
    )
    stage_label = fields.String(required=True)
    from_agency_id = fields.UUID(required=True)
    from_agency = fields.String(required=True)
    to_agency_id = fields.UUID(required=True)
    to_agency = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    open = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    clock = fields.Nested(ClockSchema, required=True, allow_none=True)


class ReferralPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ReferralSchema), required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class AnswerSchema(ma.Schema):
    label = fields.String(required=True)
    value = fields.String(required=True)


class EventSchema(ma.Schema):
    id = fields.UUID(required=True)
    transition = fields.String(required=True)
    label = fields.String(required=True)
    stage_label = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    agency = fields.String(required=True)
    actor = fields.String(required=True)
    notice = fields.String(required=True, allow_none=True)
    answers = fields.List(fields.Nested(AnswerSchema), required=True)


class AvailableSchema(ma.Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)


class ReferralDetailSchema(ReferralSchema):
    data = fields.Dict(
        keys=fields.String(),
        values=Scalar(metadata=SCALAR_DOC),
        required=True,
        metadata={"description": "What the referral holds so far that you may see (no text)"},
    )
    events = fields.List(fields.Nested(EventSchema), required=True)
    transitions = fields.List(
        fields.Nested(AvailableSchema),
        required=True,
        metadata={"description": "The transitions this token may record now"},
    )
    tasks = fields.List(fields.Nested(ClockSchema), required=True)
