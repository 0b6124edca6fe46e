"""Code lists for people, involvements and contacts, and the alert and need types from
``config/information.toml``. Codes are stored in plaintext (DECISIONS §2); labels are shown."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from casework.access.categories import Category
from casework.agencies.models import AgencyKind
from casework.settings import CONFIG_DIR, ConfigurationError


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[self]


class Sex(LabelledEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class HousingStatus(LabelledEnum):
    SETTLED = "settled"
    TEMPORARY = "temporary"
    SOFA_SURFING = "sofa_surfing"
    NO_FIXED_ABODE = "no_fixed_abode"
    HOSTEL = "hostel"
    CARE_HOME = "care_home"
    PRISON = "prison"
    HOSPITAL = "hospital"
    NOT_KNOWN = "not_known"


class FamilyRole(LabelledEnum):
    KEY_WORKER = "key_worker"
    OUTREACH_WORKER = "outreach_worker"
    CARE_COORDINATOR = "care_coordinator"
    SOCIAL_WORKER = "social_worker"
    HOUSING_OFFICER = "housing_officer"
    PROBATION_OFFICER = "probation_officer"
    POLICE_CONTACT = "police_contact"
    NURSE = "nurse"
    IDVA = "idva"
    PEER_MENTOR = "peer_mentor"
    SUPPORT_WORKER = "support_worker"
    OTHER = "other"


class ClosureReason(LabelledEnum):
    COMPLETED = "completed"
    MOVED_AWAY = "moved_away"
    DECLINED = "declined"
    REFERRED_ON = "referred_on"
    NO_LONGER_ENGAGING = "no_longer_engaging"
    IN_PRISON = "in_prison"
    DIED = "died"
    OTHER = "other"


class ContactKind(LabelledEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    OUTREACH = "outreach"
    HOME_VISIT = "home_visit"
    WELFARE_CHECK = "welfare_check"
    TEXT = "text"
    VIDEO = "video"
    ATTEMPTED = "attempted"


class ContactOutcome(LabelledEnum):
    SEEN_WELL = "seen_well"
    SEEN_CONCERNS = "seen_concerns"
    SUPPORT_GIVEN = "support_given"
    REFERRED = "referred"
    NOT_FOUND = "not_found"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"


class TimelineKind(LabelledEnum):
    PERSON_CREATED = "person_created"
    IDENTITY_CHANGED = "identity_changed"
    CONTACT = "contact"
    NOTE_REVISED = "note_revised"
    FAMILY_ADDED = "family_added"
    FAMILY_CHANGED = "family_changed"
    LEAD_CHANGED = "lead_changed"
    FAMILY_ENDED = "family_ended"
    ALERT_RAISED = "alert_raised"
    ALERT_ENDED = "alert_ended"
    NEEDS_CHANGED = "needs_changed"
    HOUSING_CHANGED = "housing_changed"
    DIED = "died"
    REFERRAL = "referral"
    WELFARE_SCHEDULE = "welfare_schedule"
    TREATMENT = "treatment"
    RECTIFIED = "rectified"
    RESTRICTION = "restriction"
    MERGED = "merged"


class ErasureState(StrEnum):
    """A person record's erasure (issue 9): the steps are resumable from "erasing"."""

    ERASING = "erasing"
    ERASED = "erased"


