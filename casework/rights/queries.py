"""Reading information-rights requests."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.rights.models import InformationRequest, RequestState


def open_requests(db: Session, person_id: uuid.UUID) -> list[InformationRequest]:
    return list(
        db.scalars(
            select(InformationRequest)
            .where(
                InformationRequest.person_id == person_id,
                InformationRequest.state == RequestState.OPEN,
            )
            .order_by(InformationRequest.received_on)
        )
    )
