"""Throughput of Casework pages as ratios to a trivial endpoint, measured in the same run.

Run by hand (not in CI):  .venv/bin/python bench/run.py [--seconds 10] [--rounds 2]
With DATABASE_URL set (a PostgreSQL database it may empty), it measures PostgreSQL.
Needs `wrk` (apt-get install -y wrk). Serves with gunicorn, 2 sync workers, on 127.0.0.1.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(REPO))

PAGES = {
    "trivial": "/bench/trivial",
    "health (1 query)": "/healthz",
    "sign-in page": "/sign-in",
    "worker home (signed in)": "/home/worker",
    "account (signed in)": "/account",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(env: dict[str, str]) -> str:
    """Migrate, load demo data, and return a signed session cookie for the demo worker."""
    os.environ.update(env)
    from sqlalchemy import select, text

    from casework import migrate
    from casework.app import create_app
    from casework.audit.recorder import SYSTEM
    from casework.auth import services
    from casework.demo import data
    from casework.models import Base
    from casework.users.models import User

    app = create_app()
    database = app.extensions["casework.database"]
    if not database.is_sqlite:
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(database.url)
    with database.transaction() as db:
        data.load(db, app.extensions["casework.kit"])
    with database.transaction() as db:
        user = db.scalar(select(User).where(User.email == "worker@northdale.example.org"))
        assert user is not None
        token = services.start_session(db, SYSTEM, user.id, mfa_verified=True, user_agent="bench")
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    _ = Base
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'_user_id': token})}"


def _wrk(url: str, cookie: str, seconds: int) -> tuple[float, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_match = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99_match
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_match.group(2)]
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"errors while loading {url}:\n{out}")
    return rps, float(p99_match.group(1)) * scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    instance = tempfile.mkdtemp(prefix="casework-bench-")
    env = {"CASEWORK_ENV": "development", "CASEWORK_INSTANCE_DIR": instance}
    cookie = _prepare(env)
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
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in PAGES}
        for _ in range(args.rounds):
            for name, path in PAGES.items():
                results[name].append(_wrk(base + path, cookie, args.seconds))
        trivial = sum(r for r, _ in results["trivial"]) / args.rounds
        database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        print(
            f"\n{database}, gunicorn 2 workers, wrk 16 connections, "
            f"{args.rounds} rounds x {args.seconds}s\n"
        )
        print("| endpoint | req/s | ratio to trivial | p99 ms |")
        print("|---|---:|---:|---:|")
        for name in PAGES:
            rps = sum(r for r, _ in results[name]) / args.rounds
            p99 = max(p for _, p in results[name])
            print(f"| {name} | {rps:,.0f} | {rps / trivial:.2f} | {p99:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
