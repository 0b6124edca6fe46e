"""Escalation ladders: what happens as a task comes due and goes overdue, read from
``config/ladders/<key>.toml`` (checked at start-up; errors name the file and the line).

Every task gets a ladder when it is made (welfare checks: their schedule's kind; pathway
deadlines and consent reviews: the ladder marked ``default`` for their source), and each step
of it becomes a reminder row, due at the task's ``due_at`` plus the step's ``after`` (negative:
before it is due). One clock for all work: a welfare check, a required-assessment appointment
and a consent review are reminded and escalated by the same rows and the same sweep.

Steps: ``notify = "assignee"`` (the assigned worker; a team's members; for an agency's task,
its users with ``agency_roles``) or ``"managers"`` (the managers of the task's team, or of the
worker's teams); ``red = true`` turns the item red on the inbox and caseload;
``welfare_request = true`` asks the schedule's partner agency for a welfare visit (a referral
on the ``request_pathway``), only if consent or another basis covers sharing with it —
otherwise the managers are told that it is not covered. Texts are fixed: no placeholders, so
no person's details can reach a notification, an email or a text message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.settings import CONFIG_DIR, ConfigurationError
from casework.tasks.models import TaskSource
from casework.tomlfiles import line_for, load_model

LADDERS_DIR = CONFIG_DIR / "ladders"

_DURATION = re.compile(r"^(-?)(\d{1,4})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


def parse_duration(value: str) -> timedelta:
    """``"30m"``, ``"4h"``, ``"2d"``, ``"-1d"`` (before the task is due)."""
    match = _DURATION.match(value.strip())
    if match is None:
        raise ValueError("write a duration like 30m, 4h, 2d or -1d")
    sign, number, unit = match.groups()
    delta = timedelta(**{_UNITS[unit]: int(number)})
    return -delta if sign else delta


class Notify(StrEnum):
    ASSIGNEE = "assignee"
    MANAGERS = "managers"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fixed_text(value: str) -> str:
    if "{" in value or "}" in value:
        raise ValueError("fixed text only: no placeholders (nothing about a person may go here)")
    return value


class StepDef(Strict):
    after: timedelta
    notify: Notify | None = None
    #: The in-app notification's subject.
    subject: Text | None = None
    red: bool = False
    welfare_request: bool = False

    @field_validator("after", mode="before")
    @classmethod
    def _after(cls, value: object) -> timedelta:
        if not isinstance(value, str):
            raise ValueError("write a duration like 30m, 4h, 2d or -1d")
        return parse_duration(value)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str | None) -> str | None:
        return None if value is None else _fixed_text(value)


class LadderDef(Strict):
    key: Key
    #: The task's title, and the schedule kind's name in forms ("Welfare check").
    label: Text
    description: str = ""
    applies_to: TaskSource
    #: The ladder of its source's tasks that name none (pathway deadlines, consent reviews).
    default: bool = False
    #: Welfare-check kinds: the reasons a worker chooses from (code -> label).
    reasons: dict[Key, Text] = Field(default_factory=dict)
    #: Who "assignee" means for a task assigned to an agency only.
    agency_roles: list[Role] = Field(default_factory=lambda: [Role.MANAGER])
    #: The content-free text of every email and SMS this ladder sends.
    outside_message: Text
    #: Welfare kinds with a welfare-request step: the partner agency kinds that may be asked.
    request_agency_kinds: list[AgencyKind] = Field(default_factory=list)
    request_pathway: Key = "welfare_request"
    steps: list[StepDef] = Field(min_length=1, max_length=10)

    @field_validator("outside_message")
    @classmethod
    def _outside(cls, value: str) -> str:
        return _fixed_text(value)

    @property
    def red_step(self) -> int | None:
        return next((n for n, step in enumerate(self.steps) if step.red), None)

    @property
    def has_welfare_request(self) -> bool:
        return any(step.welfare_request for step in self.steps)


def _problems(ladder: LadderDef) -> Iterator[tuple[tuple[str | int, ...], str]]:
    previous: timedelta | None = None
    for number, step in enumerate(ladder.steps):
        here: tuple[str | int, ...] = ("steps", number)
        if previous is not None and step.after <= previous:
            yield (*here, "after"), "each step must come after the one before it"
        previous = step.after
        if step.notify is not None and step.subject is None:
            yield here, "a step that notifies needs a subject"
        if not (step.notify or step.red or step.welfare_request):
            yield here, "a step must notify, turn the item red or request a welfare visit"
        if step.welfare_request and ladder.applies_to is not TaskSource.WELFARE_CHECK:
            yield (*here, "welfare_request"), "only welfare-check ladders request visits"
        if step.welfare_request and not ladder.request_agency_kinds:
            yield (*here, "welfare_request"), "name request_agency_kinds for this step"
        if step.welfare_request and step.subject is None:
            yield here, "a welfare-request step needs a subject (what managers are told)"
    if ladder.reasons and ladder.applies_to is not TaskSource.WELFARE_CHECK:
        yield ("reasons",), "only welfare-check ladders have reasons"
    if ladder.applies_to is TaskSource.WELFARE_CHECK and not ladder.reasons:
        yield ("reasons",), "a welfare-check kind needs at least one reason"


def load_ladder(path: Path) -> LadderDef:
    ladder, index = load_model(path, LadderDef)
    problems = list(_problems(ladder))
    if path.stem != ladder.key:
        problems.append((("key",), f"the file must be named {ladder.key}.toml"))
    if problems:
        loc, message = problems[0]
        raise ConfigurationError(f"{path}, line {line_for(index, loc)}: {message}")
    return ladder


class Ladders:
    def __init__(self, found: dict[str, LadderDef]) -> None:
        self.by_key = found

    def __getitem__(self, key: str) -> LadderDef:
        return self.by_key[key]

    def get(self, key: str | None) -> LadderDef | None:
        return self.by_key.get(key) if key else None

    def all(self) -> list[LadderDef]:
        return list(self.by_key.values())

    def welfare_kinds(self) -> list[LadderDef]:
        return [ladder for ladder in self.all() if ladder.applies_to is TaskSource.WELFARE_CHECK]

    def default_for(self, source: TaskSource) -> LadderDef | None:
        return next(
            (ladder for ladder in self.all() if ladder.applies_to is source and ladder.default),
            None,
        )


def load_ladders(directory: Path = LADDERS_DIR) -> Ladders:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigurationError(f"{directory}: no escalation ladder files (*.toml)")
    found = {ladder.key: ladder for ladder in map(load_ladder, files)}
    for source in TaskSource:
        defaults = [
            path
            for path, ladder in zip(files, found.values(), strict=True)
            if ladder.applies_to is source and ladder.default
        ]
        if len(defaults) > 1:
            raise ConfigurationError(
                f"{defaults[1]}, line 1: {source.value} tasks already have a default ladder "
                f"({defaults[0].name})"
            )
    if not any(ladder.applies_to is TaskSource.WELFARE_CHECK for ladder in found.values()):
        raise ConfigurationError(
            f'{directory}: no welfare-check kind (applies_to = "welfare_check")'
        )
    return Ladders(found)


@cache
def ladders() -> Ladders:
    """The partnership's escalation ladders, read once per process (checked at start-up)."""
    return load_ladders()


def check_request_pathways(found: Ladders, pathway_keys: frozenset[str]) -> None:
    """Each ladder that requests welfare visits names a pathway that exists."""
    for ladder in found.all():
        if ladder.has_welfare_request and ladder.request_pathway not in pathway_keys:
            path = LADDERS_DIR / f"{ladder.key}.toml"
            raise ConfigurationError(
                f"{path}, line 1: request_pathway {ladder.request_pathway!r} is not a pathway "
                "in config/pathways/"
            )
