"""Welfare checks and the one clock for all work: reminders, escalation, re-checks at send.

Everything is driven through the services the pages use and the sweeps the runner runs, on a
frozen clock that the tests move."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from casework.access.categories import Category
from casework.access.policy import PersonAccess
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM
from casework.clock import LONDON, london_today, to_london
from casework.contacts.models import Contact
from casework.db import Database
from casework.family import services as family_services
from casework.pathways.models import Referral
from casework.people import services as people_services
from casework.people.codes import ClosureReason, ContactKind, ContactOutcome
from casework.people.services import PersonError
from casework.security.kit import SecurityKit
from casework.tasks.models import Reminder, ReminderState, Task, TaskSource, TaskState
from casework.users.models import User
from casework.welfare import services as welfare
from casework.welfare.models import Pattern, ScheduleState, WelfareSchedule
from tests.conftest import Builders, Clock, MadeUser
from tests.welfare_support import (
    Captured,
    notifications,
    open_check,
    outbox,
    record,
    runner,
    schedule,
    sweep,
)


def _team_setup(build: Builders) -> tuple[MadeUser, MadeUser, uuid.UUID]:
    agency = build.agency("Harbour Recovery Service")
    team = build.team(agency, "Outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team)
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    person = build.person(worker, "Robin", "Fernhill")
    return worker, manager, person


def _at_in(clock: Clock, minutes: int) -> time:
    return to_london(clock.now + timedelta(minutes=minutes)).time().replace(second=0, microsecond=0)


def _subjects(database: Database, user: MadeUser) -> list[str]:
    return [n.subject for n in notifications(database, user.id)]


def test_a_check_reminds_then_turns_red_then_tells_the_manager_each_once(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    frozen_clock.now = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 09:00 in London
    worker, manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=time(10, 0))
    check = open_check(database, schedule_id)
    assert check is not None
    assert check.due_at == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert check.ladder == "welfare_standard"

    assert sweep(database, kit).counts == Counter()  # not due yet
    frozen_clock.now = check.due_at + timedelta(minutes=1)
    sweep(database, kit)
    sweep(database, kit)  # a second sweep sends nothing again
    assert _subjects(database, worker) == ["A welfare check is due now"]
    assert _subjects(database, manager) == []

    frozen_clock.advance(hours=4)
    sweep(database, kit)
    assert _subjects(database, worker)[-1] == "A welfare check is overdue"
    red = open_check(database, schedule_id)
    assert red is not None
    assert red.red_since == frozen_clock.now

    frozen_clock.advance(days=1)
    sweep(database, kit)
    assert _subjects(database, manager) == ["A welfare check in your team is a day overdue"]
    assert len(_subjects(database, worker)) == 2
    links = {n.link for n in notifications(database)}
    assert links == {f"/welfare/checks/{check.id}"}


def test_recording_the_check_logs_a_contact_and_makes_the_next_occurrence(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    frozen_clock.now = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    worker, manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=time(10, 0), interval_days=2)
    first = open_check(database, schedule_id)
    assert first is not None
    frozen_clock.now = first.due_at + timedelta(minutes=20)
    sweep(database, kit)
    done = record(build, person, first.id, by=worker, note="Talked in the day centre")
    assert done.next_due_at == datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
    with database.reading() as db:
        contact = db.get_one(Contact, done.contact_id)
        assert contact.kind is ContactKind.WELFARE_CHECK
        assert contact.outcome is ContactOutcome.SEEN_WELL
        assert contact.note_revision == 1
        assert db.get_one(Task, first.id).state is TaskState.DONE
    nxt = open_check(database, schedule_id)
    assert nxt is not None
    assert nxt.due_at == done.next_due_at
    # The old check's later steps are stopped at send time: nobody is chased for it.
    frozen_clock.advance(days=1)
    sweep(database, kit)
    assert _subjects(database, manager) == []
    with database.reading() as db:
        stopped = db.scalars(
            select(Reminder.outcome).where(
                Reminder.task_id == first.id, Reminder.state == ReminderState.STOPPED
            )
        ).all()
    assert set(stopped) == {"task_closed"}
    # A second worker recording the same (closed) check is told it was done already.
    with pytest.raises(welfare.CheckClosed):
        record(build, person, first.id, by=worker)


def test_a_not_found_check_tells_the_team_manager(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=_at_in(frozen_clock, 30))
    check = open_check(database, schedule_id)
    assert check is not None
    frozen_clock.advance(minutes=40)
    record(build, person, check.id, by=worker, outcome=ContactOutcome.NOT_FOUND)
    assert _subjects(database, manager) == ["A welfare check could not find the person"]


@pytest.mark.parametrize("change_day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_a_daily_check_at_0130_fires_once_each_day_across_the_clock_change(
    build: Builders,
    database: Database,
    kit: SecurityKit,
    frozen_clock: Clock,
    change_day: date,
) -> None:
    start = change_day - timedelta(days=2)
    frozen_clock.now = datetime.combine(start, time(0, 0), tzinfo=LONDON).astimezone(UTC)
    worker, _manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=time(1, 30), start=start)
    due_days: Counter[date] = Counter()
    end = frozen_clock.now + timedelta(days=5)
    while frozen_clock.now < end:
        frozen_clock.advance(minutes=15)
        before = len(notifications(database, worker.id))
        sweep(database, kit)
        for note in notifications(database, worker.id)[before:]:
            if note.subject == "A welfare check is due now":
                due_days[to_london(note.created_at).date()] += 1
                # The worker records it a few minutes later (as the runner sweeps again).
                check = open_check(database, schedule_id)
                assert check is not None
                record(build, person, check.id, by=worker)
    expected = {start + timedelta(days=n): 1 for n in range(5)}
    assert dict(due_days) == expected
    assert change_day in due_days


def test_death_stops_every_schedule_and_nothing_more_is_sent(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, _manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=_at_in(frozen_clock, 30))
    with database.transaction() as db:
        viewer = build.viewer(worker)
        people_services.record_death(
            db,
            SYSTEM,
            viewer,
            build._access_of(db, viewer, person),
            died_on=london_today(),
            expected_version=None,
        )
    frozen_clock.advance(days=3)
    sweep(database, kit)
    assert notifications(database) == []
    with database.reading() as db:
        found = db.get_one(WelfareSchedule, schedule_id)
        assert found.state is ScheduleState.ENDED
        assert found.end_reason == "person_died"
    assert open_check(database, schedule_id) is None
    with pytest.raises(PersonError, match="death is recorded"):
        schedule(build, person, by=worker)


def test_closing_the_case_stops_the_agencys_schedules(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, _manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=_at_in(frozen_clock, 30))
    with database.reading() as db:
        from casework.family.models import Involvement

        involvement_id = db.scalars(
            select(Involvement.id).where(Involvement.person_id == person)
        ).one()
    with database.transaction() as db:
        viewer = build.viewer(worker)
        family_services.end_involvement(
            db,
            actor=SYSTEM,
            viewer=viewer,
            access=PersonAccess(person, involved=True, creator=True),
            involvement_id=involvement_id,
            ended_on=london_today(),
            reason=ClosureReason.MOVED_AWAY
            if hasattr(ClosureReason, "MOVED_AWAY")
            else next(iter(ClosureReason)),
            expected_version=None,
        )
    frozen_clock.advance(days=1)
    sweep(database, kit)
    assert notifications(database) == []
    with database.reading() as db:
        assert db.get_one(WelfareSchedule, schedule_id).end_reason == "case_closed"


def _partner_setup(build: Builders) -> tuple[MadeUser, MadeUser, uuid.UUID, MadeUser]:
    worker, manager, person = _team_setup(build)
    police = build.agency("Northdale Police", kind=AgencyKind.POLICE)
    officer = build.user(Role.WORKER, Role.MANAGER, agency=police)
    return worker, manager, person, officer


def test_a_long_overdue_check_asks_the_partner_for_a_welfare_visit_when_consent_covers_it(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, manager, person, officer = _partner_setup(build)
    build.consent(person, by=worker, to=officer, categories=[Category.IDENTITY])
    schedule_id = schedule(
        build, person, by=worker, at=_at_in(frozen_clock, 30), request_agency_id=officer.agency_id
    )
    frozen_clock.advance(days=2, hours=1)
    sweep(database, kit)
    with database.reading() as db:
        request = db.scalars(select(Referral).where(Referral.person_id == person)).one()
        assert request.pathway == "welfare_request"
        assert request.to_agency_id == officer.agency_id
        visit = db.scalars(
            select(Task).where(Task.source_id == request.id, Task.state == TaskState.OPEN)
        ).one()
        assert visit.agency_id == officer.agency_id
    assert _subjects(database, manager)[-1].startswith(
        "A welfare check two days overdue was passed"
    )
    # Once: a second sweep makes no second request.
    frozen_clock.advance(hours=1)
    sweep(database, kit)
    with database.reading() as db:
        assert len(db.scalars(select(Referral).where(Referral.person_id == person)).all()) == 1
    assert open_check(database, schedule_id) is not None  # the check itself is still due


def test_consent_withdrawn_before_the_request_means_nothing_goes_to_that_agency(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, manager, person, officer = _partner_setup(build)
    consent = build.consent(person, by=worker, to=officer, categories=[Category.IDENTITY])
    schedule(
        build, person, by=worker, at=_at_in(frozen_clock, 30), request_agency_id=officer.agency_id
    )
    build.withdraw(person, consent, by=worker)
    frozen_clock.advance(days=2, hours=1)
    sweep(database, kit)
    with database.reading() as db:
        assert db.scalars(select(Referral).where(Referral.person_id == person)).all() == []
        police_tasks = db.scalars(select(Task).where(Task.agency_id == officer.agency_id)).all()
    assert police_tasks == []
    assert notifications(database, officer.id) == []
    assert "not covered" in _subjects(database, manager)[-1]


PLANTED = ("Zebedee", "Quillfeather", "Marrowbone", "14 Tannery Row", "overdosed twice")


def test_messages_outside_the_app_carry_none_of_the_persons_details(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, manager, _person = _team_setup(build)
    person = build.person(worker, "Zebedee", "Quillfeather", known_as="Marrowbone")
    with database.transaction() as db:
        for user in (worker, manager):
            found = db.get_one(User, user.id)
            found.notify_by_email = True
            found.notify_by_sms = True
            found.mobile_number = "07700900123"
    schedule_id = schedule(build, person, by=worker, at=_at_in(frozen_clock, 30))
    frozen_clock.advance(minutes=40)
    check = open_check(database, schedule_id)
    assert check is not None
    record(
        build,
        person,
        check.id,
        by=worker,
        outcome=ContactOutcome.SEEN_CONCERNS,
        note="Found at 14 Tannery Row; says he overdosed twice",
    )
    frozen_clock.advance(days=1, hours=6)
    captured = Captured()
    runner(database, kit, captured).run_once()
    assert {m.channel.value for m in captured.sent} == {"email", "sms"}
    assert len(captured.sent) == len(outbox(database)) >= 4
    texts = [m.body for m in captured.sent] + [n.subject for n in notifications(database)]
    texts += [n.link or "" for n in notifications(database)]
    for text in texts:
        for planted in PLANTED:
            assert planted.lower() not in text.lower()
    assert {m.body for m in captured.sent} == {
        "You have welfare checks due in Casework. Sign in to view them."
    }
    assert all(row.state.value == "sent" and row.provider_ref for row in outbox(database))


def test_a_team_schedule_reminds_every_member_and_a_disabled_one_is_left_out(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    agency = build.agency()
    team = build.team(agency, "Night outreach")
    first = build.user(Role.WORKER, agency=agency, team=team)
    second = build.user(Role.WORKER, agency=agency, team=team)
    gone = build.user(Role.WORKER, agency=agency, team=team, active=False)
    person = build.person(first)
    schedule(build, person, by=first, team_id=team.id, at=_at_in(frozen_clock, 30))
    frozen_clock.advance(minutes=31)
    sweep(database, kit)
    told = {n.user_id for n in notifications(database)}
    assert told == {first.id, second.id}
    assert gone.id not in told


def test_pathway_deadlines_are_reminded_by_the_same_ladder_rows(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    referrer = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    receiving = build.agency("Harbour Recovery Service")
    manager = build.user(Role.MANAGER, agency=receiving)
    person = build.person(referrer)
    build.consent(person, by=referrer, to=manager)
    outcome = build.referral(
        person,
        by=referrer,
        to=receiving,
        pathway="general",
        transition="refer",
        reason="treatment",
        summary="Asked for help with drinking",
    )
    with database.reading() as db:
        task_id, ladder, due_at = db.execute(
            select(Task.id, Task.ladder, Task.due_at).where(Task.source_id == outcome.referral_id)
        ).one()
        steps = db.scalars(select(Reminder.step).where(Reminder.task_id == task_id)).all()
    assert ladder == "deadline"
    assert sorted(steps) == [0, 1, 2, 3]
    frozen_clock.now = due_at + timedelta(minutes=5)
    sweep(database, kit)
    subjects = _subjects(database, manager)
    assert subjects == ["Referral work is due tomorrow", "Referral work is due now"]
    assert notifications(database, manager.id)[0].link == f"/referrals/{outcome.referral_id}"


def test_consent_reviews_become_tasks_once_and_close_when_withdrawn(
    build: Builders, database: Database, kit: SecurityKit, frozen_clock: Clock
) -> None:
    worker, _manager, person = _team_setup(build)
    partner = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    consent = build.consent(
        person, by=worker, to=partner, review_on=london_today() + timedelta(days=20)
    )
    build.consent(person, by=worker, to=partner, review_on=london_today() + timedelta(days=200))
    the_runner = runner(database, kit)
    the_runner.run_once()
    the_runner.run_once()
    with database.reading() as db:
        reviews = db.execute(
            select(Task.id, Task.source_id, Task.user_id, Task.ladder).where(
                Task.source == TaskSource.CONSENT_REVIEW
            )
        ).all()
    assert [tuple(row[1:]) for row in reviews] == [(consent, worker.id, "consent_review")]
    build.withdraw(person, consent, by=worker)
    the_runner.run_once()
    with database.reading() as db:
        assert db.get_one(Task, reviews[0][0]).state is TaskState.DONE


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"interval_days": 0}, "interval_days", "from 1 to 365"),
        ({"start": date(2027, 1, 10), "end": date(2027, 1, 1)}, "end_date", "on or after"),
        ({"pattern": Pattern.WEEKDAYS}, "weekdays", "at least one day"),
        ({"kind": "no_such_kind"}, "kind", "kind of check"),
        ({"reason": "gossip"}, "reason", "reason"),
        ({"pattern": Pattern.ONCE, "start": date(2020, 1, 1)}, "start_date", "No check falls"),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_on_its_field(
    build: Builders,
    database: Database,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    worker, _manager, person = _team_setup(build)
    with pytest.raises(PersonError, match=message) as raised:
        schedule(build, person, by=worker, **changes)  # type: ignore[arg-type]
    assert raised.value.field == field
    with database.reading() as db:
        assert db.scalars(select(WelfareSchedule)).all() == []
        assert db.scalars(select(Task)).all() == []


def test_a_schedule_needs_an_open_case_and_an_assignee_of_the_agency(
    build: Builders, database: Database
) -> None:
    worker, _manager, person = _team_setup(build)
    stranger = build.user(Role.WORKER)
    with pytest.raises(PersonError, match="worker from your agency"):
        schedule(build, person, by=worker, user_id=stranger.id)
    data = welfare.ScheduleInput(
        kind="welfare_standard",
        reason="other",
        pattern=Pattern.ONCE,
        at=time(10, 0),
        start=london_today() + timedelta(days=1),
    )
    viewer = build.viewer(worker)
    with database.transaction() as db:
        access = build._access_of(db, viewer, person)
        with pytest.raises(PersonError, match="a worker or a team"):
            welfare.create_schedule(db, SYSTEM, viewer, access, data)


def test_pause_resume_change_and_end_keep_history_and_move_the_open_check(
    build: Builders, database: Database, frozen_clock: Clock
) -> None:
    frozen_clock.now = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    worker, _manager, person = _team_setup(build)
    schedule_id = schedule(build, person, by=worker, at=time(10, 0))

    def version() -> int:
        with database.reading() as db:
            return db.get_one(WelfareSchedule, schedule_id).version

    def act(function: object, **kwargs: object) -> None:
        kwargs.setdefault("expected_version", version())
        with database.transaction() as db:
            viewer = build.viewer(worker)
            function(  # type: ignore[operator]
                db,
                SYSTEM,
                viewer,
                build._access_of(db, viewer, person),
                schedule_id=schedule_id,
                **kwargs,
            )

    act(welfare.pause_schedule)
    assert open_check(database, schedule_id) is None
    stale = version()
    act(welfare.resume_schedule)
    resumed = open_check(database, schedule_id)
    assert resumed is not None
    assert resumed.due_at == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    from casework.db import StaleVersion

    with pytest.raises(StaleVersion):
        act(welfare.pause_schedule, expected_version=stale)
    act(
        welfare.change_schedule,
        data=welfare.ScheduleInput(
            kind="welfare_high_risk",
            reason="recent_release",
            pattern=Pattern.WEEKDAYS,
            at=time(15, 0),
            start=date(2026, 6, 10),
            weekdays=frozenset({0, 3}),
            user_id=worker.id,
        ),
    )
    moved = open_check(database, schedule_id)
    assert moved is not None
    assert moved.due_at == datetime(2026, 6, 11, 14, 0, tzinfo=UTC)  # Thursday 15:00 BST
    assert moved.ladder == "welfare_high_risk"
    act(welfare.end_schedule)
    assert open_check(database, schedule_id) is None
    with database.reading() as db:
        from casework.welfare.models import ScheduleEvent

        events = db.execute(
            select(ScheduleEvent.action, ScheduleEvent.details).where(
                ScheduleEvent.schedule_id == schedule_id
            )
        ).all()
    actions = [action for action, _details in events]
    assert sorted(actions) == sorted(["created", "paused", "resumed", "changed", "ended"])
    change = next(details for action, details in events if action == "changed")
    assert change["before"]["kind"] == "welfare_standard"
    assert change["after"]["weekdays"] == "03"
