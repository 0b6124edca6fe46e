"""Report periods and filters: plain values, checked without Flask."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

#: The longest period a report covers (ten years): bounds the work one request can ask for.
MAX_DAYS = 3660


class Preset(StrEnum):
    LAST_12_MONTHS = "last_12_months"
    LAST_QUARTER = "last_quarter"
    THIS_QUARTER = "this_quarter"
    FINANCIAL_YEAR = "financial_year"
    LAST_FINANCIAL_YEAR = "last_financial_year"

    @property
    def label(self) -> str:
        return PRESET_LABELS[self]


PRESET_LABELS = {
    Preset.LAST_12_MONTHS: "Last 12 months",
    Preset.LAST_QUARTER: "Last full quarter",
    Preset.THIS_QUARTER: "This quarter so far",
    Preset.FINANCIAL_YEAR: "This financial year so far",
    Preset.LAST_FINANCIAL_YEAR: "Last financial year",
}


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included (Europe/London dates)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"

    def before(self) -> Period:
        """The period of the same length just before this one (a default baseline)."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def _quarter_start(day: date) -> date:
    # Financial quarters: April, July, October, January.
    month = ((day.month - 1) // 3) * 3 + 1
    return date(day.year, month, 1)


def _financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def preset_period(preset: Preset, today: date) -> Period:
    if preset is Preset.LAST_12_MONTHS:
        try:
            start = today.replace(year=today.year - 1) + timedelta(days=1)
        except ValueError:  # 29 February
            start = date(today.year - 1, 3, 1)
        return Period(start, today)
    if preset is Preset.THIS_QUARTER:
        return Period(_quarter_start(today), today)
    if preset is Preset.LAST_QUARTER:
        end = _quarter_start(today) - timedelta(days=1)
        return Period(_quarter_start(end), end)
    if preset is Preset.FINANCIAL_YEAR:
        return Period(_financial_year_start(today), today)
    end = _financial_year_start(today) - timedelta(days=1)
    return Period(_financial_year_start(end), end)


class PeriodError(ValueError):
    """A period that cannot be used; ``field`` names the filter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_period(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError("to", "The end of the period must be on or after its start")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError("to", "A report can cover at most ten years")
    return Period(start, end)


@dataclass(frozen=True)
class Filters:
    """What one report is asked for. Ids are checked against what the viewer may use before a
    ``Filters`` is made (:func:`casework.reports.services.check_filters`)."""

    period: Period
    agency_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    pathway: str | None = None
    #: Partnership figures: the period compared against (default: the period before).
    baseline: Period | None = None
    #: Referrals with no answer after this many days.
    waiting_days: int = 14
    extra: dict[str, str] = field(default_factory=dict)

    def query_args(self) -> dict[str, str]:
        """The filters as the query string of a report page (drill-down and export links)."""
        args = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        for key, value in (
            ("agency", self.agency_id),
            ("team", self.team_id),
            ("worker", self.worker_id),
            ("pathway", self.pathway),
        ):
            if value:
                args[key] = str(value)
        if self.baseline is not None:
            args["baseline_from"] = self.baseline.start.isoformat()
            args["baseline_to"] = self.baseline.end.isoformat()
        if self.waiting_days != 14:
            args["waiting_days"] = str(self.waiting_days)
        return args
