"""Starting referrals and moving them along their pathway. Services flush; the caller's
transaction commits.

Every transition is checked by the engine (:mod:`casework.pathways.rules`) before anything is
written, then written in one go: the referral's new stage (a conditional update on its version
and stage, so two people recording at once cannot both succeed), the event with its encrypted
text, the person's timeline entry, the audit row, the tasks the new stage's clock starts (and
the old stage's closed), and the transition's effects (an alert, a task, a message to the
referrer).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.access.policy import (
    Viewer,
    covered_for,
    person_access,
)
from casework.agencies.models import Agency, AgencyKind
from casework.audit import recorder
from casework.audit.recorder import Actor
from casework.clock import to_london, utcnow
from casework.consent.rules import SharingRules
from casework.consent.services import record_pathway_basis
from casework.db import StaleVersion
from casework.family.services import join_for_referral
from casework.notifications.services import notify
from casework.pathways.definitions import PathwayDef, Side, StageDef, TransitionDef
from casework.pathways.models import Referral, ReferralEvent
from casework.pathways.queries import may_read_referral
from casework.pathways.rules import (
    TransitionInvalid,
    TransitionRefused,
    Values,
    acting_on,
    age_on,
    check_move,
    check_timing,
    due_of,
    effects_of,
    new_reference,
    parse_values,
    task_due,
)
from casework.people.codes import FamilyRole, TimelineKind
from casework.people.models import Person, PersonAlert
from casework.people.records import open_details
from casework.people.services import NotAllowed, PersonError, add_timeline
from casework.security.vault import Vault
from casework.tasks.models import TaskSource, TaskState
from casework.tasks.services import add_task, close_source_tasks
from casework.users.models import User
from casework.workdays import WorkingDays, working_days

EVENTS = "referral_events"
__all__ = [
    "Outcome",
    "TransitionInvalid",
    "TransitionRefused",
    "make_transition",
    "start_referral",
]

#: The family role an agency takes when it joins by making a referral.
_JOINING_ROLE: dict[AgencyKind, FamilyRole] = {
    AgencyKind.POLICE: FamilyRole.POLICE_CONTACT,
    AgencyKind.PROBATION: FamilyRole.PROBATION_OFFICER,
    AgencyKind.PRISON: FamilyRole.PROBATION_OFFICER,
    AgencyKind.HEALTH: FamilyRole.NURSE,
    AgencyKind.HOUSING: FamilyRole.HOUSING_OFFICER,
    AgencyKind.DOMESTIC_ABUSE: FamilyRole.IDVA,
    AgencyKind.SOCIAL_CARE: FamilyRole.SOCIAL_WORKER,
    AgencyKind.TREATMENT: FamilyRole.KEY_WORKER,
}


@dataclass(frozen=True)
class Outcome:
    referral_id: uuid.UUID
    reference: str
    stage: str
    version: int
    #: Prompts for the user after the transition ("Refer to MARAC and an IDVA").
    prompts: tuple[str, ...] = ()
    #: Whom the referral is about (callers audit what they show of it).
    person_id: uuid.UUID | None = None


# --- starting -------------------------------------------------------------------------------


def _receiving_agency(
    db: Session, pathway: PathwayDef, viewer: Viewer, agency_id: object
) -> Agency:
    agency = db.get(Agency, agency_id) if isinstance(agency_id, uuid.UUID) else None
    if agency is None or not agency.active or agency.kind not in pathway.receiving_kinds:
        kinds = " or ".join(kind.label.lower() for kind in pathway.receiving_kinds)
        raise PersonError("to_agency", f"Select the {kinds} agency to refer to")
    if agency.id == viewer.agency_id:
        raise PersonError("to_agency", "Select another agency: this one is your own")
    return agency


def _check_person(
    db: Session, vault: Vault, pathway: PathwayDef, person_id: uuid.UUID, today: Any
) -> Person:
    person = db.get(Person, person_id)
    if person is None:
        raise LookupError(str(person_id))
    if person.died_on is not None:
        raise PersonError("person", "This person's death has been recorded: no referral can start")
    if pathway.minimum_age is not None:
        born = open_details(vault, person.id, person.details_enc).date_of_birth
        if born is None:
            raise PersonError(
                "date_of_birth",
                f"Enter the person's date of birth: {pathway.name.lower()} is only for people "
                f"aged {pathway.minimum_age} or over",
            )
        if age_on(born, today) < pathway.minimum_age:
            raise PersonError(
                "date_of_birth",
                f"The person is under {pathway.minimum_age}: {pathway.name.lower()} is only "
                f"for people aged {pathway.minimum_age} or over",
            )
    return person


def _check_sharing(
    db: Session, pathway: PathwayDef, person_id: uuid.UUID, agency: Agency, stage: StageDef
) -> None:
    """Rule 7 of the issue: without a basis the pathway itself provides, a referral shares
    only what consent or another basis in force already covers for the receiving agency."""
    if any(basis.to is Side.RECEIVING for basis in pathway.bases):
        return
    covered = covered_for(db, person_id, agency_id=agency.id, agency_kind=agency.kind)
    if stage.category not in covered:
        raise PersonError(
            "to_agency",
            f"Sharing {stage.category.label.lower()} information with {agency.name} is not "
            "covered by consent or another lawful basis: record one first",
        )


def start_referral(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    *,
    person_id: uuid.UUID,
    pathway: PathwayDef,
    transition: str,
    to_agency_id: object,
    values: Mapping[str, object],
    rules: SharingRules,
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
    referral_id: uuid.UUID | None = None,
) -> Outcome:
    """Start a referral with one of the pathway's starting transitions.

    ``referral_id`` may be chosen by the caller (a booking journey's token): a second attempt
    with the same id then fails on the primary key instead of starting a second referral.

    The person must be visible to the viewer, or the viewer's agency is joining their family by
    making this referral (a custody booking for someone another agency knows: the duplicate
    check found them). Raises ``PersonError`` (one field), :class:`TransitionInvalid` (the
    transition's fields), ``NotAllowed`` (403) or ``LookupError`` (404)."""
    now = now or utcnow()
    workdays = workdays or working_days()
    today = to_london(now).date()
    step = pathway.transitions.get(transition)
    if step is None or not step.starts:
        raise TransitionRefused("That is not how this pathway starts")
    if viewer.agency_kind not in pathway.referring_kinds or not viewer.roles & set(step.roles):
        raise NotAllowed(f"start {pathway.key}")
    _check_person(db, vault, pathway, person_id, today)
    agency = _receiving_agency(db, pathway, viewer, to_agency_id)
    stage = pathway.stages[step.to]
    checked = parse_values(step, values, known={}, now=now, workdays=workdays)
    _check_sharing(db, pathway, person_id, agency, stage)

    referral_id = referral_id or uuid.uuid4()
    referral = Referral(
        id=referral_id,
        person_id=person_id,
        pathway=pathway.key,
        stage=step.to,
        stage_category=stage.category,
        category=stage.category,
        reference=_unique_reference(db, pathway, today.year),
        from_agency_id=viewer.agency_id,
        to_agency_id=agency.id,
        created_by_id=viewer.user_id,
        created_at=now,
        updated_at=now,
        closed_at=now if stage.terminal else None,
        data=dict(checked.plain),
    )
    db.add(referral)
    db.flush()
    access = person_access(db, viewer, person_id, now=now)
    if access is None or not access.involved:
        join_for_referral(
            db,
            viewer=viewer,
            person_id=person_id,
            role=_JOINING_ROLE.get(viewer.agency_kind, FamilyRole.SUPPORT_WORKER),
        )
    for basis in pathway.bases:
        record_pathway_basis(
            db,
            vault,
            actor,
            viewer,
            person_id,
            agency_id=agency.id if basis.to is Side.RECEIVING else viewer.agency_id,
            categories=frozenset(basis.categories),
            statement=basis.statement,
            rules=rules,
            referral_id=referral_id,
        )
    move = _Move(db, vault, actor, viewer, referral, pathway, transition, step, None, checked, now)
    _record(move)
    prompts = _after(move, workdays)
    return Outcome(
        referral_id, referral.reference, referral.stage, referral.version, prompts, person_id
    )


def _unique_reference(db: Session, pathway: PathwayDef, year: int) -> str:
    for _ in range(8):
        reference = new_reference(pathway.reference_prefix, year)
        if db.scalar(select(Referral.id).where(Referral.reference == reference)) is None:
            return reference
    raise RuntimeError("could not make a unique reference")  # 32^6 codes a year: not reached


# --- moving ---------------------------------------------------------------------------------


def make_transition(
    db: Session,
    vault: Vault,
    actor: Actor,
    viewer: Viewer,
    *,
    referral_id: uuid.UUID,
    transition: str,
    values: Mapping[str, object],
    expected_version: int | None,
    pathways: Mapping[str, PathwayDef],
    workdays: WorkingDays | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Record a transition. Raises ``LookupError`` for a referral the viewer may not see (404),
    :class:`TransitionRefused` when the referral is not where the transition starts (409),
    ``NotAllowed`` for a transition this user may not make (403), :class:`TransitionInvalid`
    for what was given (422), and ``StaleVersion`` when someone else moved it first (409)."""
    now = now or utcnow()
    workdays = workdays or working_days()
    referral = db.get(Referral, referral_id, with_for_update=True)
    if referral is None:
        raise LookupError(str(referral_id))
    access = person_access(db, viewer, referral.person_id, now=now)
    pathway = pathways.get(referral.pathway)
    # The same rule as the lists (``readable_referrals``): 404 for one the viewer may not read.
    if pathway is None or access is None or not may_read_referral(viewer, access, referral):
        raise LookupError(str(referral_id))
    if referral.closed_at is not None:
        raise TransitionRefused("This referral has ended: nothing more can be recorded on it")
    if expected_version is not None and referral.version != expected_version:
        raise StaleVersion
    try:
        step = check_move(
            pathway, referral.stage, transition, acting_on(viewer.agency_id, viewer.roles, referral)
        )
    except PermissionError as exc:
        raise NotAllowed(transition) from exc
    check_timing(step, referral.data, now)
    checked = parse_values(step, values, known=referral.data, now=now, workdays=workdays)
    before, version = referral.stage, referral.version
    stage = pathway.stages[step.to]
    data = {**referral.data, **checked.plain}
    moved = db.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.version == version,
            Referral.stage == before,
            Referral.closed_at.is_(None),
        )
        .values(
            stage=step.to,
            stage_category=stage.category,
            data=data,
            updated_at=now,
            closed_at=now if stage.terminal else None,
            version=version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion
    db.expire(referral)
    move = _Move(
        db, vault, actor, viewer, referral, pathway, transition, step, before, checked, now
    )
    _record(move)
    if step.joins_family:
        # The user who took the person on is their named worker until the agency says otherwise
        # (so the person is on someone's caseload from the start).
        join_for_referral(
            db,
            viewer=viewer,
            person_id=referral.person_id,
            role=_JOINING_ROLE.get(viewer.agency_kind, FamilyRole.SUPPORT_WORKER),
            worker_id=viewer.user_id,
        )
    close_source_tasks(
        db,
        source_id=referral.id,
        source_key=f"stage:{before}",
        state=TaskState.DONE,
        closed_by_id=viewer.user_id,
    )
    for source_key in _effect_tasks_done_at(pathway, step.to):
        close_source_tasks(
            db,
            source_id=referral.id,
            source_key=source_key,
            state=TaskState.DONE,
            closed_by_id=viewer.user_id,
        )
    if stage.terminal:
        close_source_tasks(
            db,
            source_id=referral.id,
            source_key=None,
            state=TaskState.CANCELLED,
            closed_by_id=viewer.user_id,
        )
    prompts = _after(move, workdays)
    return Outcome(
        referral.id, referral.reference, step.to, version + 1, prompts, referral.person_id
    )


def _effect_source_key(step: TransitionDef, number: int) -> str:
    return f"effect:{step.to}:{number}"


def _effect_tasks_done_at(pathway: PathwayDef, stage: str) -> list[str]:
    """The source keys of the effect tasks that reaching ``stage`` completes."""
    return [
        _effect_source_key(transition, number)
        for transition in pathway.transitions.values()
        for number, effect in enumerate(transition.effects)
        if effect.task and stage in effect.done_at
    ]


# --- what every transition writes -------------------------------------------------------------


@dataclass(frozen=True)
class _Move:
    """One transition being written: who, on what, from where, with what."""

    db: Session
    vault: Vault
    actor: Actor
    viewer: Viewer
    referral: Referral
    pathway: PathwayDef
    key: str
    step: TransitionDef
    before: str | None
    checked: Values
    now: datetime


def _record(move: _Move) -> uuid.UUID:
    db, vault, actor, viewer = move.db, move.vault, move.actor, move.viewer
    referral, pathway, key, step = move.referral, move.pathway, move.key, move.step
    before, checked, now = move.before, move.checked, move.now
    stage = pathway.stages[step.to]
    event_id = uuid.uuid4()
    person_id = referral.person_id
    db.add(
        ReferralEvent(
            id=event_id,
            referral_id=referral.id,
            person_id=person_id,
            transition=key,
            from_stage=before,
            to_stage=step.to,
            category=stage.category,
            agency_id=viewer.agency_id,
            actor_id=viewer.user_id,
            occurred_at=now,
            notice=step.notice,
            data=dict(checked.plain),
            text_enc=(
                vault.seal(
                    person_id,
                    EVENTS,
                    "text_enc",
                    event_id,
                    json.dumps(checked.texts, sort_keys=True),
                )
                if checked.texts
                else None
            ),
        )
    )
    db.flush()
    details = {
        "referral_id": str(referral.id),
        "pathway": pathway.key,
        "transition": key,
        "stage": step.to,
    }
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.REFERRAL,
        category=stage.category,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details=details,
    )
    recorder.record(
        db,
        actor,
        "referral.started" if before is None else "referral.moved",
        target_type="person",
        target_id=person_id,
        categories=[stage.category],
        details={**details, "from_stage": before or "", "event_id": str(event_id)},
    )
    return event_id


def _side_agency(referral: Referral, side: Side) -> uuid.UUID:
    return referral.to_agency_id if side is Side.RECEIVING else referral.from_agency_id


def _after(move: _Move, workdays: WorkingDays) -> tuple[str, ...]:
    """The new stage's clock and the transition's effects."""
    db, actor, viewer, referral = move.db, move.actor, move.viewer, move.referral
    pathway, step, before, checked, now = (
        move.pathway,
        move.step,
        move.before,
        move.checked,
        move.now,
    )
    stage = pathway.stages[step.to]
    data = {**referral.data, **checked.plain}
    details = {"referral_id": str(referral.id), "reference": referral.reference}
    if before == step.to:
        # Changing an appointment restarts the stage's clock.
        close_source_tasks(
            db,
            source_id=referral.id,
            source_key=f"stage:{step.to}",
            state=TaskState.CANCELLED,
            closed_by_id=viewer.user_id,
        )
    if stage.clock is not None and not stage.terminal:
        due = due_of(stage.clock, data, entered_at=now, workdays=workdays)
        if due is not None:
            add_task(
                db,
                title=stage.clock.task,
                source=TaskSource.PATHWAY,
                source_id=referral.id,
                source_key=f"stage:{step.to}",
                agency_id=_side_agency(referral, stage.clock.side),
                category=stage.category,
                person_id=referral.person_id,
                due_at=due.due_at,
                at_risk_at=due.at_risk_at,
                created_by_id=viewer.user_id,
                details=details,
            )
    prompts: list[str] = []
    for number, effect in enumerate(effects_of(step, checked.plain)):
        if effect.task:
            add_task(
                db,
                title=effect.task,
                source=TaskSource.PATHWAY,
                source_id=referral.id,
                source_key=_effect_source_key(step, number),
                agency_id=_side_agency(referral, effect.side),
                category=stage.category,
                person_id=referral.person_id,
                due_at=task_due(effect.due_days, now=now),
                created_by_id=viewer.user_id,
                details=details,
            )
        if effect.alert:
            _raise_alert(
                db, actor, viewer, person_id=referral.person_id, alert=effect.alert, now=now
            )
        if effect.notify_referrer:
            _tell_referrer(db, referral, pathway, stage, _reasons(step, checked.plain))
        if effect.prompt:
            prompts.append(effect.prompt)
    return tuple(prompts)


def _raise_alert(
    db: Session, actor: Actor, viewer: Viewer, *, person_id: uuid.UUID, alert: str, now: datetime
) -> None:
    """An alert from a pathway (a DASH score of 14 or more): raised once, however often the
    score is recorded, by the agency that recorded it."""
    from casework.people.codes import information

    kind = information().alerts[alert]
    shown = db.scalar(
        select(PersonAlert.id).where(
            PersonAlert.person_id == person_id,
            PersonAlert.alert_type == alert,
            PersonAlert.ended_at.is_(None),
        )
    )
    if shown is not None:
        return
    db.add(
        PersonAlert(
            id=uuid.uuid4(),
            person_id=person_id,
            alert_type=alert,
            category=kind.category,
            agency_id=viewer.agency_id,
            raised_by_id=viewer.user_id,
            raised_at=now,
            detail_enc=None,
        )
    )
    db.flush()
    add_timeline(
        db,
        person_id=person_id,
        kind=TimelineKind.ALERT_RAISED,
        category=kind.category,
        agency_id=viewer.agency_id,
        actor_id=viewer.user_id,
        occurred_at=now,
        details={"alert_type": alert},
    )
    recorder.record(
        db,
        actor,
        "alert.raised",
        target_type="person",
        target_id=person_id,
        categories=[kind.category],
        details={"alert_type": alert, "by": "pathway"},
    )


def _reasons(step: TransitionDef, plain: Mapping[str, Any]) -> str:
    """The labels of the choices a transition recorded (codes from the configuration, never
    free text or a person's details): "No capacity now"."""
    labels = [
        spec.choices[str(plain[spec.name])]
        for spec in step.fields
        if spec.choices and str(plain.get(spec.name)) in spec.choices
    ]
    return "; ".join(labels)


def _tell_referrer(
    db: Session, referral: Referral, pathway: PathwayDef, stage: StageDef, reasons: str
) -> None:
    """The person who made the referral is told at once (declines must never vanish), with the
    reason chosen; the referral's page (access-checked) says who and the rest."""
    referrer = db.get(User, referral.created_by_id)
    recipients = [referrer.id] if referrer is not None and referrer.active else []
    said = f"{pathway.name} {referral.reference}: {stage.label.lower()}"
    notify(
        db,
        user_ids=recipients,
        kind="referral.answered",
        subject=f"{said} ({reasons})" if reasons else said,
        link=f"/referrals/{referral.id}",
        person_id=referral.person_id,
    )
