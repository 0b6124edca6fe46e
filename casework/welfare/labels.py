"""Welfare schedules in words: patterns, due times, history. Plain functions, no Flask."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from casework.clock import to_london
from casework.people.codes import ContactOutcome
from casework.tasks.definitions import ladders
from casework.welfare.models import Pattern
from casework.welfare.rules import weekdays_from_code

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PATTERN_LABELS = {
    Pattern.ONCE: "Once",
    Pattern.EVERY_N_DAYS: "Every few days",
    Pattern.WEEKDAYS: "On chosen days of the week",
}
STATE_LABELS = {"active": "Active", "paused": "Paused", "ended": "Ended"}
END_REASONS = {
    "ended_by_worker": "Ended by a worker",
    "completed": "No further checks in the schedule",
    "person_died": "A death was recorded",
    "case_closed": "The case was closed",
}
ACTION_LABELS = {
    "created": "Schedule made",
    "changed": "Schedule changed",
    "paused": "Paused",
    "resumed": "Resumed",
    "ended": "Ended",
    "check_recorded": "Check recorded",
}
FIELD_LABELS = {
    "kind": "Kind of check",
    "reason": "Reason",
    "pattern": "How often",
    "interval_days": "Every how many days",
    "weekdays": "Days of the week",
    "at_time": "Time",
    "working_days_only": "Working days only",
    "start_date": "Start date",
    "end_date": "End date",
    "user_id": "Worker",
    "team_id": "Team",
    "request_agency_id": "Partner agency for a welfare visit",
}


def hhmm(at: time) -> str:
    return at.strftime("%H:%M")


def day_list(days: frozenset[int]) -> str:
    """{0, 3} -> "Mondays and Thursdays"."""
    names = [DAY_NAMES[day] + "s" for day in sorted(days) if 0 <= day < 7]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def long_date(day: date) -> str:
    return day.strftime("%-d %B %Y")


def pattern_words(
    pattern: Pattern,
    *,
    at: time,
    start: date,
    interval_days: int | None = None,
    weekdays: str | None = None,
    working_days_only: bool = False,
) -> str:
    """ "Every 2 days at 09:00", "Mondays and Thursdays at 10:00, working days only"."""
    when = hhmm(at)
    if pattern is Pattern.ONCE:
        words = f"Once, on {long_date(start)} at {when}"
        return words + (" (or the next working day)" if working_days_only else "")
    if pattern is Pattern.EVERY_N_DAYS:
        step = interval_days or 1
        unit = "working day" if working_days_only else "day"
        if step == 1:
            return f"Every {unit} at {when}"
        return f"Every {step} {unit}s at {when}"
    words = f"{day_list(weekdays_from_code(weekdays))} at {when}"
    return words + (", working days only" if working_days_only else "")


def due_words(moment: datetime | None, now: datetime) -> str:
    """ "Today 14:30", "Tomorrow 09:00", "Yesterday 18:00", "Thu 3 Dec 09:00" (London)."""
    if moment is None:
        return "None"
    local, today = to_london(moment), to_london(now).date()
    when = local.strftime("%H:%M")
    offset = (local.date() - today).days
    named = {0: "Today", 1: "Tomorrow", -1: "Yesterday"}
    if offset in named:
        return f"{named[offset]} {when}"
    fmt = "%a %-d %b %H:%M" if abs(offset) < 180 else "%a %-d %b %Y %H:%M"
    return local.strftime(fmt)


def kind_label(kind: str) -> str:
    ladder = ladders().get(kind)
    return ladder.label if ladder else kind


def reason_label(kind: str, reason: str) -> str:
    ladder = ladders().get(kind)
    if ladder is None:
        return reason
    return ladder.reasons.get(reason, reason)


def outcome_label(code: str) -> str:
    try:
        return ContactOutcome(code).label
    except ValueError:
        return code


def field_value(name: str, value: str, names: Mapping[str, str], kind: str) -> str:
    """One tracked field's stored value (a string, as the history keeps it) in words."""
    if value == "":
        return "None"
    if name in ("user_id", "team_id", "request_agency_id"):
        return names.get(value, "Someone no longer listed")
    if name == "kind":
        return kind_label(value)
    if name == "reason":
        return reason_label(kind, value)
    if name == "pattern":
        try:
            return PATTERN_LABELS[Pattern(value)]
        except ValueError:
            return value
    if name == "weekdays":
        return day_list(weekdays_from_code(value))
    if name == "at_time":
        return value[:5]
    if name == "working_days_only":
        return "Yes" if value == "True" else "No"
    if name in ("start_date", "end_date"):
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def end_of_london_day(now: datetime) -> datetime:
    """Midnight at the end of today in London (as an aware datetime)."""
    from casework.clock import LONDON

    local = to_london(now)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=LONDON)
