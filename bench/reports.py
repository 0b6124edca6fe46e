"""Report pages: latency and throughput (as a ratio to a trivial endpoint, same run).

Run by hand (not in CI), like ``bench/run.py``, whose data set, session and wrk helpers it uses:

    .venv/bin/python bench/reports.py --instance /tmp/cw-bench [--reuse]        # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework_bench \\
      .venv/bin/python bench/reports.py --instance /tmp/cw-bench-pg [--reuse]   # PostgreSQL

Without ``--reuse`` (or without a manifest in the instance folder) it makes the large set
(``casework demo-data --people N --contacts M``; on PostgreSQL it **drops and recreates** the
database named and its ``<name>_keys`` keystore). Each report page is measured with its default
filters (the last 12 months) for two users: a manager of the agency with the most people in the
set, and a partnership lead. Per page and user:

* **latency**: one client, one request at a time (``--latency-requests``), median and p95 in
  ms;
* **throughput**: 16 connections (``wrk -t2 -c16``), req/s and its ratio to ``/bench/trivial``
  measured in the same run.

Targets (issue 8): every report page under 200 ms on PostgreSQL and under 1 s on SQLite. A page
that does not answer 200 is reported and skipped (the report pages may not exist yet); ``--page``
measures other paths instead (repeatable). Needs `wrk` (apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402 - bench/run.py, next to this file

REPORTS = (
    "/reports/caseload",
    "/reports/referrals",
    "/reports/consent",
    "/reports/funnel",
    "/reports/continuity",
    "/reports/hospital-da",
    "/reports/partnership",
)
#: wrk prints these after its own summary (microseconds), read back by ``_wrk``.
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("CW p50=%d p95=%d requests=%d non2xx=%d\\n",
    latency:percentile(50), latency:percentile(95), summary.requests,
    summary.errors.status))
end
"""
TARGET_MS = {"SQLite": 1000.0, "PostgreSQL": 200.0}


@dataclass(frozen=True)
class Measured:
    rps: float
    p50_ms: float
    p95_ms: float


def _wrk(url: str, cookie: str, seconds: int, *, connections: int, script: Path) -> Measured:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"CW p50=(\d+) p95=(\d+) requests=(\d+) non2xx=(\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None or rps is None:
        raise SystemExit(f"could not read wrk's output for {url}:\n{out}")
    if int(found.group(4)):
        raise SystemExit(f"{url}: {found.group(4)} responses were not 2xx/3xx:\n{out}")
    return Measured(float(rps.group(1)), int(found.group(1)) / 1000, int(found.group(2)) / 1000)


