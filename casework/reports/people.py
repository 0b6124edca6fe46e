"""The people behind a figure, as the drill-down page lists them: name and date of birth only,
for the ids ``services.drill_down`` gave, checked once more against the access policy's list
filter (so a person the viewer may not see is never decrypted, only counted)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer, visible_people
from casework.people.models import Person
from casework.people.records import Names, open_details, open_names
from casework.security.vault import Vault


@dataclass(frozen=True)
class PersonLine:
    person_id: uuid.UUID
    names: Names
    date_of_birth: date | None


@dataclass(frozen=True)
class PeopleList:
    people: list[PersonLine]
    #: Ids asked for that the viewer may not see (not listed, not decrypted).
    not_visible: int


def people_lines(
    db: Session, vault: Vault, viewer: Viewer, person_ids: Sequence[uuid.UUID], *, now: datetime
) -> PeopleList:
    """Name and date of birth of each visible person, by family name then given name."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return PeopleList([], 0)
    rows = db.execute(
        select(Person.id, Person.names_enc, Person.details_enc).where(
            Person.id.in_(ids), visible_people(viewer, now=now)
        )
    ).all()
    vault.prefetch([row.id for row in rows])
    lines = [
        PersonLine(
            row.id,
            open_names(vault, row.id, row.names_enc),
            open_details(vault, row.id, row.details_enc).date_of_birth,
        )
        for row in rows
    ]
    lines.sort(key=lambda line: (line.names.sort_key, str(line.person_id)))
    return PeopleList(lines, len(ids) - len(lines))