LABELS: dict[StrEnum, str] = {
    Sex.FEMALE: "Female",
    Sex.MALE: "Male",
    Sex.OTHER: "Other",
    Sex.NOT_KNOWN: "Not known",
    HousingStatus.SETTLED: "Settled accommodation",
    HousingStatus.TEMPORARY: "Temporary accommodation",
    HousingStatus.SOFA_SURFING: "Sofa surfing",
    HousingStatus.NO_FIXED_ABODE: "No fixed abode",
    HousingStatus.HOSTEL: "Hostel or supported housing",
    HousingStatus.CARE_HOME: "Care home",
    HousingStatus.PRISON: "In prison",
    HousingStatus.HOSPITAL: "In hospital",
    HousingStatus.NOT_KNOWN: "Not known",
    FamilyRole.KEY_WORKER: "Key worker",
    FamilyRole.OUTREACH_WORKER: "Outreach worker",
    FamilyRole.CARE_COORDINATOR: "Care coordinator",
    FamilyRole.SOCIAL_WORKER: "Social worker",
    FamilyRole.HOUSING_OFFICER: "Housing officer",
    FamilyRole.PROBATION_OFFICER: "Probation officer",
    FamilyRole.POLICE_CONTACT: "Police contact",
    FamilyRole.NURSE: "Nurse or health worker",
    FamilyRole.IDVA: "IDVA",
    FamilyRole.PEER_MENTOR: "Peer mentor",
    FamilyRole.SUPPORT_WORKER: "Support worker",
    FamilyRole.OTHER: "Other",
    ClosureReason.COMPLETED: "Completed",
    ClosureReason.MOVED_AWAY: "Moved away",
    ClosureReason.DECLINED: "Declined support",
    ClosureReason.REFERRED_ON: "Referred on",
    ClosureReason.NO_LONGER_ENGAGING: "No longer engaging",
    ClosureReason.IN_PRISON: "In prison",
    ClosureReason.DIED: "Died",
    ClosureReason.OTHER: "Other",
    ContactKind.FACE_TO_FACE: "Face to face",
    ContactKind.PHONE: "Phone call",
    ContactKind.OUTREACH: "Outreach",
    ContactKind.HOME_VISIT: "Home visit",
    ContactKind.WELFARE_CHECK: "Welfare check",
    ContactKind.TEXT: "Text message",
    ContactKind.VIDEO: "Video call",
    ContactKind.ATTEMPTED: "Attempted, no contact",
    ContactOutcome.SEEN_WELL: "Seen and well",
    ContactOutcome.SEEN_CONCERNS: "Seen, with concerns",
    ContactOutcome.SUPPORT_GIVEN: "Support or advice given",
    ContactOutcome.REFERRED: "Referred to another service",
    ContactOutcome.NOT_FOUND: "Not found",
    ContactOutcome.DECLINED: "Declined contact",
    ContactOutcome.NO_ANSWER: "No answer",
    TimelineKind.PERSON_CREATED: "Record created",
    TimelineKind.IDENTITY_CHANGED: "Details corrected",
    TimelineKind.CONTACT: "Contact",
    TimelineKind.NOTE_REVISED: "Note revised",
    TimelineKind.FAMILY_ADDED: "Agency joined",
    TimelineKind.FAMILY_CHANGED: "Involvement changed",
    TimelineKind.LEAD_CHANGED: "Lead professional changed",
    TimelineKind.FAMILY_ENDED: "Involvement ended",
    TimelineKind.ALERT_RAISED: "Alert raised",
    TimelineKind.ALERT_ENDED: "Alert ended",
    TimelineKind.NEEDS_CHANGED: "Needs changed",
    TimelineKind.HOUSING_CHANGED: "Housing changed",
    TimelineKind.DIED: "Death recorded",
    TimelineKind.REFERRAL: "Referral",
    TimelineKind.WELFARE_SCHEDULE: "Welfare checks",
    TimelineKind.TREATMENT: "Treatment",
    TimelineKind.RECTIFIED: "Record corrected",
    TimelineKind.RESTRICTION: "Processing restricted",
    TimelineKind.MERGED: "Records merged",
}


# --- config/information.toml ------------------------------------------------------------


@dataclass(frozen=True)
class InfoType:
    code: str
    label: str
    category: Category


@dataclass(frozen=True)
class Information:
    agency_kinds: dict[AgencyKind, Category]
    alerts: dict[str, InfoType]
    needs: dict[str, InfoType]

    def agency_category(self, kind: AgencyKind) -> Category:
        return self.agency_kinds[kind]


INFORMATION_FILE = CONFIG_DIR / "information.toml"


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    return 1


def _category(path: Path, value: object, where: str) -> Category:
    try:
        return Category(str(value))
    except ValueError as exc:
        line = _line_of(path, f'"{value}"') if isinstance(value, str) else 1
        raise ConfigurationError(
            f"{path.name}:{line}: {where}: unknown category {value!r} "
            f"(one of {', '.join(c.value for c in Category)})"
        ) from exc


def load_information(path: Path = INFORMATION_FILE) -> Information:
    """Read and check the information file; errors name the file and line."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path} is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path.name}: {exc}") from exc
    kinds: dict[AgencyKind, Category] = {}
    for key, value in dict(raw.get("agency_kinds", {})).items():
        try:
            kind = AgencyKind(key)
        except ValueError as exc:
            raise ConfigurationError(
                f"{path.name}:{_line_of(path, key)}: unknown agency kind {key!r}"
            ) from exc
        kinds[kind] = _category(path, value, f"agency_kinds.{key}")
    missing = [kind.value for kind in AgencyKind if kind not in kinds]
    if missing:
        raise ConfigurationError(
            f"{path.name}: [agency_kinds] must give a category for {', '.join(missing)}"
        )

    def types(section: str) -> dict[str, InfoType]:
        found: dict[str, InfoType] = {}
        for code, entry in dict(raw.get(section, {})).items():
            line = _line_of(path, f"[{section}.{code}]")
            if not isinstance(entry, dict) or not entry.get("label"):
                raise ConfigurationError(f"{path.name}:{line}: {section}.{code} needs a label")
            if len(code) > 40:
                raise ConfigurationError(f"{path.name}:{line}: code {code!r} is over 40 letters")
            found[code] = InfoType(
                code,
                str(entry["label"]),
                _category(path, entry.get("category"), f"{section}.{code}"),
            )
        if not found:
            raise ConfigurationError(f"{path.name}: no [{section}.*] entries")
        return found

    return Information(agency_kinds=kinds, alerts=types("alerts"), needs=types("needs"))


@cache
def information() -> Information:
    """The information file, read once per process (checked at start-up by the app)."""
    return load_information()
