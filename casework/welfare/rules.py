"""When welfare checks fall: plain functions over dates and Europe/London wall-clock times.

A schedule's occurrences are local dates (the start date; every N days or N working days from
it; or chosen weekdays) at a local time, turned into UTC one date at a time — so a daily check
at 01:30 stays at 01:30 on each side of a clock change and falls once on each day, including
the days the clocks change (on 29 March 2026, 01:30 does not exist in London: the check falls
at 02:30 BST, the same instant as 01:30 GMT; on 25 October 2026 01:30 happens twice: the check
falls at the first). No Flask here, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from casework.clock import LONDON
from casework.welfare.models import Pattern
from casework.workdays import WorkingDays

#: How far ahead to look for the next occurrence (a schedule on bank holidays only, say).
HORIZON_DAYS = 800
MAX_INTERVAL_DAYS = 365
MAX_SCHEDULE_YEARS = 5


class ScheduleProblem(ValueError):  # noqa: N818 - reads better at call sites
    """A schedule that cannot work; ``field`` names the form field to show it on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Recurrence:
    pattern: Pattern
    at: time
    start: date
    end: date | None = None
    interval_days: int | None = None
    weekdays: frozenset[int] = field(default_factory=frozenset)
    working_days_only: bool = False

    def check(self) -> None:
        """Raise :class:`ScheduleProblem` for a schedule that cannot work."""
        if self.end is not None and self.end < self.start:
            raise ScheduleProblem("end_date", "The end date must be on or after the start date")
        if self.end is not None and self.end > self.start + timedelta(
            days=366 * MAX_SCHEDULE_YEARS
        ):
            raise ScheduleProblem(
                "end_date", f"The end date must be within {MAX_SCHEDULE_YEARS} years of the start"
            )
        if self.pattern is Pattern.EVERY_N_DAYS and (
            self.interval_days is None or not 1 <= self.interval_days <= MAX_INTERVAL_DAYS
        ):
            raise ScheduleProblem(
                "interval_days", f"Enter how often, from 1 to {MAX_INTERVAL_DAYS} days"
            )
        if self.pattern is Pattern.WEEKDAYS:
            if not self.weekdays or not self.weekdays <= set(range(7)):
                raise ScheduleProblem("weekdays", "Select at least one day of the week")
            if self.working_days_only and self.weekdays <= {5, 6}:
                raise ScheduleProblem(
                    "weekdays", "Weekend days are never working days: select a weekday"
                )

    @property
    def weekdays_code(self) -> str | None:
        return "".join(str(day) for day in sorted(self.weekdays)) or None


def weekdays_from_code(code: str | None) -> frozenset[int]:
    return frozenset(int(char) for char in (code or "") if char.isdigit())


def london_instant(day: date, at: time) -> datetime:
    """``at`` on ``day`` in Europe/London as UTC (a time the spring change skips falls an hour
    later by the clock; a time the autumn change repeats falls at its first occurrence)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _dates(rule: Recurrence, workdays: WorkingDays, first: date) -> Iterator[date]:
    """The schedule's local dates from ``first`` on (a bounded walk)."""
    last = rule.end or (first + timedelta(days=HORIZON_DAYS))
    last = min(last, first + timedelta(days=HORIZON_DAYS))
    if rule.pattern is Pattern.ONCE:
        day = workdays.add(rule.start, 0) if rule.working_days_only else rule.start
        if first <= day and (rule.end is None or day <= rule.end):
            yield day
        return
    if rule.pattern is Pattern.WEEKDAYS:
        day = max(first, rule.start)
        while day <= last:
            if day.weekday() in rule.weekdays and (
                not rule.working_days_only or workdays.is_working_day(day)
            ):
                yield day
            day += timedelta(days=1)
        return
    step = rule.interval_days or 1
    if rule.working_days_only:
        # Every N working days, counted from the first working day on or after the start.
        day = workdays.add(rule.start, 0)
        while day <= last:
            if day >= first:
                yield day
            day = workdays.add(day, step)
        return
    day = rule.start
    if first > day:
        day += timedelta(days=-(-(first - day).days // step) * step)
    while day <= last:
        yield day
        day += timedelta(days=step)


def next_occurrence(rule: Recurrence, *, after: datetime, workdays: WorkingDays) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or None when there is none."""
    # A day earlier than ``after``'s London date: an occurrence late on it may still be after.
    first = max(rule.start, (after.astimezone(LONDON) - timedelta(days=1)).date())
    for day in _dates(rule, workdays, first):
        moment = london_instant(day, rule.at)
        if moment > after:
            return moment
    return None


def occurrences_between(
    rule: Recurrence, start: datetime, end: datetime, *, workdays: WorkingDays
) -> list[datetime]:
    """Every occurrence in (start, end]: for previews and tests."""
    found: list[datetime] = []
    moment = next_occurrence(rule, after=start, workdays=workdays)
    while moment is not None and moment <= end:
        found.append(moment)
        moment = next_occurrence(rule, after=moment, workdays=workdays)
    return found
