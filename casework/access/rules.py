"""What each endpoint declares about who may reach it (deny by default).

Every view carries exactly one :class:`Rule`, set with :func:`access` directly under its route
decorator. The request gate (``casework.web.gate``) refuses any endpoint without one, and
``tests/integration/test_route_access.py`` fails the build if a route is undeclared or if its
rule differs from the checked-in manifest. Decisions about a *person's* information (consent,
involvement, break-glass) belong to ``policy.py`` from issue 3 on; rules here are coarse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from casework.access.roles import Role


class Stage(StrEnum):
    #: Anyone, signed in or not (sign-in page, health check, error pages).
    PUBLIC = "public"
    #: Signed in with a password, second factor not yet given (MFA pages, sign out).
    PASSWORD_ONLY = "password_only"  # noqa: S105 - a stage name, not a secret
    #: Fully signed in, including a user who must still change an admin-set password.
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a stage name
    #: Fully signed in and password current; optionally limited to roles.
    SIGNED_IN = "signed_in"
    #: The JSON API: an ``Authorization: Bearer`` token, never the session cookie. Unknown,
    #: revoked or expired tokens get 401; a token without the rule's scopes, or whose user
    #: holds none of its roles, gets 403 (``casework.api.auth``).
    API = "api"


@dataclass(frozen=True)
class Rule:
    stage: Stage
    roles: frozenset[Role] = frozenset()
    #: API tokens only: the scopes a token must carry (all of them).
    scopes: frozenset[str] = frozenset()

    def describe(self) -> str:
        described = str(self.stage)
        if self.roles:
            described += ":" + ",".join(sorted(self.roles))
        if self.scopes:
            described += "[" + ",".join(sorted(self.scopes)) + "]"
        return described

    def allows_roles(self, held: frozenset[Role]) -> bool:
        return not self.roles or bool(self.roles & held)


PUBLIC = Rule(Stage.PUBLIC)
PASSWORD_ONLY = Rule(Stage.PASSWORD_ONLY)
PASSWORD_CHANGE = Rule(Stage.PASSWORD_CHANGE)
SIGNED_IN = Rule(Stage.SIGNED_IN)


def roles(*required: Role) -> Rule:
    """Signed in and holding at least one of ``required``."""
    if not required:
        raise ValueError("roles() needs at least one role")
    return Rule(Stage.SIGNED_IN, frozenset(required))


ADMIN = roles(Role.ADMIN)

#: The API scopes a token may carry (DECISIONS §6: tokens are narrowed by scopes).
API_SCOPES: dict[str, str] = {
    "pathways:read": "Read pathway definitions",
    "referrals:read": "List and read referrals",
    "referrals:write": "Book required assessments and record stage transitions",
}


def api(scope: str, *required: Role) -> Rule:
    """A token-authenticated API endpoint needing ``scope`` (and, optionally, a role)."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")
    return Rule(Stage.API, frozenset(required), frozenset({scope}))


#: The OpenAPI description itself: any valid token (it describes no one's data).
API_ANY_TOKEN = Rule(Stage.API)

F = TypeVar("F", bound=Callable[..., object])


def access(rule: Rule) -> Callable[[F], F]:
    """Declare who may reach a view. Put it directly under ``@bp.route``."""
    if not isinstance(rule, Rule):
        raise TypeError("access() takes a casework.access.rules.Rule")

    def decorate(view: F) -> F:
        view.__access__ = rule  # type: ignore[attr-defined]
        return view

    return decorate


def rule_of(view: Callable[..., object] | None) -> Rule | None:
    rule = getattr(view, "__access__", None)
    return rule if isinstance(rule, Rule) else None


#: Case work: the roles that work with people's records (the policy decides which records).
CASE_WORK = roles(Role.WORKER, Role.ASSESSOR, Role.MANAGER, Role.CUSTODY_OFFICER)
