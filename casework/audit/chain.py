"""What an audit row's MAC and a seal's MAC are computed over (DECISIONS §4).

* A **row MAC** covers every column of the row except the MAC itself, and the people the row
  links (with their "revealed" mark): editing a row, or deleting or adding one of its links,
  breaks it. It is computed in the request, so requests never wait for each other.
* A **seal** covers a batch of committed rows: an HMAC over the previous seal's MAC, the sorted
  (row id, row MAC) pairs and their count. Seals form a chain, so deleting or reordering rows
  (or seals) breaks it; the newest seals are also copied outside the database.

Payloads are canonical JSON (sorted keys, no spaces, UTC times with microseconds), versioned
so that the format can change without making old rows unverifiable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

ROW_FORMAT = "row1"
SEAL_FORMAT = "seal1"
#: The "previous MAC" of the first seal.
GENESIS = "0" * 64


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def row_payload(row: Mapping[str, Any], links: Iterable[tuple[uuid.UUID, bool]]) -> bytes:
    """The bytes a row's MAC covers. ``row`` has the ``audit_events`` columns by name."""
    return canonical(
        [
            ROW_FORMAT,
            str(row["id"]),
            _when(row["occurred_at"]),
            row["action"],
            row["outcome"],
            _text(row["actor_user_id"]),
            _text(row["actor_agency_id"]),
            row["target_type"],
            row["target_id"],
            row["request_id"],
            row["ip_address"],
            row["details"] or {},
            sorted(row["categories"] or []),
            _text(row["emergency_access_id"]),
            sorted([str(person_id), bool(revealed)] for person_id, revealed in links),
        ]
    )


def seal_payload(previous_mac: str, pairs: Sequence[tuple[str, str]]) -> bytes:
    """The bytes a seal's MAC covers: the previous seal, the sorted (id, MAC) pairs, the count."""
    ordered = sorted(pairs)
    return canonical([SEAL_FORMAT, previous_mac, [list(pair) for pair in ordered], len(ordered)])
