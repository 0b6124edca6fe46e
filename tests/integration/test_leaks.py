"""The leak test (issue 4, "done when"): unique strings are planted in the notes and fields of
people, and parts of people, a user may not see; then every GET page and download is crawled as
that user — every route, with every id of the right kind, plus searches for each planted value —
and none of the strings may appear in any response.

* Person A: created by treatment; neither the housing worker nor the outsider is involved.
  Everything about A is secret from them, except what a search may reveal to prevent
  duplicates (name and date of birth only), which may appear on the search results and the
  emergency-access page and nowhere else.
* Person B: treatment leads, housing is involved with consent for identity and housing only,
  so treatment's contacts, notes (shared and "my agency only"), places and health alerts are
  secret from housing; so is a consent treatment recorded for the police (records are shown to
  the agency they name and the agency that recorded them).
* An emergency access opened by the outsider to person C: its reason is for information
  governance and the outsider alone.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from casework import clock
from casework.access.categories import Category
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM
from casework.consent import services as consent_services
from casework.consent.models import BasisKind, ConsentMethod, EmergencyReason
from casework.consent.rules import SharingRules
from casework.consent.services import BasisInput, ConsentInput, Recipient
from casework.db import Database
from casework.family.models import Involvement
from casework.people import services as people_services
from casework.people.models import PersonAlert
from casework.security.vault import Vault
from tests.conftest import Builders, MadeUser, sign_in_directly


def _secret(label: str) -> str:
    return f"zq{label}{uuid.uuid4().hex[:8]}"


class World:
    def __init__(self, build: Builders) -> None:
        self.build = build
        treatment = build.agency("Leak Treatment", AgencyKind.TREATMENT)
        housing = build.agency("Leak Housing", AgencyKind.HOUSING)
        police = build.agency("Leak Police", AgencyKind.POLICE)
        outsiders = build.agency("Leak Outsiders", AgencyKind.VOLUNTARY)
        self.treatment = build.user(Role.WORKER, agency=treatment)
        self.housing = build.user(Role.WORKER, agency=housing)
        self.police = build.user(Role.CUSTODY_OFFICER, agency=police)
        self.outsider = build.user(Role.WORKER, agency=outsiders)
        #: Secret from everyone but treatment (and information governance).
        self.secrets: list[str] = []
        #: May appear only where a search reveals a match (name and date of birth).
        self.revealable: list[str] = []

        # Person A: treatment's alone.
        given, family = _secret("given"), _secret("family")
        self.revealable += [given, family]
        self.person_a = build.person(
            self.treatment,
            given,
            family,
            date_of_birth=date(1979, 2, 3),
            phone="07700 900417",
            address=self._plant("address"),
            email=self._plant("mail") + "@example.org",
            local_id=self._plant("local"),
            known_as=self._plant("known"),
        )
        self.secrets.append("07700 900417")
        self._everything_of(self.person_a)

        # Person B: housing involved, consent for identity and housing only.
        self.person_b = build.person(
            self.treatment, "Bea", "Leakwell", date_of_birth=date(1990, 1, 1)
        )
        build.involve(self.person_b, self.housing, by=self.treatment)
        build.involve(self.person_b, self.police, by=self.treatment)
        build.consent(
            self.person_b,
            by=self.treatment,
            to=self.housing,
            categories=[Category.IDENTITY, Category.HOUSING],
        )
        self._everything_of(self.person_b)

        # Person C: the outsider's emergency access, with a reason.
        self.person_c = build.person(self.treatment, "Cy", "Leakless")
        self.emergency_reason = self._plant("emergency")
        with build.database.transaction() as db:
            viewer = build.viewer(self.outsider)
            self.emergency = consent_services.start_emergency(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                person_id=self.person_c,
                access=None,
                reason=EmergencyReason.RISK_TO_LIFE,
                detail=self.emergency_reason,
                rules=SharingRules.from_settings(build.kit.settings),
            )

    def _plant(self, label: str) -> str:
        value = _secret(label)
        self.secrets.append(value)
        return value

    def _everything_of(self, person: uuid.UUID) -> None:
        """Treatment's contacts (with places and notes, shared and its own), a health alert
        with a detail, and a consent and a basis for the police with their own words."""
        build = self.build
        build.contact(person, self.treatment, note=self._plant("note"), place=self._plant("place"))
        build.contact(person, self.treatment, note=self._plant("own"), agency_only=True)
        with build.database.transaction() as db:
            viewer = build.viewer(self.treatment)
            access = build._access_of(db, viewer, person)
            people_services.raise_alert(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                access,
                alert_type="self_harm",
                detail=self._plant("alert"),
            )
            rules = SharingRules.from_settings(build.kit.settings)
            consent_services.record_consent(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                access,
                data=ConsentInput(
                    recipient=Recipient(agency_kind=AgencyKind.PRISON),
                    categories=frozenset({Category.OFFENDING}),
                    purpose=self._plant("purpose"),
                    given_on=clock.london_today(),
                    method=ConsentMethod.WRITTEN,
                    form_reference=self._plant("form"),
                ),
                rules=rules,
            )
            consent_services.record_basis(
                db,
                Vault(build.kit.keystore),
                SYSTEM,
                viewer,
                access,
                data=BasisInput(
                    kind=BasisKind.SAFEGUARDING,
                    recipient=Recipient(agency_kind=AgencyKind.PRISON),
                    categories=frozenset({Category.OFFENDING}),
                    justification=self._plant("justify"),
                ),
                rules=rules,
            )


def _ids(database: Database, world: World) -> dict[str, list[uuid.UUID]]:
    from casework.consent.models import EmergencyAccess, SharingBasis
    from casework.contacts.models import Contact

    with database.reading() as db:
        return {
            "person_id": [world.person_a, world.person_b, world.person_c],
            "contact_id": list(db.scalars(select(Contact.id))),
            "basis_id": list(db.scalars(select(SharingBasis.id))),
            "access_id": list(db.scalars(select(EmergencyAccess.id))),
            "involvement_id": list(db.scalars(select(Involvement.id))),
            "alert_id": list(db.scalars(select(PersonAlert.id))),
        }


def _urls(app: Flask, ids: dict[str, list[uuid.UUID]], world: World) -> Iterator[str]:
    """Every GET route with every combination of known ids, and searches for each secret."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or "GET" not in (rule.methods or set()):
            continue
        names = sorted(rule.arguments)
        pools = [ids.get(name, [uuid.uuid4()]) for name in names]
        for combination in itertools.product(*pools):
            yield _build(rule, dict(zip(names, combination, strict=True)))
    for value in [*world.secrets, *world.revealable]:
        yield f"/people/?name={value}"
        yield f"/people/?identifier={value}"
        yield f"/governance/people?name={value}"
    yield "/people/?name=Leakwell&date_of_birth=1&date_of_birth=1&date_of_birth=1990"


