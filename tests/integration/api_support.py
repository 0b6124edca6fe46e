"""Helpers for the API tests: tokens made through the real services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from casework import clock
from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.api import services as api_services
from casework.audit.recorder import SYSTEM
from casework.db import Database
from tests.conftest import Builders, MadeUser

ALL_SCOPES = frozenset({"pathways:read", "referrals:read", "referrals:write"})


@dataclass
class Token:
    id: uuid.UUID
    value: str
    user_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}


def make_token(
    database: Database,
    user_id: uuid.UUID,
    *,
    scopes: frozenset[str] = ALL_SCOPES,
    days: int = 30,
) -> Token:
    with database.transaction() as db:
        token_id, value = api_services.create_token(
            db,
            SYSTEM,
            user_id=user_id,
            name="Test system",
            scopes=scopes,
            expires_at=clock.utcnow() + timedelta(days=days),
        )
    return Token(token_id, value, user_id)


def service_account(build: Builders, agency_id: uuid.UUID, role: Role) -> uuid.UUID:
    with build.database.transaction() as db:
        return api_services.create_service_account(
            db, SYSTEM, agency_id=agency_id, name="Custody suite system", role=role
        )


@dataclass
class Ends:
    custody: MadeUser
    assessor: MadeUser
    police_id: uuid.UUID
    treatment_id: uuid.UUID


def make_ends(build: Builders) -> Ends:
    police = build.agency("Northshire Police", AgencyKind.POLICE)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    assessor = build.user(Role.ASSESSOR, agency=treatment)
    return Ends(custody, assessor, police.id, treatment.id)
