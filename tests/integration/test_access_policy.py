"""The access policy's two forms agree: the SQL filters that scope lists select exactly the
people and items that the single-record checks allow, for every relation a viewer can have."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import select

from casework.access.categories import Category
from casework.access.policy import (
    PersonAccess,
    Viewer,
    may_read,
    person_access,
    reach,
    readable,
    readable_params,
    visible_people,
)
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.clock import utcnow
from casework.db import Database
from casework.people.models import Person, TimelineEntry
from tests.conftest import Builders


def test_visible_people_filter_agrees_with_the_single_record_check(
    database: Database, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    police = build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))
    admin = build.user(Role.ADMIN, agency=build.agency())
    created_by_treatment = build.person(treatment, "Ana", "One")
    shared_with_housing = build.person(treatment, "Ben", "Two")
    build.involve(shared_with_housing, housing, by=treatment)
    housing_own = build.person(housing, "Cai", "Three")
    police_involved = build.person(treatment, "Dee", "Four")
    build.involve(police_involved, police, by=treatment)
    everyone = [created_by_treatment, shared_with_housing, housing_own, police_involved]

    for user in (treatment, housing, police, admin):
        viewer = build.viewer(user)
        with database.reading() as db:
            listed = set(db.scalars(select(Person.id).where(visible_people(viewer))))
            single = {pid for pid in everyone if person_access(db, viewer, pid) is not None}
        assert listed == single, user.email
    with database.reading() as db:
        assert (
            set(db.scalars(select(Person.id).where(visible_people(build.viewer(admin))))) == set()
        )
        assert set(db.scalars(select(Person.id).where(visible_people(build.viewer(housing))))) == {
            shared_with_housing,
            housing_own,
        }


def test_readable_items_filter_agrees_with_may_read_for_every_combination(
    database: Database, build: Builders
) -> None:
    """Timeline entries of every category, recorded by the viewer's agency or another, shared
    or "my agency only", seen as involved, as creator only, or neither."""
    recorder = build.user(Role.WORKER)
    other = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    person = build.person(recorder, "Eli", "Five")
    entries: dict[uuid.UUID, tuple[uuid.UUID, Category, bool]] = {}
    with database.transaction() as db:
        for agency_id, category, agency_only in itertools.product(
            (recorder.agency_id, other.agency_id), list(Category), (False, True)
        ):
            entry = TimelineEntry(
                id=uuid.uuid4(),
                person_id=person,
                occurred_at=utcnow(),
                kind="contact",
                category=category,
                agency_id=agency_id,
                actor_id=recorder.id,
                agency_only=agency_only,
                details={},
            )
            db.add(entry)
            entries[entry.id] = (agency_id, category, agency_only)

    viewers = [
        build.viewer(recorder),
        build.viewer(build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))),
        Viewer(uuid.uuid4(), recorder.agency_id, AgencyKind.TREATMENT, frozenset({Role.ADMIN})),
    ]
    accesses = [
        PersonAccess(person, involved=True, creator=True),
        PersonAccess(person, involved=True, creator=False),
        PersonAccess(person, involved=False, creator=True),
        PersonAccess(person, involved=False, creator=False),
    ]
    checked = 0
    for viewer, access in itertools.product(viewers, accesses):
        with database.reading() as db:
            listed = set(
                db.scalars(
                    select(TimelineEntry.id).where(
                        TimelineEntry.person_id == person,
                        readable(
                            reach(viewer, access),
                            agency_col=TimelineEntry.agency_id,
                            category_col=TimelineEntry.category,
                            agency_only_col=TimelineEntry.agency_only,
                        ),
                    ),
                    readable_params(viewer),
                )
            )
        single = {
            entry_id
            for entry_id, (agency_id, category, agency_only) in entries.items()
            if may_read(
                viewer, access, agency_id=agency_id, category=category, agency_only=agency_only
            )
        }
        # The person's own creation and family entries (made by the services) count too.
        listed &= set(entries)
        assert listed == single, (viewer.roles, access)
        checked += len(entries)
        if viewer.agency_id == recorder.agency_id and Role.WORKER in viewer.roles:
            # 7 categories x shared/agency-only of its own, plus the other agency's shared
            # items it may reach: all 7 when involved, identity only as creator, none else.
            expected = 14 + (7 if access.involved else 1 if access.creator else 0)
            assert len(single) == expected, access
    assert checked == len(viewers) * len(accesses) * len(entries)
