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
from casework.merging.models import NotDuplicate, PersonMerge
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
from casework.rectification.models import Rectification
from casework.retention.models import RetentionReview
from casework.rights.models import InformationRequest, SarExemption, SarPack, SarRedaction
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
    "InformationRequest",
    "Involvement",
    "JobRun",
    "LatestContact",
    "LoginAttempt",
    "NotDuplicate",
    "Note",
    "Notification",
    "OutboxMessage",
    "Person",
    "PersonAlert",
    "PersonMerge",
    "PersonNeed",
    "PersonRevision",
    "PrevalenceEstimate",
    "Rectification",
    "Referral",
    "ReferralEvent",
    "Reminder",
    "RetentionReview",
    "SarExemption",
    "SarPack",
    "SarRedaction",
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
