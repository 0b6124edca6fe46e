"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests, relationships)."""

from casework.agencies.models import Agency, AgencyKind, Team, TeamMembership
from casework.api.models import ApiToken, IdempotencyKey
from casework.audit.models import AuditEvent, AuditEventPerson, AuditSeal, AuditSealMember
from casework.auth.models import LoginAttempt, UserSession
from casework.consent.models import EmergencyAccess, SharingBasis, SharingBasisCategory
from casework.contacts.models import Contact, LatestContact, Note
from casework.db import Base
from casework.family.models import Involvement
from casework.jobs.models import JobRun
from casework.notifications.models import Notification, OutboxMessage
from casework.pathways.models import Referral, ReferralEvent
from casework.people.models import (
    Person,
    PersonAlert,
    PersonNeed,
    PersonRevision,
    SearchToken,
    TimelineEntry,
)
from casework.tasks.models import Reminder, Task
from casework.treatment.models import PrevalenceEstimate, TreatmentEpisode
from casework.users.models import User, UserRole
from casework.welfare.models import ScheduleEvent, WelfareSchedule

__all__ = [
    "Agency",
    "AgencyKind",
    "ApiToken",
    "AuditEvent",
    "AuditEventPerson",
    "AuditSeal",
    "AuditSealMember",
    "Base",
    "Contact",
    "EmergencyAccess",
    "IdempotencyKey",
    "Involvement",
    "JobRun",
    "LatestContact",
    "LoginAttempt",
    "Note",
    "Notification",
    "OutboxMessage",
    "Person",
    "PersonAlert",
    "PersonNeed",
    "PersonRevision",
    "PrevalenceEstimate",
    "Referral",
    "ReferralEvent",
    "Reminder",
    "ScheduleEvent",
    "SearchToken",
    "SharingBasis",
    "SharingBasisCategory",
    "Task",
    "Team",
    "TeamMembership",
    "TimelineEntry",
    "TreatmentEpisode",
    "User",
    "UserRole",
    "UserSession",
    "WelfareSchedule",
]