def _sequential(url: str, cookie: str, requests: int) -> Measured:
    """One client, one request at a time: median and p95 of ``requests`` page loads."""
    took: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        status = _status(url, cookie)
        took.append((time.perf_counter() - started) * 1000)
        if status != HTTPStatus.OK:
            raise SystemExit(f"{url}: HTTP {status} while measuring")
    took.sort()
    p50 = took[len(took) // 2]
    p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
    return Measured(1000 / (sum(took) / len(took)), p50, p95)


def _drain(base: str, cookie: str) -> None:
    """Wait until requests wrk left queued have been answered (a slow page under 16
    connections leaves a backlog that would delay the next measurement)."""
    for _ in range(600):
        started = time.perf_counter()
        _status(base + "/bench/trivial", cookie)
        _status(base + "/bench/trivial", cookie)
        if time.perf_counter() - started < 0.05:
            return
        time.sleep(0.2)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _status(url: str, cookie: str) -> int:
    """The page's status, redirects not followed (a redirect to sign in is not the page)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=120) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _users(env: dict[str, str]) -> dict[str, str]:
    """Who to sign in as: a manager of the agency with the most open involvements (the demo's
    own account before generated ones), and a partnership lead (by email)."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from casework.access.roles import Role
    from casework.app import create_app
    from casework.family.models import Involvement
    from casework.users.models import User, UserRole

    app = create_app()
    database = app.extensions["casework.database"]
    with database.reading() as db:
        largest = db.scalar(
            select(Involvement.agency_id)
            .where(Involvement.ended_on.is_(None))
            .group_by(Involvement.agency_id)
            .order_by(func.count().desc())
            .limit(1)
        )

        def first(role: Role, agency_id: object | None = None) -> str:
            query = (
                select(User.email)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == role, User.active.is_(True))
                .order_by(User.created_at, User.email)  # the demo's own accounts first
                .limit(1)
            )
            if agency_id is not None:
                query = query.where(User.agency_id == agency_id)
            email: str | None = db.scalar(query)
            if email is None:
                raise SystemExit(f"no active user with the role {role.value} in the data set")
            return email

        return {
            "manager": first(Role.MANAGER, largest),
            "partnership lead": first(Role.PARTNERSHIP_LEAD),
        }


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with the bench app (2 sync workers) on a free loopback port, once it answers."""
    port = run._free_port()
    server = subprocess.Popen(
        [
            str(run.REPO / ".venv/bin/gunicorn"),
            "--workers",
            "2",
            "--timeout",
            "120",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(BENCH),
            "--log-level",
            "warning",
            "wsgi_bench:app",
        ],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    return server, base


@dataclass
class _Run:
    base: str
    cookies: dict[str, str]
    script: Path
    seconds: int
    latency_requests: int
    trivial: list[float]
    latency: dict[tuple[str, str], list[Measured]]
    load: dict[tuple[str, str], list[Measured]]

    def round(self) -> None:
        """The trivial endpoint, then each page: latency alone, then under load."""
        cookie = next(iter(self.cookies.values()))
        self.trivial.append(
            _wrk(
                self.base + "/bench/trivial",
                cookie,
                self.seconds,
                connections=16,
                script=self.script,
            ).rps
        )
        for who, path in self.latency:
            url, cookie = self.base + path, self.cookies[who]
            _drain(self.base, cookie)
            self.latency[who, path].append(_sequential(url, cookie, self.latency_requests))
            measured = _wrk(url, cookie, self.seconds, connections=16, script=self.script)
            if measured.rps == 0:
                print(f"{url}: no response completed in {self.seconds} s", file=sys.stderr)
            self.load[who, path].append(measured)
            _drain(self.base, cookie)


def _answering(
    base: str, cookies: dict[str, str], users: dict[str, str], pages: tuple[str, ...]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(user, page) pairs that answer 200, and a line for each that does not."""
    measurable: list[tuple[str, str]] = []
    skipped: list[str] = []
    for who, cookie in cookies.items():
        for path in pages:
            status = _status(base + path, cookie)
            if status == HTTPStatus.OK:
                measurable.append((who, path))
            else:
                skipped.append(f"{path} as the {who} ({users[who]}): HTTP {status}")
    for line in skipped:
        print(f"NOT MEASURED: {line}", file=sys.stderr)
    return measurable, skipped


def _table(measured: _Run, users: dict[str, str], pages: tuple[str, ...], database: str) -> None:
    trivial_rps = sum(measured.trivial) / len(measured.trivial)
    target = TARGET_MS[database]
    print(f"trivial endpoint: {trivial_rps:,.0f} req/s (16 connections)\n")
    for who, email in users.items():
        print(f"Signed in as the {who} ({email})\n")
        print("| page | median ms | p95 ms | req/s (16 conn.) | ratio to trivial | target |")
        print("|---|---:|---:|---:|---:|---|")
        for path in pages:
            if (who, path) not in measured.latency:
                print(f"| `{path}` | not measured (not 200) | | | | |")
                continue
            # The worse round of each: a figure to meet, not a best case.
            p50 = max(m.p50_ms for m in measured.latency[who, path])
            p95 = max(m.p95_ms for m in measured.latency[who, path])
            load = measured.load[who, path]
            rps = sum(m.rps for m in load) / len(load)
            met = "met" if p95 < target and rps > 0 else "**NOT met**"
            print(
                f"| `{path}` | {p50:,.0f} | {p95:,.0f} | {rps:,.1f} | "
                f"{rps / trivial_rps:.3f} | {met} (p95 < {target:,.0f} ms) |"
            )
        print()


