"""Pathway definitions: the files under ``config/pathways/`` that say what a referral pathway is.

A pathway is a set of **stages**, the **transitions** allowed between them, who may make each
transition (the referring or the receiving agency, and which roles), what each transition
records (**fields**), the **checks** across fields, the **clocks** a stage starts (deadlines
that become due work), and the **effects** of a transition (an alert, a task, a message to the
referrer). A partnership adds a pathway by adding a file; nothing in the code names a stage.

Files are read at start-up and checked completely: the schema (pydantic, unknown keys refused)
and then the references between parts (a transition to a stage that does not exist, a check on
a field the transition does not record, ...). Every error names the file and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.settings import CONFIG_DIR, ConfigurationError
from casework.tomlfiles import line_for, line_index, load_model

PATHWAYS_DIR = CONFIG_DIR / "pathways"
#: Stage, transition, field and pathway keys: short lower-case identifiers (they are stored).
KEY = r"^[a-z][a-z0-9_]{0,39}$"
Key = Annotated[str, Field(pattern=KEY)]
Label = Annotated[str, Field(min_length=1, max_length=120)]


class Side(StrEnum):
    """Which end of a referral an agency is."""

    REFERRING = "referring"
    RECEIVING = "receiving"


class FieldKind(StrEnum):
    CHOICE = "choice"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    TEXT = "text"
    YES_NO = "yes_no"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldDef(Strict):
    """One thing a transition records. Text is encrypted under the person's key; every other
    kind is a code, a number or a date, stored in plaintext (DECISIONS §2)."""

    name: Key
    label: Label
    kind: FieldKind
    hint: str = Field("", max_length=400)
    required: bool = True
    #: Required only when this yes/no field (of the same transition) is "yes".
    required_when: Key | None = None
    #: Choice codes and their labels, in the order shown.
    choices: dict[Key, Label] = Field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = Field(2000, ge=1, le=20000)
    #: Dates and times: refuse a value before now (a booking in the past).
    not_past: bool = False
    #: Dates: refuse a value after today (a test taken tomorrow).
    not_future: bool = False


class CheckDef(Strict):
    """A rule across fields: ``field`` must be at least ``days`` working days after
    ``after`` (a field of this transition or one recorded earlier on the referral), when the
    yes/no field ``when`` is "yes" (always, without ``when``)."""

    kind: Literal["working_days_after"]
    field: Key
    after: Key
    days: int = Field(ge=1, le=60)
    when: Key | None = None
    message: Label


class ClockDef(Strict):
    """A deadline that entering a stage starts: a task for one side's agency, due at a field's
    date and time, or some (working) days after a field's date or after entering the stage.
    ``at_risk_after_days`` marks the work as at risk from that many days on."""

    task: Label
    side: Side = Side.RECEIVING
    due_field: Key | None = None
    days: int = Field(0, ge=0, le=366)
    working_days: bool = False
    at_risk_after_days: int | None = Field(None, ge=0, le=366)


class EffectDef(Strict):
    """Something a transition does besides moving the stage, optionally only when a field
    reaches a value: raise an alert (a code from ``config/information.toml``), add a task for
    one side, or tell the person who made the referral."""

    when_field: Key | None = None
    at_least: int | None = None
    equals: str | None = None
    alert: Key | None = None
    task: Label | None = None
    side: Side = Side.RECEIVING
    due_days: int = Field(1, ge=0, le=366)
    notify_referrer: bool = False
    #: A prompt shown after the transition, naming further referrals to make (MARAC, IDVA).
    prompt: str | None = Field(None, max_length=400)
    #: The effect's task is done when the referral reaches one of these stages (without
    #: this, it stays open until it is done by hand or the referral ends).
    done_at: list[Key] = Field(default_factory=list)


class StageDef(Strict):
    label: Label
    category: Category
    #: Shown on the person's referrals and in lists ("Booked", "Declined").
    terminal: bool = False
    #: "open" (work goes on), "positive" or "negative" end: reports read it (issue 8).
    outcome: Literal["open", "positive", "negative", "neutral"] = "open"
    clock: ClockDef | None = None


class TransitionDef(Strict):
    label: Label
    #: The stages it may leave; empty for a transition that starts a referral.
    from_: list[Key] = Field(default_factory=list, alias="from")
    to: Key
    sides: list[Side] = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    fields: list[FieldDef] = Field(default_factory=list)
    checks: list[CheckDef] = Field(default_factory=list)
    effects: list[EffectDef] = Field(default_factory=list)
    #: The notice this transition produces (RA1 ... RA5), printable from the referral.
    notice: str | None = Field(None, max_length=20)
    #: The button's words, when different from the label.
    button: str | None = Field(None, max_length=60)
    #: Offered as the quick action on lists (assessors record outcomes in a couple of clicks).
    quick: bool = False
    #: Not before this recorded date or date and time (attendance, or a failure to attend, is
    #: recorded only once the appointment has come).
    not_before: Key | None = None
    #: The acting agency joins the person's professional family (it has taken the person on:
    #: a referral accepted, service taken up), so it still sees them once the referral ends.
    joins_family: bool = False

    @property
    def starts(self) -> bool:
        return not self.from_


class BasisDef(Strict):
    """A lawful basis the pathway itself provides (a required assessment: legal obligation),
    recorded automatically when a referral starts: sharing ``categories`` with the agency at
    ``to`` (recorded by the agency at the other end)."""

    kind: Literal["legal_obligation"]
    to: Side
    categories: list[Category] = Field(min_length=1)
    statement: Label


class PathwayDef(Strict):
    key: Key
    name: Label
    description: str = Field("", max_length=1000)
    reference_prefix: str = Field(pattern=r"^[A-Z]{2,4}$")
    referring_kinds: list[AgencyKind] = Field(min_length=1)
    receiving_kinds: list[AgencyKind] = Field(min_length=1)
    #: The youngest age (on the day the referral starts) the pathway allows.
    minimum_age: int | None = Field(None, ge=0, le=120)
    #: Bases the pathway provides; without one, consent or another basis must cover sharing.
    bases: list[BasisDef] = Field(default_factory=list)
    #: The stages of the main path, in order (reports draw the funnel from it).
    main_path: list[Key] = Field(min_length=2)
    stages: dict[Key, StageDef] = Field(min_length=1)
    transitions: dict[Key, TransitionDef] = Field(min_length=1)

    @field_validator("referring_kinds", "receiving_kinds")
    @classmethod
    def _distinct(cls, kinds: list[AgencyKind]) -> list[AgencyKind]:
        if len(set(kinds)) != len(kinds):
            raise ValueError("each agency kind once")
        return kinds

    # --- reading ---------------------------------------------------------------------------

    def stage(self, key: str) -> StageDef:
        return self.stages[key]

    def starting(self) -> list[tuple[str, TransitionDef]]:
        return [(key, t) for key, t in self.transitions.items() if t.starts]

    def leaving(self, stage: str) -> list[tuple[str, TransitionDef]]:
        return [(key, t) for key, t in self.transitions.items() if stage in t.from_]

    def label_of(self, stage: str) -> str:
        found = self.stages.get(stage)
        return found.label if found else stage.replace("_", " ").capitalize()

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset(stage.category for stage in self.stages.values())


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pathways:
    """Every pathway of the partnership, by key."""

    by_key: Mapping[str, PathwayDef]

    def get(self, key: str) -> PathwayDef | None:
        return self.by_key.get(key)

    def __getitem__(self, key: str) -> PathwayDef:
        return self.by_key[key]

    def all(self) -> list[PathwayDef]:
        return list(self.by_key.values())

    def for_referring(self, kind: AgencyKind) -> list[PathwayDef]:
        return [p for p in self.by_key.values() if kind in p.referring_kinds]


Problem = tuple[tuple[str | int, ...], str]


def _field_problems(here: tuple[str | int, ...], transition: TransitionDef) -> list[Problem]:
    problems: list[Problem] = []
    names = [field.name for field in transition.fields]
    if len(set(names)) != len(names):
        problems.append(((*here, "fields"), "each field name once"))
    kinds = {field.name: field.kind for field in transition.fields}
    for number, field in enumerate(transition.fields):
        at = (*here, "fields", number)
        if field.kind is FieldKind.CHOICE and not field.choices:
            problems.append(((*at, "kind"), f"choice field {field.name!r} needs choices"))
        if field.kind is not FieldKind.CHOICE and field.choices:
            problems.append(((*at, "choices"), "only a choice field has choices"))
        if field.required_when and kinds.get(field.required_when) is not FieldKind.YES_NO:
            problems.append(
                ((*at, "required_when"), f"{field.required_when!r} is not a yes/no field here")
            )
    for number, check in enumerate(transition.checks):
        at = (*here, "checks", number)
        if kinds.get(check.field) not in (FieldKind.DATE, FieldKind.DATETIME):
            problems.append(((*at, "field"), f"{check.field!r} is not a date field here"))
        if check.when and kinds.get(check.when) is not FieldKind.YES_NO:
            problems.append(((*at, "when"), f"{check.when!r} is not a yes/no field here"))
    for number, effect in enumerate(transition.effects):
        at = (*here, "effects", number)
        if effect.when_field and effect.when_field not in kinds:
            problems.append(((*at, "when_field"), f"no field {effect.when_field!r} here"))
        if not (effect.alert or effect.task or effect.notify_referrer or effect.prompt):
            problems.append((at, "an effect needs an alert, a task, a prompt or a message"))
    return problems


def _done_at_problems(
    here: tuple[str | int, ...], transition: TransitionDef, stages: Mapping[str, StageDef]
) -> list[Problem]:
    problems: list[Problem] = []
    for number, effect in enumerate(transition.effects):
        at = (*here, "effects", number, "done_at")
        if effect.done_at and not effect.task:
            problems.append((at, "only an effect with a task has done_at"))
        problems.extend(
            (at, f"no stage {stage!r}") for stage in effect.done_at if stage not in stages
        )
    return problems


def _transition_problems(pathway: PathwayDef) -> list[Problem]:
    problems: list[Problem] = []
    stages = pathway.stages
    dated = {
        field.name
        for step in pathway.transitions.values()
        for field in step.fields
        if field.kind in (FieldKind.DATE, FieldKind.DATETIME)
    }
    for key, transition in pathway.transitions.items():
        here: tuple[str | int, ...] = ("transitions", key)
        if transition.to not in stages:
            problems.append(((*here, "to"), f"no stage {transition.to!r}"))
        for stage in transition.from_:
            if stage not in stages:
                problems.append(((*here, "from"), f"no stage {stage!r}"))
            elif stages[stage].terminal:
                problems.append(((*here, "from"), f"stage {stage!r} is an end: nothing leaves it"))
        problems.extend(_field_problems(here, transition))
        problems.extend(_done_at_problems(here, transition, stages))
        if transition.not_before is not None and transition.not_before not in dated:
            problems.append(
                ((*here, "not_before"), f"no date field {transition.not_before!r} in the pathway")
            )
    return problems


def _records(transition: TransitionDef, name: str, *, required: bool = False) -> bool:
    """Does the transition record the field ``name`` (always, with ``required``)?"""
    return any(
        field.name == name and (field.required or not required) for field in transition.fields
    )


def _stage_problems(pathway: PathwayDef) -> list[Problem]:
    problems: list[Problem] = []
    for position, named in enumerate(pathway.main_path):
        if named not in pathway.stages:
            problems.append((("main_path",), f"main_path[{position}]: no stage {named!r}"))
    if not pathway.starting():
        problems.append((("transitions",), "no transition starts a referral (empty 'from')"))
    for key, stage in pathway.stages.items():
        entering = [t for t in pathway.transitions.values() if t.to == key]
        if not entering:
            problems.append((("stages", key), f"stage {key!r} is never reached"))
        due_field = stage.clock.due_field if stage.clock else None
        # A clock may count from a date every starting transition records (a referral keeps
        # what it recorded), or from one every transition into the stage records.
        from_start = due_field is not None and all(
            _records(t, due_field, required=True) for _, t in pathway.starting()
        )
        if due_field and not from_start and any(not _records(t, due_field) for t in entering):
            problems.append(
                (
                    ("stages", key, "clock", "due_field"),
                    f"{due_field!r} is not recorded by every transition into {key!r} "
                    "(nor required when the referral starts)",
                )
            )
    return problems


def _references(pathway: PathwayDef) -> list[Problem]:
    """Errors in how the parts of a valid-looking pathway refer to each other (a transition's
    first: a misspelt stage there also leaves the stage it meant unreached)."""
    return _transition_problems(pathway) + _stage_problems(pathway)


def load_pathway(path: Path, known_alerts: frozenset[str] = frozenset()) -> PathwayDef:
    """Read and check one pathway file."""
    pathway, index = load_model(path, PathwayDef)
    problems = _references(pathway)
    if known_alerts:
        for key, transition in pathway.transitions.items():
            for number, effect in enumerate(transition.effects):
                if effect.alert and effect.alert not in known_alerts:
                    problems.append(
                        (
                            ("transitions", key, "effects", number, "alert"),
                            f"no alert {effect.alert!r} in information.toml",
                        )
                    )
    if path.stem != pathway.key:
        problems.append((("key",), f"the file must be named {pathway.key}.toml"))
    if problems:
        loc, message = problems[0]
        raise ConfigurationError(f"{path}, line {line_for(index, loc)}: {message}")
    return pathway


def load_pathways(
    directory: Path = PATHWAYS_DIR, known_alerts: frozenset[str] = frozenset()
) -> Pathways:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigurationError(f"{directory}: no pathway files (*.toml)")
    found: dict[str, PathwayDef] = {}
    prefixes: dict[str, Path] = {}
    for path in files:
        pathway = load_pathway(path, known_alerts)
        if pathway.reference_prefix in prefixes:
            index = line_index(path.read_text("utf-8"))
            line = line_for(index, ("reference_prefix",))
            raise ConfigurationError(
                f"{path}, line {line}: reference prefix {pathway.reference_prefix!r} is also "
                f"used by {prefixes[pathway.reference_prefix].name}"
            )
        prefixes[pathway.reference_prefix] = path
        found[pathway.key] = pathway
    return Pathways(found)


@cache
def pathways() -> Pathways:
    """The partnership's pathways, read once per process (checked at start-up by the app)."""
    from casework.people.codes import information

    return load_pathways(known_alerts=frozenset(information().alerts))
