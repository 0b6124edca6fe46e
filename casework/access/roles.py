"""The roles a user can hold. A user holds one or more; what each may do is in ``policy.py``."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    WORKER = "worker"
    CUSTODY_OFFICER = "custody_officer"
    ASSESSOR = "assessor"
    MANAGER = "manager"
    INFORMATION_GOVERNANCE = "information_governance"
    PARTNERSHIP_LEAD = "partnership_lead"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.WORKER: "Worker",
    Role.CUSTODY_OFFICER: "Custody officer",
    Role.ASSESSOR: "Assessor",
    Role.MANAGER: "Manager",
    Role.INFORMATION_GOVERNANCE: "Information governance",
    Role.PARTNERSHIP_LEAD: "Partnership lead",
    Role.ADMIN: "Administrator",
}

ROLE_HINTS: dict[Role, str] = {
    Role.WORKER: "Outreach and partner workers: caseload, contacts, welfare checks",
    Role.CUSTODY_OFFICER: "Custody staff: book required assessments",
    Role.ASSESSOR: "Treatment assessors: bookings due, attendance and outcomes",
    Role.MANAGER: "Team managers: team caseloads and reports for their agency",
    Role.INFORMATION_GOVERNANCE: "Consent and lawful-basis review, audit, subject access",
    Role.PARTNERSHIP_LEAD: "Partnership-wide figures only, no case records",
    Role.ADMIN: "Users, agencies and teams; no case records",
}

#: Roles that work with case records (used later by the access policy and search reveal).
CASE_ROLES = frozenset({Role.WORKER, Role.CUSTODY_OFFICER, Role.ASSESSOR, Role.MANAGER})
