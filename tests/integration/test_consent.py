"""Consent, other lawful bases and emergency access, as the pages and services use them: what
each records, what each changes in what the other agency sees (on its very next request), and
bad input, tampering and races refused with a clear answer and nothing written."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework import clock
from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM
from casework.consent import services
from casework.consent.models import BasisKind, SharingBasis
from casework.consent.rules import SharingRules
from casework.consent.services import Recipient
from casework.db import Database, StaleVersion
from casework.people.services import PersonError
from casework.security.vault import Vault
from tests.conftest import Builders, Clock, MadeUser, csrf_from, post_form, sign_in_directly

NOTE = "Seen at the clinic; dose reviewed"


class Pair:
    """A treatment worker who leads, and a housing officer involved with the same person."""

    def __init__(self, build: Builders) -> None:
        self.treatment = build.user(Role.WORKER, agency=build.agency("Pair Treatment"))
        self.housing = build.user(
            Role.WORKER, agency=build.agency("Pair Housing", kind=AgencyKind.HOUSING)
        )
        self.person = build.person(self.treatment, "Pat", "Paired")
        build.involve(self.person, self.housing, by=self.treatment)
        # The person agreed that the lead sees what partners record (so it sees them in the
        # family); what housing sees of the lead's work is what each test decides.
        build.consent(self.person, by=self.treatment, to=self.treatment)
        self.contact = build.contact(self.person, self.treatment, note=NOTE)


@pytest.fixture
def pair(build: Builders) -> Pair:
    return Pair(build)


def _bases(database: Database) -> int:
    """Records other than the pair's own consent for the lead."""
    with database.reading() as db:
        return (db.scalar(select(func.count()).select_from(SharingBasis)) or 0) - 1


def _sees_note(app: Flask, user: MadeUser, person: uuid.UUID) -> bool:
    client = app.test_client()
    sign_in_directly(app, client, user)
    return NOTE in client.get(f"/people/{person}/timeline").get_data(as_text=True)


def _consent_form(pair: Pair, **changes: Any) -> dict[str, Any]:
    today = clock.london_today()
    review = today + timedelta(days=300)
    return {
        "share_with": f"agency:{pair.housing.agency_id}",
        "categories": ["identity", "substance_use", "case_notes"],
        "purpose": "To plan support together",
        "given_on": [str(today.day), str(today.month), str(today.year)],
        "method": "verbal",
        "form_reference": "",
        "review_on": [str(review.day), str(review.month), str(review.year)],
        **changes,
    }


def test_consent_recorded_in_the_browser_shares_at_once_and_withdrawal_stops_it(
    app: Flask, client: FlaskClient, pair: Pair, database: Database
) -> None:
    assert not _sees_note(app, pair.housing, pair.person)
    sign_in_directly(app, client, pair.treatment)
    response = post_form(client, f"/people/{pair.person}/sharing/consent/new", _consent_form(pair))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _sees_note(app, pair.housing, pair.person)
    family = client.get(f"/people/{pair.person}/family").get_data(as_text=True)
    assert "Covered" in family
    with database.reading() as db:
        basis_id = db.scalar(
            select(SharingBasis.id).where(SharingBasis.agency_id == pair.housing.agency_id)
        )
    page = f"/people/{pair.person}/sharing/{basis_id}/withdraw"
    today = clock.london_today()
    withdrawn = post_form(
        client,
        page,
        {
            "withdrawn_on": [str(today.day), str(today.month), str(today.year)],
            "reason": "Asked us to stop sharing",
            "version": "1",
        },
    )
    assert withdrawn.status_code == 302, withdrawn.get_data(as_text=True)
    assert not _sees_note(app, pair.housing, pair.person)
    assert "Withdrawn" in client.get(f"/people/{pair.person}/family").get_data(as_text=True)


