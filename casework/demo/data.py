"""The fictional Northdale partnership: agencies, teams and one account per role.

Every name here is invented; addresses use example.org (RFC 2606).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from casework.access.roles import Role
from casework.agencies import services as agency_services
from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.audit import recorder
from casework.audit.recorder import SYSTEM
from casework.clock import utcnow
from casework.security.kit import SecurityKit
from casework.users import services as user_services
from casework.users.models import User, UserRole

#: The one password of every demo account (listed in the README). Demo data only.
DEMO_PASSWORD = "northdale-demo-2026"  # noqa: S105 - fictional demo accounts, documented

#: A private landlord: in the partnership's list (consent can name it), with no accounts or
#: teams (secure links for people without accounts come later).
LANDLORD = "Quillfield Lettings (private landlord)"

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
    (LANDLORD, AgencyKind.OTHER, ()),
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


#: More staff, so that caseloads look like a real partnership's. They sign in like the accounts
#: above (same password) but are not listed in the README.
STAFF: tuple[DemoAccount, ...] = (
    DemoAccount(
        "nadia.ferncliffe@northdale.example.org",
        "Nadia Ferncliffe",
        "Northdale Recovery Service",
        "HOPE team",
        (Role.WORKER,),
        description="HOPE team outreach worker",
    ),
    DemoAccount(
        "owen.gatley@northdale.example.org",
        "Owen Gatley",
        "Northdale Recovery Service",
        "HOPE team",
        (Role.WORKER,),
        description="HOPE team outreach worker",
    ),
    DemoAccount(
        "bethan.coldwell@northdale.example.org",
        "Bethan Coldwell",
        "Northdale Recovery Service",
        "Assessment team",
        (Role.WORKER,),
        description="Recovery worker (key worker, prescribing)",
    ),
    DemoAccount(
        "imran.sowerby@northdale.example.org",
        "Imran Sowerby",
        "Northdale Council Housing Options",
        "Housing options",
        (Role.WORKER,),
        description="Housing officer",
    ),
    DemoAccount(
        "grace.halloway@northdale.example.org",
        "Grace Halloway",
        "Northdale Adult Social Care",
        "Complex needs team",
        (Role.WORKER,),
        description="Social worker",
    ),
    DemoAccount(
        "declan.prestwick@northdale.example.org",
        "Declan Prestwick",
        "Northdale Adult Social Care",
        "Complex needs team",
        (Role.WORKER,),
        description="Social worker",
    ),
    DemoAccount(
        "lewis.harrop@northdale.example.org",
        "PC Lewis Harrop",
        "Northdale Police",
        "Neighbourhood team",
        (Role.WORKER,),
        description="Neighbourhood police officer",
    ),
    DemoAccount(
        "aisha.brindley@northdale.example.org",
        "Aisha Brindley",
        "Probation Service, Northdale",
        "Offender management",
        (Role.WORKER,),
        description="Probation officer",
    ),
    DemoAccount(
        "colin.thackray@northdale.example.org",
        "Colin Thackray",
        "HMP Northdale",
        "Resettlement",
        (Role.WORKER,),
        description="Resettlement officer",
    ),
    DemoAccount(
        "megan.oldroyd@northdale.example.org",
        "Megan Oldroyd",
        "Northdale General Hospital",
        "Hospital liaison",
        (Role.WORKER,),
        description="Hospital liaison nurse",
    ),
    DemoAccount(
        "sian.whitlow@northdale.example.org",
        "Sian Whitlow",
        "Safe Haven Northdale",
        "IDVA service",
        (Role.WORKER,),
        description="IDVA",
    ),
    DemoAccount(
        "danny.kettlewell@northdale.example.org",
        "Danny Kettlewell",
        "The Cellar Recovery Project",
        "Peer mentors",
        (Role.WORKER,),
        description="Peer mentor",
    ),
    DemoAccount(
        "joy.ambler@northdale.example.org",
        "Joy Ambler",
        "Beech House Care Home",
        "Care staff",
        (Role.WORKER,),
        description="Senior carer",
    ),
)


def is_empty(db: Session) -> bool:
    return (db.scalar(select(func.count()).select_from(Agency)) or 0) == 0


def load(
    db: Session, kit: SecurityKit, *, progress: Callable[[str], None] = lambda _step: None
) -> None:
    """Create the Northdale agencies, teams, demo accounts and staff in ``db``'s transaction
    (no people: :mod:`casework.demo.people` adds them)."""
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
    password_hash = kit.passwords.hash(DEMO_PASSWORD)  # once: staff share the demo password
    for account in STAFF:
        add_user(
            db,
            email=account.email,
            full_name=account.full_name,
            agency_id=agencies[account.agency].id,
            roles=account.roles,
            password_hash=password_hash,
            team_id=teams[(account.agency, account.team)].id,
            is_manager=account.manages_team,
        )
        progress(f"staff {account.email}")
    db.flush()


def user_row(
    *,
    user_id: uuid.UUID,
    email: str,
    full_name: str,
    agency_id: uuid.UUID,
    password_hash: str,
    now: datetime,
) -> dict[str, Any]:
    """A ``users`` row of a demo account that may sign in at once with the demo password
    (as ``users.services.create_user`` makes it with ``must_change_password=False``)."""
    return {
        "id": user_id,
        "email": email,
        "full_name": full_name,
        "agency_id": agency_id,
        "active": True,
        "password_hash": password_hash,
        "password_changed_at": now,
        "must_change_password": False,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def add_user(
    db: Session,
    *,
    email: str,
    full_name: str,
    agency_id: uuid.UUID,
    roles: tuple[Role, ...],
    password_hash: str,
    team_id: uuid.UUID,
    is_manager: bool = False,
) -> uuid.UUID:
    """One demo user with an already-made password hash (hashing is the slow part)."""
    user_id = uuid.uuid4()
    db.execute(
        insert(User),
        [
            user_row(
                user_id=user_id,
                email=email,
                full_name=full_name,
                agency_id=agency_id,
                password_hash=password_hash,
                now=utcnow(),
            )
        ],
    )
    db.execute(insert(UserRole), [{"user_id": user_id, "role": role} for role in roles])
    db.execute(
        insert(TeamMembership),
        [{"team_id": team_id, "user_id": user_id, "is_manager": is_manager}],
    )
    recorder.record(
        db,
        SYSTEM,
        "admin.user.create",
        target_type="user",
        target_id=user_id,
        details={"roles": sorted(str(r) for r in roles), "agency_id": str(agency_id)},
    )
    return user_id


def account_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0
