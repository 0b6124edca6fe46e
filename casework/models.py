"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests, relationships)."""

from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.audit.models import AuditEvent
from casework.auth.models import LoginAttempt, UserSession
from casework.db import Base
from casework.users.models import User, UserRole

__all__ = [
    "Agency",
    "AgencyKind",
    "AuditEvent",
    "Base",
    "LoginAttempt",
    "Team",
    "TeamMembership",
    "User",
    "UserRole",
    "UserSession",
]
