"""Categories of information about a person (DECISIONS §2) and which roles may read each.

Every item of a person's information has one category: the fact of an involvement or contact
takes the category of the recording agency's kind (``config/information.toml``), alerts and
needs name theirs in the same file, and the text of any note is "case notes".
"""

from __future__ import annotations

from enum import StrEnum

from casework.access.roles import Role


class Category(StrEnum):
    IDENTITY = "identity"
    SUBSTANCE_USE = "substance_use"
    HEALTH = "health"
    OFFENDING = "offending"
    HOUSING = "housing"
    DOMESTIC_ABUSE = "domestic_abuse"
    CASE_NOTES = "case_notes"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.IDENTITY: "Identity and contact",
    Category.SUBSTANCE_USE: "Substance use and treatment",
    Category.HEALTH: "Physical and mental health",
    Category.OFFENDING: "Offending",
    Category.HOUSING: "Housing",
    Category.DOMESTIC_ABUSE: "Domestic abuse",
    Category.CASE_NOTES: "Case notes",
}

ALL_CATEGORIES = frozenset(Category)

#: What each role may read of a person it can see (DECISIONS §3). Roles not listed read no
#: case content at all (information governance reads case content only for a subject access
#: request, from the information-rights issue on).
ROLE_CATEGORIES: dict[Role, frozenset[Category]] = {
    Role.WORKER: ALL_CATEGORIES,
    Role.ASSESSOR: ALL_CATEGORIES,
    Role.MANAGER: ALL_CATEGORIES,
    Role.CUSTODY_OFFICER: frozenset({Category.IDENTITY, Category.OFFENDING}),
}


def categories_for(roles: frozenset[Role]) -> frozenset[Category]:
    """The union of what a user's roles may read."""
    readable: set[Category] = set()
    for role in roles:
        readable |= ROLE_CATEGORIES.get(role, frozenset())
    return frozenset(readable)
