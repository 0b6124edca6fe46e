"""One injectable clock. Services take "now" from here so tests can move time without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime]) -> None:
    """Replace the clock (tests only)."""
    global _source
    _source = source


def reset() -> None:
    set_source(lambda: datetime.now(UTC))


def to_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def london_today() -> date:
    """Today's date in Europe/London (dates of birth, involvements and consent are local)."""
    return to_london(utcnow()).date()


def london_datetime(day: date, at: time) -> datetime:
    """A Europe/London wall-clock time on ``day``, as UTC."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)
