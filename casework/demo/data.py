"""The fictional Northdale partnership: agencies, teams and one account per role.

Every name here is invented; addresses use example.org (RFC 2606).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.agencies import services as agency_services
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.audit.recorder import SYSTEM
from casework.security.kit import SecurityKit
from casework.users import services as user_services
from casework.users.models import User

#: The one password of every demo account (listed in the README). Demo data only.
DEMO_PASSWORD = "northdale-demo-2026"  # noqa: S105 - fictional demo accounts, documented

AGENCIES: tuple[tuple[str, AgencyKind, tuple[str, ...]], ...] = (
    ("Northdale Recovery Service", AgencyKind.TREATMENT, ("HOPE team", "Assessment team")),
    ("Northdale Council Housing Options", AgencyKind.HOUSING, ("Housing options",)),
    ("Northdale Adult Social Care", AgencyKind.SOCIAL_CARE, ("Complex needs team",)),
    ("Northdale Police", AgencyKind.POLICE, ("Custody suite", "Neighbourhood team")),
    ("Probation Service, Northdale", AgencyKind.PROBATION, ("Offender management",)),
    ("HMP Northdale", AgencyKind.PRISON, ("Resettlement",)),
    ("Northdale General Hospital", AgencyKind.HEALTH, ("Hospital liaison",)),
    ("Safe Haven Northdale", AgencyKind.DOMESTIC_ABUSE, ("IDVA service",)),
    ("The Cellar Recovery Project", AgencyKind.VOLUNTARY, ("Peer mentors",)),
    ("Beech House Care Home", AgencyKind.CARE_HOME, ("Care staff",)),
    ("Northdale Council Public Health", AgencyKind.OTHER, ("Partnership team",)),
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    agency: str
    team: str
    roles: tuple[Role, ...]
    manages_team: bool = False
    description: str = ""


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "worker@northdale.example.org",
        "Robin Ashcroft",
        "Northdale Recovery Service",
        "HOPE team",
        (Role.WORKER,),
        description="HOPE team outreach worker",
    ),
    DemoAccount(
        "assessor@northdale.example.org",
        "Priya Castell",
        "Northdale Recovery Service",
        "Assessment team",
        (Role.ASSESSOR,),
        description="Treatment assessor",
    ),
    DemoAccount(
        "manager@northdale.example.org",
        "Dele Marwood",
        "Northdale Recovery Service",
        "HOPE team",
        (Role.MANAGER,),
        manages_team=True,
        description="Team manager, treatment service",
    ),
    DemoAccount(
        "custody@northdale.example.org",
        "Sergeant Alex Brennock",
        "Northdale Police",
        "Custody suite",
        (Role.CUSTODY_OFFICER,),
        description="Custody officer",
    ),
    DemoAccount(
        "housing@northdale.example.org",
        "Morgan Tilsley",
        "Northdale Council Housing Options",
        "Housing options",
        (Role.WORKER,),
        description="Housing officer",
    ),
    DemoAccount(
        "probation@northdale.example.org",
        "Casey Ormerod",
        "Probation Service, Northdale",
        "Offender management",
        (Role.WORKER,),
        description="Probation officer",
    ),
    DemoAccount(
        "hospital@northdale.example.org",
        "Jamie Fennick",
        "Northdale General Hospital",
        "Hospital liaison",
        (Role.WORKER,),
        description="Hospital liaison nurse",
    ),
    DemoAccount(
        "idva@northdale.example.org",
        "Taylor Wrenfield",
        "Safe Haven Northdale",
        "IDVA service",
        (Role.WORKER,),
        description="IDVA, domestic-abuse service",
    ),
    DemoAccount(
        "lead@northdale.example.org",
        "Harper Quillan",
        "Northdale Council Public Health",
        "Partnership team",
        (Role.PARTNERSHIP_LEAD,),
        description="Partnership lead",
    ),
    DemoAccount(
        "ig@northdale.example.org",
        "Rowan Esterby",
        "Northdale Council Public Health",
        "Partnership team",
        (Role.INFORMATION_GOVERNANCE,),
        description="Information governance officer",
    ),
    DemoAccount(
        "admin@northdale.example.org",
        "Sasha Pemberton",
        "Northdale Council Public Health",
        "Partnership team",
        (Role.ADMIN,),
        description="Casework administrator",
    ),
)


def is_empty(db: Session) -> bool:
    return (db.scalar(select(func.count()).select_from(Agency)) or 0) == 0


def load(
    db: Session, kit: SecurityKit, *, progress: Callable[[str], None] = lambda _step: None
) -> None:
    """Create the Northdale agencies, teams and demo accounts in ``db``'s transaction."""
    agencies: dict[str, Agency] = {}
    teams: dict[tuple[str, str], Team] = {}
    for name, kind, team_names in AGENCIES:
        agency = agency_services.create_agency(db, SYSTEM, name=name, kind=kind)
        agencies[name] = agency
        for team_name in team_names:
            teams[(name, team_name)] = agency_services.create_team(
                db, SYSTEM, agency, name=team_name
            )
        progress(f"agency {name}")
    for account in ACCOUNTS:
        user = user_services.create_user(
            db,
            kit,
            SYSTEM,
            email=account.email,
            full_name=account.full_name,
            agency=agencies[account.agency],
            roles=account.roles,
            password=DEMO_PASSWORD,
            must_change_password=False,
        )
        db.add(
            TeamMembership(
                team_id=teams[(account.agency, account.team)].id,
                user_id=user.id,
                is_manager=account.manages_team,
            )
        )
        progress(f"account {account.email}")
    db.flush()


def account_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0
