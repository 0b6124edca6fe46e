"""Information-rights requests: logging one, and the rules every kind shares (issue 9).

Logging a request is information governance's first step: it names the person, the date the
request was received and how the requester's identity was checked, and makes a task due one
calendar month later (UK GDPR Art 12(3)). The user who logs it handles it, so DECISIONS §3
rule 4 lets them read the person's items while it is open.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, time

from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import Viewer
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import london_datetime, london_today
from casework.people.models import Person
from casework.rights.models import InformationRequest, RequestKind, RequestState
from casework.security.vault import Vault
from casework.tasks.models import TaskSource
from casework.tasks.services import add_task

TASK_TITLES = {
    RequestKind.ACCESS: "Answer a subject access request",
    RequestKind.RECTIFICATION: "Answer a request to correct a record",
    RequestKind.RESTRICTION: "Answer a request to restrict processing",
    RequestKind.ERASURE: "Answer a request for erasure",
}


class RequestError(Exception):
    """Bad input for a request, naming the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotGovernance(PermissionError):  # noqa: N818 - reads better at call sites
    """Only information governance logs and handles information-rights requests."""


def one_month_after(day: date) -> date:
    """The same day of the next month, or its last day when it has fewer days (ICO guidance:
    a request received on 31 January is due on 28 or 29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def log_request(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    *,
    person_id: uuid.UUID,
    kind: RequestKind,
    received_on: date,
    identity_check: str,
    details: str = "",
) -> InformationRequest:
    """Log a request and its due-date task, audited, in the caller's transaction."""
    if not viewer.governance:
        raise NotGovernance("information-rights requests")
    person = db.get(Person, person_id)
    if person is None or not person.live:
        raise RequestError("person", "There is no such person record")
    if received_on > london_today():
        raise RequestError("received_on", "Date received must be today or in the past")
    if not identity_check:
        raise RequestError("identity_check", "Say how the requester's identity was checked")
    request = InformationRequest(
        id=uuid.uuid4(),
        person_id=person_id,
        kind=kind,
        state=RequestState.OPEN,
        received_on=received_on,
        due_on=one_month_after(received_on),
        identity_check=identity_check,
        logged_by_id=viewer.user_id,
        logged_by_agency_id=viewer.agency_id,
        handler_id=viewer.user_id,
    )
    if details.strip():
        request.details_enc = vault.seal(
            person_id, "information_requests", "details_enc", request.id, details.strip()
        )
    db.add(request)
    db.flush()
    request.task_id = add_task(
        db,
        title=TASK_TITLES[kind],
        source=TaskSource.INFORMATION_REQUEST,
        source_id=request.id,
        agency_id=viewer.agency_id,
        user_id=viewer.user_id,
        person_id=person_id,
        category=Category.IDENTITY,
        due_at=london_datetime(request.due_on, time(17, 0)),
        created_by_id=viewer.user_id,
        details={"kind": kind.value},
    )
    recorder.record(
        db,
        actor,
        "rights.request_logged",
        target_type="information_request",
        target_id=request.id,
        people=[person_id],
        details={"kind": kind.value, "identity_check": identity_check},
    )
    return request
