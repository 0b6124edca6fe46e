"""The large demo set, for benchmarks: ``casework demo-data --people N --contacts M``.

Far too many people to make one service call at a time, so rows are written with SQLAlchemy
Core bulk inserts, a batch of people per transaction; but every stored value has exactly the
format the services give it:

* each batch's person keys are created in the keystore first and committed (key first, then
  data), through :meth:`Vault.new_people`;
* names and details are sealed by :mod:`casework.people.records`, contact places and notes by
  :meth:`Vault.seal` with the same table, column and row binding as ``contacts.services``;
* search tokens come from :func:`casework.people.services.token_rows`;
* every person, involvement, alert, need change, contact, note revision and death has its
  timeline entry, with the category the services give it;
* in a family of two or more agencies, each agency is named by a consent for the others'
  categories (and case notes), recorded by the lead's worker and in force today, but for a
  few percent expired or withdrawn; its purpose, form reference and withdrawal reason are
  sealed with the same row binding as ``consent.services``;
* for about a fifth of the people, referrals on the pathways (mostly required assessments),
  each walking its pathway's transitions with one event and one timeline entry per step and
  the open clock's task, and for everyone in treatment, treatment episodes: see
  :mod:`casework.demo.large_referrals` (which also says what it leaves out). A few generated
  police workers are also custody officers, and a few treatment workers assessors, so that
  each transition is made by a role allowed to make it.

Audit rows are not written per record (a benchmark set would be mostly audit); one audit row
records the generation. Ids are time-ordered UUIDs (version 7) so that the indexes grow at
their end, as they do in a live system over time.

The generator is deterministic (a fixed seed) in everything but ids, nonces and wall-clock
timestamps: the same names, families, caseloads and contact counts every run. Consents,
referrals and episodes draw from their own random streams, so the rest of the set is the same
as in sets generated before they existed.
"""

from __future__ import annotations

import math
import random
import time as wallclock
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.audit import recorder
from casework.audit.recorder import SYSTEM
from casework.clock import london_today, utcnow
from casework.consent.models import BasisKind, ConsentMethod, SharingBasis, SharingBasisCategory
from casework.consent.rules import add_months
from casework.contacts.models import Contact, Note
from casework.contacts.services import rebuild_latest_contacts
from casework.db import WRITE_OPTION, Database
from casework.demo import data, large_referrals, phrases
from casework.demo import names as nm
from casework.demo.people import ALERT_DETAILS, FORM_PREFIX, HOPE_WORKER, PURPOSES
from casework.family.models import Involvement
from casework.pathways.definitions import pathways
from casework.pathways.models import Referral, ReferralEvent
from casework.pathways.rules import age_on
from casework.people.codes import (
    ClosureReason,
    ContactKind,
    FamilyRole,
    HousingStatus,
    Sex,
    TimelineKind,
    information,
)
from casework.people.models import Person, PersonAlert, PersonNeed, SearchToken, TimelineEntry
from casework.people.records import Details, Names, seal_details, seal_names
from casework.people.services import token_rows
from casework.people.validation import postcode_district
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.tasks.definitions import ladders
from casework.tasks.models import Reminder, Task, TaskSource
from casework.treatment.models import TreatmentEpisode
from casework.users.models import User, UserRole
from casework.workdays import working_days

SEED = 31_337
#: Caseloads of generated workers: open involvements per named worker.
CASELOAD = (30, 60)
TYPICAL_CASELOAD = 45
#: Workers per generated team.
TEAM_SIZE = 10
#: Contacts of the benchmark's person (its timeline runs to several pages).
BENCH_PERSON_CONTACTS = 120
#: Threads writing batches while the next is generated (0: write in the generating thread).
WRITERS = 1
#: No generated person has more contacts than this (unless the average needs more).
MAX_CONTACTS = 200

#: How often each agency is part of a person's professional family, and the role it plays.
AGENCY_SHARE: dict[AgencyKind, tuple[float, FamilyRole]] = {
    AgencyKind.TREATMENT: (30, FamilyRole.KEY_WORKER),
    AgencyKind.HOUSING: (12, FamilyRole.HOUSING_OFFICER),
    AgencyKind.SOCIAL_CARE: (8, FamilyRole.SOCIAL_WORKER),
    AgencyKind.POLICE: (7, FamilyRole.POLICE_CONTACT),
    AgencyKind.PROBATION: (10, FamilyRole.PROBATION_OFFICER),
    AgencyKind.PRISON: (3, FamilyRole.SUPPORT_WORKER),
    AgencyKind.HEALTH: (10, FamilyRole.NURSE),
    AgencyKind.DOMESTIC_ABUSE: (5, FamilyRole.IDVA),
    AgencyKind.VOLUNTARY: (8, FamilyRole.PEER_MENTOR),
    AgencyKind.CARE_HOME: (3, FamilyRole.SUPPORT_WORKER),
}

