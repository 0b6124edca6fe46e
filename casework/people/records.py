"""Plain records of a person's details, and their encrypted form.

The services and queries move these between forms, the database and templates. Encryption and
decryption happen here and only here for the ``people`` table, so the JSON layout of the two
encrypted columns is defined once.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from casework.people.codes import HousingStatus, Sex
from casework.people.models import Person
from casework.people.validation import format_nhs_number
from casework.security.vault import Vault

TABLE = "people"


@dataclass(frozen=True)
class Names:
    given: str
    family: str
    known_as: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}".strip()

    @property
    def display(self) -> str:
        """How lists show a person: "Family, Given (known as ...)"."""
        shown = f"{self.family}, {self.given}" if self.family else self.given
        return f"{shown} ({self.known_as})" if self.known_as else shown

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.family.casefold(), self.given.casefold())


@dataclass(frozen=True)
class Details:
    date_of_birth: date | None = None
    nhs_number: str = ""
    pnc_id: str = ""
    local_id: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number) if self.nhs_number else ""


@dataclass(frozen=True)
class PersonFields:
    """Everything the person form edits: names, details and the plaintext codes."""

    names: Names
    details: Details
    sex: Sex
    housing_status: HousingStatus = HousingStatus.NOT_KNOWN
    extra: dict[str, Any] = field(default_factory=dict)

    def flat(self) -> dict[str, str]:
        """Field name -> shown value, for "what changed" comparisons."""
        out: dict[str, str] = {
            "given_name": self.names.given,
            "family_name": self.names.family,
            "known_as": self.names.known_as,
            "aliases": "\n".join(self.names.aliases),
            "sex": self.sex.label,
            "housing_status": self.housing_status.label,
        }
        for key, value in asdict(self.details).items():
            out[key] = value.strftime("%-d %B %Y") if isinstance(value, date) else str(value or "")
        return out


def seal_names(
    vault: Vault, person_id: uuid.UUID, names: Names, *, table: str = TABLE, row_id: object = None
) -> bytes:
    return vault.seal_json(
        person_id,
        table,
        "names_enc",
        row_id or person_id,
        {"g": names.given, "f": names.family, "k": names.known_as, "a": list(names.aliases)},
    )


def open_names(
    vault: Vault, person_id: uuid.UUID, blob: bytes, *, table: str = TABLE, row_id: object = None
) -> Names:
    raw = vault.open_json(person_id, table, "names_enc", row_id or person_id, blob)
    return Names(raw["g"], raw["f"], raw.get("k", ""), tuple(raw.get("a", ())))


def seal_details(
    vault: Vault,
    person_id: uuid.UUID,
    details: Details,
    *,
    table: str = TABLE,
    row_id: object = None,
) -> bytes:
    data = asdict(details)
    data["date_of_birth"] = details.date_of_birth.isoformat() if details.date_of_birth else None
    return vault.seal_json(person_id, table, "details_enc", row_id or person_id, data)


def open_details(
    vault: Vault, person_id: uuid.UUID, blob: bytes, *, table: str = TABLE, row_id: object = None
) -> Details:
    raw = dict(vault.open_json(person_id, table, "details_enc", row_id or person_id, blob))
    dob = raw.pop("date_of_birth", None)
    return Details(date_of_birth=date.fromisoformat(dob) if dob else None, **raw)


def read_fields(vault: Vault, person: Person | Any) -> PersonFields:
    """Decrypt a person row (the ORM object, or a Core row with the same columns)."""
    return PersonFields(
        names=open_names(vault, person.id, person.names_enc),
        details=open_details(vault, person.id, person.details_enc),
        sex=person.sex,
        housing_status=person.housing_status,
    )
