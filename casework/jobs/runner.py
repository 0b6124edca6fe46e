"""``casework jobs run``: one process that runs every sweep on a timer (APScheduler).

Run it as its own service, never inside the web workers (P-S1: every gunicorn worker would
run every job; P-S3: a preloaded scheduler does not survive the fork). Jobs live in memory
(no SQLAlchemyJobStore: it pickles jobs, P-S6); what must be exactly-once is in the database:
reminder and outbox rows are claimed row by row, and the slower sweeps take a lease, so any
number of runners — or a runner restarted after ``kill -9`` — send nothing twice and skip
nothing. ``coalesce`` and ``max_instances = 1`` keep one run of each sweep at a time in a
process; a late run is run once, not once per missed interval (P-S4).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

from casework.audit import sealing
from casework.clock import utcnow
from casework.consent.rules import SharingRules
from casework.db import Database
from casework.jobs import services
from casework.jobs.services import SweepResult
from casework.notifications.senders import Sender, sender_for
from casework.security.kit import SecurityKit
from casework.security.vault import Vault

log = logging.getLogger("casework.jobs")

#: A slow sweep's lease outlasts any run; a runner that died holding it frees it by then.
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[], SweepResult]
    #: Only one runner at a time (the sweep is not claimed row by row).
    leased: bool = False


@dataclass(frozen=True)
class Outcome:
    name: str
    result: SweepResult | None
    error: str | None = None
    skipped: bool = False


class Runner:
    def __init__(
        self,
        database: Database,
        kit: SecurityKit,
        *,
        name: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.database = database
        self.kit = kit
        self.settings = kit.settings
        self.name = name or services.runner_name()
        self.sender = sender or sender_for(kit.settings)
        self.rules = SharingRules.from_settings(kit.settings)

    # -- the sweeps ---------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        fast, slow = self.settings.jobs_sweep_seconds, self.settings.jobs_slow_sweep_seconds
        return [
            Job(
                "pathway_clocks",
                slow,
                lambda: services.plan_missing_reminders(self.database),
                leased=True,
            ),
            Job(
                "consent_reviews",
                slow,
                lambda: services.plan_consent_reviews(self.database, self.rules),
                leased=True,
            ),
            Job(
                "reminders",
                fast,
                lambda: services.sweep_reminders(
                    self.database, Vault(self.kit.keystore), self.rules, runner=self.name
                ),
            ),
            Job(
                "outbox",
                fast,
                lambda: services.deliver_outbox(
                    self.database,
                    self.sender,
                    runner=self.name,
                    max_attempts=self.settings.outbox_max_attempts,
                ),
            ),
            Job("audit_seal", min(slow, 60), self._seal),
        ]

    def _seal(self) -> SweepResult:
        sealed = sealing.seal_pending(
            self.database,
            self.kit.audit_keys,
            now=utcnow(),
            delay_seconds=self.settings.audit_seal_delay_seconds,
            outside=self.settings.instance_dir / "audit-seals.log",
        )
        result = SweepResult("audit_seal")
        if sealed:
            result.counts["audit rows sealed"] = sum(seal.count for seal in sealed)
        return result

    def run_job(self, job: Job) -> Outcome:
        started = utcnow()
        if job.leased and not services.take_lease(
            self.database, job.name, self.name, ttl=LEASE, now=started
        ):
            return Outcome(job.name, None, skipped=True)
        try:
            result = job.run()
        except Exception as exc:
            reason = type(exc).__name__
            log.exception("job %s failed (%s)", job.name, reason)
            try:
                services.record_run(
                    self.database,
                    job.name,
                    self.name,
                    started_at=started,
                    finished_at=utcnow(),
                    outcome="failed",
                    summary="",
                    error=reason,
                    release=job.leased,
                )
            except Exception:
                log.exception("job %s: could not record the failure", job.name)
            return Outcome(job.name, None, error=reason)
        services.record_run(
            self.database,
            job.name,
            self.name,
            started_at=started,
            finished_at=utcnow(),
            outcome="ok",
            summary=result.summary(),
            release=job.leased,
        )
        if result.counts:
            log.info("job %s: %s", job.name, result.summary())
        return Outcome(job.name, result)

    def run_once(self) -> list[Outcome]:
        """Every sweep once, in order (for cron and tests)."""
        return [self.run_job(job) for job in self.jobs()]

    # -- the long-running process ---------------------------------------------------------

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Run each sweep on its interval until SIGTERM, SIGINT or ``stop``; a sweep under way
        finishes (or its transaction rolls back) before the process ends."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        jobs = self.jobs()
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=len(jobs))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        for job in jobs:
            scheduler.add_job(
                self.run_job,
                "interval",
                seconds=job.every_seconds,
                args=[job],
                id=job.name,
                next_run_time=now,
            )
        stop = stop or threading.Event()

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("job runner %s stopping (signal %s)", self.name, signum)
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        scheduler.start()
        log.info("job runner %s started: %s", self.name, ", ".join(job.name for job in jobs))
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=True)