HOUSING_WEIGHTS: dict[HousingStatus, float] = {
    HousingStatus.SETTLED: 30,
    HousingStatus.TEMPORARY: 15,
    HousingStatus.SOFA_SURFING: 10,
    HousingStatus.NO_FIXED_ABODE: 10,
    HousingStatus.HOSTEL: 15,
    HousingStatus.CARE_HOME: 3,
    HousingStatus.PRISON: 3,
    HousingStatus.HOSPITAL: 2,
    HousingStatus.NOT_KNOWN: 12,
}
_WITH_ADDRESS = {
    HousingStatus.SETTLED,
    HousingStatus.TEMPORARY,
    HousingStatus.HOSTEL,
    HousingStatus.CARE_HOME,
}
#: Of the consents: the share whose six-month review passed unrenewed (of those given 200 days
#: ago or more), and the share withdrawn.
EXPIRED_CONSENTS = 0.05
WITHDRAWN_CONSENTS = 0.02
#: Consent in force today was given at most this many days ago (about 11 months).
CONSENT_GIVEN_WITHIN = 335
_WITHDRAWAL_REASON = "Changed their mind about sharing with this agency."
_ENDINGS = (
    ClosureReason.COMPLETED,
    ClosureReason.COMPLETED,
    ClosureReason.REFERRED_ON,
    ClosureReason.NO_LONGER_ENGAGING,
    ClosureReason.DECLINED,
    ClosureReason.MOVED_AWAY,
    ClosureReason.IN_PRISON,
)


# --- progress and result ------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    people_done: int
    people_total: int
    contacts_done: int
    contacts_total: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.people_done / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"people {self.people_done:,}/{self.people_total:,}  "
            f"contacts {self.contacts_done:,}/{self.contacts_total:,}  "
            f"{self.rate:,.0f} people/s  {self.seconds:,.0f} s"
        )


@dataclass(frozen=True)
class Manifest:
    """What a benchmark needs to know about a generated set."""

    worker_email: str
    worker_caseload: int
    person_id: str
    person_contacts: int
    password: str
    people: int
    contacts: int
    workers: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "worker_email": self.worker_email,
            "worker_caseload": self.worker_caseload,
            "person_id": self.person_id,
            "person_contacts": self.person_contacts,
            "password": self.password,
            "people": self.people,
            "contacts": self.contacts,
            "workers": self.workers,
            "seconds": round(self.seconds, 1),
        }


# --- ids --------------------------------------------------------------------------------


class _Ids:
    """Time-ordered UUIDs (version 7 layout): unique across runs, increasing within one."""

    def __init__(self) -> None:
        self._start_ms = int(wallclock.time() * 1000)
        self._count = 0
        self._random = random.Random()  # noqa: S311 - uniqueness only, not secrecy

    def __call__(self) -> uuid.UUID:
        n = self._count
        self._count += 1
        ms = (self._start_ms + (n >> 12)) & ((1 << 48) - 1)
        value = (
            (ms << 80)
            | (0x7 << 76)
            | ((n & 0xFFF) << 64)
            | (0b10 << 62)
            | self._random.getrandbits(62)
        )
        return uuid.UUID(int=value)


# --- the plan: who is involved with whom, and how many contacts -------------------------


@dataclass
class _Agency:
    id: uuid.UUID
    name: str
    kind: AgencyKind
    category: Category
    role: FamilyRole
    share: float
    #: The team generated workers join first, its name, and how many members it has.
    team: tuple[uuid.UUID, str, int]
    workers: list[uuid.UUID] = field(default_factory=list)
    open_involvements: int = 0


@dataclass
class _Family:
    #: Agency indexes: the first is the creating agency and lead professional.
    open: tuple[int, ...]
    ended: int | None
    died: bool
    workers: list[uuid.UUID] = field(default_factory=list)
    contacts: int = 0


#: The team that generated workers of an agency join (then "<name> 2", "<name> 3"...).
PREFERRED_TEAMS = ("HOPE team", "Neighbourhood team")


def _agencies(db: Session) -> list[_Agency]:
    info = information()
    found = []
    for agency in db.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)):
        teams = [team for team in agency.teams if team.active]
        if agency.kind not in AGENCY_SHARE or not teams:
            continue
        share, role = AGENCY_SHARE[agency.kind]
        team = next((t for t in teams if t.name in PREFERRED_TEAMS), teams[0])
        members = db.scalar(
            select(func.count())
            .select_from(TeamMembership)
            .where(TeamMembership.team_id == team.id)
        )
        found.append(
            _Agency(
                agency.id,
                agency.name,
                agency.kind,
                info.agency_category(agency.kind),
                role,
                share,
                (team.id, team.name, members or 0),
            )
        )
    if not found:
        raise LookupError("no agencies: load the partnership first")
    return found


def _families(rng: random.Random, agencies: list[_Agency], people: int) -> list[_Family]:
    weights = [agency.share for agency in agencies]
    families = []
    for _ in range(people):
        size = rng.choices((1, 2, 3), weights=(35, 40, 25))[0]
        chosen: list[int] = []
        while len(chosen) < min(size + 1, len(agencies)):
            pick = rng.choices(range(len(agencies)), weights=weights)[0]
            if pick not in chosen:
                chosen.append(pick)
        ended = chosen.pop() if len(chosen) > size and rng.random() < 0.12 else None
        died = rng.random() < 0.003
        families.append(_Family(tuple(chosen[:size]), ended, died))
    return families