def _build(rule: Rule, values: dict[str, uuid.UUID]) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _crawl(app: Flask, user: MadeUser, urls: list[str]) -> Iterator[tuple[str, str]]:
    client: FlaskClient = app.test_client()
    sign_in_directly(app, client, user)
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        yield url, response.get_data(as_text=True)


def _shown(value: str, url: str, body: str) -> bool:
    """Whether the page shows ``value`` (a search box showing back what was typed does not)."""
    if value in url:
        body = body.replace(f'value="{value}"', "")
    return value in body


def _reveal_page(url: str) -> bool:
    return url.startswith("/people/?") or url.endswith("/emergency")


def test_no_page_or_download_shows_what_the_user_may_not_see(
    app: Flask, database: Database, build: Builders
) -> None:
    world = World(build)
    urls = list(dict.fromkeys(_urls(app, _ids(database, world), world)))
    assert len(urls) > 250
    for user in (world.housing, world.police, world.outsider):
        secrets = list(world.secrets)
        if user is not world.outsider:
            secrets.append(world.emergency_reason)
        else:
            secrets.remove(world.emergency_reason)  # the outsider wrote it
        pages = 0
        for url, body in _crawl(app, user, urls):
            pages += 1
            for secret in secrets:
                assert not _shown(secret, url, body), (user.email, url, secret)
            if not _reveal_page(url):
                for name in world.revealable:
                    assert not _shown(name, url, body), (user.email, url, name)
        assert pages == len(urls)


def test_the_planted_values_are_shown_to_those_who_may_see_them(
    app: Flask, database: Database, build: Builders
) -> None:
    """The crawl above proves something only if the same pages show the values to their owner:
    treatment sees every value it recorded."""
    world = World(build)
    urls = list(dict.fromkeys(_urls(app, _ids(database, world), world)))
    seen: set[str] = set()
    for _url, body in _crawl(app, world.treatment, urls):
        seen.update(secret for secret in world.secrets if secret in body)
    missing = set(world.secrets) - seen - {world.emergency_reason}
    assert not missing, missing
