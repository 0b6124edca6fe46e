"""Referrals and treatment episodes for the large demo set (:mod:`casework.demo.large`).

Rows are built as plain dicts for Core bulk inserts, in exactly the stored format of the
services (:mod:`casework.pathways.services`, :mod:`casework.pathways.rules`):

* a referral's ``data`` holds the merged plaintext values of every transition so far (choice
  codes, integers, booleans, ISO dates, ``YYYY-MM-DDTHH:MM`` London wall-clock times); each
  event's ``data`` holds what that transition recorded; required free text is sealed as one
  JSON object (``sort_keys``) under the person's key, bound to the event's row (table
  ``referral_events``, column ``text_enc``), as the services do; optional free text is left out;
* one event and one timeline entry (kind ``referral``, the new stage's category, the acting
  agency) per transition; the referral's stage, stage category, version, ``updated_at`` and
  ``closed_at`` follow its last event;
* an open referral whose stage has a clock has the open task the clock makes (due as
  :func:`casework.pathways.rules.due_of` says), with its ladder's reminders still to come.

Each referral walks its pathway's transitions from the starting one, choosing the next with
weights that make the main path the most common and drop off into the branch stages at each
step; a transition that would fall after now leaves the referral open where it is. Referrals
are made by an agency of the person's professional family (the referring agency is already
involved), to the family's agency of the receiving kind where there is one.

Treatment episodes: one per involvement with a treatment agency (started with it, ended with
it), a fifth with an earlier ended episode at the same agency (started up to three years ago).

Left out, to keep the set simple: the legal-obligation sharing bases a required assessment
records, family joins from ``joins_family`` transitions (the receiving agency sees the person
through the referral while it is open, or is already in the family), the tasks of stages
already left and of transition effects (DASH 14+), alerts raised by effects, notifications to
the referrer, reminders already past (a live system would have sent them) and per-event audit
rows. Deaths from treatment episodes come only from people whose death is recorded.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import LONDON, to_london
from casework.pathways.definitions import FieldDef, FieldKind, PathwayDef, Side, TransitionDef
from casework.pathways.rules import REFERENCE_ALPHABET, REFERENCE_LENGTH, due_of
from casework.people.codes import ClosureReason, TimelineKind
from casework.security.vault import Vault
from casework.tasks.definitions import LadderDef
from casework.tasks.models import ReminderState, TaskSource, TaskState
from casework.treatment.models import DischargeReason, Modality, SubstanceGroup
from casework.workdays import WorkingDays

EVENTS = "referral_events"

#: Per pathway: the chance that a person whose family has a referring agency of the pathway
#: gets a referral on it, and the chance of a second one.
PATHWAY_CHANCE: dict[str, tuple[float, float]] = {
    "required_assessment": (0.55, 0.2),
    "hospital": (0.17, 0.08),
    "prison_release": (0.14, 0.05),
    "domestic_abuse": (0.035, 0.05),
    "general": (0.04, 0.1),
    "welfare_request": (0.004, 0.0),
}

#: The weights of the transitions leaving a stage ("" stays where it is: the referral is
#: still open, waiting). Stages not named here choose evenly among what leaves them.
WALK: dict[str, dict[str, dict[str, float]]] = {
    "required_assessment": {
        "booked": {"attend": 62, "fail_to_attend": 25, "rebook": 8, "cancel": 5},
        "failed_to_attend": {"rebook": 35, "": 65},
        "attended": {"follow_up_not_needed": 55, "require_follow_up": 45},
        "follow_up_booked": {
            "attend_follow_up": 70,
            "fail_follow_up": 20,
            "follow_up_not_needed": 10,
        },
        "follow_up_done": {"suitable": 55, "not_suitable": 45},
        "follow_up_not_required": {"suitable": 50, "not_suitable": 50},
        "suitable": {"attend_group": 80, "leave_early": 20},
        "group_attended": {"take_up_service": 75, "leave_early": 25},
        "service_taken_up": {"complete": 60, "leave_early": 40},
    },
    "general": {
        "waiting": {"accept": 65, "decline": 22, "withdraw": 8, "": 5},
        "accepted": {"complete": 80, "withdraw": 8, "": 12},
    },
    "hospital": {
        "referred": {"see_on_ward": 70, "not_seen": 25, "withdraw": 5},
        "seen_on_ward": {"discharge": 78, "discharge_to_detox": 17, "": 5},
        "discharged": {"engage": 45, "not_engage": 55},
        "detox_house": {"engage": 65, "not_engage": 35},
    },
    "domestic_abuse": {
        "referred": {
            "allocate_idva": 55,
            "support": 20,
            "refer_to_marac": 8,
            "not_engage": 12,
            "withdraw": 5,
        },
        "supported": {"allocate_idva": 20, "reassess": 10, "close": 45, "not_engage": 25},
        "idva_allocated": {"refer_to_marac": 45, "close": 40, "not_engage": 15},
        "marac_referred": {"heard_at_marac": 92, "not_engage": 8},
        "heard_at_marac": {"close": 85, "not_engage": 15},
    },
    "prison_release": {
        "awaiting_pickup": {
            "book_appointment": 45,
            "pick_up": 25,
            "not_pick_up": 22,
            "withdraw": 8,
        },
        "appointment_booked": {"pick_up": 68, "not_pick_up": 28, "book_appointment": 4},
    },
    "welfare_request": {"requested": {"visited": 80, "not_found": 15, "withdraw": 5}},
}

#: Days from entering a stage to each transition (uniform between the two); the default is
#: 1 to 14. A transition with ``not_before`` is also never before that moment.
GAP: dict[str, tuple[int, int]] = {
    "attend": (0, 0),
    "fail_to_attend": (0, 0),
    "attend_follow_up": (0, 0),
    "fail_follow_up": (0, 0),
    "follow_up_not_needed": (0, 1),
    "require_follow_up": (0, 1),
    "suitable": (0, 7),
    "not_suitable": (0, 7),
    "attend_group": (3, 14),
    "take_up_service": (1, 14),
    "complete": (80, 100),
    "leave_early": (7, 70),
    "cancel": (0, 3),
    "rebook": (1, 7),
    "accept": (1, 10),
    "decline": (1, 10),
    "withdraw": (1, 20),
    "see_on_ward": (0, 2),
    "not_seen": (1, 4),
    "discharge": (1, 10),
    "discharge_to_detox": (1, 10),
    "engage": (2, 21),
    "not_engage": (5, 35),
    "allocate_idva": (1, 5),
    "support": (1, 3),
    "reassess": (14, 45),
    "refer_to_marac": (1, 14),
    "heard_at_marac": (0, 0),
    "close": (30, 120),
    "book_appointment": (1, 20),
    "pick_up": (0, 3),
    "not_pick_up": (14, 35),
    "visited": (0, 0),
    "not_found": (0, 1),
}
_COMPLETE_GENERAL = (20, 150)
#: Transitions that happen on or after a date recorded earlier (when it was recorded): a
#: MARAC hears the case on its date; a pick-up is at the first appointment, after release.
ANCHORS: dict[str, tuple[str, ...]] = {
    "heard_at_marac": ("marac_on",),
    "pick_up": ("release_date", "first_appointment_at"),
    "not_pick_up": ("release_date", "first_appointment_at"),
}

#: Weighted choices for fields where the codes are not equally likely.
CHOICE_WEIGHTS: dict[str, dict[str, float]] = {
    "test_result": {"cocaine": 45, "opiates": 20, "both": 35},
    "need": {
        "alcohol": 55,
        "opiates": 12,
        "crack": 6,
        "cocaine": 6,
        "opiates_and_crack": 15,
        "other": 6,
    },
    "treatment_need": {
        "opiates": 25,
        "crack": 10,
        "opiates_and_crack": 35,
        "cocaine": 8,
        "alcohol": 17,
        "other": 5,
    },
    "trigger_offence": {
        "theft": 45,
        "robbery": 5,
        "burglary": 10,
        "vehicle_crime": 3,
        "fraud": 4,
        "handling": 5,
        "begging": 3,
        "drugs_possession": 15,
        "drugs_supply": 5,
        "other": 5,
    },
}
#: The chance that a yes/no field is "yes".
YES: dict[str, float] = {
    "disputed": 0.06,
    "on_prescription": 0.6,
    "safe_to_phone": 0.7,
    "wants_detox_house": 0.25,
}
#: Required free text (sealed as the services seal it).
TEXTS: dict[str, tuple[str, ...]] = {
    "custody_suite": ("Northdale Central custody suite", "Eastfield custody suite"),
    "place": (
        "Northdale Recovery Service, 14 Market Street, Northdale",
        "Northdale Recovery Service, Eastfield Hub, 2 Station Road, Eastfield",
    ),
    "contact_attempts": (
        "Waited 30 minutes past the appointment time; called twice, no answer; text message sent.",
        "Called the number given at booking, voicemail left; letter sent to the last address.",
        "Attended but left after ten minutes; tried to call back the same afternoon, no answer.",
    ),
}

SUBSTANCE_SHARES: dict[SubstanceGroup, float] = {
    SubstanceGroup.OPIATES_AND_CRACK: 27,
    SubstanceGroup.OPIATES_ONLY: 22,
    SubstanceGroup.ALCOHOL_ONLY: 25,
    SubstanceGroup.NON_OPIATE_AND_ALCOHOL: 12,
    SubstanceGroup.NON_OPIATE_ONLY: 8,
    SubstanceGroup.CRACK_ONLY: 6,
}
_GROUPS, _GROUP_WEIGHTS = list(SUBSTANCE_SHARES), list(SUBSTANCE_SHARES.values())
_OPIATES = {SubstanceGroup.OPIATES_AND_CRACK, SubstanceGroup.OPIATES_ONLY}
MODALITIES: dict[str, dict[Modality, float]] = {
    "opiates": {
        Modality.PHARMACOLOGICAL: 75,
        Modality.PSYCHOSOCIAL: 14,
        Modality.RECOVERY_SUPPORT: 6,
        Modality.INPATIENT_DETOX: 3,
        Modality.RESIDENTIAL_REHAB: 2,
    },
    "alcohol": {
        Modality.PSYCHOSOCIAL: 55,
        Modality.PHARMACOLOGICAL: 15,
        Modality.RECOVERY_SUPPORT: 12,
        Modality.INPATIENT_DETOX: 10,
        Modality.RESIDENTIAL_REHAB: 8,
    },
    "other": {
        Modality.PSYCHOSOCIAL: 70,
        Modality.RECOVERY_SUPPORT: 20,
        Modality.PHARMACOLOGICAL: 5,
        Modality.RESIDENTIAL_REHAB: 5,
    },
}
DISCHARGES: dict[DischargeReason, float] = {
    DischargeReason.COMPLETED_FREE: 30,
    DischargeReason.COMPLETED: 12,
    DischargeReason.DROPPED_OUT: 25,
    DischargeReason.REFERRED_ON: 8,
    DischargeReason.PRISON: 6,
    DischargeReason.DECLINED: 6,
    DischargeReason.TREATMENT_WITHDRAWN: 3,
    DischargeReason.MOVED_AWAY: 5,
    DischargeReason.OTHER: 5,
}
_REASONS, _REASON_WEIGHTS = list(DISCHARGES), list(DISCHARGES.values())
_FROM_CLOSURE: dict[ClosureReason, tuple[DischargeReason, ...]] = {
    ClosureReason.COMPLETED: (DischargeReason.COMPLETED_FREE, DischargeReason.COMPLETED),
    ClosureReason.REFERRED_ON: (DischargeReason.REFERRED_ON,),
    ClosureReason.NO_LONGER_ENGAGING: (DischargeReason.DROPPED_OUT,),
    ClosureReason.DECLINED: (DischargeReason.DECLINED,),
    ClosureReason.MOVED_AWAY: (DischargeReason.MOVED_AWAY,),
    ClosureReason.IN_PRISON: (DischargeReason.PRISON,),
    ClosureReason.DIED: (DischargeReason.DIED,),
}
#: Of episodes with an open involvement, the share already ended (aftercare goes on); the
#: share of treatment involvements with an earlier, ended episode.
ENDED_WHILE_INVOLVED = 0.28
EARLIER_EPISODE = 0.2
EPISODE_HISTORY_DAYS = 3 * 365


@dataclass(frozen=True)
class Member:
    """An agency of the person's family: who, its named worker, and when (days ago)."""

    agency_id: uuid.UUID
    kind: AgencyKind
    worker_id: uuid.UUID
    start: int
    stop: int
    started: datetime
    closure: ClosureReason | None


