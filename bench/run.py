"""Throughput of Casework pages as ratios to a trivial endpoint, measured in the same run.

Run by hand (not in CI):

    .venv/bin/python bench/run.py [--people 100000 --contacts 2000000] [--seconds 10] [--rounds 2]

With DATABASE_URL set (a PostgreSQL database it may empty, and its ``<name>_keys`` keystore
database), it measures PostgreSQL; otherwise SQLite in a temporary instance folder. The data set
is made by ``casework demo-data --people N --contacts M`` (the same generators as the demo data,
streamed); ``--reuse`` keeps a data set made by an earlier run (``--instance DIR`` on SQLite).
Needs `wrk` (apt-get install -y wrk). Serves with gunicorn, 2 sync workers, on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASEWORK = str(REPO / ".venv/bin/casework")
sys.path.insert(0, str(REPO))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _generate(env: dict[str, str], people: int, contacts: int, manifest: Path) -> None:
    """A fresh database with the large fictional data set."""
    full_env = {**os.environ, **env}
    if env.get("DATABASE_URL"):
        for url in (env["DATABASE_URL"], env["DATABASE_URL"] + "_keys"):
            name = url.rsplit("/", 1)[1]
            subprocess.run(
                [
                    "psql",
                    url.rsplit("/", 1)[0] + "/postgres",
                    "-qc",
                    f'DROP DATABASE IF EXISTS "{name}"',
                ],
                check=True,
            )
            subprocess.run(
                ["psql", url.rsplit("/", 1)[0] + "/postgres", "-qc", f'CREATE DATABASE "{name}"'],
                check=True,
            )
    subprocess.run([CASEWORK, "db", "upgrade"], env=full_env, check=True)
    started = time.monotonic()
    subprocess.run(
        [
            CASEWORK,
            "demo-data",
            "--people",
            str(people),
            "--contacts",
            str(contacts),
            "--bench-manifest",
            str(manifest),
        ],
        env=full_env,
        check=True,
    )
    took = time.monotonic() - started
    print(f"generated {people:,} people and {contacts:,} contacts in {took:,.0f} s")


def _session_cookie(env: dict[str, str], email: str) -> str:
    """A signed session cookie for ``email``, through the real session service."""
    os.environ.update(env)
    from sqlalchemy import select

    from casework.app import create_app
    from casework.audit.recorder import SYSTEM
    from casework.auth import services
    from casework.users.models import User

    app = create_app()
    database = app.extensions["casework.database"]
    with database.transaction() as db:
        user_id = db.scalar(select(User.id).where(User.email == email))
        assert user_id is not None, email
        token = services.start_session(db, SYSTEM, user_id, mfa_verified=True, user_agent="bench")
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'_user_id': token})}"


def _unit(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, cookie: str, seconds: int) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"errors while loading {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p50, out
    assert p99, out
    return rps, _unit(*p50.groups()), _unit(*p99.groups())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--instance", help="instance folder (SQLite); kept between runs")
    parser.add_argument("--reuse", action="store_true", help="use the data set already there")
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
    manifest = Path(instance) / "bench-manifest.json"
    if not (args.reuse and manifest.exists()):
        _generate(env, args.people, args.contacts, manifest)
    plan = json.loads(manifest.read_text())
    cookie = _session_cookie(env, plan["worker_email"])
    person = plan["person_id"]
    pages = {
        "trivial": "/bench/trivial",
        "`/healthz` (one query)": "/healthz",
        "caseload (`/caseload`)": "/caseload",
        "person (`/people/<id>`)": f"/people/{person}",
        "timeline, 50 notes (`/people/<id>/timeline`)": f"/people/{person}/timeline",
        "worker home": "/home/worker",
    }
    port = _free_port()
    server = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(REPO / "bench"),
            "--log-level",
            "warning",
            "wsgi_bench:app",
        ],
        env={**os.environ, **env},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        for path in pages.values():  # warm both workers' caches
            _wrk(base + path, cookie, 1)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, path in pages.items():
                results[name].append(_wrk(base + path, cookie, args.seconds))
        trivial = sum(r for r, _, _ in results["trivial"]) / args.rounds
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        size = f"{plan.get('people', 0):,} people, {plan.get('contacts', 0):,} contacts"
        print(
            f"\n{database}, {size}; gunicorn 2 workers, wrk 16 connections, "
            f"{args.rounds} rounds x {args.seconds}s\n"
        )
        print("| page | req/s | ratio to trivial | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for name in pages:
            rps = sum(r for r, _, _ in results[name]) / args.rounds
            p50 = max(p for _, p, _ in results[name])
            p99 = max(p for _, _, p in results[name])
            print(f"| {name} | {rps:,.0f} | {rps / trivial:.2f} | {p50:.1f} | {p99:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.instance:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
