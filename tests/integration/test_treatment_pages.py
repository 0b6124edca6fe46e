"""Treatment episodes through the pages (start, end, who may, who sees them) and the
prevalence estimates reference page; ``prevalence_for`` as the reports use it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import Agency, AgencyKind
from casework.audit.models import AuditEvent
from casework.audit.recorder import SYSTEM
from casework.clock import london_today
from casework.db import Database
from casework.people.codes import TimelineKind
from casework.people.models import Person, TimelineEntry
from casework.people.services import PersonError
from casework.security.vault import Vault
from casework.treatment import queries, services
from casework.treatment.models import (
    DischargeReason,
    Modality,
    PrevalenceEstimate,
    SubstanceGroup,
    TreatmentEpisode,
)
from tests.conftest import Builders, MadeUser, post_form, sign_in_directly


def _as(app: Flask, user: MadeUser) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return client


def _dmy(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _start_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "started_on": _dmy(london_today() - timedelta(days=10)),
        "substance_group": "opiates_and_crack",
        "modality": "pharmacological",
    }
    data.update(changes)
    return data


def _episodes(database: Database, person_id: uuid.UUID) -> list[TreatmentEpisode]:
    with database.reading() as db:
        found = list(
            db.scalars(select(TreatmentEpisode).where(TreatmentEpisode.person_id == person_id))
        )
        for episode in found:
            db.expunge(episode)
        return found


def _audited(database: Database, action: str) -> int:
    with database.reading() as db:
        return int(
            db.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


def _start(client: FlaskClient, person: uuid.UUID, **changes: object) -> TreatmentEpisode:
    response = post_form(client, f"/people/{person}/treatment/new", _start_form(**changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    return next(e for e in _episodes_of_client(client, person) if e.ended_on is None)


def _episodes_of_client(client: FlaskClient, person: uuid.UUID) -> list[TreatmentEpisode]:
    database: Database = client.application.extensions["casework.database"]
    return _episodes(database, person)


# --- starting and ending ---------------------------------------------------------------------


def test_a_treatment_worker_starts_and_ends_an_episode(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)  # the builders' default agency kind is treatment
    person = build.person(me)
    page = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Start a treatment episode" in page
    form_page = client.get(f"/people/{person}/treatment/new").get_data(as_text=True)
    assert 'name="substance_group"' in form_page
    assert 'name="started_on"' in form_page
    episode = _start(client, person)
    assert episode.substance_group is SubstanceGroup.OPIATES_AND_CRACK
    assert episode.modality is Modality.PHARMACOLOGICAL
    assert episode.agency_id == me.agency_id
    assert episode.worker_id == me.id
    page = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Both opiates and crack" in page
    assert "Pharmacological (prescribing)" in page
    assert "End this episode" in page
    assert "Start a treatment episode" not in page  # one open episode per agency
    ended_on = london_today() - timedelta(days=1)
    response = post_form(
        client,
        f"/people/{person}/treatment/{episode.id}/end",
        {"ended_on": _dmy(ended_on), "discharge_reason": "completed_free", "version": "1"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [done] = _episodes(database, person)
    assert done.ended_on == ended_on
    assert done.discharge_reason is DischargeReason.COMPLETED_FREE
    assert done.ended_by_id == me.id
    page = client.get(f"/people/{person}").get_data(as_text=True)
    assert "Completed, free of dependence" in page
    assert "Start a treatment episode" in page
    # Timeline and audit, both written with the change.
    with database.reading() as db:
        entries = db.execute(
            select(TimelineEntry.details, TimelineEntry.category, TimelineEntry.agency_id).where(
                TimelineEntry.person_id == person, TimelineEntry.kind == TimelineKind.TREATMENT
            )
        ).all()
    assert {e.details["action"] for e in entries} == {"started", "ended"}
    assert {(e.category, e.agency_id) for e in entries} == {(Category.SUBSTANCE_USE, me.agency_id)}
    assert _audited(database, "treatment.episode_started") == 1
    assert _audited(database, "treatment.episode_ended") == 1
    assert _audited(database, "treatment.start_viewed") >= 1
    timeline = client.get(f"/people/{person}/timeline").get_data(as_text=True)
    assert "Treatment started" in timeline
    assert "Treatment ended" in timeline


def test_ending_with_died_does_not_record_a_death(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.ASSESSOR)
    person = build.person(me)
    episode = _start(client, person)
    response = post_form(
        client,
        f"/people/{person}/treatment/{episode.id}/end",
        {"ended_on": _dmy(london_today()), "discharge_reason": "died", "version": "1"},
    )
    assert response.status_code == 302
    with database.reading() as db:
        assert db.get_one(Person, person).died_on is None
    assert _episodes(database, person)[0].discharge_reason is DischargeReason.DIED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"started_on": _dmy(london_today() + timedelta(days=1))},
            "started_on",
            "must be today or in the past",
        ),
        ({"started_on": ["1", "1", "1970"]}, "started_on", "on or after their date of birth"),
        ({"started_on": ["31", "2", "2025"]}, "started_on", "must be a real date"),
        ({"started_on": ["", "", ""]}, "started_on", "Enter date treatment started"),
        ({"substance_group": "heroin"}, "substance_group", "Select the substance group"),
        ({"substance_group": ""}, "substance_group", "Select the substance group"),
        ({"modality": "magic"}, "modality", "Select the main treatment"),
    ],
)
def test_bad_starts_are_refused_on_their_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    database: Database,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)  # born 17 May 1980
    response = post_form(client, f"/people/{person}/treatment/new", _start_form(**changes))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert f'href="#{field}' in page  # the error summary links to the field
    assert _episodes(database, person) == []


def test_a_second_open_episode_is_refused(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    _start(client, person)
    response = post_form(client, f"/people/{person}/treatment/new", _start_form())
    assert response.status_code == 200
    assert "already has an open treatment episode" in response.get_data(as_text=True)
    assert len(_episodes(database, person)) == 1


def test_the_partial_unique_index_backs_the_one_open_episode_rule(
    build: Builders, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = build.user(Role.WORKER)
    person = build.person(me)
    viewer = build.viewer(me)
    with database.transaction() as db:
        db.add(
            TreatmentEpisode(
                person_id=person,
                agency_id=me.agency_id,
                started_on=london_today(),
                substance_group=SubstanceGroup.ALCOHOL_ONLY,
                modality=Modality.PSYCHOSOCIAL,
                recorded_by_id=me.id,
            )
        )
    with database.transaction() as db:
        access = Builders._access_of(db, viewer, person)
        # The service's own check misses it (as in a race): the index refuses the second one.
        monkeypatch.setattr(services, "open_episode_id", lambda *_args: None)
        with pytest.raises(PersonError, match="already has an open"):
            services.start_episode(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                access,
                started_on=london_today(),
                substance_group=SubstanceGroup.ALCOHOL_ONLY,
                modality=Modality.PSYCHOSOCIAL,
            )
    assert len(_episodes(database, person)) == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"ended_on": "tomorrow"}, "ended_on", "must be today or in the past"),
        ({"ended_on": "before"}, "ended_on", "same as or after the date it started"),
        ({"discharge_reason": ""}, "discharge_reason", "Select why the episode ended"),
        ({"discharge_reason": "escaped"}, "discharge_reason", "Select why the episode ended"),
        ({"ended_on": ["", "13", "2025"]}, "ended_on", "must include a day"),
    ],
)
def test_bad_ends_are_refused_on_their_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    database: Database,
    values: dict[str, object],
    field: str,
    message: str,
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    episode = _start(client, person)
    days = {
        "tomorrow": london_today() + timedelta(days=1),
        "before": london_today() - timedelta(days=11),
    }
    data: dict[str, object] = {
        "ended_on": _dmy(london_today()),
        "discharge_reason": "dropped_out",
        "version": "1",
    }
    for key, value in values.items():
        data[key] = _dmy(days[value]) if isinstance(value, str) and value in days else value
    response = post_form(client, f"/people/{person}/treatment/{episode.id}/end", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert f'href="#{field}' in page
    assert _episodes(database, person)[0].ended_on is None


def test_a_stale_version_answers_409(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    episode = _start(client, person)
    url = f"/people/{person}/treatment/{episode.id}/end"
    html = client.get(url).get_data(as_text=True)
    assert 'name="version"' in html
    form: dict[str, object] = {"ended_on": _dmy(london_today()), "discharge_reason": "other"}
    assert post_form(client, url, {**form, "version": "0"}).status_code == 409
    assert _episodes(database, person)[0].ended_on is None
    # Without a version at all: refused on the form, never a silent overwrite.
    response = post_form(client, url, form)
    assert response.status_code == 200
    assert "missing its version" in response.get_data(as_text=True)


def test_an_ended_episode_cannot_be_ended_again(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    episode = _start(client, person)
    url = f"/people/{person}/treatment/{episode.id}/end"
    form: dict[str, object] = {
        "ended_on": _dmy(london_today()),
        "discharge_reason": "other",
        "version": "1",
    }
    assert post_form(client, url, form).status_code == 302
    assert client.get(url).status_code == 404


def test_a_tampered_episode_id_answers_404(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    me = signed_in(Role.WORKER)
    person, other = build.person(me), build.person(me, "Sam")
    episode = _start(client, other)
    assert client.get(f"/people/{person}/treatment/{episode.id}/end").status_code == 404
    assert client.get(f"/people/{person}/treatment/{uuid.uuid4()}/end").status_code == 404


# --- who may record, and who sees ---------------------------------------------------------


def test_a_user_of_another_kind_of_agency_may_not_record(
    app: Flask, build: Builders, database: Database
) -> None:
    treatment = build.user(Role.WORKER)
    person = build.person(treatment)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    build.involve(person, housing)
    build.consent(person, by=treatment, to=housing)
    client = _as(app, treatment)
    episode = _start(client, person)
    theirs = _as(app, housing)
    page = theirs.get(f"/people/{person}").get_data(as_text=True)
    assert "Both opiates and crack" in page  # consent covers substance use: they read it
    assert "Start a treatment episode" not in page
    assert "End this episode" not in page
    assert theirs.get(f"/people/{person}/treatment/new").status_code == 403
    response = theirs.post(f"/people/{person}/treatment/new", data=_start_form())
    assert response.status_code in {400, 403}
    assert theirs.get(f"/people/{person}/treatment/{episode.id}/end").status_code == 403
    assert len(_episodes(database, person)) == 1


def test_a_treatment_agency_that_is_not_involved_may_not_record(
    app: Flask, build: Builders
) -> None:
    first = build.user(Role.WORKER)
    person = build.person(first)
    second = build.user(Role.WORKER)  # another treatment agency, not involved: cannot see them
    client = _as(app, second)
    assert client.get(f"/people/{person}/treatment/new").status_code == 404


def test_a_custody_officer_in_a_treatment_agency_may_not_record(
    app: Flask, build: Builders
) -> None:
    worker = build.user(Role.WORKER)
    person = build.person(worker)
    with build.database.reading() as db:
        agency = db.get_one(Agency, worker.agency_id)
        db.expunge(agency)
    officer = build.user(Role.CUSTODY_OFFICER, agency=agency)
    client = _as(app, officer)
    assert client.get(f"/people/{person}/treatment/new").status_code == 403


def test_without_consent_for_substance_use_another_agency_sees_no_episodes(
    app: Flask, build: Builders
) -> None:
    treatment = build.user(Role.WORKER)
    person = build.person(treatment)
    housing = build.user(Role.WORKER, agency=build.agency(kind=AgencyKind.HOUSING))
    build.involve(person, housing)
    build.consent(person, by=treatment, to=housing, categories={Category.HOUSING})
    _start(_as(app, treatment), person)
    theirs = _as(app, housing)
    page = theirs.get(f"/people/{person}").get_data(as_text=True)
    assert "Both opiates and crack" not in page
    assert "No treatment episodes that you can see" in page
    viewer = build.viewer(housing)
    with build.database.reading() as db:
        access = Builders._access_of(db, viewer, person)
        assert queries.episodes_for_person(db, viewer, access) == []
        [episode] = _episodes(build.database, person)
        with pytest.raises(LookupError):
            queries.episode(db, viewer, access, episode.id)


# --- prevalence estimates -----------------------------------------------------------------


def _estimate(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "substance_group": "alcohol_only",
        "year": "2025",
        "estimate": "1,250",
        "source": "Fictional partnership needs assessment 2025",
    }
    data.update(changes)
    return data


def _stored_estimates(database: Database) -> list[PrevalenceEstimate]:
    with database.reading() as db:
        found = list(db.scalars(select(PrevalenceEstimate)))
        for row in found:
            db.expunge(row)
        return found


@pytest.mark.parametrize("role", [Role.MANAGER, Role.PARTNERSHIP_LEAD])
def test_a_manager_or_lead_adds_and_replaces_an_estimate(
    client: FlaskClient, signed_in: Callable[..., MadeUser], database: Database, role: Role
) -> None:
    me = signed_in(role, full_name="Priya Estimator")
    page = client.get("/reports/reference/prevalence").get_data(as_text=True)
    assert "No estimates have been entered yet" in page
    url = "/reports/reference/prevalence"
    assert post_form(client, url, _estimate()).status_code == 302
    [row] = _stored_estimates(database)
    assert (row.substance_group, row.year, row.estimate) == (
        SubstanceGroup.ALCOHOL_ONLY,
        2025,
        1250,
    )
    assert row.recorded_by_id == me.id
    page = client.get(url).get_data(as_text=True)
    assert "1,250" in page
    assert "Priya Estimator" in page
    assert "Alcohol only" in page
    # The same group and year again: asked to confirm, then replaced.
    response = post_form(client, url, _estimate(estimate="1300"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is already an estimate of 1,250" in html
    assert 'name="version" type="hidden" value="1"' in html or 'value="1"' in html
    assert post_form(client, url, _estimate(estimate="1300", version="1")).status_code == 302
    [row] = _stored_estimates(database)
    assert row.estimate == 1300
    assert row.version == 2
    # Someone else replaced it meanwhile: 409, nothing saved.
    assert post_form(client, url, _estimate(estimate="999", version="1")).status_code == 409
    assert _stored_estimates(database)[0].estimate == 1300
    # The row's Change link fills the form with its values and version.
    page = client.get(f"{url}?replace={row.id}").get_data(as_text=True)
    assert 'value="1300"' in page
    assert _audited(database, "treatment.prevalence_added") == 1
    assert _audited(database, "treatment.prevalence_replaced") == 1
    assert _audited(database, "treatment.prevalence_viewed") >= 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"year": "1999"}, "year", "Enter a year from 2000 to 2100"),
        ({"year": "2101"}, "year", "Enter a year from 2000 to 2100"),
        ({"year": "twenty"}, "year", "Enter a year from 2000 to 2100"),
        ({"estimate": "0"}, "estimate", "whole number of people, 1 or more"),
        ({"estimate": "-5"}, "estimate", "whole number of people, 1 or more"),
        ({"estimate": "12.5"}, "estimate", "whole number of people, 1 or more"),
        ({"source": ""}, "source", "Enter the source of the estimate"),
        ({"source": "x" * 201}, "source", "200 characters or fewer"),
        ({"substance_group": "cannabis"}, "substance_group", "Select the substance group"),
        ({"version": "abc"}, "version", ""),
    ],
)
def test_bad_estimates_are_refused_on_their_field(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    database: Database,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    signed_in(Role.MANAGER)
    response = post_form(client, "/reports/reference/prevalence", _estimate(**changes))
    assert response.status_code in {200, 400}
    assert message in response.get_data(as_text=True)
    assert _stored_estimates(database) == []


@pytest.mark.parametrize("role", [Role.WORKER, Role.ASSESSOR, Role.ADMIN])
def test_other_roles_may_not_open_the_estimates(
    client: FlaskClient, signed_in: Callable[..., MadeUser], role: Role
) -> None:
    signed_in(role)
    assert client.get("/reports/reference/prevalence").status_code == 403


def test_prevalence_for_gives_the_latest_estimate_up_to_the_year(
    build: Builders, database: Database
) -> None:
    lead = build.user(Role.PARTNERSHIP_LEAD)
    viewer = build.viewer(lead)
    plan = [
        (SubstanceGroup.OPIATES_ONLY, 2023, 900),
        (SubstanceGroup.OPIATES_ONLY, 2025, 950),
        (SubstanceGroup.CRACK_ONLY, 2024, 400),
        (SubstanceGroup.ALCOHOL_ONLY, 2026, 3000),
    ]
    with database.transaction() as db:
        for group, year, estimate in plan:
            services.save_estimate(
                db,
                SYSTEM,
                viewer,
                substance_group=group,
                year=year,
                estimate=estimate,
                source="Fictional needs assessment",
                version=None,
            )
    with database.reading() as db:
        found = queries.prevalence_for(db, 2025)
        assert {g: (e.year, e.estimate) for g, e in found.items()} == {
            SubstanceGroup.OPIATES_ONLY: (2025, 950),
            SubstanceGroup.CRACK_ONLY: (2024, 400),
        }
        assert {g: e.year for g, e in queries.prevalence_for(db, 2024).items()} == {
            SubstanceGroup.OPIATES_ONLY: 2023,
            SubstanceGroup.CRACK_ONLY: 2024,
        }
        assert queries.prevalence_for(db, 2022) == {}
        assert len(queries.prevalence_estimates(db)) == 4


def test_recording_a_death_ends_open_episodes_as_died(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    from casework.audit.recorder import SYSTEM
    from casework.people import services as people_services

    me = signed_in(Role.ASSESSOR)
    person = build.person(me)
    _start(client, person)
    with database.transaction() as db:
        viewer = build.viewer(me)
        people_services.record_death(
            db,
            SYSTEM,
            viewer,
            Builders._access_of(db, viewer, person),
            died_on=london_today(),
            expected_version=None,
        )
    (episode,) = _episodes(database, person)
    assert episode.discharge_reason is DischargeReason.DIED
    assert episode.ended_on == london_today()
