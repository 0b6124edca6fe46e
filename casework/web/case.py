"""What every page about a person starts with: the policy's answer (404 for a person the user
may not see) and the header, with the page view declared for the audit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from casework.access.categories import Category
from casework.people import queries as people_queries
from casework.people.queries import PersonHeader
from casework.web import context
from casework.web.audit import audit_read


class HasCategory(Protocol):
    @property
    def category(self) -> Category: ...


def categories_of(*groups: Iterable[HasCategory]) -> set[Category]:
    """Identity (every person page shows the name) and the categories of the items shown."""
    found = {Category.IDENTITY}
    for group in groups:
        found.update(item.category for item in group)
    return found


def person_page(person_id: uuid.UUID, *, action: str | None = None) -> PersonHeader:
    """The person's header (name and alerts), or 404; the page view is audited."""
    header = people_queries.person_header(
        context.db(), context.vault(), context.viewer(), person_id
    )
    audit_read(
        action,
        access=header.access,
        categories=categories_of(header.alerts),
    )
    return header
