"""The working-day calendar: weekends, the bank holidays of England and Wales (with the
substitute days when Christmas or Boxing Day falls at a weekend, and one-off days), a
partnership's own closures, and counting forwards and between dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casework.workdays import WorkingDays, working_days

CAL = WorkingDays()


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_weekends_are_not_working_days() -> None:
    monday = d("2024-06-10")
    week = [CAL.is_working_day(monday + timedelta(days=n)) for n in range(7)]
    assert week == [True, True, True, True, True, False, False]


@pytest.mark.parametrize(
    "day",
    [
        "2024-01-01",  # New Year's Day
        "2023-01-02",  # New Year's Day falls on a Sunday: Monday instead
        "2024-03-29",  # Good Friday
        "2024-04-01",  # Easter Monday
        "2024-05-06",  # Early May
        "2020-05-08",  # Early May moved to VE Day's 75th anniversary
        "2024-05-27",  # Spring
        "2024-08-26",  # Summer (England and Wales: the last Monday of August)
        "2024-12-25",
        "2024-12-26",
        "2022-06-03",  # Platinum Jubilee
        "2022-09-19",  # a state funeral
        "2023-05-08",  # a coronation
    ],
)
def test_england_and_wales_bank_holidays(day: str) -> None:
    assert not CAL.is_working_day(d(day))
    assert CAL.bank_holiday(d(day))


def test_christmas_and_boxing_day_at_a_weekend_move_to_the_next_working_days() -> None:
    # 2021: Saturday and Sunday -> Monday 27 and Tuesday 28 December.
    assert [CAL.is_working_day(d(f"2021-12-{n}")) for n in (24, 27, 28, 29)] == [
        True, False, False, True,
    ]  # fmt: skip
    # 2022: Christmas on a Sunday, Boxing Day on the Monday -> the Tuesday too.
    assert not CAL.is_working_day(d("2022-12-26"))
    assert not CAL.is_working_day(d("2022-12-27"))
    assert CAL.is_working_day(d("2022-12-28"))
    # 2027: Saturday and Sunday again.
    assert not CAL.is_working_day(d("2027-12-27"))
    assert not CAL.is_working_day(d("2027-12-28"))


@pytest.mark.parametrize(
    "day",
    [
        "2024-01-02",  # 2 January is a bank holiday in Scotland only
        "2024-08-05",  # Scotland's summer bank holiday (the first Monday)
        "2024-11-29",  # St Andrew's Day (observed in Scotland)
        "2024-03-18",  # St Patrick's Day (observed in Northern Ireland)
    ],
)
def test_other_nations_bank_holidays_are_working_days(day: str) -> None:
    assert CAL.is_working_day(d(day))
    assert CAL.bank_holiday(d(day)) is None


def test_add_counts_working_days_after_the_day() -> None:
    assert CAL.add(d("2024-06-10"), 1) == d("2024-06-11")
    assert CAL.add(d("2024-06-14"), 1) == d("2024-06-17")  # Friday -> Monday
    assert CAL.add(d("2024-06-15"), 1) == d("2024-06-17")  # from a Saturday
    assert CAL.add(d("2024-06-10"), 5) == d("2024-06-17")
    # Christmas 2024: Tuesday 24 December + 1 is Friday 27 (25 and 26 are holidays).
    assert CAL.add(d("2024-12-24"), 1) == d("2024-12-27")
    # Christmas 2021 with its substitute days: Friday 24 + 1 is Wednesday 29.
    assert CAL.add(d("2021-12-24"), 1) == d("2021-12-29")
    # Easter 2024: Thursday 28 March + 1 is Tuesday 2 April.
    assert CAL.add(d("2024-03-28"), 1) == d("2024-04-02")
    # The disputed-test rule: five working days after a sample sent on Friday 20 December 2024.
    assert CAL.add(d("2024-12-20"), 5) == d("2024-12-31")  # 23, 24, 27, 30, 31
    assert CAL.add(d("2024-12-20"), 6) == d("2025-01-02")  # 1 January is a holiday


def test_add_zero_is_the_day_itself_or_the_next_working_day() -> None:
    assert CAL.add(d("2024-06-12"), 0) == d("2024-06-12")
    assert CAL.add(d("2024-06-15"), 0) == d("2024-06-17")
    assert CAL.add(d("2024-12-25"), 0) == d("2024-12-27")


def test_add_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add(d("2024-06-12"), -1)


def test_between_counts_working_days_after_start_up_to_end() -> None:
    assert CAL.between(d("2024-06-10"), d("2024-06-11")) == 1
    assert CAL.between(d("2024-06-10"), d("2024-06-17")) == 5
    assert CAL.between(d("2024-06-14"), d("2024-06-16")) == 0  # only the weekend
    # Friday 20 to Monday 30 December 2024: 23, 24, 27 and 30.
    assert CAL.between(d("2024-12-20"), d("2024-12-30")) == 4
    assert CAL.between(d("2024-06-17"), d("2024-06-10")) == 0
    assert CAL.between(d("2024-06-17"), d("2024-06-17")) == 0


def test_add_and_between_agree() -> None:
    start = d("2024-12-16")
    for count in range(15):
        assert CAL.between(start, CAL.add(start, count)) == count


def test_a_partnership_closure_is_not_a_working_day() -> None:
    closed = d("2024-12-27")
    calendar = WorkingDays(extra_closures=[closed])
    assert not calendar.is_working_day(closed)
    assert calendar.bank_holiday(closed) is None
    assert calendar.add(d("2024-12-24"), 1) == d("2024-12-30")
    assert CAL.is_working_day(closed)


def test_the_process_calendar_is_made_once() -> None:
    assert working_days() is working_days()
