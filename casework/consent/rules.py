"""Pure rules about consent and other lawful bases: their state on a day, and the limits that
configuration sets (no I/O; the access policy's SQL form of "in force" is
``casework.access.policy.bases_in_force``, and tests prove the two agree)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from casework.access.categories import Category
from casework.consent.models import BasisKind, ConsentMethod, EmergencyReason, ReviewState
from casework.settings import Settings


@dataclass(frozen=True)
class SharingRules:
    """The configured limits (``config/base.toml``)."""

    consent_review_months: int = 12
    expiring_days: int = 30
    basis_max_days: int = 30
    basis_review_days: int = 7
    break_glass_hours: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> SharingRules:
        return cls(
            consent_review_months=settings.consent_review_months,
            expiring_days=settings.consent_expiring_days,
            basis_max_days=settings.lawful_basis_max_days,
            basis_review_days=settings.lawful_basis_review_days,
            break_glass_hours=settings.break_glass_hours,
        )

    def default_review_date(self, given_on: date) -> date:
        return add_months(given_on, self.consent_review_months)

    def default_end_date(self, today: date) -> date:
        return today + timedelta(days=self.basis_max_days)

    def latest_end_date(self, today: date) -> date:
        return today + timedelta(days=self.basis_max_days)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when it has fewer days)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: Another basis lasts 30 days at most: it shows as expiring in its last week only.
BASIS_EXPIRING_DAYS = 7


class BasisState(StrEnum):
    IN_FORCE = "in_force"
    EXPIRING = "expiring"
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def in_force(self) -> bool:
        return self in (BasisState.IN_FORCE, BasisState.EXPIRING)


STATE_LABELS = {
    BasisState.IN_FORCE: "In force",
    BasisState.EXPIRING: "Expiring soon",
    BasisState.NOT_YET: "Not yet in force",
    BasisState.EXPIRED: "Expired",
    BasisState.WITHDRAWN: "Withdrawn",
    BasisState.ENDED: "Ended early",
    BasisState.REJECTED: "Rejected by information governance",
    BasisState.SUPERSEDED: "Replaced by a newer record",
}


@dataclass(frozen=True)
class BasisFacts:
    """What decides a basis's state (the columns of ``sharing_bases`` that matter)."""

    kind: BasisKind
    starts_on: date
    ends_on: date
    withdrawn: bool
    superseded: bool
    review_state: ReviewState | None


def state_of(facts: BasisFacts, today: date, rules: SharingRules) -> BasisState:
    if facts.superseded:
        return BasisState.SUPERSEDED
    if facts.withdrawn:
        return BasisState.WITHDRAWN if facts.kind is BasisKind.CONSENT else BasisState.ENDED
    if facts.review_state is ReviewState.REJECTED:
        return BasisState.REJECTED
    if facts.starts_on > today:
        return BasisState.NOT_YET
    if facts.ends_on < today:
        return BasisState.EXPIRED
    window = rules.expiring_days if facts.kind is BasisKind.CONSENT else BASIS_EXPIRING_DAYS
    if (facts.ends_on - today).days <= window:
        return BasisState.EXPIRING
    return BasisState.IN_FORCE


def review_overdue(
    review_state: ReviewState | None, recorded_at: datetime, now: datetime, rules: SharingRules
) -> bool:
    """Another basis unreviewed for longer than the review period shows as overdue."""
    return review_state is ReviewState.PENDING and now - recorded_at > timedelta(
        days=rules.basis_review_days
    )


class Coverage(StrEnum):
    """An agency's sharing state at a glance (the professional-family screen)."""

    COVERED = "covered"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    NONE = "none"

    @property
    def label(self) -> str:
        return COVERAGE_LABELS[self]


COVERAGE_LABELS = {
    Coverage.COVERED: "Covered",
    Coverage.EXPIRING: "Expiring soon",
    Coverage.EXPIRED: "Expired",
    Coverage.WITHDRAWN: "Withdrawn",
    Coverage.NONE: "None",
}


def coverage_of(states: list[BasisState]) -> Coverage:
    """One agency's state from the states of the records naming it: covered if any is in force
    (expiring if every one in force ends soon), else expired, else withdrawn, else none."""
    if any(state is BasisState.IN_FORCE for state in states):
        return Coverage.COVERED
    if any(state is BasisState.EXPIRING for state in states):
        return Coverage.EXPIRING
    if any(state is BasisState.EXPIRED for state in states):
        return Coverage.EXPIRED
    if any(state in (BasisState.WITHDRAWN, BasisState.ENDED) for state in states):
        return Coverage.WITHDRAWN
    return Coverage.NONE


KIND_LABELS = {
    BasisKind.CONSENT: "Consent",
    BasisKind.VITAL_INTERESTS: "Vital interests",
    BasisKind.SAFEGUARDING: "Safeguarding",
    BasisKind.LEGAL_OBLIGATION: "Legal obligation",
}
KIND_HINTS = {
    BasisKind.VITAL_INTERESTS: "To protect someone's life when they cannot consent",
    BasisKind.SAFEGUARDING: "To protect a child or an adult at risk from harm",
    BasisKind.LEGAL_OBLIGATION: "The law requires the sharing (for example a required "
    "assessment ordered by police)",
}
METHOD_LABELS = {
    ConsentMethod.VERBAL: "Verbally",
    ConsentMethod.WRITTEN: "In writing (a signed form)",
    ConsentMethod.ELECTRONIC: "Electronically",
}
EMERGENCY_REASON_LABELS = {
    EmergencyReason.RISK_TO_LIFE: "Someone's life may be at risk",
    EmergencyReason.SAFEGUARDING: "A safeguarding emergency",
    EmergencyReason.CRISIS_OUT_OF_HOURS: "A crisis out of hours, with no one to ask",
    EmergencyReason.OTHER: "Another emergency",
}
OTHER_BASES = (BasisKind.VITAL_INTERESTS, BasisKind.SAFEGUARDING, BasisKind.LEGAL_OBLIGATION)


def kind_label(kind: BasisKind) -> str:
    return KIND_LABELS[kind]


def method_label(method: ConsentMethod | None) -> str:
    return METHOD_LABELS[method] if method else "Not recorded"


def emergency_reason_label(reason: EmergencyReason) -> str:
    return EMERGENCY_REASON_LABELS[reason]


def category_label(code: str) -> str:
    try:
        return Category(code).label
    except ValueError:
        return code


#: Labels the templates use (registered by ``casework.web.templating``).
TEMPLATE_GLOBALS = {
    "category_label": category_label,
    "basis_kind_label": kind_label,
    "method_label": method_label,
    "emergency_reason_label": emergency_reason_label,
}
