"""Reads the custody booking journey needs: the treatment providers a booking may go to, and
whether a journey has booked already."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.agencies.models import Agency, AgencyKind
from casework.pathways.models import Referral
from casework.people.models import Person
from casework.people.records import open_details
from casework.security.vault import Vault


@dataclass(frozen=True)
class Provider:
    id: uuid.UUID
    name: str


def receiving_agencies(db: Session, kinds: Iterable[AgencyKind]) -> list[Provider]:
    """Active agencies of the pathway's receiving kinds (treatment providers), by name."""
    rows = db.execute(
        select(Agency.id, Agency.name)
        .where(Agency.active.is_(True), Agency.kind.in_(list(kinds)))
        .order_by(func.lower(Agency.name), Agency.id)
    ).all()
    return [Provider(row.id, row.name) for row in rows]


def booked_by_journey(db: Session, viewer: Viewer, token: uuid.UUID) -> uuid.UUID | None:
    """The referral this user's journey made, if it has made one (its id is the token)."""
    return db.scalar(
        select(Referral.id).where(
            Referral.id == token,
            Referral.created_by_id == viewer.user_id,
        )
    )


def date_of_birth(db: Session, vault: Vault, person_id: uuid.UUID) -> date | None:
    """A person's date of birth, for a notice the viewer may read (the caller checked)."""
    blob = db.scalar(select(Person.details_enc).where(Person.id == person_id))
    if blob is None:
        return None
    return open_details(vault, person_id, blob).date_of_birth
