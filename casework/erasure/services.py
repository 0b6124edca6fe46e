"""Erasure by crypto-shredding (DECISIONS §5, issue 9), shared by an approved erasure request
and by retention (a confirmed review anonymises the record the same way).

The steps, each safe to run again, so an erasure killed half-way is finished by running it
again (``resume_erasures``):

1. mark the person as being erased (committed first: from here the record is never shown);
2. delete the person's data key from the keystore (every ciphertext of theirs, here and in
   every backup of the main database, becomes unreadable once keystore backups age out);
3. delete their blind-index rows (search can no longer find them);
4. end what is still running about them (involvements, referrals, tasks, reminders, welfare
   checks, emergency accesses, treatment episodes) and anonymise the plaintext attributes;
5. mark the record erased: the row stays as a tombstone id, so the audit log still verifies.

What this achieves, exactly: at once the live system cannot read the person; keystore backups
keep the key until they age out; older main-database backups stay pseudonymous (codes, dates
and blind-index values), not anonymous.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import london_today, utcnow
from casework.consent.models import EmergencyAccess
from casework.db import Database
from casework.family.models import Involvement
from casework.pathways.models import Referral
from casework.people.codes import ClosureReason, ErasureState, HousingStatus, Sex
from casework.people.models import Person, PersonRevision, SearchToken
from casework.security.keystore import Keystore
from casework.tasks.models import Reminder, ReminderState, Task, TaskState
from casework.treatment.models import DischargeReason, TreatmentEpisode
from casework.welfare.records import stop_schedules


class ErasureRefused(Exception):  # noqa: N818 - reads better at call sites
    """An erasure that may not go ahead, with the reason to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Shredded:
    person_id: uuid.UUID
    key_destroyed: bool
    tokens_deleted: int


def shred_person(
    database: Database,
    keystore: Keystore,
    person_id: uuid.UUID,
    *,
    actor: Actor,
    purpose: str,
) -> Shredded:
    """Erase one person record by crypto-shredding (the steps above), in its own short
    transactions. ``purpose`` is a code for the audit row ("erasure_request", "retention").
    Refuses a record already erased or merged into another; resumes one being erased."""
    with database.transaction() as db:
        person = db.get(Person, person_id, with_for_update=True)
        if person is None:
            raise ErasureRefused("There is no such person record")
        if person.erasure_state is ErasureState.ERASED:
            raise ErasureRefused("This record has already been erased")
        if person.merged_into_id is not None:
            raise ErasureRefused("This record was merged into another: erase that one")
        if person.erasure_state is None:
            person.erasure_state = ErasureState.ERASING
            recorder.record(
                db,
                actor,
                "person.erasure_started",
                target_type="person",
                target_id=person_id,
                details={"purpose": purpose},
            )
    # The key first: from here nothing of theirs can be read, whatever else happens.
    destroyed = keystore.destroy(person_id)
    with database.transaction() as db:
        tokens = cast(
            CursorResult[Any],
            db.execute(delete(SearchToken).where(SearchToken.person_id == person_id)),
        )
        _end_everything(db, person_id)
        _anonymise(db, person_id)
        recorder.record(
            db,
            actor,
            "person.erased",
            target_type="person",
            target_id=person_id,
            details={"purpose": purpose, "key_destroyed": "yes" if destroyed else "already"},
        )
    database.checkpoint()
    return Shredded(person_id, destroyed, tokens.rowcount or 0)


def _end_everything(db: Session, person_id: uuid.UUID) -> None:
    """Nothing keeps running about an erased person: no reminder, task or clock."""
    now = utcnow()
    today = london_today()
    db.execute(
        update(Involvement)
        .where(Involvement.person_id == person_id, Involvement.ended_on.is_(None))
        .values(
            ended_on=today,
            closure_reason=ClosureReason.OTHER,
            is_lead=False,
            version=Involvement.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(Referral)
        .where(Referral.person_id == person_id, Referral.closed_at.is_(None))
        .values(closed_at=now, updated_at=now, version=Referral.version + 1)
        .execution_options(synchronize_session=False)
    )
    open_tasks = select(Task.id).where(Task.person_id == person_id, Task.state == TaskState.OPEN)
    db.execute(
        update(Reminder)
        .where(Reminder.task_id.in_(open_tasks), Reminder.state == ReminderState.PENDING)
        .values(state=ReminderState.STOPPED, outcome="person_erased")
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(Task)
        .where(Task.person_id == person_id, Task.state == TaskState.OPEN)
        .values(state=TaskState.CANCELLED, closed_at=now, version=Task.version + 1)
        .execution_options(synchronize_session=False)
    )
    stop_schedules(db, person_id=person_id, reason="person_erased", now=now)
    db.execute(
        update(EmergencyAccess)
        .where(EmergencyAccess.person_id == person_id, EmergencyAccess.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(TreatmentEpisode)
        .where(TreatmentEpisode.person_id == person_id, TreatmentEpisode.ended_on.is_(None))
        .values(ended_on=today, discharge_reason=DischargeReason.OTHER)
        .execution_options(synchronize_session=False)
    )


def _anonymise(db: Session, person_id: uuid.UUID) -> None:
    """The person row keeps its id (the tombstone) and nothing that identifies anyone."""
    db.execute(delete(PersonRevision).where(PersonRevision.person_id == person_id))
    db.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(
            names_enc=b"",
            details_enc=b"",
            sex=Sex.NOT_KNOWN,
            year_of_birth=None,
            postcode_district=None,
            housing_status=HousingStatus.NOT_KNOWN,
            erasure_state=ErasureState.ERASED,
            erased_at=utcnow(),
            version=Person.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
