"""Checks on personal details. Plain functions: each returns a problem to show on the field,
in GOV.UK style, or None. Used by the forms and again by the services (which trust nothing)."""

from __future__ import annotations

import re
from datetime import date

from casework.security.blind_index import normalise_identifier

#: The longest a person can have lived, for an "impossible date of birth" check.
MAX_AGE_YEARS = 120

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})$")
_PNC = re.compile(r"^(\d{2}|\d{4})/?(\d{1,7})([A-Z])$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")
#: Control characters other than tab, newline and carriage return are never meant in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nhs_number_problem(value: str) -> str | None:
    """NHS numbers are 10 digits, the last a modulus 11 check digit."""
    digits = normalise_identifier(value)
    if not digits.isdigit() or len(digits) != 10:
        return "Enter an NHS number with 10 digits, like 943 476 5919"
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return "Enter a valid NHS number: check the digits and try again"
    return None


def format_nhs_number(value: str) -> str:
    digits = normalise_identifier(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else value


def pnc_problem(value: str) -> str | None:
    """A police national computer id: a year, a serial number and a check letter
    (for example 12/3456789A)."""
    if not _PNC.match(value.strip().upper().replace(" ", "")):
        return "Enter a PNC ID like 12/3456789A"
    return None


def normalise_postcode(value: str) -> str | None:
    """'hx1 1aa' -> 'HX1 1AA'; None when it is not a UK postcode."""
    match = _POSTCODE.match(value.strip().upper())
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def postcode_district(postcode: str | None) -> str | None:
    """The outward code ("HX1"), kept in plaintext for reports (DECISIONS §2)."""
    if not postcode:
        return None
    normal = normalise_postcode(postcode)
    return normal.split(" ")[0] if normal else None


def date_of_birth_problem(value: date, today: date) -> str | None:
    if value > today:
        return "Date of birth must be in the past"
    if value.year < today.year - MAX_AGE_YEARS:
        return f"Date of birth must be within the last {MAX_AGE_YEARS} years"
    return None


def phone_problem(value: str) -> str | None:
    if not _PHONE.match(value.strip()):
        return "Enter a phone number, like 07700 900 123"
    return None


def text_problem(value: str, *, max_length: int, what: str) -> str | None:
    """Over-long text and control characters are refused (HTML is kept as typed and always
    escaped when shown)."""
    if len(value) > max_length:
        return f"{what} must be {max_length:,} characters or fewer"
    if _CONTROL.search(value):
        return f"{what} must not contain control characters"
    return None
