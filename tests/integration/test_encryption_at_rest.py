"""Personal values are never stored in clear: the raw SQLite file and its WAL (or a pg_dump of
PostgreSQL) contain none of a set of planted names, identifiers, notes and details; and a
ciphertext moved to another row does not decrypt, it fails with a clear error page."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from casework.access.roles import Role
from casework.contacts.models import Note
from casework.db import Database
from casework.settings import Settings
from tests.conftest import Builders, MadeUser, post_form

SENTINELS = {
    "given": "Quillonbrae",
    "family": "Zephyrwick",
    "known_as": "Marrowfax",
    "alias": "Oxtavian Plumbrook",
    "nhs": "9434765919",
    "pnc": "19/7654321X",
    "local": "LOCAL-SENTINEL-4471",
    "phone": "07700 900917",
    "email": "sentinel.person@example.net",
    "address": "77 Glimmerstone Crescent",
    "postcode": "NX7 3QZ",
    "note": "Sentinel note about the blue caravan",
    "revised": "Sentinel revision mentions the lighthouse",
    "place": "Sentinel place by the old tannery",
    "alert": "Sentinel alert detail: dog at the door",
}


def _plant(builders: Builders, client: FlaskClient, me: MadeUser) -> None:
    person = builders.person(
        me,
        SENTINELS["given"],
        SENTINELS["family"],
        known_as=SENTINELS["known_as"],
        aliases=SENTINELS["alias"],
        nhs_number=SENTINELS["nhs"],
        pnc_id=SENTINELS["pnc"],
        local_id=SENTINELS["local"],
        phone=SENTINELS["phone"],
        email=SENTINELS["email"],
        address=SENTINELS["address"],
        postcode=SENTINELS["postcode"],
    )
    contact = builders.contact(person, me, note=SENTINELS["note"], place=SENTINELS["place"])
    assert (
        post_form(
            client,
            f"/people/{person}/contacts/{contact}/note",
            {"note": SENTINELS["revised"], "version": "1"},
        ).status_code
        == 302
    )
    assert (
        post_form(
            client,
            f"/people/{person}/alerts/new",
            {"alert_type": "risk_to_staff", "detail": SENTINELS["alert"]},
        ).status_code
        == 302
    )
    # Searching and viewing must not leave clear text behind either.
    assert client.get(f"/people/?name={SENTINELS['given']}").status_code == 200
    assert client.get(f"/people/{person}/timeline").status_code == 200


def _variants(value: str) -> list[bytes]:
    forms = {value, value.lower(), value.upper(), value.replace(" ", "")}
    return [form.encode() for form in forms if len(form) >= 6]


def _raw_bytes(settings: Settings, tmp_path: Path) -> bytes:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        chunks = []
        for candidate in (
            path,
            Path(f"{path}-wal"),
            Path(settings.keystore_url.split("///", 1)[1]),
        ):
            if candidate.exists():
                chunks.append(candidate.read_bytes())
        assert chunks
        return b"".join(chunks)
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to read PostgreSQL's stored data"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(  # noqa: S603 - our own fixed command line
        [pg_dump, "--data-only", plain], capture_output=True, check=True
    ).stdout
    keys = make_url(settings.keystore_url).set(drivername="postgresql")
    dump += subprocess.run(  # noqa: S603
        [pg_dump, "--data-only", keys.render_as_string(hide_password=False)],
        capture_output=True,
        check=True,
    ).stdout
    return dump


def test_no_planted_value_is_stored_in_clear(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    settings: Settings,
    tmp_path: Path,
) -> None:
    me = signed_in(Role.WORKER)
    _plant(build, client, me)
    raw = _raw_bytes(settings, tmp_path)
    assert len(raw) > 10_000
    found = [name for name, value in SENTINELS.items() if any(v in raw for v in _variants(value))]
    assert found == []


def test_the_planted_values_are_readable_through_the_app(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders
) -> None:
    """The same values the raw check looks for really were stored (the check can fail)."""
    me = signed_in(Role.WORKER)
    _plant(build, client, me)
    results = client.get(f"/people/?name={SENTINELS['given']}").get_data(as_text=True)
    assert SENTINELS["family"] in results


def test_a_note_moved_to_another_row_does_not_decrypt(
    client: FlaskClient, signed_in: Callable[..., MadeUser], build: Builders, database: Database
) -> None:
    me = signed_in(Role.WORKER)
    person = build.person(me)
    first = build.contact(person, me, note="first private note")
    build.contact(person, me, note="second private note")
    with database.transaction() as db:
        rows = db.execute(select(Note.id, Note.body_enc).order_by(Note.created_at)).all()
        (a_id, a_body), (b_id, b_body) = rows
        db.execute(update(Note).where(Note.id == a_id).values(body_enc=b_body))
        db.execute(update(Note).where(Note.id == b_id).values(body_enc=a_body))
    response = client.get(f"/people/{person}/contacts/{first}")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "could not be decrypted" in html
    assert "private note" not in html


@pytest.mark.parametrize("table", ["people"])
def test_a_person_without_a_key_is_unreadable_and_answers_404(
    client: FlaskClient,
    signed_in: Callable[..., MadeUser],
    build: Builders,
    database: Database,
    table: str,
) -> None:
    """Crypto-shredding: once the keystore forgets the key, the record cannot be read."""
    me = signed_in(Role.WORKER)
    person = build.person(me, "Shredded", "Person")
    build.kit.keystore.destroy(person)
    assert client.get(f"/people/{person}").status_code == 404
    with database.reading() as db:
        assert db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1  # noqa: S608
