"""The custody booking journey: its questions, in order, and what has been answered so far.

Plain data, no Flask and no database: the views keep a :class:`Journey` in the user's session
(encrypted, see ``casework.bookings.store``) and ask it where to go next. Nothing is written to
the database until the answers are checked and submitted (``casework.bookings.services.book``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

#: The questions, in the order they are asked. ``sample_sent_on`` is asked only for a
#: disputed test; ``check`` is the "Check your answers" page.
STEPS: tuple[str, ...] = (
    "person",
    "match",
    "test_result",
    "tested_on",
    "trigger_offence",
    "custody_suite",
    "disputed",
    "sample_sent_on",
    "provider",
    "appointment",
    "place",
    "check",
)

#: The question page where a problem with each pathway field (or service field) is shown.
STEP_OF_FIELD: dict[str, str] = {
    "date_of_birth": "person",
    "given_name": "person",
    "family_name": "person",
    "person": "match",
    "test_result": "test_result",
    "tested_on": "tested_on",
    "trigger_offence": "trigger_offence",
    "custody_suite": "custody_suite",
    "disputed": "disputed",
    "sample_sent_on": "sample_sent_on",
    "to_agency": "provider",
    "appointment_at": "appointment",
    "place": "place",
}

#: The pathway fields each question page records.
FIELDS_OF_STEP: dict[str, tuple[str, ...]] = {
    "test_result": ("test_result",),
    "tested_on": ("tested_on",),
    "trigger_offence": ("trigger_offence",),
    "custody_suite": ("custody_suite",),
    "disputed": ("disputed",),
    "sample_sent_on": ("sample_sent_on",),
    "appointment": ("appointment_at",),
    "place": ("place",),
}


@dataclass
class Candidate:
    """A person the duplicate check offered: name and date of birth only."""

    id: str
    name: str
    date_of_birth: str | None
    #: Held by another agency (shown by the search reveal, not visible to this user).
    elsewhere: bool = False

    @property
    def born(self) -> date | None:
        return date.fromisoformat(self.date_of_birth) if self.date_of_birth else None


@dataclass
class Journey:
    #: Unique per journey; becomes the referral's id, so a journey books at most once.
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    given_name: str = ""
    family_name: str = ""
    date_of_birth: str = ""
    #: Who the duplicate check offered for the search as it stands.
    offered: list[Candidate] = field(default_factory=list)
    #: The chosen person's id, or "new" for a new minimal record; "" before the choice.
    person: str = ""
    #: The pathway's raw values as the engine takes them ("YYYY-MM-DD", "yes", ...).
    answers: dict[str, str] = field(default_factory=dict)
    to_agency_id: str = ""
    #: Came from "Check your answers" with a Change link: go back there when done.
    checking: bool = False
    #: Problems the final submit found, by question page: (form field, message), shown once.
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)

    # --- state -----------------------------------------------------------------------------

    @property
    def searched(self) -> bool:
        return bool(self.given_name and self.family_name and self.date_of_birth)

    @property
    def born(self) -> date | None:
        return date.fromisoformat(self.date_of_birth) if self.date_of_birth else None

    @property
    def disputed(self) -> bool:
        return self.answers.get("disputed") == "yes"

    @property
    def new_person(self) -> bool:
        return self.person == "new"

    @property
    def chosen(self) -> Candidate | None:
        return next((c for c in self.offered if c.id == self.person), None)

    @property
    def person_id(self) -> uuid.UUID | None:
        chosen = self.chosen
        return uuid.UUID(chosen.id) if chosen else None

    def applies(self, step: str) -> bool:
        return step != "sample_sent_on" or self.disputed

    def answered(self, step: str) -> bool:
        if step == "person":
            return self.searched
        if step == "match":
            return self.new_person or self.chosen is not None
        if step == "provider":
            return bool(self.to_agency_id)
        if step == "check":
            return False
        return all(self.answers.get(name) for name in FIELDS_OF_STEP[step])

    def first_unanswered(self) -> str:
        for step in STEPS:
            if self.applies(step) and not self.answered(step):
                return step
        return "check"

    def may_open(self, step: str) -> bool:
        """A question may be opened once every question before it is answered."""
        if step not in STEPS or not self.applies(step):
            return False
        return STEPS.index(step) <= STEPS.index(self.first_unanswered())

    def next_after(self, step: str) -> str:
        if self.checking:
            return self.first_unanswered()
        for later in STEPS[STEPS.index(step) + 1 :]:
            if self.applies(later):
                return later
        return "check"

    def previous_of(self, step: str) -> str | None:
        if self.checking and step != "check":
            return "check"
        for earlier in reversed(STEPS[: STEPS.index(step)]):
            if self.applies(earlier):
                return earlier
        return None

    # --- changes ---------------------------------------------------------------------------

    def set_search(self, given: str, family: str, born: date) -> None:
        changed = (given, family, born.isoformat()) != (
            self.given_name,
            self.family_name,
            self.date_of_birth,
        )
        self.given_name, self.family_name, self.date_of_birth = given, family, born.isoformat()
        if changed:
            # A different search: the choice made from the old one no longer holds.
            self.offered, self.person = [], ""
            self.checking = False

    def set_answer(self, name: str, value: str) -> None:
        self.answers[name] = value
        if name == "disputed" and value != "yes":
            self.answers.pop("sample_sent_on", None)

    def values(self) -> dict[str, str]:
        """What the booking's transition records, as the engine takes it."""
        return {
            name: value
            for name, value in self.answers.items()
            if value and (name != "sample_sent_on" or self.disputed)
        }

    # --- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journey:
        offered = [Candidate(**item) for item in data.get("offered", [])]
        problems = {step: (pair[0], pair[1]) for step, pair in data.get("problems", {}).items()}
        return cls(**{**data, "offered": offered, "problems": problems})
