"""The welfare-check pages: the person page's section, making and changing a schedule, its
history, pause, resume and end, recording a due check, the inbox, the team view, the red tag on
the caseload and the notification settings on the account page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.models import AuditEvent, AuditEventPerson
from casework.audit.recorder import SYSTEM
from casework.clock import london_today, to_london
from casework.contacts.models import Contact
from casework.db import Database
from casework.people.codes import ContactOutcome
from casework.tasks.models import Task, TaskSource, TaskState
from casework.users.models import User
from casework.welfare import services
from casework.welfare.models import Pattern, ScheduleEvent, ScheduleState, WelfareSchedule
from casework.welfare.services import ScheduleInput
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, sign_in_directly


def _as(app: Flask, user: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return client


def _schedule(
    build: Builders,
    database: Database,
    person_id: uuid.UUID,
    by: MadeUser,
    *,
    at: time | None = None,
    start_days: int = 0,
    kind: str = "welfare_standard",
    team_id: uuid.UUID | None = None,
    **changes: object,
) -> uuid.UUID:
    """A daily schedule made through the service (the first check due at ``at`` from today)."""
    data = ScheduleInput(
        kind=kind,
        reason="overdose_risk",
        pattern=changes.pop("pattern", Pattern.EVERY_N_DAYS),  # type: ignore[arg-type]
        at=at or time(23, 59),
        start=london_today() + timedelta(days=start_days),
        interval_days=changes.pop("interval_days", 1),  # type: ignore[arg-type]
        user_id=None if team_id else by.id,
        team_id=team_id,
        **changes,  # type: ignore[arg-type]
    )
    viewer = build.viewer(by)
    with database.transaction() as db:
        access = Builders._access_of(db, viewer, person_id)
        return services.create_schedule(db, SYSTEM, viewer, access, data)


def _open_task(database: Database, schedule_id: uuid.UUID) -> Task:
    with database.reading() as db:
        task = db.scalar(
            select(Task).where(
                Task.source == TaskSource.WELFARE_CHECK,
                Task.source_id == schedule_id,
                Task.state == TaskState.OPEN,
            )
        )
        assert task is not None
        db.expunge(task)
        return task


def _make_red(database: Database, task_id: uuid.UUID, frozen_clock: Clock) -> None:
    """What the runner's "red" step does (the runner itself is built elsewhere)."""
    with database.transaction() as db:
        db.execute(update(Task).where(Task.id == task_id).values(red_since=frozen_clock.now))


def _version(database: Database, schedule_id: uuid.UUID) -> int:
    with database.reading() as db:
        return db.get_one(WelfareSchedule, schedule_id).version


def _read_audited(database: Database, action: str, person_id: uuid.UUID) -> int:
    with database.reading() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .join(AuditEventPerson, AuditEventPerson.event_id == AuditEvent.id)
                .where(AuditEvent.action == action, AuditEventPerson.person_id == person_id)
            )
            or 0
        )


def _form(me: MadeUser, **changes: object) -> dict[str, object]:
    today = london_today()
    data: dict[str, object] = {
        "kind": "welfare_standard",
        "reason": "overdose_risk",
        "pattern": "every_n_days",
        "interval_days": "2",
        "at_time": "09:00",
        "start_date": [str(today.day), str(today.month), str(today.year)],
        "assignee": f"user:{me.id}",
    }
    data.update(changes)
    return data


# --- making and reading a schedule ---------------------------------------------------------


