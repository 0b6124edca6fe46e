"""Concurrent attempts at the same transition of the same referral: exactly one wins.

PostgreSQL: 200 attempts, at most 50 at once (threads, one connection each: the row lock and
the conditional update are what is tested). SQLite: 20 attempts from 2 processes (DECISIONS
§7). Half the attempts carry the version they saw (a form), half do not (an API call)."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from multiprocessing.connection import Connection

from sqlalchemy import func, select

from casework.access.roles import Role
from casework.agencies.models import AgencyKind
from casework.audit.recorder import SYSTEM, enable_audit
from casework.clock import utcnow
from casework.db import Database, StaleVersion
from casework.pathways import services
from casework.pathways.definitions import pathways
from casework.pathways.models import ReferralEvent
from casework.pathways.rules import TransitionRefused
from casework.security.kit import build_kit
from casework.security.vault import Vault
from casework.settings import Settings
from tests.conftest import Builders, MadeUser


def _attempt(
    database: Database,
    vault: Vault,
    builders: Builders,
    assessor: MadeUser,
    referral_id: uuid.UUID,
    index: int,
) -> str:
    viewer = builders.viewer(assessor)
    try:
        with database.transaction() as db:
            services.make_transition(
                db,
                vault,
                SYSTEM,
                viewer,
                referral_id=referral_id,
                transition="attend",
                values={},
                expected_version=1 if index % 2 == 0 else None,
                pathways=pathways().by_key,
                now=utcnow() + timedelta(days=3),  # after the booking's appointment
            )
    except (StaleVersion, TransitionRefused):
        return "lost"
    return "won"


def _booked(build: Builders) -> tuple[MadeUser, uuid.UUID]:
    police = build.agency("Northshire Police", AgencyKind.POLICE)
    treatment = build.agency("Harbour Recovery", AgencyKind.TREATMENT)
    custody = build.user(Role.CUSTODY_OFFICER, agency=police)
    assessor = build.user(Role.ASSESSOR, agency=treatment)
    person = build.person(custody)
    return assessor, build.referral(person, by=custody, to=assessor).referral_id


def _events(database: Database, referral_id: uuid.UUID) -> int:
    with database.reading() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(ReferralEvent)
                .where(ReferralEvent.referral_id == referral_id)
            )
            or 0
        )


def test_concurrent_attempts_at_one_transition_have_one_winner(
    database: Database, build: Builders
) -> None:
    """PostgreSQL: 200 attempts, 50 at a time; SQLite: 20 attempts, 2 at a time."""
    heavy = database.engine.dialect.name == "postgresql"
    attempts, at_once = (200, 50) if heavy else (20, 2)
    assessor, referral_id = _booked(build)
    vault = Vault(build.kit.keystore)
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        results = list(
            pool.map(
                lambda i: _attempt(database, vault, build, assessor, referral_id, i),
                range(attempts),
            )
        )
    assert results.count("won") == 1
    assert results.count("lost") == attempts - 1
    assert _events(database, referral_id) == 2  # the booking and the one attendance


def _race_in_process(
    settings: Settings,
    assessor: MadeUser,
    referral_id: uuid.UUID,
    start: Connection,
    out: Connection,
) -> None:
    database = Database(settings.database_url)
    kit = build_kit(settings)
    enable_audit(database, kit.audit_keys)
    builders = Builders(database, kit)
    vault = Vault(kit.keystore)
    start.recv()
    results = [_attempt(database, vault, builders, assessor, referral_id, i) for i in range(10)]
    database.dispose()
    out.send(results)


def test_20_attempts_from_two_processes_have_one_winner(
    settings: Settings, database: Database, build: Builders
) -> None:
    assessor, referral_id = _booked(build)
    database.engine.dispose()  # no pooled connections cross the fork
    context = multiprocessing.get_context("fork")
    starters, receivers, processes = [], [], []
    for _index in range(2):
        start_parent, start_child = context.Pipe()
        out_parent, out_child = context.Pipe()
        process = context.Process(
            target=_race_in_process, args=(settings, assessor, referral_id, start_child, out_child)
        )
        process.start()
        starters.append(start_parent)
        receivers.append(out_parent)
        processes.append(process)
    for starter in starters:
        starter.send("go")
    results = [result for receiver in receivers for result in receiver.recv()]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert results.count("won") == 1
    assert len(results) == 20
    assert _events(database, referral_id) == 2