def _contact_counts(
    rng: random.Random, families: list[_Family], total: int, bench: int | None
) -> None:
    """Share ``total`` contacts out unevenly: many people with a few, some with 50-200."""
    n = len(families)
    if n == 0:
        return
    weights = [rng.lognormvariate(0, 1.1) for _ in range(n)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    cap = max(MAX_CONTACTS, math.ceil(3 * total / n))
    excess = sum(max(0, c - cap) for c in counts) + total - sum(counts)
    counts = [min(c, cap) for c in counts]
    if bench is not None:
        wanted = min(max(counts[bench], BENCH_PERSON_CONTACTS), cap, total)
        excess -= wanted - counts[bench]
        counts[bench] = wanted
    while excess > 0:
        i = rng.randrange(n)
        if counts[i] < cap and i != bench:
            counts[i] += 1
            excess -= 1
    while excess < 0:
        i = rng.randrange(n)
        if counts[i] > 0 and i != bench:
            counts[i] -= 1
            excess += 1
    for family, count in zip(families, counts, strict=True):
        family.contacts = count


def _caseload_slots(
    rng: random.Random, count: int, workers: int, fixed: dict[int, int]
) -> list[int]:
    """``count`` worker indexes, each worker ``CASELOAD[0]``-``CASELOAD[1]`` times (or the
    ``fixed`` number of times), in random order."""
    capacities = [fixed.get(i, rng.randint(*CASELOAD)) for i in range(workers)]
    free = [i for i in range(workers) if i not in fixed]
    slots = [i for i, capacity in enumerate(capacities) for _ in range(capacity)]
    while len(slots) < count:  # more involvements than capacity: spread the rest
        slots.append(rng.choice(free) if free else 0)
    rng.shuffle(slots)
    if len(slots) > count:  # fewer: drop surplus slots of the unfixed workers
        keep: list[int] = []
        surplus = len(slots) - count
        for slot in slots:
            if surplus and slot not in fixed:
                surplus -= 1
                continue
            keep.append(slot)
        slots = keep
    return slots


# --- workers --------------------------------------------------------------------------------


def _existing_workers(db: Session, agency: _Agency) -> list[uuid.UUID]:
    """The agency's demo accounts that can hold a caseload (the HOPE worker first)."""
    rows = db.execute(
        select(User.id, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.agency_id == agency.id,
            User.active.is_(True),
            UserRole.role.in_([Role.WORKER, Role.ASSESSOR]),
        )
        .order_by(User.email)
    ).all()
    ordered = sorted({(row.email != HOPE_WORKER, row.email, row.id) for row in rows})
    return [user_id for _, _, user_id in ordered]


def _create_workers(
    conn: Connection,
    *,
    rng: random.Random,
    agencies: list[_Agency],
    needed: dict[int, int],
    password_hash: str,
    ids: _Ids,
) -> int:
    """Users (with the demo password), roles, teams and memberships for generated workers."""
    now = utcnow()
    users: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    teams: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    created = 0
    for index, agency in enumerate(agencies):
        extra = needed.get(index, 0)
        if extra <= 0:
            continue
        first_team_id, first_team_name, in_team = agency.team
        team_id, team_number = first_team_id, 1
        for _ in range(extra):
            if in_team >= TEAM_SIZE:
                team_number += 1
                team_id, in_team = ids(), 0
                teams.append(
                    {
                        "id": team_id,
                        "agency_id": agency.id,
                        "name": f"{first_team_name} {team_number}",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            user_id = ids()
            created += 1
            sex = Sex.FEMALE if rng.random() < 0.6 else Sex.MALE
            given, family = nm.given_name(rng, sex), nm.family_name(rng)
            local = "".join(ch for ch in f"{given}.{family}".lower() if ch.isascii() and ch != "'")
            users.append(
                data.user_row(
                    user_id=user_id,
                    email=f"{local}.{created}@northdale.example.org",
                    full_name=f"{given} {family}",
                    agency_id=agency.id,
                    password_hash=password_hash,
                    now=now,
                )
            )
            manager = in_team == 0 and team_id != first_team_id
            roles.append({"user_id": user_id, "role": Role.WORKER})
            if manager:
                roles.append({"user_id": user_id, "role": Role.MANAGER})
            members.append({"team_id": team_id, "user_id": user_id, "is_manager": manager})
            in_team += 1
            agency.workers.append(user_id)
    for table, rows in ((Team, teams), (User, users), (UserRole, roles), (TeamMembership, members)):
        for chunk in _chunks(rows, 5000):
            conn.execute(insert(table), chunk)
    return created


#: Of an agency's generated workers, every n-th also holds this role (custody staff book
#: required assessments; assessors record what an assessment found).
EXTRA_ROLES: dict[AgencyKind, tuple[Role, int]] = {
    AgencyKind.POLICE: (Role.CUSTODY_OFFICER, 10),
    AgencyKind.TREATMENT: (Role.ASSESSOR, 8),
}


def _extra_roles(conn: Connection, agencies: list[_Agency], existing: list[int]) -> None:
    rows = [
        {"user_id": user_id, "role": EXTRA_ROLES[agency.kind][0]}
        for agency, first in zip(agencies, existing, strict=True)
        if agency.kind in EXTRA_ROLES
        for user_id in agency.workers[first :: EXTRA_ROLES[agency.kind][1]]
    ]
    if rows:
        conn.execute(insert(UserRole), rows)


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --- one batch of people ------------------------------------------------------------------


@dataclass
class _Rows:
    people: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    involvements: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    bases: list[dict[str, Any]] = field(default_factory=list)
    basis_categories: list[dict[str, Any]] = field(default_factory=list)
    pathway: large_referrals.Rows = field(default_factory=large_referrals.Rows)

    def write(self, conn: Connection) -> None:
        for table, rows in (
            (Person, self.people),
            (SearchToken, self.tokens),
            (Involvement, self.involvements),
            (PersonAlert, self.alerts),
            (PersonNeed, self.needs),
            (Contact, self.contacts),
            (Note, self.notes),
            (TimelineEntry, self.timeline),
            (SharingBasis, self.bases),
            (SharingBasisCategory, self.basis_categories),
            (Referral, self.pathway.referrals),
            (ReferralEvent, self.pathway.events),
            (Task, self.pathway.tasks),
            (Reminder, self.pathway.reminders),
            (TreatmentEpisode, self.pathway.episodes),
        ):
            if rows:
                conn.execute(insert(table), rows)


@dataclass(frozen=True)
class _Pending:
    """A contact before ids are given (contacts are inserted in time order)."""

    occurred_at: datetime
    person_id: uuid.UUID
    agency: _Agency
    worker_id: uuid.UUID
    who: phrases.Pronouns


class _Batch:
    def __init__(
        self,
        generator: Generator,
        vault: Vault,
        families: Sequence[_Family],
    ) -> None:
        self.g = generator
        self.vault = vault
        self.families = families
        self.rows = _Rows()
        self.pending: list[_Pending] = []

    def timeline(  # noqa: PLR0917 - a private helper called from a few places
        self,
        person_id: uuid.UUID,
        occurred_at: datetime,
        kind: TimelineKind,
        category: Category,
        agency_id: uuid.UUID,
        actor_id: uuid.UUID,
        details: dict[str, str],
        contact_id: uuid.UUID | None = None,
        agency_only: bool = False,
    ) -> None:
        self.rows.timeline.append(
            {
                "id": None,  # given in time order by finish()
                "person_id": person_id,
                "occurred_at": occurred_at,
                "kind": kind,
                "category": category,
                "agency_id": agency_id,
                "actor_id": actor_id,
                "contact_id": contact_id,
                "agency_only": agency_only,
                "details": details,
                "created_at": occurred_at,
            }
        )

    def person(self, person_id: uuid.UUID, family: _Family) -> None:
        g, rng = self.g, self.g.rng
        agencies = [g.agencies[i] for i in family.open]
        lead = agencies[0]
        lead_worker = family.workers[0]
        sex = rng.choices((Sex.MALE, Sex.FEMALE, Sex.OTHER, Sex.NOT_KNOWN), (60, 37, 1.5, 1.5))[0]
        given, family_name = nm.given_name(rng, sex), nm.family_name(rng)
        names = Names(
            given,
            family_name,
            "",
            (f"{given} {nm.family_name(rng)}",) if rng.random() < 0.03 else (),
        )
        housing = rng.choices(g.housing_codes, g.housing_weights)[0]
        has_address = housing in _WITH_ADDRESS
        dob = nm.date_of_birth(rng, g.today, age=nm.age_between(rng))
        details = Details(
            date_of_birth=dob,
            nhs_number=nm.nhs_number(rng) if rng.random() < 0.7 else "",
            pnc_id=nm.pnc_id(rng) if rng.random() < 0.25 else "",
            local_id=nm.local_id("NX", g.people_done + len(self.rows.people))
            if rng.random() < 0.4
            else "",
            phone=nm.phone(rng) if rng.random() < 0.6 else "",
            email=nm.email(rng, given, family_name) if rng.random() < 0.2 else "",
            address=nm.address(rng, flat=rng.random() < 0.6) if has_address else "",
            postcode=nm.postcode(rng) if has_address else "",
        )
        age_days = rng.randint(14, 400)
        created = g.moment(age_days)
        died_on = None
        if family.died:
            died_on = g.today - timedelta(days=rng.randint(1, max(1, age_days - 7)))
        self.rows.people.append(
            {
                "id": person_id,
                "names_enc": seal_names(self.vault, person_id, names),
                "details_enc": seal_details(self.vault, person_id, details),
                "sex": sex,
                "year_of_birth": dob.year,
                "postcode_district": postcode_district(details.postcode),
                "housing_status": housing,
                "died_on": died_on,
                "created_by_agency_id": lead.id,
                "created_by_id": lead_worker,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        self.rows.tokens.extend(token_rows(g.blind, person_id, names, details))
        self.timeline(
            person_id,
            created,
            TimelineKind.PERSON_CREATED,
            Category.IDENTITY,
            lead.id,
            lead_worker,
            {},
        )
        # The professional family: the lead from the first day, the others later.
        end_day = (g.today - died_on).days if died_on else 0
        windows: list[tuple[_Agency, uuid.UUID, int, int, datetime]] = []
        for position, (agency, worker) in enumerate(zip(agencies, family.workers, strict=True)):
            if position == 0:
                start, started = age_days, created
            else:
                start = rng.randint(max(end_day, age_days - 60), age_days)
                started = max(g.moment(start), created)
            self._involvement(
                person_id,
                agency,
                worker,
                (start, started),
                end_day if died_on else None,
                lead=position == 0,
                reason=ClosureReason.DIED,
            )
            windows.append((agency, worker, start, end_day, started))
        ending: ClosureReason | None = None
        if family.ended is not None:
            agency = g.agencies[family.ended]
            worker = rng.choice(agency.workers)
            start = rng.randint(max(end_day, age_days - 30), age_days)
            started = max(g.moment(start), created)
            stop = rng.randint(end_day, max(end_day, start - 14))
            self._involvement(
                person_id,
                agency,
                worker,
                (start, started),
                stop,
                lead=False,
                reason=(ending := rng.choice(_ENDINGS)),
            )
            windows.append((agency, worker, start, stop, started))
        self._alerts_and_needs(person_id, lead, lead_worker, (age_days, end_day))
        self._consents(person_id, lead, lead_worker, windows)
        self._pathways(
            person_id,
            windows,
            [ClosureReason.DIED if died_on else None] * len(agencies) + [ending],
            dob,
            died_on,
        )
        if died_on is not None:
            self.timeline(
                person_id,
                g.moment(end_day),
                TimelineKind.DIED,
                Category.IDENTITY,
                lead.id,
                lead_worker,
                {"died_on": died_on.isoformat()},
            )
        who = phrases.Pronouns.for_sex(sex)
        lead_share = 0.5 if len(windows) > 1 else 1.0
        for _ in range(family.contacts):
            agency, worker, start, stop, started = (
                windows[0] if rng.random() < lead_share else rng.choice(windows)
            )
            day = rng.randint(stop, start)
            at = g.moment(day)
            if day == start:
                at = max(at, started)
            self.pending.append(_Pending(at, person_id, agency, worker, who))

    def _pathways(
        self,
        person_id: uuid.UUID,
        windows: Sequence[tuple[_Agency, uuid.UUID, int, int, datetime]],
        closures: Sequence[ClosureReason | None],
        born: date,
        died_on: date | None,
    ) -> None:
        """Referrals and treatment episodes (:mod:`casework.demo.large_referrals`)."""
        g = self.g
        members = [
            large_referrals.Member(
                agency.id,
                agency.kind,
                worker,
                start,
                stop,
                started,
                closure,
            )
            for (agency, worker, start, stop, started), closure in zip(
                windows,
                closures,
                strict=False,  # an ending for the ended involvement, if any
            )
        ]
        maker = g.maker
        maker.referrals(
            self.rows.pathway,
            self.vault,
            self.timeline,
            person_id,
            members,
            age=age_on(born, g.today),
            died=died_on is not None,
        )
        maker.episodes(self.rows.pathway, person_id, members, died_on)

    def _involvement(
        self,
        person_id: uuid.UUID,
        agency: _Agency,
        worker: uuid.UUID,
        start: tuple[int, datetime],
        stop: int | None,
        *,
        lead: bool,
        reason: ClosureReason,
    ) -> None:
        g = self.g
        days, started = start
        self.rows.involvements.append(
            {
                "id": g.ids(),
                "person_id": person_id,
                "agency_id": agency.id,
                "worker_id": worker,
                "role": agency.role,
                "is_lead": lead and stop is None,
                "started_on": g.today - timedelta(days=days),
                "ended_on": None if stop is None else g.today - timedelta(days=stop),
                "closure_reason": None if stop is None else reason,
                "created_at": started,
                "updated_at": started if stop is None else max(started, g.moment(stop)),
                "version": 1 if stop is None else 2,
            }
        )
        self.timeline(
            person_id,
            started,
            TimelineKind.FAMILY_ADDED,
            agency.category,
            agency.id,
            worker,
            {"role": agency.role.value, "lead": "yes" if lead else "no"},
        )
        if stop is not None and reason is not ClosureReason.DIED:
            self.timeline(
                person_id,
                max(started, g.moment(stop)),
                TimelineKind.FAMILY_ENDED,
                agency.category,
                agency.id,
                worker,
                {"reason": reason.value, "was_lead": "no"},
            )

    def _consents(
        self,
        person_id: uuid.UUID,
        lead: _Agency,
        lead_worker: uuid.UUID,
        windows: Sequence[tuple[_Agency, uuid.UUID, int, int, datetime]],
    ) -> None:
        """One consent naming each agency of the family for the categories the others record
        (and case notes), given when it joined (or, for an earlier start, within the last 11
        months), review 12 months after; a few expired (six-month review, not renewed) or
        withdrawn. From their own random stream, so the rest of the set is as it was."""
        if len(windows) < 2:
            return
        g, rng, vault = self.g, self.g.consent_rng, self.vault
        for agency, _worker, start, _stop, started in windows:
            basis_id = g.ids()
            expired = start >= 200 and rng.random() < EXPIRED_CONSENTS
            withdrawn = not expired and rng.random() < WITHDRAWN_CONSENTS
            day = start if expired else min(start, CONSENT_GIVEN_WITHIN)
            given = g.today - timedelta(days=day)
            recorded = started if day == start else max(g.moment(day), started)
            written = rng.random() < 0.35
            form = f"{FORM_PREFIX[lead.kind]}-CF-{rng.randint(1000, 9999)}" if written else ""
            withdrawn_day = rng.randint(0, day - 1) if withdrawn and day > 0 else day
            withdrawn_at = max(g.moment(withdrawn_day), recorded) if withdrawn else None
            self.rows.bases.append(
                {
                    "id": basis_id,
                    "person_id": person_id,
                    "kind": BasisKind.CONSENT,
                    "agency_id": agency.id,
                    "agency_kind": None,
                    "statement_enc": vault.seal(
                        person_id, "sharing_bases", "statement_enc", basis_id, PURPOSES[agency.kind]
                    ),
                    "method": ConsentMethod.WRITTEN if written else ConsentMethod.VERBAL,
                    "form_reference_enc": vault.seal(
                        person_id, "sharing_bases", "form_reference_enc", basis_id, form
                    )
                    if form
                    else None,
                    "starts_on": given,
                    "ends_on": add_months(given, 6 if expired else 12),
                    "recorded_at": recorded,
                    "recorded_by_id": lead_worker,
                    "recorded_by_agency_id": lead.id,
                    "supersedes_id": None,
                    "superseded_at": None,
                    "withdrawn_on": g.today - timedelta(days=withdrawn_day) if withdrawn else None,
                    "withdrawn_at": withdrawn_at,
                    "withdrawn_by_id": lead_worker if withdrawn else None,
                    "withdrawal_reason_enc": vault.seal(
                        person_id,
                        "sharing_bases",
                        "withdrawal_reason_enc",
                        basis_id,
                        _WITHDRAWAL_REASON,
                    )
                    if withdrawn
                    else None,
                    "review_state": None,
                    "reviewed_at": None,
                    "reviewed_by_id": None,
                    "review_note_enc": None,
                    "version": 2 if withdrawn else 1,
                }
            )
            others = {other.category for other, *_ in windows if other is not agency}
            self.rows.basis_categories.extend(
                {"basis_id": basis_id, "category": category}
                for category in sorted(others | {Category.IDENTITY, Category.CASE_NOTES})
            )

    def _alerts_and_needs(
        self, person_id: uuid.UUID, lead: _Agency, worker: uuid.UUID, days: tuple[int, int]
    ) -> None:
        """Needs on the first day; an alert for about one person in five (none after a
        death). ``days``: (first day, last day) as days ago."""
        g, rng = self.g, self.g.rng
        age_days, end_day = days
        needs_at = g.moment(age_days)
        wanted = rng.sample(g.need_codes, rng.randint(1, 3))
        for code in sorted(wanted):
            self.rows.needs.append(
                {
                    "id": g.ids(),
                    "person_id": person_id,
                    "need": code,
                    "category": g.needs[code].category,
                    "agency_id": lead.id,
                    "recorded_by_id": worker,
                    "recorded_at": needs_at,
                    "ended_at": None,
                }
            )
        self.timeline(
            person_id,
            needs_at,
            TimelineKind.NEEDS_CHANGED,
            Category.IDENTITY,
            lead.id,
            worker,
            {"changes": ",".join(f"+{code}" for code in sorted(wanted))},
        )
        if rng.random() >= 0.22:
            return
        count = 2 if rng.random() < 0.2 else 1
        for alert_type in rng.sample(g.alert_codes, count):
            alert_id = g.ids()
            raised = g.moment(rng.randint(max(end_day, age_days - 30), age_days))
            detail = rng.choice(ALERT_DETAILS[alert_type]) if rng.random() < 0.6 else ""
            category = g.alerts[alert_type].category
            self.rows.alerts.append(
                {
                    "id": alert_id,
                    "person_id": person_id,
                    "alert_type": alert_type,
                    "category": category,
                    "agency_id": lead.id,
                    "raised_by_id": worker,
                    "raised_at": raised,
                    "detail_enc": self.vault.seal(
                        person_id, "person_alerts", "detail_enc", alert_id, detail
                    )
                    if detail
                    else None,
                    "ended_at": None,
                    "ended_by_id": None,
                }
            )
            self.timeline(
                person_id,
                raised,
                TimelineKind.ALERT_RAISED,
                category,
                lead.id,
                worker,
                {"alert": alert_type},
            )

    def finish(self) -> _Rows:
        """Give contacts, notes and timeline entries ids in time order, and seal their text."""
        g, rng, vault = self.g, self.g.rng, self.vault
        self.pending.sort(key=lambda p: p.occurred_at)
        for pending in self.pending:
            contact_id = g.ids()
            agency, pid = pending.agency, pending.person_id
            kind, outcome, note = phrases.contact_note(rng, agency.kind, pending.who)
            agency_only = False
            if rng.random() < 0.04:
                agency_only = True
                note = phrases.agency_only_note(rng, agency.kind, pending.who) or note
            if rng.random() >= 0.85:
                note = ""
            place = phrases.place(rng) if kind in g.in_person and rng.random() < 0.6 else ""
            revised = bool(note) and rng.random() < 0.01
            at = pending.occurred_at
            self.rows.contacts.append(
                {
                    "id": contact_id,
                    "person_id": pid,
                    "agency_id": agency.id,
                    "worker_id": pending.worker_id,
                    "recorded_by_id": pending.worker_id,
                    "occurred_at": at,
                    "kind": kind,
                    "outcome": outcome,
                    "duration_minutes": rng.choice((15, 20, 30, 45, 60)) if place else None,
                    "place_enc": vault.seal(pid, "contacts", "place_enc", contact_id, place)
                    if place
                    else None,
                    "category": agency.category,
                    "note_revision": (2 if revised else 1) if note else 0,
                    "created_at": at,
                    "updated_at": at,
                    "version": 2 if revised else 1,
                }
            )
            self.timeline(
                pid,
                at,
                TimelineKind.CONTACT,
                agency.category,
                agency.id,
                pending.worker_id,
                {"kind": kind.value, "outcome": outcome.value},
                contact_id=contact_id,
            )
            if note:
                self._note(pending, contact_id, 1, note, agency_only, at)
            if revised:
                later = min(at + timedelta(days=1), g.now)
                self._note(pending, contact_id, 2, phrases.revision_of(note), agency_only, later)
                self.timeline(
                    pid,
                    later,
                    TimelineKind.NOTE_REVISED,
                    Category.CASE_NOTES,
                    agency.id,
                    pending.worker_id,
                    {"revision": "2"},
                    contact_id=contact_id,
                    agency_only=agency_only,
                )
        self.rows.timeline.sort(key=lambda row: row["occurred_at"])
        for row in self.rows.timeline:
            row["id"] = g.ids()
        return self.rows

    def _note(  # noqa: PLR0917
        self,
        pending: _Pending,
        contact_id: uuid.UUID,
        revision: int,
        body: str,
        agency_only: bool,
        at: datetime,
    ) -> None:
        note_id = self.g.ids()
        self.rows.notes.append(
            {
                "id": note_id,
                "contact_id": contact_id,
                "person_id": pending.person_id,
                "agency_id": pending.agency.id,
                "author_id": pending.worker_id,
                "revision": revision,
                "body_enc": self.vault.seal(pending.person_id, "notes", "body_enc", note_id, body),
                "agency_only": agency_only,
                "created_at": at,
            }
        )


# --- the generator ---------------------------------------------------------------------------


class Generator:
    def __init__(self, database: Database, kit: SecurityKit) -> None:
        self.database = database
        self.kit = kit
        self.blind = kit.blind_index
        self.rng = nm.seeded(SEED)
        #: Consents draw from their own stream: the people, families and contacts stay the
        #: same as in sets generated before consent existed.
        self.consent_rng = nm.seeded(SEED + 1)
        self.ids = _Ids()
        self.now = utcnow()
        self.today = london_today()
        info = information()
        self.alerts = info.alerts
        self.needs = info.needs
        self.alert_codes = sorted(self.alerts)
        self.need_codes = sorted(self.needs)
        self.housing_codes = list(HOUSING_WEIGHTS)
        self.housing_weights = list(HOUSING_WEIGHTS.values())
        self.in_person = {
            ContactKind.FACE_TO_FACE,
            ContactKind.OUTREACH,
            ContactKind.HOME_VISIT,
            ContactKind.WELFARE_CHECK,
        }
        self.agencies: list[_Agency] = []
        self.people_done = 0
        #: Referrals and treatment episodes (their own random streams); made by plan().
        self.maker: large_referrals.Maker

    def moment(self, days_ago: int) -> datetime:
        """A working-hours moment ``days_ago`` days before today (never after now)."""
        day = self.today - timedelta(days=days_ago)
        seconds = self.rng.randrange(8 * 3600, 18 * 3600)
        at = datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=seconds)
        return min(at, self.now)

    def plan(self, people: int, contacts: int) -> tuple[list[_Family], int | None, int]:
        """Families, named workers and contact counts; creates the workers. Returns the
        families, the benchmark person's index and how many workers were created."""
        with self.database.reading() as db:
            self.agencies = _agencies(db)
            for agency in self.agencies:
                agency.workers = _existing_workers(db, agency)
        families = _families(self.rng, self.agencies, people)
        for family in families:
            if not family.died:
                for index in family.open:
                    self.agencies[index].open_involvements += 1
        needed: dict[int, int] = {}
        for index, agency in enumerate(self.agencies):
            want = max(1, math.ceil(agency.open_involvements / TYPICAL_CASELOAD))
            needed[index] = max(0, want - len(agency.workers))
        password_hash = self.kit.passwords.hash(data.DEMO_PASSWORD)  # once for every worker
        existing = [len(agency.workers) for agency in self.agencies]
        with self._writer() as conn, conn.begin():
            created = _create_workers(
                conn,
                rng=self.rng,
                agencies=self.agencies,
                needed=needed,
                password_hash=password_hash,
                ids=self.ids,
            )
            _extra_roles(conn, self.agencies, existing)
        self.maker = self._maker()
        # Named workers: each open involvement takes a caseload slot of its agency's workers.
        slots: dict[int, list[int]] = {}
        hope = self._hope_worker()
        for index, agency in enumerate(self.agencies):
            fixed = {0: min(TYPICAL_CASELOAD, agency.open_involvements)} if index == hope else {}
            slots[index] = _caseload_slots(
                self.rng, agency.open_involvements, len(agency.workers), fixed
            )
        bench: int | None = None
        for number, family in enumerate(families):
            for index in family.open:
                agency = self.agencies[index]
                if family.died:
                    family.workers.append(self.rng.choice(agency.workers))
                    continue
                slot = slots[index].pop()
                family.workers.append(agency.workers[slot])
                if bench is None and index == hope and slot == 0:
                    bench = number
        _contact_counts(self.rng, families, contacts, bench)
        return families, bench, created

    def _maker(self) -> large_referrals.Maker:
        """Who may act for each agency (by role), for the referrals' transitions."""
        by_agency: dict[uuid.UUID, dict[Role, list[uuid.UUID]]] = {}
        with self.database.reading() as db:
            for user_id, agency_id, role in db.execute(
                select(User.id, User.agency_id, UserRole.role)
                .join(UserRole, UserRole.user_id == User.id)
                .where(User.active.is_(True))
                .order_by(User.email, UserRole.role)
            ):
                by_agency.setdefault(agency_id, {}).setdefault(role, []).append(user_id)
        return large_referrals.Maker(
            pathways().all(),
            [
                large_referrals.AgencyUsers(
                    agency.id, agency.kind, by_agency.get(agency.id, {}), agency.workers
                )
                for agency in self.agencies
            ],
            self.ids,
            self.now,
            working_days(),
            ladders().default_for(TaskSource.PATHWAY),
            SEED + 2,
        )

    def _hope_worker(self) -> int | None:
        for index, agency in enumerate(self.agencies):
            if agency.kind is AgencyKind.TREATMENT and agency.workers:
                return index
        return None

    def _writer(self) -> Connection:
        conn = self.database.engine.connect().execution_options(**{WRITE_OPTION: True})
        if conn.dialect.name == "sqlite":
            # A bigger page cache for this connection only: the indexes being filled stay in
            # memory instead of being read back from disk for every batch.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.commit()
        return conn

    def run(
        self,
        people: int,
        contacts: int,
        *,
        batch_size: int = 1000,
        progress: Callable[[Progress], None] = lambda _p: None,
    ) -> Manifest:
        started = wallclock.monotonic()
        families, bench, created = self.plan(people, contacts)
        bench_id: uuid.UUID | None = None
        done_contacts = 0

        def write(conn: Connection, rows: _Rows) -> int:
            with conn.begin():
                rows.write(conn)
            return len(rows.contacts)

        # One writer thread: batch N is written while batch N+1 is generated and encrypted.
        with self._writer() as conn, ThreadPoolExecutor(max_workers=max(1, WRITERS)) as writer:
            writing: Future[int] | None = None
            for start in range(0, people, batch_size):
                chunk = families[start : start + batch_size]
                person_ids = [self.ids() for _ in chunk]
                if bench is not None and start <= bench < start + batch_size:
                    bench_id = person_ids[bench - start]
                vault = Vault(self.kit.keystore)
                vault.new_people(person_ids)  # key first (committed), then data
                batch = _Batch(self, vault, chunk)
                for person_id, family in zip(person_ids, chunk, strict=True):
                    batch.person(person_id, family)
                rows = batch.finish()
                if writing is not None:
                    done_contacts += writing.result()
                    progress(self._progress(people, done_contacts, contacts, started))
                if WRITERS:
                    writing = writer.submit(write, conn, rows)
                else:
                    done_contacts += write(conn, rows)
                self.people_done += len(chunk)
            if writing is not None:
                done_contacts += writing.result()
            progress(self._progress(people, done_contacts, contacts, started))
        with self.database.transaction() as db:
            rebuild_latest_contacts(db)  # the bulk rows bypassed the contact service
        with self._writer() as conn, conn.begin():
            self._analyse(conn)
        with self.database.transaction() as db:
            recorder.record(
                db,
                SYSTEM,
                "demo.large_set_generated",
                details={"people": people, "contacts": done_contacts, "workers": created},
            )
        return self._manifest(families, bench, bench_id, done_contacts, created, started)

    def _progress(self, people: int, done_contacts: int, contacts: int, started: float) -> Progress:
        """How far the writing has got (``people_done`` counts the batches handed over)."""
        seconds = wallclock.monotonic() - started
        return Progress(self.people_done, people, done_contacts, contacts, seconds)

    @staticmethod
    def _analyse(conn: Connection) -> None:
        """Fresh planner statistics, as a live database would have."""
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.execute(text("ANALYZE"))

    def _manifest(  # noqa: PLR0917
        self,
        families: list[_Family],
        bench: int | None,
        bench_id: uuid.UUID | None,
        contacts: int,
        created: int,
        started: float,
    ) -> Manifest:
        hope = self._hope_worker()
        worker_email, caseload = "", 0
        if hope is not None:
            worker_id = self.agencies[hope].workers[0]
            caseload = sum(
                1
                for family in families
                if not family.died
                for index, named in zip(family.open, family.workers, strict=True)
                if index == hope and named == worker_id
            )
            with self.database.reading() as db:
                worker_email = db.scalar(select(User.email).where(User.id == worker_id)) or ""
        return Manifest(
            worker_email=worker_email,
            worker_caseload=caseload,
            person_id=str(bench_id) if bench_id else "",
            person_contacts=families[bench].contacts if bench is not None else 0,
            password=data.DEMO_PASSWORD,
            people=len(families),
            contacts=contacts,
            workers=created,
            seconds=wallclock.monotonic() - started,
        )


def generate(
    database: Database,
    kit: SecurityKit,
    *,
    people: int,
    contacts: int,
    batch_size: int = 1000,
    progress: Callable[[Progress], None] = lambda _p: None,
) -> Manifest:
    """Add ``people`` generated people with ``contacts`` contacts in all to a database that
    holds the partnership (:func:`casework.demo.data.load`) and no people yet."""
    return Generator(database, kit).run(people, contacts, batch_size=batch_size, progress=progress)