BAD_CONSENT = [
    ({"share_with": ""}, "Select the agency, or the kind of agency, to share with"),
    ({"share_with": f"agency:{uuid.uuid4()}"}, "Select the agency, or the kind of agency"),
    ({"share_with": "kind:spaceships"}, "Select the agency, or the kind of agency"),
    ({"categories": []}, "Select at least one kind of information"),
    ({"categories": ["gossip"]}, "Select at least one kind of information"),
    ({"purpose": "  "}, "Enter the purpose"),
    ({"purpose": "x" * 501}, "500 characters or fewer"),
    ({"given_on": ["1", "1", "2999"]}, "must be today or in the past"),
    ({"given_on": ["31", "2", "2026"]}, "must be a real date"),
    ({"method": ""}, "Select how consent was given"),
    ({"method": "telepathy"}, "Select how consent was given"),
    ({"method": "written"}, "Enter the reference of the signed form"),
    ({"review_on": ["1", "1", "2020"]}, "The review date must be today or in the future"),
    ({"review_on": ["1", "1", "2099"]}, "The review date must be within 3 years"),
    ({"review_on": ["", "", ""]}, "Enter review date"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CONSENT)
def test_bad_consent_is_refused_on_its_field_and_nothing_is_saved(
    client: FlaskClient, app: Flask, pair: Pair, database: Database, change: Any, message: str
) -> None:
    sign_in_directly(app, client, pair.treatment)
    response = post_form(
        client, f"/people/{pair.person}/sharing/consent/new", _consent_form(pair, **change)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert "govuk-error-summary" in html
    assert _bases(database) == 0


def test_a_review_date_not_after_the_day_it_was_given_is_refused(
    database: Database, build: Builders, pair: Pair
) -> None:
    with pytest.raises(PersonError, match="after the date consent was given") as error:
        build.consent(
            pair.person, by=pair.treatment, to=pair.housing, review_on=clock.london_today()
        )
    assert error.value.field == "review_on"
    assert _bases(database) == 0


def _basis_form(pair: Pair, **changes: Any) -> dict[str, Any]:
    ends = clock.london_today() + timedelta(days=10)
    return {
        "kind": "safeguarding",
        "share_with": f"agency:{pair.housing.agency_id}",
        "categories": ["substance_use", "case_notes"],
        "justification": "Risk of eviction and exploitation this week",
        "ends_on": [str(ends.day), str(ends.month), str(ends.year)],
        **changes,
    }


BAD_BASIS = [
    ({"kind": ""}, "Select the lawful basis"),
    ({"kind": "consent"}, "Select the lawful basis"),
    ({"justification": ""}, "Enter the justification"),
    ({"ends_on": ["1", "1", "2020"]}, "The end date must be today or in the future"),
    ({"ends_on": ["1", "1", "2099"]}, "The end date must be within 30 days"),
    ({"share_with": "agency:not-an-id"}, "Select the agency, or the kind of agency"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BASIS)
def test_bad_lawful_basis_is_refused(
    client: FlaskClient, app: Flask, pair: Pair, database: Database, change: Any, message: str
) -> None:
    sign_in_directly(app, client, pair.treatment)
    response = post_form(
        client, f"/people/{pair.person}/sharing/basis/new", _basis_form(pair, **change)
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _bases(database) == 0


def test_a_basis_shares_at_once_and_a_rejection_stops_it(
    app: Flask, client: FlaskClient, build: Builders, pair: Pair, database: Database
) -> None:
    sign_in_directly(app, client, pair.treatment)
    assert (
        post_form(client, f"/people/{pair.person}/sharing/basis/new", _basis_form(pair))
    ).status_code == 302
    assert _sees_note(app, pair.housing, pair.person)
    governance = build.user(Role.INFORMATION_GOVERNANCE, agency=build.agency("Pair IG"))
    ig = app.test_client()
    sign_in_directly(app, ig, governance)
    assert "Risk of eviction" not in ig.get("/governance/reviews").get_data(as_text=True)
    with database.reading() as db:
        basis_id = db.scalar(select(SharingBasis.id).where(SharingBasis.kind == "safeguarding"))
    page = f"/governance/reviews/bases/{basis_id}"
    assert "Risk of eviction and exploitation" in ig.get(page).get_data(as_text=True)
    refused = post_form(ig, page, {"decision": "reject", "note": "", "version": "1"})
    assert "Enter the reason for rejecting it" in refused.get_data(as_text=True)
    assert _sees_note(app, pair.housing, pair.person)
    done = post_form(ig, page, {"decision": "reject", "note": "Not justified", "version": "1"})
    assert done.status_code == 302
    assert not _sees_note(app, pair.housing, pair.person)
    again = post_form(ig, page, {"decision": "approve", "note": "", "version": "2"})
    assert "already been reviewed" in again.get_data(as_text=True)
    # Information governance reads consent records too (the purpose), without a review form.
    consent = build.consent(pair.person, by=pair.treatment, to=pair.housing)
    consent_page = ig.get(f"/governance/reviews/bases/{consent}").get_data(as_text=True)
    assert "To coordinate support" in consent_page
    assert 'name="decision"' not in consent_page
    # A case worker cannot reach the review pages at all.
    assert client.get(page).status_code == 403


def test_consent_expires_after_its_review_date_and_a_basis_after_its_end(
    app: Flask, build: Builders, pair: Pair, frozen_clock: Clock
) -> None:
    today = clock.london_today()
    build.consent(
        pair.person, by=pair.treatment, to=pair.housing, review_on=today + timedelta(days=2)
    )
    assert _sees_note(app, pair.housing, pair.person)
    frozen_clock.advance(days=2)
    assert _sees_note(app, pair.housing, pair.person)  # up to and including the review date
    frozen_clock.advance(days=1)
    assert not _sees_note(app, pair.housing, pair.person)
    build.basis(pair.person, by=pair.treatment, to=pair.housing, ends_on=clock.london_today())
    assert _sees_note(app, pair.housing, pair.person)
    frozen_clock.advance(days=1)
    assert not _sees_note(app, pair.housing, pair.person)


def test_a_correction_supersedes_and_keeps_the_history(
    app: Flask, client: FlaskClient, build: Builders, pair: Pair, database: Database
) -> None:
    first = build.consent(
        pair.person, by=pair.treatment, to=pair.housing, categories=[Category.IDENTITY]
    )
    sign_in_directly(app, client, pair.treatment)
    page = f"/people/{pair.person}/sharing/{first}/correct"
    form = _consent_form(pair, version="1")
    assert post_form(client, page, form).status_code == 302
    with database.reading() as db:
        rows = db.execute(
            select(SharingBasis.id, SharingBasis.superseded_at, SharingBasis.supersedes_id).where(
                SharingBasis.agency_id == pair.housing.agency_id
            )
        ).all()
    assert len(rows) == 2
    old, new = sorted(rows, key=lambda row: row.superseded_at is None)
    assert old.id == first
    assert old.superseded_at is not None
    assert new.supersedes_id == first
    assert _sees_note(app, pair.housing, pair.person)
    detail = client.get(f"/people/{pair.person}/sharing/{new.id}").get_data(as_text=True)
    assert "History of this record" in detail
    # The superseded record cannot be corrected again, and a stale form is a conflict.
    assert client.get(page).status_code == 404
    # The named agency may see the record but may not correct it (only its recorder may).
    other = app.test_client()
    sign_in_directly(app, other, pair.housing)
    assert other.get(f"/people/{pair.person}/sharing/{new.id}").status_code == 200
    assert other.get(f"/people/{pair.person}/sharing/{new.id}/correct").status_code == 403


def test_two_people_changing_one_consent_do_not_both_succeed(
    app: Flask, build: Builders, pair: Pair, database: Database, kit: Any
) -> None:
    basis_id = build.consent(pair.person, by=pair.treatment, to=pair.housing)
    build.withdraw(pair.person, basis_id, by=pair.treatment)
    viewer = build.viewer(pair.housing)
    with database.transaction() as db, pytest.raises(StaleVersion):
        services.withdraw(
            db,
            Vault(kit.keystore),
            SYSTEM,
            viewer,
            build._access_of(db, viewer, pair.person),
            basis_id=basis_id,
            on=clock.london_today(),
            reason="Again",
            expected_version=1,  # the form was opened before the first withdrawal
        )


def test_concurrent_withdrawals_have_one_winner(
    build: Builders, pair: Pair, database: Database, kit: Any
) -> None:
    """Two workers withdraw the same consent at the same moment, 20 times: exactly one wins
    each time (row lock and single write, on both databases)."""
    viewers = [build.viewer(pair.treatment), build.viewer(pair.housing)]
    for _ in range(20):
        basis_id = build.consent(pair.person, by=pair.treatment, to=pair.housing)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def attempt(
            viewer: Any,
            basis: uuid.UUID = basis_id,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                with database.transaction() as db:
                    services.withdraw(
                        db,
                        Vault(kit.keystore),
                        SYSTEM,
                        viewer,
                        build._access_of(db, viewer, pair.person),
                        basis_id=basis,
                        on=clock.london_today(),
                        reason="Stop",
                        expected_version=None,
                    )
                outcomes.append("won")
            except (PersonError, StaleVersion):
                outcomes.append("refused")

        threads = [threading.Thread(target=attempt, args=(v,)) for v in viewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused", "won"]


def test_tampered_ids_answer_404_and_are_audited(
    app: Flask, client: FlaskClient, build: Builders, pair: Pair
) -> None:
    stranger = build.person(build.user(Role.WORKER, agency=build.agency("Stranger Agency")))
    mine = build.consent(pair.person, by=pair.treatment, to=pair.housing)
    police = build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))
    build.involve(pair.person, police, by=pair.treatment)
    theirs = build.consent(pair.person, by=pair.treatment, to=police)
    sign_in_directly(app, client, pair.housing)
    # Someone else's person in the URL; a basis of another person; a basis the housing officer
    # may not see (it names the police and housing did not record it).
    assert client.get(f"/people/{stranger}/sharing").status_code == 404
    assert client.get(f"/people/{stranger}/sharing/{mine}").status_code == 404
    assert client.get(f"/people/{pair.person}/sharing/{theirs}").status_code == 404
    assert client.get(f"/people/{pair.person}/sharing/{uuid.uuid4()}/withdraw").status_code == 404
    # The list shows only the record naming housing.
    listing = client.get(f"/people/{pair.person}/sharing").get_data(as_text=True)
    assert str(mine) in listing
    assert str(theirs) not in listing


def test_emergency_access_opens_the_record_for_four_hours(
    app: Flask, client: FlaskClient, build: Builders, pair: Pair, frozen_clock: Clock
) -> None:
    outsider = build.user(Role.WORKER, agency=build.agency("Night Shelter"), full_name="Olly")
    build.contact(pair.person, pair.treatment, note="their own words", agency_only=True)
    sign_in_directly(app, client, outsider)
    assert client.get(f"/people/{pair.person}").status_code == 404
    page = f"/people/{pair.person}/emergency"
    form = client.get(page).get_data(as_text=True)
    assert "Paired, Pat" not in form  # the name as a search reveals it: full name, no more
    assert "Pat Paired" in form
    refused = client.post(page, data={"csrf_token": csrf_from(form), "reason": "", "detail": ""})
    assert "Select the kind of emergency" in refused.get_data(as_text=True)
    opened = client.post(
        page,
        data={"csrf_token": csrf_from(form), "reason": "risk_to_life", "detail": "Found collapsed"},
    )
    assert opened.status_code == 302
    timeline = client.get(f"/people/{pair.person}/timeline").get_data(as_text=True)
    assert NOTE in timeline
    assert "their own words" not in timeline  # other agencies' "my agency only" notes stay hidden
    overview = client.get(f"/people/{pair.person}").get_data(as_text=True)
    assert "Log a contact" in overview  # reading and adding contacts, not changing others' records
    assert "Change details" not in overview
    for form in ("edit", "needs", "alerts/new", "death", "family/add"):
        assert client.get(f"/people/{pair.person}/{form}").status_code == 403, form
    assert "You are using emergency access" in client.get("/home/worker").get_data(as_text=True)
    frozen_clock.advance(hours=4, minutes=1)
    sign_in_directly(app, client, outsider)  # the old session has long timed out
    assert client.get(f"/people/{pair.person}").status_code == 404
    assert "emergency access" not in client.get("/home/worker").get_data(as_text=True)


def test_who_may_open_a_record_in_an_emergency(app: Flask, build: Builders, pair: Pair) -> None:
    custody = build.user(Role.CUSTODY_OFFICER, agency=build.agency(kind=AgencyKind.POLICE))
    client = app.test_client()
    sign_in_directly(app, client, custody)
    assert client.get(f"/people/{pair.person}/emergency").status_code == 403
    # An agency that already sees everything is sent to the record instead.
    build.consent(pair.person, by=pair.treatment, to=pair.housing)
    client = app.test_client()
    sign_in_directly(app, client, pair.housing)
    response = client.get(f"/people/{pair.person}/emergency")
    assert response.status_code == 302
    assert response.location.endswith(f"/people/{pair.person}")
    # Ending it early closes it at once.
    outsider = build.user(Role.MANAGER, agency=build.agency("Another"))
    access_id = build.emergency(pair.person, outsider)
    client = app.test_client()
    sign_in_directly(app, client, outsider)
    assert client.get(f"/people/{pair.person}").status_code == 200
    ended = post_form(client, f"/emergency-access/{access_id}/end", {}, page="/emergency-access")
    assert ended.status_code == 302
    assert client.get(f"/people/{pair.person}").status_code == 404


def test_the_family_page_shows_each_agencys_sharing_state(
    app: Flask, client: FlaskClient, build: Builders, pair: Pair, frozen_clock: Clock
) -> None:
    police = build.user(Role.WORKER, agency=build.agency("Pair Police", kind=AgencyKind.POLICE))
    refuge = build.user(Role.WORKER, agency=build.agency("Pair Refuge", AgencyKind.DOMESTIC_ABUSE))
    probation = build.user(Role.WORKER, agency=build.agency("Pair Probation", AgencyKind.PROBATION))
    for user in (police, refuge, probation):
        build.involve(pair.person, user, by=pair.treatment)
    frozen_clock.advance(days=-360)
    build.consent(pair.person, by=pair.treatment, to=police)  # expiring (5 days left)
    build.consent(
        pair.person,
        by=pair.treatment,
        to=probation,
        review_on=clock.london_today() + timedelta(days=300),
    )  # expired 60 days ago
    frozen_clock.advance(days=360)
    build.consent(pair.person, by=pair.treatment, to=pair.housing)  # covered
    withdrawn = build.consent(pair.person, by=pair.treatment, to=refuge)
    build.withdraw(pair.person, withdrawn, by=pair.treatment)
    sign_in_directly(app, client, pair.treatment)
    html = client.get(f"/people/{pair.person}/family").get_data(as_text=True)
    rows = {
        name: html.split(name, 1)[1].split("</tr>", 1)[0]
        for name in ("Pair Housing", "Pair Police", "Pair Refuge", "Pair Probation")
    }
    assert "Covered" in rows["Pair Housing"]
    assert "Expiring soon" in rows["Pair Police"]
    assert "Withdrawn" in rows["Pair Refuge"]
    assert "Expired" in rows["Pair Probation"]
    # The worker's home lists what is due: expiring and expired, on their caseload.
    home = client.get("/home/worker").get_data(as_text=True)
    assert "Pair Police" in home
    assert "Pair Probation" in home
    assert "Pair Housing" not in home.split("due for review", 1)[1]


def test_the_recipient_must_be_one_agency_or_one_kind(
    database: Database, kit: Any, build: Builders, pair: Pair
) -> None:
    viewer = build.viewer(pair.treatment)
    rules = SharingRules.from_settings(kit.settings)
    for recipient in (
        Recipient(),
        Recipient(agency_id=pair.housing.agency_id, agency_kind=AgencyKind.HOUSING),
        Recipient(agency_id=uuid.uuid4()),
    ):
        with database.transaction() as db, pytest.raises(PersonError) as error:
            services.record_basis(
                db,
                Vault(kit.keystore),
                SYSTEM,
                viewer,
                build._access_of(db, viewer, pair.person),
                data=services.BasisInput(
                    kind=BasisKind.VITAL_INTERESTS,
                    recipient=recipient,
                    categories=frozenset({Category.HEALTH}),
                    justification="Unconscious, allergies unknown",
                ),
                rules=rules,
            )
        assert error.value.field == "share_with"
    assert _bases(database) == 0


def test_a_date_error_in_the_summary_links_to_the_day_box(
    client: FlaskClient, app: Flask, pair: Pair
) -> None:
    sign_in_directly(app, client, pair.treatment)
    response = post_form(
        client,
        f"/people/{pair.person}/sharing/consent/new",
        _consent_form(pair, review_on=["1", "1", "2020"]),
    )
    html = response.get_data(as_text=True)
    assert 'href="#review_on-day"' in html
    assert 'id="review_on-day"' in html
