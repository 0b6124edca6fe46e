"""The real app plus one trivial endpoint, for same-run throughput ratios. Benchmarks only."""

from __future__ import annotations

from casework.access.rules import PUBLIC, access
from casework.app import create_app

app = create_app()


@access(PUBLIC)
def trivial() -> str:
    return "hi"


app.add_url_rule("/bench/trivial", "bench_trivial", trivial)
