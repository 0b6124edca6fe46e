"""The pathway engine's rules: which transitions an agency's user may make from a stage, what
the values they give must look like, and when the clocks a stage starts fall due.

Plain functions over :mod:`casework.pathways.definitions`; no database, no Flask. The services
call them before writing anything, so a refused transition changes nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from casework.access.roles import Role
from casework.clock import LONDON, to_london
from casework.pathways.definitions import (
    ClockDef,
    EffectDef,
    FieldDef,
    FieldKind,
    PathwayDef,
    Side,
    TransitionDef,
)
from casework.people.validation import text_problem
from casework.workdays import WorkingDays

#: Letters and digits that cannot be confused when read aloud or written down.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
#: Deadlines on a date (not a time) fall due at the end of the working day.
END_OF_DAY = time(17, 0)


class TransitionRefused(Exception):  # noqa: N818 - reads better at call sites
    """The transition cannot be made from where the referral is now (answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionInvalid(ValueError):  # noqa: N818 - reads better at call sites
    """What was given for a transition is wrong: one message per field (answers 422)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class Acting:
    """Who is acting on a referral: which end(s) their agency is, and their roles."""

    sides: frozenset[Side]
    roles: frozenset[Role]


def sides_of(
    agency_id: uuid.UUID, *, from_agency_id: uuid.UUID, to_agency_id: uuid.UUID
) -> frozenset[Side]:
    found: set[Side] = set()
    if agency_id == from_agency_id:
        found.add(Side.REFERRING)
    if agency_id == to_agency_id:
        found.add(Side.RECEIVING)
    return frozenset(found)


class HasEnds(Protocol):
    @property
    def from_agency_id(self) -> uuid.UUID: ...
    @property
    def to_agency_id(self) -> uuid.UUID: ...


def acting_on(agency_id: uuid.UUID, roles: frozenset[Role], referral: HasEnds) -> Acting:
    """Who a user of ``agency_id`` with ``roles`` is on this referral."""
    return Acting(
        sides_of(
            agency_id, from_agency_id=referral.from_agency_id, to_agency_id=referral.to_agency_id
        ),
        roles,
    )


def may_make(transition: TransitionDef, acting: Acting) -> bool:
    return bool(acting.sides.intersection(transition.sides)) and bool(
        acting.roles.intersection(transition.roles)
    )


def available(pathway: PathwayDef, stage: str, acting: Acting) -> list[tuple[str, TransitionDef]]:
    """The transitions this user may make from ``stage``, in the file's order."""
    if pathway.stages[stage].terminal:
        return []
    return [(key, t) for key, t in pathway.leaving(stage) if may_make(t, acting)]


def check_move(pathway: PathwayDef, stage: str, key: str, acting: Acting) -> TransitionDef:
    """The transition, if it may be made from ``stage`` by this user. Raises
    :class:`TransitionRefused` for a transition that does not leave this stage (or is
    unknown), and ``PermissionError`` for one this user's side or roles may not make."""
    transition = pathway.transitions.get(key)
    if transition is None or transition.starts or stage not in transition.from_:
        where = pathway.label_of(stage)
        raise TransitionRefused(f"That cannot be recorded now: the referral is at “{where}”")
    if not may_make(transition, acting):
        raise PermissionError(key)
    return transition


def check_timing(transition: TransitionDef, data: Mapping[str, Any], now: datetime) -> None:
    """Refuse a transition that names a moment it cannot come before (``not_before``): an
    attendance, or a failure to attend, before the appointment. Raises
    :class:`TransitionRefused`."""
    if transition.not_before is None:
        return
    value = data.get(transition.not_before)
    if not isinstance(value, str) or not value:
        return
    if "T" in value:
        moment = parse_datetime(value)
        shown = moment.strftime("%-I:%M%p on %-d %B %Y").replace("AM", "am").replace("PM", "pm")
    else:
        moment = datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=LONDON)
        shown = moment.strftime("%-d %B %Y")
    if now < moment:
        raise TransitionRefused(
            f"“{transition.label}” can be recorded from the time it is about: {shown}"
        )


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """A transition's values once checked: plaintext codes, numbers and ISO dates, and the
    free text that is stored encrypted."""

    plain: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def _missing(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _yes_no(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("yes", "true"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("no", "false"):
        return False
    return None


def parse_datetime(value: str) -> datetime:
    """A Europe/London wall-clock time written ``YYYY-MM-DDTHH:MM``, as an aware datetime."""
    local = datetime.fromisoformat(value)
    if local.tzinfo is not None:
        raise ValueError("give the time without an offset (Europe/London)")
    return local.replace(tzinfo=LONDON)


def _choice(spec: FieldDef, raw: object, _now: datetime) -> tuple[object, str | None]:
    if not isinstance(raw, str) or raw not in spec.choices:
        return None, "Select one of the options"
    return raw, None


def _yes_no_value(_spec: FieldDef, raw: object, _now: datetime) -> tuple[object, str | None]:
    answer = _yes_no(raw)
    return (answer, None) if answer is not None else (None, "Select yes or no")


def _integer(spec: FieldDef, raw: object, _now: datetime) -> tuple[object, str | None]:
    label = spec.label.rstrip("?")
    try:
        number = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        number = None
    if number is None:
        return None, f"{label} must be a whole number"
    if spec.minimum is not None and number < spec.minimum:
        return None, f"{label} must be {spec.minimum} or more"
    if spec.maximum is not None and number > spec.maximum:
        return None, f"{label} must be {spec.maximum} or less"
    return number, None


def _date(spec: FieldDef, raw: object, now: datetime) -> tuple[object, str | None]:
    label = spec.label.rstrip("?")
    today = to_london(now).date()
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        return None, f"{label} must be a real date"
    if spec.not_past and day < today:
        return None, f"{label} must be today or in the future"
    if spec.not_future and day > today:
        return None, f"{label} must be today or in the past"
    return day.isoformat(), None


def _datetime(spec: FieldDef, raw: object, now: datetime) -> tuple[object, str | None]:
    label = spec.label.rstrip("?")
    try:
        moment = parse_datetime(str(raw).strip())
    except ValueError:
        return None, f"{label} must be a real date and time"
    if spec.not_past and moment < now:
        return None, f"{label} must be in the future"
    return moment.strftime("%Y-%m-%dT%H:%M"), None


def _text(spec: FieldDef, raw: object, _now: datetime) -> tuple[object, str | None]:
    label = spec.label.rstrip("?")
    if not isinstance(raw, str):
        return None, f"{label} must be text"
    text = raw.strip()
    problem = text_problem(text, max_length=spec.max_length, what=label)
    return (text, None) if not problem else (None, problem)


_PARSERS = {
    FieldKind.CHOICE: _choice,
    FieldKind.YES_NO: _yes_no_value,
    FieldKind.INTEGER: _integer,
    FieldKind.DATE: _date,
    FieldKind.DATETIME: _datetime,
    FieldKind.TEXT: _text,
}


def _one(spec: FieldDef, raw: object, now: datetime) -> tuple[object, str | None]:
    """(value, problem) for one given value."""
    return _PARSERS[spec.kind](spec, raw, now)


def parse_values(
    transition: TransitionDef,
    raw: Mapping[str, object],
    *,
    known: Mapping[str, Any],
    now: datetime,
    workdays: WorkingDays,
) -> Values:
    """Check what was given for ``transition``. ``known`` is what the referral already holds
    (checks may compare with an earlier value). Raises :class:`TransitionInvalid` listing every
    problem; unknown names are refused, not ignored."""
    specs = {spec.name: spec for spec in transition.fields}
    problems: dict[str, str] = {
        name: "This is not something this step records" for name in raw if name not in specs
    }
    answers: dict[str, object] = {}
    for spec in transition.fields:
        given = raw.get(spec.name)
        needed = spec.required
        if spec.required_when is not None:
            needed = _yes_no(raw.get(spec.required_when)) is True
        if _missing(given):
            if needed:
                problems[spec.name] = _required_message(spec)
            continue
        value, problem = _one(spec, given, now)
        if problem:
            problems[spec.name] = problem
        else:
            answers[spec.name] = value
    if not problems:
        problems.update(_cross_checks(transition, answers, known, workdays))
    if problems:
        raise TransitionInvalid(problems)
    plain = {
        name: value for name, value in answers.items() if specs[name].kind is not FieldKind.TEXT
    }
    texts = {
        name: str(value) for name, value in answers.items() if specs[name].kind is FieldKind.TEXT
    }
    return Values(plain, texts)


def _required_message(spec: FieldDef) -> str:
    label = spec.label.rstrip("?")
    if spec.kind in (FieldKind.CHOICE, FieldKind.YES_NO):
        return (
            f"Select {label[0].lower() + label[1:]}"
            if spec.kind is FieldKind.CHOICE
            else ("Select yes or no")
        )
    return f"Enter {label[0].lower() + label[1:]}"


def _as_date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None


def _cross_checks(
    transition: TransitionDef,
    answers: Mapping[str, object],
    known: Mapping[str, Any],
    workdays: WorkingDays,
) -> dict[str, str]:
    problems: dict[str, str] = {}
    for check in transition.checks:
        if check.when is not None and answers.get(check.when) is not True:
            continue
        later = _as_date(answers.get(check.field, known.get(check.field)))
        earlier = _as_date(answers.get(check.after, known.get(check.after)))
        if later is None or earlier is None:
            continue
        if later < workdays.add(earlier, check.days):
            problems[check.field] = check.message
    return problems


# --- effects and clocks -----------------------------------------------------------------------


def effects_of(transition: TransitionDef, plain: Mapping[str, Any]) -> list[EffectDef]:
    """The effects whose condition the recorded values meet."""
    chosen: list[EffectDef] = []
    for effect in transition.effects:
        if effect.when_field is not None:
            value = plain.get(effect.when_field)
            if effect.at_least is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and value >= effect.at_least
            ):
                continue
            if effect.equals is not None and str(value) != effect.equals:
                continue
        chosen.append(effect)
    return chosen


def _end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=LONDON)


@dataclass(frozen=True)
class Due:
    due_at: datetime
    at_risk_at: datetime | None


def due_of(
    clock: ClockDef, data: Mapping[str, Any], *, entered_at: datetime, workdays: WorkingDays
) -> Due | None:
    """When a stage's clock falls due: at a recorded date and time, or (working) days after a
    recorded date or after entering the stage. None when the field it needs is missing."""
    if clock.due_field is not None:
        value = data.get(clock.due_field)
        if not isinstance(value, str):
            return None
        if "T" in value:
            base = parse_datetime(value)
            start_day = base.date()
        else:
            start_day = date.fromisoformat(value)
            base = _end_of(start_day)
    else:
        base = entered_at
        start_day = to_london(entered_at).date()
    if clock.days:
        day = (
            workdays.add(start_day, clock.days)
            if clock.working_days
            else start_day + timedelta(days=clock.days)
        )
        due = _end_of(day)
    else:
        due = base
    # At risk from the start of that day ("day 14 onward"), not its end.
    at_risk = (
        datetime.combine(start_day + timedelta(days=clock.at_risk_after_days), time(0), LONDON)
        if clock.at_risk_after_days is not None
        else None
    )
    return Due(due, at_risk)


def task_due(days: int, *, now: datetime) -> datetime:
    """An effect's task: due at the end of the day, ``days`` days from today."""
    return _end_of(to_london(now).date() + timedelta(days=days))


# --- people and references ------------------------------------------------------------------


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def new_reference(prefix: str, year: int) -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}-{year}-{code}"
