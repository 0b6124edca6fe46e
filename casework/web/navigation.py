"""The service navigation: what each role sees in the header, and each role's home page."""

from __future__ import annotations

from dataclasses import dataclass

from casework.access.roles import Role


@dataclass(frozen=True)
class NavItem:
    text: str
    endpoint: str
    roles: frozenset[Role]  # empty = every signed-in user
    #: Endpoint prefixes where the item shows as current (default: its blueprint's).
    active_for: tuple[str, ...] = ()
    #: A count shown beside the text (a key of ``BADGES``), worked out on every page.
    badge: str = ""


NAV_ITEMS = (
    # A worker's home is "My work": the badge counts their due and overdue work.
    NavItem("Home", "home.index", frozenset(), badge="work"),
    NavItem(
        "Caseload",
        "family.caseload",
        frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER}),
        active_for=("family.caseload",),
    ),
    # Every page about one person belongs to "Find a person", whichever blueprint serves it.
    NavItem(
        "Find a person",
        "people.search",
        frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER, Role.CUSTODY_OFFICER}),
        active_for=(
            "people.",
            "family.view",
            "family.add",
            "family.edit",
            "family.end",
            "contacts.",
            "consent.index",
            "consent.detail",
            "consent.new_",
            "consent.correct",
            "consent.withdraw",
            "consent.emergency",
            "pathways.person_referrals",
            "pathways.new_referral",
        ),
    ),
    NavItem(
        "Book an assessment",
        "bookings.start",
        frozenset({Role.CUSTODY_OFFICER}),
        active_for=("bookings.",),
    ),
    NavItem(
        "Referrals",
        "pathways.index",
        frozenset({Role.WORKER, Role.ASSESSOR, Role.MANAGER, Role.CUSTODY_OFFICER}),
        active_for=("pathways.index", "pathways.today", "pathways.view", "pathways.transition"),
        badge="referrals",
    ),
    NavItem(
        "Review queue",
        "consent.review_queue",
        frozenset({Role.INFORMATION_GOVERNANCE}),
        active_for=("consent.review_",),
    ),
    NavItem(
        "Find records",
        "audit.find_person",
        frozenset({Role.INFORMATION_GOVERNANCE}),
        active_for=("audit.find_person", "audit.person", "audit.access_log"),
    ),
    NavItem(
        "Audit log",
        "audit.search",
        frozenset({Role.INFORMATION_GOVERNANCE}),
        active_for=("audit.search",),
    ),
    NavItem(
        "Reports",
        "reports.index",
        frozenset({Role.MANAGER, Role.PARTNERSHIP_LEAD}),
        active_for=("reports.",),
    ),
    NavItem("Users", "users.list_users", frozenset({Role.ADMIN})),
    NavItem("Agencies", "agencies.list_agencies", frozenset({Role.ADMIN})),
    NavItem("API tokens", "api_tokens.list_tokens", frozenset({Role.ADMIN})),
    NavItem("Notifications", "notifications.index", frozenset(), badge="notifications"),
    NavItem("Your account", "auth.account", frozenset()),
)


# --- counts beside menu items ------------------------------------------------------------------

#: Stands in for a badge in the cached page chrome; replaced on every request.
BADGE_PLACEHOLDER = "__casework_badge_{}__"
#: What a screen reader hears after the number.
BADGE_WORDS = {
    "referrals": "waiting for your agency",
    "notifications": "unread",
    "work": "due or overdue",
}


def badge_markup(key: str, count: int) -> str:
    """The MOJ notification badge for a count (nothing for none)."""
    if count <= 0:
        return ""
    shown = "99+" if count > 99 else str(count)
    return (
        f' <span class="moj-notification-badge">{shown}'
        f'<span class="govuk-visually-hidden"> {BADGE_WORDS.get(key, "")}</span></span>'
    )


def badge_count(key: str) -> int:
    """One cheap query per badge shown (each on a partial index)."""
    from casework.access.roles import Role
    from casework.inbox.queries import count_due
    from casework.notifications.queries import unread_count
    from casework.pathways.queries import count_waiting
    from casework.web import context

    if key == "notifications":
        return unread_count(context.db(), context.principal().id)
    if key == "referrals":
        return count_waiting(context.db(), context.viewer())
    if key == "work":
        if Role.WORKER not in context.principal().roles:
            return 0
        return count_due(context.db(), context.viewer())
    return 0


#: The home page each role lands on, in order of precedence for users with several roles.
HOME_BY_ROLE: tuple[tuple[Role, str], ...] = (
    (Role.WORKER, "home.worker"),
    (Role.ASSESSOR, "home.assessor"),
    (Role.CUSTODY_OFFICER, "home.custody"),
    (Role.MANAGER, "home.manager"),
    (Role.INFORMATION_GOVERNANCE, "home.information_governance"),
    (Role.PARTNERSHIP_LEAD, "home.partnership_lead"),
    (Role.ADMIN, "home.admin"),
)


def home_endpoint(roles: frozenset[Role]) -> str:
    for role, endpoint in HOME_BY_ROLE:
        if role in roles:
            return endpoint
    return "home.no_role"


#: With more than one role, each role's home page gets its own item instead of "Home".
ROLE_HOME_LABELS: dict[str, str] = {
    "home.worker": "My work",
    "home.assessor": "Assessments",
    "home.custody": "Custody bookings",
    "home.manager": "Team overview",
    "home.information_governance": "Information governance",
    "home.partnership_lead": "Partnership",
    "home.admin": "Administration",
}


def items_for(roles: frozenset[Role]) -> list[NavItem]:
    items = [item for item in NAV_ITEMS if not item.roles or item.roles & roles]
    homes = [(role, endpoint) for role, endpoint in HOME_BY_ROLE if role in roles]
    if len(homes) > 1:
        role_items = [
            NavItem(
                ROLE_HOME_LABELS[endpoint],
                endpoint,
                frozenset({role}),
                badge="work" if endpoint == "home.worker" else "",
            )
            for role, endpoint in homes
        ]
        items = role_items + [item for item in items if item.endpoint != "home.index"]
    return items
