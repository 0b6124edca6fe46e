"""Changing CASEWORK_KEK never locks anyone out of two-factor sign-in: secrets made under the
earlier key still open while it is listed in CASEWORK_KEK_PREVIOUS, `casework keys rotate`
re-encrypts them, and `keys retire` waits until it has."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from casework import cli
from casework.access.roles import Role
from casework.auth.services import decrypt_totp_secret
from casework.db import Database
from casework.security.crypto import key_id_of
from casework.settings import SecretKey, Settings
from casework.users.models import User
from tests.conftest import Builders


def _blob(database: Database, user_id: object) -> bytes:
    with database.reading() as db:
        blob = db.scalar(select(User.totp_secret_encrypted).where(User.id == user_id))
    assert blob is not None
    return blob


def test_rotate_reencrypts_two_factor_secrets_and_retire_waits_for_it(
    make_app: Callable[..., Flask], build: Builders, database: Database, settings: Settings
) -> None:
    user = build.user(Role.WORKER)
    old = settings.kek
    new = SecretKey("CASEWORK_KEK", secrets.token_bytes(32))
    assert key_id_of(_blob(database, user.id)) == old.key_id

    during = make_app(kek=new, previous_keks=(old,))
    kit = during.extensions["casework.kit"]
    assert decrypt_totp_secret(kit, user.id, _blob(database, user.id)) == user.totp_secret

    runner = during.test_cli_runner()
    refused = runner.invoke(cli.keys_retire, [old.key_id])
    assert refused.exit_code == 1
    assert "two-factor secret(s) still use key" in refused.output

    rotated = runner.invoke(cli.keys_rotate, [])
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 1 two-factor secret(s)" in rotated.output
    assert key_id_of(_blob(database, user.id)) == new.key_id
    assert runner.invoke(cli.keys_retire, [old.key_id]).exit_code == 0

    after = make_app(kek=new, previous_keks=())
    kit_after = after.extensions["casework.kit"]
    assert decrypt_totp_secret(kit_after, user.id, _blob(database, user.id)) == user.totp_secret