def _in_process(env: dict[str, str], users: dict[str, str], repeats: int) -> None:
    """Each report built through ``casework.reports.services`` (default filters), without
    HTTP: median and p95 of ``repeats`` builds per report and user. Measures the reports'
    queries while the pages do not exist yet (and, once they do, what the page adds)."""
    os.environ.update(env)
    import statistics

    from sqlalchemy import select

    from casework.access.policy import Viewer
    from casework.app import create_app
    from casework.clock import london_today, utcnow
    from casework.reports import services
    from casework.users.models import User

    app = create_app()
    database = app.extensions["casework.database"]
    names = [path.removeprefix("/reports/") for path in REPORTS]
    print(f"\nIn-process builds (casework.reports.services.build), {repeats} each\n")
    for who, email in users.items():
        with database.reading() as db:
            user = db.scalars(select(User).where(User.email == email)).one()
            viewer = Viewer(user.id, user.agency_id, user.agency.kind, user.roles)
        print(f"Signed in as the {who} ({email})\n")
        print("| report | median ms | p95 ms | rows |")
        print("|---|---:|---:|---:|")
        for name in names:
            took: list[float] = []
            rows = 0
            for _ in range(repeats):
                started = time.perf_counter()
                with database.reading() as db:
                    filters = services.check_filters(db, viewer, {}, today=london_today())
                    report = services.build(db, viewer, name, filters, now=utcnow())
                took.append((time.perf_counter() - started) * 1000)
                rows = sum(len(table.rows) for table in report.tables())
            took.sort()
            p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
            print(f"| {name} | {statistics.median(took):,.0f} | {p95:,.0f} | {rows} |")
        print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="each throughput measurement")
    parser.add_argument(
        "--latency-requests", type=int, default=20, help="sequential requests per latency figure"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--instance", help="instance folder; kept between runs")
    parser.add_argument("--reuse", action="store_true", help="use the data set already there")
    parser.add_argument("--page", action="append", help="measure this path instead (repeatable)")
    parser.add_argument(
        "--in-process",
        type=int,
        metavar="N",
        default=0,
        help="also build each report N times through the report services, without HTTP",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    instance = args.instance or tempfile.mkdtemp(prefix="casework-bench-")
    Path(instance).mkdir(parents=True, exist_ok=True)
    env = {
        "CASEWORK_ENV": "development",
        "CASEWORK_INSTANCE_DIR": instance,
        "CASEWORK_LOG_LEVEL": "WARNING",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    manifest = Path(instance) / "bench-manifest.json"
    if not (args.reuse and manifest.exists()):
        run._generate(env, args.people, args.contacts, manifest)
    plan = json.loads(manifest.read_text())
    users = _users(env)
    if args.in_process:
        _in_process(env, users, args.in_process)
    cookies = {who: run._session_cookie(env, email) for who, email in users.items()}
    pages = tuple(args.page or REPORTS)
    script = Path(instance) / "bench-reports.lua"
    script.write_text(LUA, encoding="utf-8")
    server, base = _serve(env)
    try:
        measurable, skipped = _answering(base, cookies, users, pages)
        for who, path in measurable:  # warm both workers' caches
            _sequential(base + path, cookies[who], 2)
        measured = _Run(
            base,
            cookies,
            script,
            args.seconds,
            args.latency_requests,
            [],
            {key: [] for key in measurable},
            {key: [] for key in measurable},
        )
        for _ in range(args.rounds):
            measured.round()
        size = f"{plan.get('people', 0):,} people, {plan.get('contacts', 0):,} contacts"
        print(
            f"\n{database}, {size}; gunicorn 2 workers; latency: one client, "
            f"{args.rounds} x {args.latency_requests} requests; throughput: wrk 16 connections, "
            f"{args.rounds} x {args.seconds} s"
        )
        _table(measured, users, pages, database)
        if skipped:
            print("Not measured (the page did not answer 200):")
            for line in skipped:
                print(f"- {line}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.instance:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
