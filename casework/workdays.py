"""The working-day calendar: weekends and the bank holidays of England and Wales.

Pathway clocks count in working days (a disputed drug test: the assessment at least five
working days after the sample is sent; an answer to a referral within so many working days).
Bank holidays come from the ``holidays`` package, which carries the rules and the announced
one-off days in the package itself (no network at run time). A partnership can add its own
closures (``extra_closures``), for example a day the whole partnership shuts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

import holidays


class WorkingDays:
    def __init__(self, extra_closures: Iterable[date] = ()) -> None:
        # England and Wales share their bank holidays; the package lists them under England.
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
        self._closures = frozenset(extra_closures)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._bank_holidays and day not in self._closures

    def bank_holiday(self, day: date) -> str | None:
        name = self._bank_holidays.get(day)
        return str(name) if name else None

    def add(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day`` (``count`` = 0: ``day`` itself when
        it is a working day, else the next working day)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        if count == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        while count:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


@cache
def working_days() -> WorkingDays:
    """The process's calendar (bank holidays are computed per year on first use)."""
    return WorkingDays()
