"""Rectification (UK GDPR Art 16, issue 9): a correction of one field of one record, with its
reason, keeping the old value (encrypted) in the history that information governance reads.

The record itself is corrected through its own service (identity via a new person revision,
a note via its revision history); this row says who corrected what, why, and which agencies
were told because they had been shown the old value.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, IdMixin, _now
from casework.people.models import Person
from casework.rights.models import InformationRequest

_REFERENCED = (Person, InformationRequest)


class Rectification(IdMixin, Base):
    __tablename__ = "rectifications"
    __table_args__ = (Index(None, "person_id", "made_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    #: The request it answers, when there was one (a correction may also come from IG review).
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("information_requests.id"))
    #: The corrected record: its table, id and field (codes, never values).
    item_table: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(40))
    #: Encrypted under the person's key: the value before, and the reason.
    old_value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    made_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(default=_now)
    #: How many agencies were told in-app (they had been shown the old value).
    agencies_told: Mapped[int] = mapped_column(default=0)