@dataclass
class AgencyUsers:
    id: uuid.UUID
    kind: AgencyKind
    #: Active users of the agency by role (for who may make each transition).
    by_role: dict[Role, list[uuid.UUID]]
    workers: list[uuid.UUID]


@dataclass
class Rows:
    referrals: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)


#: ``timeline(person, at, kind, category, agency, actor, details)``.
Timeline = Callable[
    [uuid.UUID, datetime, TimelineKind, Category, uuid.UUID, uuid.UUID, dict[str, str]], None
]


class Maker:
    """Referrals and episodes for one person at a time, from their own random streams."""

    def __init__(  # noqa: PLR0917
        self,
        pathways: Sequence[PathwayDef],
        agencies: Sequence[AgencyUsers],
        ids: Callable[[], uuid.UUID],
        now: datetime,
        workdays: WorkingDays,
        ladder: LadderDef | None,
        seed: int,
    ) -> None:
        self.pathways = {p.key: p for p in pathways}
        self.agencies = {a.id: a for a in agencies}
        self.by_kind: dict[AgencyKind, list[AgencyUsers]] = {}
        for agency in agencies:
            self.by_kind.setdefault(agency.kind, []).append(agency)
        self.ids = ids
        self.now = now
        self.today = to_london(now).date()
        self.workdays = workdays
        self.ladder = ladder
        self.rng = random.Random(seed)  # noqa: S311 - demo data
        self.episode_rng = random.Random(seed + 1)  # noqa: S311 - demo data
        self.references: set[str] = set()

    # --- referrals ------------------------------------------------------------------------

    def referrals(
        self,
        rows: Rows,
        vault: Vault,
        timeline: Timeline,
        person_id: uuid.UUID,
        members: Sequence[Member],
        *,
        age: int,
        died: bool,
    ) -> None:
        if died:
            return
        rng = self.rng
        for key, (chance, again) in PATHWAY_CHANCE.items():
            pathway = self.pathways.get(key)
            if pathway is None or (pathway.minimum_age or 0) > age:
                continue
            referrers = [m for m in members if m.kind in pathway.referring_kinds]
            if not referrers or rng.random() >= chance:
                continue
            count = 2 if rng.random() < again else 1
            for _ in range(count):
                member = rng.choice(referrers)
                self._referral(rows, vault, timeline, person_id, pathway, member, members)

    def _moment(self, day: int, *, any_hour: bool = False) -> datetime:
        """A moment ``day`` days ago (working hours unless ``any_hour``), never after now."""
        when = self.today - timedelta(days=day)
        low, high = (0, 24 * 3600) if any_hour else (8 * 3600, 18 * 3600)
        at = datetime.combine(when, time(), tzinfo=UTC) + timedelta(
            seconds=self.rng.randrange(low, high)
        )
        return min(at, self.now)

    def _actor(self, agency: AgencyUsers, step: TransitionDef, fallback: uuid.UUID) -> uuid.UUID:
        allowed = [user for role in step.roles for user in agency.by_role.get(role, ())]
        if allowed:
            return self.rng.choice(allowed)
        return fallback

    def _receiving(
        self, pathway: PathwayDef, referrer: Member, members: Sequence[Member]
    ) -> AgencyUsers | None:
        family = [
            self.agencies[m.agency_id]
            for m in members
            if m.kind in pathway.receiving_kinds and m.agency_id != referrer.agency_id
        ]
        if family and self.rng.random() < 0.8:
            return self.rng.choice(family)
        others = [
            agency
            for kind in pathway.receiving_kinds
            for agency in self.by_kind.get(kind, ())
            if agency.id != referrer.agency_id
        ]
        return self.rng.choice(others) if others else None

    def _reference(self, prefix: str, year: int) -> str:
        while True:
            code = "".join(self.rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
            reference = f"{prefix}-{year}-{code}"
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def _referral(  # noqa: PLR0917
        self,
        rows: Rows,
        vault: Vault,
        timeline: Timeline,
        person_id: uuid.UUID,
        pathway: PathwayDef,
        referrer: Member,
        members: Sequence[Member],
    ) -> None:
        rng = self.rng
        to = self._receiving(pathway, referrer, members)
        if to is None:
            return
        start_key, start = rng.choice(pathway.starting())
        day = rng.randint(referrer.stop, referrer.start)
        at = max(self._moment(day, any_hour=pathway.key == "required_assessment"), referrer.started)
        referral_id = self.ids()
        from_agency = self.agencies[referrer.agency_id]
        creator = self._actor(from_agency, start, referrer.worker_id)
        data: dict[str, Any] = {}
        stage: str | None = None
        entered = at
        step_key, step = start_key, start
        version = 0
        first_stage = pathway.stages[start.to]
        created = at
        while True:
            side = Side.RECEIVING if Side.RECEIVING in step.sides else Side.REFERRING
            if stage is None:
                side = Side.REFERRING
            agency = to if side is Side.RECEIVING else from_agency
            actor = (
                creator
                if stage is None
                else self._actor(agency, step, rng.choice(agency.workers or [creator]))
            )
            plain, texts = self._values(pathway, step_key, step, at, data)
            data.update(plain)
            event_id = self.ids()
            target = pathway.stages[step.to]
            rows.events.append(
                {
                    "id": event_id,
                    "referral_id": referral_id,
                    "person_id": person_id,
                    "transition": step_key,
                    "from_stage": stage,
                    "to_stage": step.to,
                    "category": target.category,
                    "agency_id": agency.id,
                    "actor_id": actor,
                    "occurred_at": at,
                    "notice": step.notice,
                    "data": plain,
                    "text_enc": vault.seal(
                        person_id, EVENTS, "text_enc", event_id, json.dumps(texts, sort_keys=True)
                    )
                    if texts
                    else None,
                }
            )
            timeline(
                person_id,
                at,
                TimelineKind.REFERRAL,
                target.category,
                agency.id,
                actor,
                {
                    "referral_id": str(referral_id),
                    "pathway": pathway.key,
                    "transition": step_key,
                    "stage": step.to,
                },
            )
            version += 1
            stage, entered = step.to, at
            if target.terminal:
                break
            chosen = self._next(pathway, stage, at, data)
            if chosen is None:
                break
            step_key, step, at = chosen
        last = pathway.stages[stage]
        rows.referrals.append(
            {
                "id": referral_id,
                "person_id": person_id,
                "pathway": pathway.key,
                "stage": stage,
                "stage_category": last.category,
                "category": first_stage.category,
                "reference": self._reference(pathway.reference_prefix, to_london(created).year),
                "from_agency_id": from_agency.id,
                "to_agency_id": to.id,
                "created_by_id": creator,
                "created_at": created,
                "updated_at": entered,
                "closed_at": entered if last.terminal else None,
                "data": data,
                "version": version,
            }
        )
        if not last.terminal and last.clock is not None:
            side_agency = to.id if last.clock.side is Side.RECEIVING else from_agency.id
            self._task(
                rows, pathway, referral_id, person_id, stage, entered, data, actor, side_agency
            )

    def _next(
        self, pathway: PathwayDef, stage: str, entered: datetime, data: Mapping[str, Any]
    ) -> tuple[str, TransitionDef, datetime] | None:
        """The next transition and when, or None: the referral waits where it is."""
        rng = self.rng
        leaving = dict(pathway.leaving(stage))
        weights = WALK.get(pathway.key, {}).get(stage) or {key: 1.0 for key in leaving}
        options = [key for key in weights if key == "" or key in leaving]
        if not options:
            return None
        key = rng.choices(options, [weights[k] for k in options])[0]
        if not key:
            return None
        step = leaving[key]
        low, high = GAP.get(key, (1, 14))
        if pathway.key == "general" and key == "complete":
            low, high = _COMPLETE_GENERAL
        at = entered + timedelta(days=rng.randint(low, high), seconds=rng.randrange(3600, 5 * 3600))
        for anchor in ANCHORS.get(key, ()):
            if isinstance(data.get(anchor), str):
                moment = _moment_of(data[anchor])
                if "T" not in data[anchor]:  # a date: during that day's working hours
                    moment += timedelta(hours=rng.randint(9, 16))
                at = max(at, moment + timedelta(minutes=rng.randint(5, 180)))
        if step.not_before is not None and isinstance(data.get(step.not_before), str):
            moment = _moment_of(data[step.not_before])
            at = max(at, moment + timedelta(minutes=rng.randint(5, 180)))
        if at > self.now:
            return None
        return key, step, at

    def _values(
        self,
        pathway: PathwayDef,
        key: str,
        step: TransitionDef,
        at: datetime,
        data: Mapping[str, Any],
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """What a transition records: plaintext values and required free text."""
        rng = self.rng
        day = to_london(at).date()
        plain: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for spec in step.fields:
            required = spec.required or (
                spec.required_when is not None and plain.get(spec.required_when) is True
            )
            if spec.kind is FieldKind.TEXT:
                if required:
                    texts[spec.name] = rng.choice(TEXTS.get(spec.name, TEXTS["place"]))
                continue
            if not required and rng.random() < 0.5:
                continue
            plain[spec.name] = self._value(pathway, key, spec, at, day, {**data, **plain})
        return plain, texts

    def _value(  # noqa: PLR0917
        self,
        pathway: PathwayDef,
        key: str,
        spec: FieldDef,
        at: datetime,
        day: date,
        plain: Mapping[str, Any],
    ) -> Any:
        rng, name = self.rng, spec.name
        if spec.kind is FieldKind.CHOICE:
            weights = CHOICE_WEIGHTS.get(name, {})
            codes = list(spec.choices)
            return rng.choices(codes, [weights.get(code, 1.0) for code in codes])[0]
        if spec.kind is FieldKind.YES_NO:
            return rng.random() < YES.get(name, 0.5)
        if spec.kind is FieldKind.INTEGER:
            low, high = spec.minimum or 0, spec.maximum if spec.maximum is not None else 100
            return round(rng.triangular(low, high, low + (high - low) * 0.4))
        if spec.kind is FieldKind.DATETIME:
            after = 10 if plain.get("disputed") is True else 2
            local = to_london(at).date() + timedelta(days=rng.randint(after, after + 8))
            if name == "first_appointment_at" and isinstance(plain.get("release_date"), str):
                released = date.fromisoformat(plain["release_date"]) + timedelta(days=1)
                # Never earlier than tomorrow: a run late in the day would otherwise book
                # a morning appointment that has already passed.
                tomorrow = to_london(at).date() + timedelta(days=1)
                local = max(local - timedelta(days=after), released, tomorrow)
            moment = datetime.combine(local, time(rng.randint(9, 15), rng.choice((0, 15, 30, 45))))
            return moment.strftime("%Y-%m-%dT%H:%M")
        # Dates.
        if name == "release_date":
            return (day + timedelta(days=rng.randint(7, 42))).isoformat()
        if name == "admitted_on":
            return (day - timedelta(days=rng.randint(0, 4))).isoformat()
        if name == "dash_completed_on":
            return (day - timedelta(days=rng.randint(0, 2))).isoformat()
        if name == "expected_discharge_on":
            return (day + timedelta(days=rng.randint(2, 10))).isoformat()
        if name == "marac_on":
            return (day + timedelta(days=rng.randint(7, 28))).isoformat()
        del pathway, key
        return day.isoformat()

    def _task(  # noqa: PLR0917
        self,
        rows: Rows,
        pathway: PathwayDef,
        referral_id: uuid.UUID,
        person_id: uuid.UUID,
        stage: str,
        entered: datetime,
        data: Mapping[str, Any],
        actor: uuid.UUID,
        agency_id: uuid.UUID,
    ) -> None:
        definition = pathway.stages[stage]
        clock = definition.clock
        if clock is None:
            return
        due = due_of(clock, data, entered_at=entered, workdays=self.workdays)
        if due is None:
            return
        reference = rows.referrals[-1]["reference"]
        task_id = self.ids()
        rows.tasks.append(
            {
                "id": task_id,
                "title": clock.task,
                "person_id": person_id,
                "source": TaskSource.PATHWAY,
                "source_id": referral_id,
                "source_key": f"stage:{stage}",
                "category": definition.category,
                "agency_id": agency_id,
                "team_id": None,
                "user_id": None,
                "due_at": due.due_at.astimezone(UTC),
                "at_risk_at": due.at_risk_at.astimezone(UTC) if due.at_risk_at else None,
                "state": TaskState.OPEN,
                "details": {"referral_id": str(referral_id), "reference": reference},
                "created_at": entered,
                "created_by_id": actor,
                "version": 1,
                "ladder": self.ladder.key if self.ladder else None,
            }
        )
        if self.ladder is None:
            return
        for number, step in enumerate(self.ladder.steps):
            when = due.due_at + step.after
            if when > self.now:
                rows.reminders.append(
                    {
                        "id": self.ids(),
                        "task_id": task_id,
                        "step": number,
                        "due_at": when.astimezone(UTC),
                        "state": ReminderState.PENDING,
                    }
                )

    # --- treatment episodes ---------------------------------------------------------------

    def episodes(
        self, rows: Rows, person_id: uuid.UUID, members: Sequence[Member], died_on: date | None
    ) -> None:
        rng = self.episode_rng
        for member in members:
            if member.kind is not AgencyKind.TREATMENT:
                continue
            group = rng.choices(_GROUPS, _GROUP_WEIGHTS)[0]
            started = min(
                self.today, self.today - timedelta(days=member.start - rng.randint(0, 10))
            )
            started = max(started, self.today - timedelta(days=member.start))
            earliest = member.start + 90
            if earliest < EPISODE_HISTORY_DAYS and rng.random() < EARLIER_EPISODE:
                first = rng.randint(earliest, EPISODE_HISTORY_DAYS)
                begun = self.today - timedelta(days=first)
                length = rng.randint(30, max(30, first - member.start - 30))
                ended = begun + timedelta(days=min(length, 540))
                reason = rng.choices(_REASONS, _REASON_WEIGHTS)[0]
                self._episode(rows, person_id, member, group, (begun, ended, reason))
                if rng.random() < 0.3:  # back with a different pattern of use
                    group = rng.choices(_GROUPS, _GROUP_WEIGHTS)[0]
            end: tuple[date, DischargeReason] | None = None
            if member.closure is ClosureReason.DIED and died_on is not None:
                end = (max(died_on, started), DischargeReason.DIED)
            elif member.closure is not None:
                ended = max(self.today - timedelta(days=member.stop), started)
                end = (
                    ended,
                    rng.choice(_FROM_CLOSURE.get(member.closure, (DischargeReason.OTHER,))),
                )
            elif rng.random() < ENDED_WHILE_INVOLVED and (self.today - started).days > 30:
                ended = started + timedelta(days=rng.randint(30, (self.today - started).days))
                reason = rng.choices(_REASONS, _REASON_WEIGHTS)[0]
                end = (ended, reason)
            self._episode(
                rows, person_id, member, group, (started, *end) if end else (started, None, None)
            )

    def _episode(
        self,
        rows: Rows,
        person_id: uuid.UUID,
        member: Member,
        group: SubstanceGroup,
        span: tuple[date, date | None, DischargeReason | None],
    ) -> None:
        rng = self.episode_rng
        started, ended, reason = span
        kind = (
            "opiates"
            if group in _OPIATES
            else "alcohol"
            if group is SubstanceGroup.ALCOHOL_ONLY
            else "other"
        )
        modalities = MODALITIES[kind]
        created = max(_start_of(started) + timedelta(hours=rng.randint(9, 16)), member.started)
        created = min(created, self.now)
        updated = (
            created
            if ended is None
            else min(max(_start_of(ended) + timedelta(hours=12), created), self.now)
        )
        rows.episodes.append(
            {
                "id": self.ids(),
                "person_id": person_id,
                "agency_id": member.agency_id,
                "worker_id": member.worker_id,
                "started_on": started,
                "ended_on": ended,
                "substance_group": group,
                "modality": rng.choices(list(modalities), list(modalities.values()))[0],
                "discharge_reason": reason,
                "category": Category.SUBSTANCE_USE,
                "recorded_by_id": member.worker_id,
                "ended_by_id": member.worker_id if ended is not None else None,
                "created_at": created,
                "updated_at": updated,
                "version": 1 if ended is None else 2,
            }
        )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def _moment_of(value: str) -> datetime:
    if "T" in value:
        return datetime.fromisoformat(value).replace(tzinfo=LONDON).astimezone(UTC)
    return _start_of(date.fromisoformat(value))