def test_a_worker_schedules_checks_and_sees_them_on_the_person_page(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    page = client.get(f"/people/{person}/welfare/new").get_data(as_text=True)
    assert "Schedule welfare checks" in page
    assert 'name="pattern"' in page
    assert 'name="weekdays"' in page
    response = post_form(
        client,
        f"/people/{person}/welfare/new",
        _form(me, pattern="weekdays", weekdays=["0", "3"], at_time="10:00", working_days_only="y"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mondays and Thursdays at 10:00, working days only" in detail
    assert "Risk of overdose" in detail
    assert "Schedule made" in detail
    overview = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Welfare checks" in overview
    assert "Mondays and Thursdays at 10:00, working days only" in overview
    assert "Next due:" in overview
    timeline = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "Welfare checks: schedule made" in timeline
    with database.reading() as db:
        schedule = db.scalars(select(WelfareSchedule)).one()
        assert schedule.weekdays == "03"
        assert schedule.working_days_only
    assert _read_audited(database, "welfare.schedule_viewed", person) == 1
    assert _read_audited(database, "person.viewed", person) >= 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": ""}, "kind", "Select the kind of check"),
        ({"reason": "made_up"}, "reason", "Select a reason from the list"),
        ({"pattern": ""}, "pattern", "Select how often the check happens"),
        ({"interval_days": "0"}, "interval_days", "from 1 to 365 days"),
        ({"interval_days": ""}, "interval_days", "Enter how often, from 1 to 365 days"),
        ({"pattern": "weekdays", "weekdays": []}, "weekdays", "Select at least one day"),
        ({"at_time": "25:99"}, "at_time", "Enter a time like 09:00"),
        ({"at_time": ""}, "at_time", "Enter the time of the check"),
        ({"start_date": ["31", "2", "2026"]}, "start_date", "Start date must be a real date"),
        ({"end_date": ["1", "1", "2020"]}, "end_date", "on or after the start date"),
        ({"assignee": ""}, "assignee", "Select who will do the checks"),
        ({"assignee": f"user:{uuid.uuid4()}"}, "assignee", "Select who will do the checks"),
        ({"request_agency": str(uuid.uuid4())}, "request_agency", "Select a partner agency"),
    ],
)
def test_bad_input_is_shown_on_its_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    database: Database,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    response = post_form(client, f"/people/{person}/welfare/new", _form(me, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert message in html
    assert re.search(rf'id="{field}(-error|-day)?"', html) or f'href="#{field}' in html
    with database.reading() as db:
        assert not db.scalar(select(func.count()).select_from(WelfareSchedule))


def test_a_tampered_partner_from_another_kind_is_refused_on_its_field(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    housing = build.agency("Roof Housing", kind=AgencyKind.HOUSING)
    build.agency("Northdale Police", kind=AgencyKind.POLICE)
    person = build.person(me)
    response = post_form(
        client, f"/people/{person}/welfare/new", _form(me, request_agency=str(housing.id))
    )
    assert "Select a partner agency from the list" in response.get_data(as_text=True)


def test_another_agency_gets_404_and_a_partner_without_sharing_sees_nothing(
    app: Flask, build: Builders, database: Database
) -> None:
    me = build.user(Role.WORKER)
    person = build.person(me)
    schedule = _schedule(build, database, person, me)
    task = _open_task(database, schedule)
    stranger = _as(app, build.user(Role.WORKER))
    for url in (
        f"/people/{person}/welfare/new",
        f"/people/{person}/welfare/{schedule}",
        f"/people/{person}/welfare/{schedule}/change",
        f"/welfare/checks/{task.id}",
    ):
        assert stranger.get(url).status_code == 404, url
    # A partner in the family, without consent covering the category: the person is visible,
    # the schedule is not, and changing or recording it is refused.
    partner_user = build.user(
        Role.WORKER, agency=build.agency("Partner Housing", kind=AgencyKind.HOUSING)
    )
    build.involve(person, partner_user, by=me)
    partner = _as(app, partner_user)
    overview = partner.get(f"/people/{person}").get_data(as_text=True)
    assert "Every day at 23:59" not in overview
    assert partner.get(f"/people/{person}/welfare/{schedule}").status_code == 404
    assert partner.get(f"/welfare/checks/{task.id}").status_code == 404
    html = partner.get(f"/people/{person}").get_data(as_text=True)
    before = _version(database, schedule)
    response = partner.post(
        f"/people/{person}/welfare/{schedule}/pause",
        data={"version": str(before), "csrf_token": csrf_from(html)},
    )
    assert response.status_code in (403, 404)
    assert _version(database, schedule) == before
    # Unknown ids.
    mine = _as(app, me)
    assert mine.get(f"/people/{person}/welfare/{uuid.uuid4()}").status_code == 404
    assert mine.get(f"/welfare/checks/{uuid.uuid4()}").status_code == 404


def test_a_partner_sees_a_shared_schedule_but_may_not_change_it(
    app: Flask, build: Builders, database: Database
) -> None:
    me = build.user(Role.WORKER)
    person = build.person(me)
    schedule = _schedule(build, database, person, me)
    partner_user = build.user(
        Role.WORKER, agency=build.agency("Partner Housing", kind=AgencyKind.HOUSING)
    )
    build.involve(person, partner_user, by=me)
    build.consent(person, by=me, to=partner_user, categories={Category.SUBSTANCE_USE})
    partner = _as(app, partner_user)
    overview = partner.get(f"/people/{person}").get_data(as_text=True)
    assert "Every day at 23:59" in overview
    detail = partner.get(f"/people/{person}/welfare/{schedule}")
    assert detail.status_code == 200
    assert "End schedule" not in detail.get_data(as_text=True)
    assert partner.get(f"/people/{person}/welfare/{schedule}/change").status_code == 403
    assert partner.get(f"/welfare/checks/{_open_task(database, schedule).id}").status_code == 403


# --- change, pause, resume, end ------------------------------------------------------------


def test_change_shows_before_and_after_in_the_history(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    schedule = _schedule(build, database, person, me, at=time(9, 0))
    url = f"/people/{person}/welfare/{schedule}/change"
    page = client.get(url).get_data(as_text=True)
    assert 'value="09:00"' in page
    response = post_form(
        client,
        url,
        _form(me, at_time="14:30", interval_days="3", version=str(_version(database, schedule))),
        page=url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = client.get(f"/people/{person}/welfare/{schedule}").get_data(as_text=True)
    assert "Time: 09:00 → 14:30" in detail
    assert "Every how many days: 1 → 3" in detail
    assert "Every 3 days at 14:30" in detail
    timeline = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "Welfare checks: schedule changed" in timeline


def test_a_stale_version_is_a_409_and_nothing_is_overwritten(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    schedule = _schedule(build, database, person, me, at=time(9, 0))
    url = f"/people/{person}/welfare/{schedule}/change"
    page = client.get(url).get_data(as_text=True)
    opened = _version(database, schedule)
    assert f'value="{opened}"' in page
    # Someone else pauses it meanwhile.
    viewer = build.viewer(me)
    with database.transaction() as db:
        access = Builders._access_of(db, viewer, person)
        services.pause_schedule(
            db, SYSTEM, viewer, access, schedule_id=schedule, expected_version=opened
        )
    response = client.post(
        url,
        data={**_form(me, at_time="14:30", version=str(opened)), "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 409
    assert "Someone else changed this schedule" in response.get_data(as_text=True)
    with database.reading() as db:
        assert db.get_one(WelfareSchedule, schedule).at_time == time(9, 0)
    # The same for the buttons.
    response = client.post(
        f"/people/{person}/welfare/{schedule}/end",
        data={"version": str(opened), "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 409
    with database.reading() as db:
        assert db.get_one(WelfareSchedule, schedule).state is ScheduleState.PAUSED


def test_pause_resume_and_end(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    schedule = _schedule(build, database, person, me)
    detail_url = f"/people/{person}/welfare/{schedule}"
    for action, state, words in (
        ("pause", ScheduleState.PAUSED, "Schedule paused"),
        ("resume", ScheduleState.ACTIVE, "Schedule resumed"),
        ("end", ScheduleState.ENDED, "Schedule ended"),
    ):
        page = client.get(detail_url).get_data(as_text=True)
        found = re.search(r'name="version"[^>]*value="(\d+)"', page)
        assert found, page
        response = client.post(
            f"{detail_url}/{action}",
            data={"version": found.group(1), "csrf_token": csrf_from(page)},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert words in response.get_data(as_text=True)
        with database.reading() as db:
            assert db.get_one(WelfareSchedule, schedule).state is state
    page = client.get(detail_url).get_data(as_text=True)
    assert "Paused" in page
    assert "Resumed" in page
    assert "Ended by a worker" in page
    assert "End schedule" not in page
    with database.reading() as db:
        actions = list(
            db.scalars(select(ScheduleEvent.action).where(ScheduleEvent.schedule_id == schedule))
        )
        assert sorted(actions) == ["created", "ended", "paused", "resumed"]
        assert not db.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.source_id == schedule, Task.state == TaskState.OPEN)
        )
    # A missing version is refused, not treated as the current one.
    assert (
        client.post(f"{detail_url}/pause", data={"csrf_token": csrf_from(page)}).status_code == 400
    )


# --- recording a check ----------------------------------------------------------------------


def test_recording_a_check_goes_back_to_the_inbox_with_the_next_due_time(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me, "Robin", "Marsh")
    schedule = _schedule(build, database, person, me)
    task = _open_task(database, schedule)
    inbox = client.get("/home/worker").get_data(as_text=True)
    assert "Marsh, Robin" in inbox or "Robin Marsh" in inbox
    assert f"/welfare/checks/{task.id}" in inbox
    page = client.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    for outcome in ("Seen and well", "Not found", "Attempted \N{EN DASH} no contact", "Declined"):
        assert outcome in page
    response = client.post(
        f"/welfare/checks/{task.id}",
        data={"outcome": "seen_well", "note": "Chatty, eating.", "csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert response.request.path == "/home/worker"
    assert "Welfare check saved" in html
    assert "The next check is due Tomorrow 23:59" in html
    assert f"/welfare/checks/{task.id}" not in html
    with database.reading() as db:
        contact = db.scalars(select(Contact)).one()
        assert contact.outcome is ContactOutcome.SEEN_WELL
    assert _read_audited(database, "welfare.check_viewed", person) == 1


def test_a_check_without_an_outcome_is_refused_on_its_field(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    task = _open_task(database, _schedule(build, database, person, me))
    response = post_form(client, f"/welfare/checks/{task.id}", {"outcome": "died"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Select what happened" in html
    assert "govuk-error-summary" in html
    assert _open_task(database, task.source_id or uuid.uuid4()).id == task.id


def test_a_check_someone_else_recorded_first_is_explained_kindly(
    app: Flask, build: Builders, database: Database
) -> None:
    agency = build.agency("Harbour Recovery")
    team = build.team(agency, "Outreach")
    first = build.user(Role.WORKER, agency=agency, team=team)
    colleague = build.user(Role.WORKER, agency=agency, team=team)
    person = build.person(first)
    schedule = _schedule(build, database, person, first, team_id=team.id)
    task = _open_task(database, schedule)
    one, two = _as(app, first), _as(app, colleague)
    page_one = one.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    page_two = two.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    assert (
        one.post(
            f"/welfare/checks/{task.id}",
            data={"outcome": "seen_well", "csrf_token": csrf_from(page_one)},
        ).status_code
        == 302
    )
    late = two.post(
        f"/welfare/checks/{task.id}",
        data={
            "outcome": "not_found",
            "note": "Not at the hostel",
            "csrf_token": csrf_from(page_two),
        },
    )
    assert late.status_code == 409
    assert "already been recorded" in late.get_data(as_text=True)
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Contact)) == 1
    # Opening it again later says the same, with no form.
    again = two.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    assert "already been recorded" in again
    assert 'name="outcome"' not in again


def test_the_record_page_fits_a_phone_first_layout(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    task = _open_task(database, _schedule(build, database, person, me))
    html = client.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    assert html.count('type="submit"') >= 1
    assert "govuk-!-width-full" in html
    assert html.count('name="outcome"') == 5


# --- the inbox and the team view -------------------------------------------------------------


def test_the_inbox_lists_due_and_overdue_checks_red_first_and_counts_them(
    app: Flask, build: Builders, database: Database, frozen_clock: Clock
) -> None:
    agency = build.agency("Harbour Recovery")
    team = build.team(agency, "Outreach")
    me = build.user(Role.WORKER, agency=agency, team=team, full_name="Casey Worker")
    other = build.user(Role.WORKER, agency=agency, full_name="Other Worker")
    first = build.person(me, "Ada", "Early")
    second = build.person(me, "Bea", "Latest")
    third = build.person(other, "Cal", "Elsewhere")
    future = build.person(me, "Dee", "Tomorrow")
    s1 = _schedule(build, database, first, me, at=time(23, 58))
    _schedule(build, database, second, me, team_id=team.id)  # the team's: mine too
    _schedule(build, database, third, other)  # someone else's
    _schedule(build, database, future, me, start_days=1)
    _make_red(database, _open_task(database, s1).id, frozen_clock)
    client = _as(app, me)
    html = client.get("/home/worker").get_data(as_text=True)
    checks = html.split("Welfare checks due today and overdue", 1)[1].split("Referrals waiting", 1)[
        0
    ]
    assert "Early" in checks
    assert "Latest" in checks
    assert "Elsewhere" not in checks
    assert "Tomorrow, Dee" not in checks
    assert "Dee Tomorrow" not in checks
    assert checks.index("Early") < checks.index("Latest")
    assert "Escalated \N{EN DASH} overdue" in checks
    assert "1 escalated" in checks
    # The badge: two items due today (the red one and the team's).
    assert re.search(
        r'moj-notification-badge">2<span class="govuk-visually-hidden"> due or '
        r"overdue",
        html,
    )
    # Every person listed is audited as seen.
    with database.reading() as db:
        seen = set(
            db.scalars(
                select(AuditEventPerson.person_id)
                .join(AuditEvent, AuditEvent.id == AuditEventPerson.event_id)
                .where(AuditEvent.action == "caseload.viewed")
            )
        )
    assert {first, second} <= seen
    assert third not in seen


def test_the_manager_sees_the_teams_escalated_checks(
    app: Flask, build: Builders, database: Database, frozen_clock: Clock
) -> None:
    agency = build.agency("Harbour Recovery")
    team = build.team(agency, "Outreach")
    worker = build.user(Role.WORKER, agency=agency, team=team, full_name="Casey Worker")
    manager = build.user(Role.MANAGER, agency=agency, team=team, manager=True)
    outsider = build.user(Role.WORKER, agency=agency, full_name="Not In Team")
    person = build.person(worker, "Eve", "Overdue")
    calm = build.person(worker, "Fay", "Fine")
    away = build.person(outsider, "Gus", "Away")
    red = _schedule(build, database, person, worker)
    _schedule(build, database, calm, worker)
    _schedule(build, database, away, outsider)
    _make_red(database, _open_task(database, red).id, frozen_clock)
    html = _as(app, manager).get("/home/manager").get_data(as_text=True)
    assert "1 check is escalated" in html
    assert "Overdue" in html
    assert "Fine" in html
    assert "Away" not in html
    assert html.index("Overdue, Eve" if "Overdue, Eve" in html else "Eve Overdue") < html.index(
        "Fine, Fay" if "Fine, Fay" in html else "Fay Fine"
    )
    assert "Casey Worker" in html
    # The caseload shows the red tag.
    caseload = _as(app, manager).get(f"/caseload?team={team.id}").get_data(as_text=True)
    assert "Welfare check overdue" in caseload
    assert _read_audited(database, "inbox.team_viewed", person) == 1


def test_a_manager_without_a_team_gets_a_plain_page(
    client: FlaskClient, signed_in: Callable[..., MadeUser]
) -> None:
    signed_in(Role.MANAGER)
    html = client.get("/home/manager").get_data(as_text=True)
    assert "You do not manage a team yet" in html


# --- notification settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mobile", "stored"),
    [("07700 900123", "+447700900123"), ("+44 7700 900123", "+447700900123")],
)
def test_notification_settings_are_saved(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    database: Database,
    mobile: str,
    stored: str,
) -> None:
    me = signed_in(Role.WORKER)
    page = client.get("/account").get_data(as_text=True)
    assert "never contain names" in page
    response = client.post(
        "/account/notifications",
        data={"channels": ["email", "sms"], "mobile_number": mobile, "csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert "Notification settings saved" in response.get_data(as_text=True)
    with database.reading() as db:
        user = db.get_one(User, me.id)
        assert user.notify_by_email
        assert user.notify_by_sms
        assert user.mobile_number == stored
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "account.notifications_changed")
            )
            == 1
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channels": ["sms"], "mobile_number": ""}, "Enter your work mobile number"),
        ({"mobile_number": "01632 960123"}, "Enter a UK mobile number"),
        ({"mobile_number": "0770090012"}, "Enter a UK mobile number"),
        ({"channels": ["pigeon"]}, "Select email, text message or neither"),
    ],
)
def test_bad_notification_settings_are_shown_on_the_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    database: Database,
    data: dict[str, object],
    message: str,
) -> None:
    me = signed_in(Role.WORKER)
    response = post_form(client, "/account/notifications", data, page="/account")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "govuk-error-summary" in html
    with database.reading() as db:
        assert not db.get_one(User, me.id).notify_by_sms


def test_the_record_page_time_is_london_time(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    task = _open_task(database, _schedule(build, database, person, me, at=time(23, 59)))
    assert to_london(task.due_at).strftime("%H:%M") == "23:59"
    html = client.get(f"/welfare/checks/{task.id}").get_data(as_text=True)
    assert "Due Today 23:59" in html
