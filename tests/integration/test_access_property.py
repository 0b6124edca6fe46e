"""The access policy against a small, independent reference model (issue 4, "done when").

Hypothesis draws random worlds — agencies of several kinds, users with random roles, people
created by one agency and involved (or not, or no longer, or only through an open referral
addressed to them) with others, consent and other lawful bases in every state (not yet given,
in force, expiring, expired, withdrawn, superseded, rejected), and emergency accesses (open,
expired, ended) — writes each world to the real database, and checks every (user, person,
category, recorder, "my agency only", action) case:

* the policy's single-record answers (``person_access``, ``may_read``, the action predicates)
  equal the reference model's, which is written here from DECISIONS §3 alone;
* the SQL filters agree with the single-record checks: ``visible_people`` with
  ``person_access``, ``readable`` (one person) and ``readable_across`` (many) with
  ``may_read``, ``accesses`` with ``person_access``, ``visible_bases`` with ``may_see_basis``;
* a person page answers 200 exactly when the model says the person is visible, else 404.

"Today" is Europe/London's: the clock is set just after midnight in London, when UTC is still
on the day before, so a basis that ends "yesterday" in London must already be out of force.
At least 5,000 cases are checked per run.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from casework import clock
from casework.access import policy
from casework.access.categories import Category
from casework.access.policy import BasisParties, Viewer
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.consent.models import (
    BasisKind,
    EmergencyAccess,
    EmergencyReason,
    EmergencyReview,
    ReviewState,
    SharingBasis,
    SharingBasisCategory,
)
from casework.db import Database
from casework.family.models import Involvement
from casework.pathways.models import Referral
from casework.people.codes import FamilyRole, HousingStatus, Sex, TimelineKind
from casework.people.models import Person, TimelineEntry
from casework.people.records import Details, Names, seal_details, seal_names
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.users.models import User, UserRole
from tests.conftest import MadeUser, empty_all_tables, empty_keystore, sign_in_directly

# 00:30 on 1 July 2026 in London (BST) is 23:30 on 30 June in UTC.
NOW = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
TODAY = date(2026, 7, 1)

KINDS = [AgencyKind.TREATMENT, AgencyKind.HOUSING, AgencyKind.POLICE, AgencyKind.DOMESTIC_ABUSE]
ROLE_SETS = [
    frozenset({Role.WORKER}),
    frozenset({Role.WORKER}),
    frozenset({Role.ASSESSOR}),
    frozenset({Role.CUSTODY_OFFICER}),
    frozenset({Role.ASSESSOR}),
    frozenset({Role.MANAGER}),
    frozenset({Role.WORKER, Role.CUSTODY_OFFICER}),
    frozenset({Role.INFORMATION_GOVERNANCE}),
    frozenset({Role.ADMIN}),
    frozenset({Role.PARTNERSHIP_LEAD}),
]
AGENCIES = 3
#: Users belong to these agencies (two in the first, so emergency access is per user).
USER_AGENCIES = [0, 1, 2, 0]
PEOPLE = 2
ACTIONS = ("add", "log_contact", "change_identity", "manage_family", "record_basis", "emergency")


# --- the world -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasisSpec:
    kind: BasisKind
    recorded_by: int
    to_agency: int | None
    to_kind: AgencyKind | None
    categories: frozenset[Category]
    starts: int  # days from today
    length: int  # days
    withdrawn: bool
    superseded: bool
    review: ReviewState | None


@dataclass(frozen=True)
class World:
    kinds: list[AgencyKind]
    roles: list[frozenset[Role]]
    creators: list[int]
    #: (agency, person) -> "open" / "ended" / "none", or "referral" / "referral_ended": no
    #: involvement, but a referral addressed to the agency that is open / has ended
    involvements: dict[tuple[int, int], str]
    bases: list[list[BasisSpec]]
    #: (user, person) -> "active" / "expired" / "ended" / "none"
    emergencies: dict[tuple[int, int], str]


#: Days from today where a basis starts or ends: the boundaries, mostly (London's today is the
#: day after UTC's here, so -1 is "ended yesterday in London, still today in UTC").
BOUNDARIES = [-2, -1, 0, 1, 2]
LENGTHS = [0, 1, 2, 30, 365]
RARELY = st.sampled_from([False, False, False, True])


@st.composite
def basis_specs(draw: st.DrawFn) -> BasisSpec:
    kind = draw(st.sampled_from(list(BasisKind)))
    names_agency = draw(st.booleans())
    length = draw(st.sampled_from(LENGTHS))
    if draw(st.booleans()):  # the end on a boundary
        starts = draw(st.sampled_from(BOUNDARIES)) - length
    else:  # the start on a boundary
        starts = draw(st.sampled_from(BOUNDARIES))
    return BasisSpec(
        kind=kind,
        recorded_by=draw(st.integers(0, AGENCIES - 1)),
        to_agency=draw(st.integers(0, AGENCIES - 1)) if names_agency else None,
        to_kind=None if names_agency else draw(st.sampled_from(KINDS)),
        categories=frozenset(draw(st.sets(st.sampled_from(list(Category)), min_size=1))),
        starts=starts,
        length=length,
        withdrawn=draw(RARELY),
        superseded=draw(RARELY),
        review=None if kind is BasisKind.CONSENT else draw(st.sampled_from(list(ReviewState))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    return World(
        kinds=[draw(st.sampled_from(KINDS)) for _ in range(AGENCIES)],
        roles=[draw(st.sampled_from(ROLE_SETS)) for _ in USER_AGENCIES],
        creators=[draw(st.integers(0, AGENCIES - 1)) for _ in range(PEOPLE)],
        involvements={
            (a, p): draw(
                st.sampled_from(["open", "open", "ended", "none", "referral", "referral_ended"])
            )
            for a in range(AGENCIES)
            for p in range(PEOPLE)
        },
        bases=[draw(st.lists(basis_specs(), min_size=1, max_size=6)) for _ in range(PEOPLE)],
        emergencies={
            (u, p): draw(st.sampled_from(["none", "none", "active", "expired", "ended"]))
            for u in range(len(USER_AGENCIES))
            for p in range(PEOPLE)
        },
    )


# --- the reference model (DECISIONS §3, written without the policy's code) -------------------

CASE = {Role.WORKER, Role.CUSTODY_OFFICER, Role.ASSESSOR, Role.MANAGER}
EVERYTHING = set(Category)
READS = {
    Role.WORKER: EVERYTHING,
    Role.ASSESSOR: EVERYTHING,
    Role.MANAGER: EVERYTHING,
    Role.CUSTODY_OFFICER: {Category.IDENTITY, Category.OFFENDING},
}


@dataclass
class Model:
    world: World

    def agency_of(self, user: int) -> int:
        return USER_AGENCIES[user]

    def involved(self, agency: int, person: int) -> bool:
        # An open involvement, or an open referral addressed to the agency.
        return self.world.involvements[(agency, person)] in ("open", "referral")

    def emergency(self, user: int, person: int) -> bool:
        return self.world.emergencies[(user, person)] == "active"

    def case_role(self, user: int) -> bool:
        return bool(self.world.roles[user] & CASE)

    def visible(self, user: int, person: int) -> bool:
        agency = self.agency_of(user)
        return self.case_role(user) and (
            self.world.creators[person] == agency
            or self.involved(agency, person)
            or self.emergency(user, person)
        )

    def in_force(self, basis: BasisSpec) -> bool:
        start = TODAY + timedelta(days=basis.starts)
        end = start + timedelta(days=basis.length)
        if basis.withdrawn or basis.superseded or basis.review is ReviewState.REJECTED:
            return False
        return start <= TODAY <= end

    def covered(self, agency: int, person: int, category: Category) -> bool:
        kind = self.world.kinds[agency]
        return any(
            self.in_force(b)
            and category in b.categories
            and (b.to_agency == agency or (b.to_agency is None and b.to_kind == kind))
            for b in self.world.bases[person]
        )

    def may_read(
        self, user: int, person: int, category: Category, recorder: int, agency_only: bool
    ) -> bool:
        if not self.visible(user, person):
            return False
        if not any(category in READS.get(role, set()) for role in self.world.roles[user]):
            return False
        agency = self.agency_of(user)
        if recorder == agency:
            return True
        if agency_only:
            return False
        if self.emergency(user, person):
            return True
        involved = self.involved(agency, person)
        if category is Category.IDENTITY:
            return involved or self.world.creators[person] == agency
        return involved and self.covered(agency, person, category)

    def may(self, action: str, user: int, person: int) -> bool:
        roles = self.world.roles[user]
        agency = self.agency_of(user)
        involved = self.involved(agency, person)
        creator = self.world.creators[person] == agency
        frontline = bool(roles & {Role.WORKER, Role.ASSESSOR, Role.MANAGER})
        if action == "emergency":
            if not frontline:
                return False
            if not self.visible(user, person):
                return True
            if self.emergency(user, person):
                return False
            shared_all = involved and all(
                self.covered(agency, person, c) or c is Category.IDENTITY for c in Category
            )
            return not shared_all
        if not self.visible(user, person):
            return False
        return {
            "add": self.case_role(user) and involved,
            "log_contact": self.case_role(user) and (involved or self.emergency(user, person)),
            "change_identity": self.case_role(user) and (involved or creator),
            "manage_family": self.case_role(user) and (involved or creator),
            "record_basis": frontline and involved,
        }[action]


# --- writing a world ------------------------------------------------------------------------


@dataclass
class Written:
    agencies: list[uuid.UUID]
    users: list[MadeUser]
    people: list[uuid.UUID]
    viewers: list[Viewer]
    #: timeline entry id -> (person index, category, recorder index, agency only)
    entries: dict[uuid.UUID, tuple[int, Category, int, bool]] = field(default_factory=dict)
    bases: dict[uuid.UUID, BasisParties] = field(default_factory=dict)


def write(database: Database, kit: SecurityKit, world: World) -> Written:
    agencies = [uuid.uuid4() for _ in range(AGENCIES)]
    users = [uuid.uuid4() for _ in USER_AGENCIES]
    people = [uuid.uuid4() for _ in range(PEOPLE)]
    password = kit.passwords.hash("correct horse battery staple")
    vault = Vault(kit.keystore)
    vault.new_people(people)
    written = Written(
        agencies,
        [
            MadeUser(uid, f"{uid.hex}@example.org", "", None, agencies[USER_AGENCIES[i]])
            for i, uid in enumerate(users)
        ],
        people,
        [
            Viewer(uid, agencies[USER_AGENCIES[i]], world.kinds[USER_AGENCIES[i]], world.roles[i])
            for i, uid in enumerate(users)
        ],
    )
    rows: dict[Any, list[dict[str, Any]]] = {
        table: []
        for table in (
            Involvement,
            Referral,
            SharingBasis,
            SharingBasisCategory,
            EmergencyAccess,
            TimelineEntry,
            UserRole,
        )
    }
    for p, person in enumerate(people):
        for a, agency in enumerate(agencies):
            state = world.involvements[(a, p)]
            if state.startswith("referral"):
                rows[Referral].append(
                    {
                        "id": uuid.uuid4(),
                        "person_id": person,
                        "pathway": "general",
                        "stage": "waiting",
                        "stage_category": Category.IDENTITY,
                        "category": Category.IDENTITY,
                        "reference": f"REF-2026-{uuid.uuid4().hex[:8].upper()}",
                        "from_agency_id": agencies[(a + 1) % len(agencies)],
                        "to_agency_id": agency,
                        "created_by_id": users[0],
                        "created_at": NOW - timedelta(days=3),
                        "updated_at": NOW - timedelta(days=3),
                        "closed_at": NOW - timedelta(days=1) if state.endswith("ended") else None,
                        "data": {},
                        "version": 1,
                    }
                )
            elif state != "none":
                rows[Involvement].append(
                    {
                        "id": uuid.uuid4(),
                        "person_id": person,
                        "agency_id": agency,
                        "role": FamilyRole.KEY_WORKER,
                        "is_lead": False,
                        "started_on": TODAY - timedelta(days=100),
                        "ended_on": TODAY - timedelta(days=1) if state == "ended" else None,
                        "version": 1,
                    }
                )
            for category, only in itertools.product(Category, (False, True)):
                entry = uuid.uuid4()
                written.entries[entry] = (p, category, a, only)
                rows[TimelineEntry].append(
                    {
                        "id": entry,
                        "person_id": person,
                        "occurred_at": NOW - timedelta(hours=1),
                        "kind": TimelineKind.CONTACT,
                        "category": category,
                        "agency_id": agency,
                        "actor_id": users[0],
                        "contact_id": None,
                        "agency_only": only,
                        "details": {},
                        "created_at": NOW,
                    }
                )
        for spec in world.bases[p]:
            basis_id = uuid.uuid4()
            start = TODAY + timedelta(days=spec.starts)
            recorder_agency = agencies[spec.recorded_by]
            written.bases[basis_id] = BasisParties(
                agencies[spec.to_agency] if spec.to_agency is not None else None,
                spec.to_kind,
                recorder_agency,
            )
            rows[SharingBasis].append(
                {
                    "id": basis_id,
                    "person_id": person,
                    "kind": spec.kind,
                    "agency_id": agencies[spec.to_agency] if spec.to_agency is not None else None,
                    "agency_kind": spec.to_kind,
                    "statement_enc": b"x",
                    "starts_on": start,
                    "ends_on": start + timedelta(days=spec.length),
                    "recorded_at": NOW - timedelta(days=10),
                    "recorded_by_id": users[spec.recorded_by],
                    "recorded_by_agency_id": recorder_agency,
                    "superseded_at": NOW - timedelta(days=1) if spec.superseded else None,
                    "withdrawn_on": TODAY - timedelta(days=1) if spec.withdrawn else None,
                    "withdrawn_at": NOW - timedelta(days=1) if spec.withdrawn else None,
                    "review_state": spec.review,
                    "version": 1,
                }
            )
            rows[SharingBasisCategory].extend(
                {"basis_id": basis_id, "category": c} for c in spec.categories
            )
    for (u, p), state in world.emergencies.items():
        if state == "none":
            continue
        rows[EmergencyAccess].append(
            {
                "id": uuid.uuid4(),
                "person_id": people[p],
                "user_id": users[u],
                "agency_id": agencies[USER_AGENCIES[u]],
                "reason": EmergencyReason.RISK_TO_LIFE,
                "reason_enc": b"x",
                "started_at": NOW - timedelta(hours=5 if state == "expired" else 1),
                "expires_at": NOW
                + (timedelta(hours=-1) if state == "expired" else timedelta(hours=3)),
                "ended_at": NOW - timedelta(minutes=5) if state == "ended" else None,
                "review_state": EmergencyReview.PENDING,
                "version": 1,
            }
        )
    for i, roles in enumerate(world.roles):
        rows[UserRole].extend({"user_id": users[i], "role": role} for role in roles)
    with database.transaction() as db:
        db.execute(
            insert(Agency),
            [
                {"id": agency, "name": f"Agency {agency.hex[:10]}", "kind": kind, "active": True}
                for agency, kind in zip(agencies, world.kinds, strict=True)
            ],
        )
        db.execute(
            insert(User),
            [
                {
                    "id": uid,
                    "email": f"{uid.hex}@example.org",
                    "full_name": f"User {i}",
                    "agency_id": agencies[USER_AGENCIES[i]],
                    "active": True,
                    "password_hash": password,
                    "must_change_password": False,
                }
                for i, uid in enumerate(users)
            ],
        )
        db.execute(
            insert(Person),
            [
                {
                    "id": person,
                    "names_enc": seal_names(vault, person, Names("Test", f"Person{p}")),
                    "details_enc": seal_details(vault, person, Details()),
                    "sex": Sex.NOT_KNOWN,
                    "housing_status": HousingStatus.NOT_KNOWN,
                    "created_by_agency_id": agencies[world.creators[p]],
                    "created_by_id": users[0],
                    "version": 1,
                }
                for p, person in enumerate(people)
            ],
        )
        for table in (
            UserRole,
            Involvement,
            Referral,
            SharingBasis,
            SharingBasisCategory,
            EmergencyAccess,
            TimelineEntry,
        ):
            if rows[table]:
                db.execute(insert(table), rows[table])
    return written


# --- the test ---------------------------------------------------------------------------------


def _check_world(app: Flask, database: Database, world: World, written: Written) -> int:
    model = Model(world)
    checked = 0
    with database.reading() as db:
        for u, viewer in enumerate(written.viewers):
            listed = set(
                db.scalars(
                    select(Person.id).where(
                        Person.id.in_(written.people), policy.visible_people(viewer, now=NOW)
                    )
                )
            )
            many = policy.accesses(db, viewer, written.people, now=NOW)
            for p, person in enumerate(written.people):
                access = policy.person_access(db, viewer, person, now=NOW)
                expected = model.visible(u, p)
                assert (access is not None) == expected, (u, p, world)
                assert (person in listed) == expected, ("visible_people", u, p)
                assert many.get(person) == access, ("accesses", u, p)
                checked += 1
                for action in ACTIONS:
                    assert _policy_may(action, viewer, access) == model.may(action, u, p), (
                        action,
                        u,
                        p,
                        world,
                    )
                    checked += 1
                checked += _check_items(db, model, written, u, p, access)
            checked += _check_across(db, model, written, u)
            checked += _check_bases(db, written, viewer)
    return checked


def _policy_may(action: str, viewer: Viewer, access: policy.PersonAccess | None) -> bool:
    if action == "emergency":
        return policy.may_open_in_emergency(viewer, access)
    if access is None:
        return False
    return {
        "add": policy.may_add,
        "log_contact": policy.may_log_contact,
        "change_identity": policy.may_change_identity,
        "manage_family": policy.may_manage_family,
        "record_basis": policy.may_record_basis,
    }[action](viewer, access)


def _check_items(
    db: Any,
    model: Model,
    written: Written,
    u: int,
    p: int,
    access: policy.PersonAccess | None,
) -> int:
    viewer, person = written.viewers[u], written.people[p]
    mine = {e: facts for e, facts in written.entries.items() if facts[0] == p}
    single = set()
    for entry, (_p, category, recorder, only) in mine.items():
        expected = model.may_read(u, p, category, recorder, only)
        actual = access is not None and policy.may_read(
            viewer,
            access,
            agency_id=written.agencies[recorder],
            category=category,
            agency_only=only,
        )
        assert actual == expected, ("may_read", u, p, category, recorder, only, model.world)
        if actual:
            single.add(entry)
    if access is not None:
        listed = set(
            db.scalars(
                select(TimelineEntry.id).where(
                    TimelineEntry.person_id == person,
                    policy.readable(
                        agency_col=TimelineEntry.agency_id,
                        category_col=TimelineEntry.category,
                        agency_only_col=TimelineEntry.agency_only,
                    ),
                ),
                policy.readable_params(viewer, access),
            )
        )
        assert listed == single, ("readable", u, p)
    return len(mine)


def _check_across(db: Any, model: Model, written: Written, u: int) -> int:
    viewer = written.viewers[u]
    listed = set(
        db.scalars(
            select(TimelineEntry.id).where(
                policy.readable_across(
                    person_col=TimelineEntry.person_id,
                    agency_col=TimelineEntry.agency_id,
                    category_col=TimelineEntry.category,
                    agency_only_col=TimelineEntry.agency_only,
                )
            ),
            policy.readable_across_params(viewer, now=NOW),
        )
    )
    expected = {
        entry
        for entry, (p, category, recorder, only) in written.entries.items()
        if model.may_read(u, p, category, recorder, only)
    }
    assert listed == expected, ("readable_across", u)
    return len(written.entries)


def _check_bases(db: Any, written: Written, viewer: Viewer) -> int:
    listed = set(
        db.scalars(
            select(SharingBasis.id).where(
                SharingBasis.person_id.in_(written.people), policy.visible_bases(viewer)
            )
        )
    )
    single = {
        basis_id
        for basis_id, parties in written.bases.items()
        if policy.may_see_basis(viewer, parties)
    }
    assert listed == single, "visible_bases"
    return len(written.bases)


def _check_pages(app: Flask, model: Model, written: Written) -> int:
    """Through HTTP: a person page is 200 when the model says visible, else 404 (or 403 for a
    role that may not open person pages at all)."""
    checked = 0
    for u, user in enumerate(written.users):
        client = app.test_client()
        sign_in_directly(app, client, user)
        for p, person in enumerate(written.people):
            status = client.get(f"/people/{person}/timeline").status_code
            if not model.case_role(u):
                assert status == 403, (u, p, status)
            else:
                assert status == (200 if model.visible(u, p) else 404), (u, p, status)
            checked += 1
    return checked


def test_policy_agrees_with_the_reference_model(
    app: Flask, database: Database, kit: SecurityKit
) -> None:
    clock.set_source(lambda: NOW)
    total = {"cases": 0, "worlds": 0}

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(world=worlds())
    def check(world: World) -> None:
        try:
            written = write(database, kit, world)
            total["cases"] += _check_world(app, database, world, written)
            if total["worlds"] % 4 == 0:
                total["cases"] += _check_pages(app, Model(world), written)
            total["worlds"] += 1
        finally:
            empty_all_tables(database)
            empty_keystore(kit)

    check()
    assert total["cases"] >= 5_000, total
