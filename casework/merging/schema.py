"""What a merge does with each table that points at a person (issue 9, ADR 0041).

Schema-driven: every foreign-key column to ``people.id`` in ``Base.metadata`` is either moved
to the survivor (``MOVED``) or listed in ``NOT_MOVED`` with the reason.
``tests/unit/test_merging_schema.py`` fails when a new table points at people and is in
neither, so a merge can never silently leave a row behind.
"""

from __future__ import annotations

from sqlalchemy import Table

from casework.db import Base

#: (table, column) moved to the survivor; encrypted columns (``*_enc``) are re-encrypted.
MOVED: frozenset[tuple[str, str]] = frozenset(
    {
        ("contacts", "person_id"),
        ("notes", "person_id"),
        ("involvements", "person_id"),
        ("person_alerts", "person_id"),
        ("person_needs", "person_id"),
        ("person_revisions", "person_id"),
        ("referrals", "person_id"),
        ("referral_events", "person_id"),
        ("sharing_bases", "person_id"),
        ("tasks", "person_id"),
        ("treatment_episodes", "person_id"),
        ("welfare_schedules", "person_id"),
        ("timeline_entries", "person_id"),
        ("notifications", "person_id"),
        ("rectifications", "person_id"),
        ("retention_reviews", "person_id"),
        # Ended first (break-glass is never carried to another record), then moved.
        ("emergency_accesses", "person_id"),
    }
)

#: (table, column) a merge does not move, and why.
NOT_MOVED: dict[tuple[str, str], str] = {
    ("people", "merged_into_id"): "the tombstone's pointer to the survivor, set by the merge",
    ("person_search_tokens", "person_id"): "rebuilt for the survivor from both identities",
    ("latest_contacts", "person_id"): "derived: recomputed from the moved contacts",
    ("person_merges", "survivor_id"): "the merge record itself",
    ("person_merges", "merged_id"): "the merge record itself",
    ("not_duplicates", "first_id"): "a reviewer's decision about that pair of records",
    ("not_duplicates", "second_id"): "a reviewer's decision about that pair of records",
    ("information_requests", "person_id"): (
        "a merge is refused while either record has an open request; a closed request stays "
        "with the record it was made about"
    ),
}


def person_foreign_keys() -> set[tuple[str, str]]:
    """Every (table, column) with a foreign key to ``people.id``."""
    found: set[tuple[str, str]] = set()
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if any(fk.column.table.name == "people" for fk in column.foreign_keys):
                found.add((table.name, column.name))
    return found


def encrypted_columns(table: Table) -> list[str]:
    """The encrypted columns of a table (``*_enc``), re-encrypted under the survivor's key."""
    return [column.name for column in table.columns if column.name.endswith("_enc")]
