"""The reports there are: names (as in URLs and ``casework reports build NAME``) and titles."""

from __future__ import annotations

from dataclasses import dataclass

from casework.access.policy import Viewer
from casework.access.roles import Role
from casework.reports.tables import Scope


@dataclass(frozen=True)
class ReportDef:
    name: str
    title: str
    summary: str
    #: Uses the pathway filter.
    by_pathway: bool = False


REPORTS: dict[str, ReportDef] = {
    d.name: d
    for d in (
        ReportDef(
            "caseload",
            "Caseload and workload",
            "Open cases per worker and team, new and closed cases, days since last contact, "
            "overdue welfare checks and tasks.",
        ),
        ReportDef(
            "referrals",
            "Referrals",
            "Referrals by source and pathway, accepted and declined, days to an answer, "
            "referrals still waiting.",
            by_pathway=True,
        ),
        ReportDef(
            "consent",
            "Consent and lawful basis",
            "Valid consent per named agency, consents expiring soon, withdrawals, sharing on "
            "another basis waiting for review.",
        ),
        ReportDef(
            "funnel",
            "Pathway funnels",
            "For each pathway, how many of the people referred in the period reached each "
            "stage, with conversion and days between stages.",
            by_pathway=True,
        ),
        ReportDef(
            "continuity",
            "Continuity of care",
            "Prison leavers with a treatment need: first community appointment attended within "
            "21 days of release.",
        ),
        ReportDef(
            "hospital-da",
            "Hospital and domestic abuse",
            "On-ward referrals seen before discharge and engaged after; DASH, high risk, MARAC "
            "and IDVA referrals.",
        ),
        ReportDef(
            "partnership",
            "Partnership figures",
            "Numbers in treatment, new presentations and deaths in treatment against a "
            "baseline; unmet need by substance group.",
        ),
    )
}


def scope_for(viewer: Viewer) -> Scope | None:
    """What reports the viewer sees: a partnership lead the partnership's, a manager their
    agency's; anyone else none (the pages answer 403)."""
    if Role.PARTNERSHIP_LEAD in viewer.roles:
        return Scope.PARTNERSHIP
    if Role.MANAGER in viewer.roles:
        return Scope.AGENCY
    return None
