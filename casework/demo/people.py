"""The default demo set: about 60 people supported in Northdale, made through the real services.

Every person is created, joined by other agencies, contacted and so on by calling the same
services the pages call (``people.services``, ``family.services``, ``contacts.services``), so
encryption, search tokens, the timeline and the audit trail are all real. A year of history is
replayed by moving the one injectable clock (:mod:`casework.clock`) to each event's time
before the service call, so that record dates, timeline entries and audit rows agree with
each other and always end "today".

Consent is asked for as a worker would ask: by the lead agency's worker when the person is
first seen and as each partner agency joins, for what that agency needs (:data:`NEEDS_OF`), so
partners see each other's work under the access policy. Each other state shows too, mostly on
the HOPE worker's caseload: expiring, expired, withdrawn, renewed and none; with one
safeguarding basis waiting for information governance's review, one approved, and two
emergency accesses (one waiting for review). See :func:`_with_sharing`.

Everything comes from one fixed random seed: the same people, with the same names, every run
(consent draws from a seed of its own, so adding it changed nobody's other steps).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import clock
from casework.access.categories import Category
from casework.access.policy import PersonAccess, Viewer, person_access
from casework.agencies.models import Agency, AgencyKind
from casework.audit.recorder import Actor
from casework.consent import services as consent_services
from casework.consent.models import BasisKind, ConsentMethod, EmergencyReason
from casework.consent.rules import SharingRules, add_months
from casework.consent.services import BasisInput, ConsentInput, Recipient
from casework.contacts import services as contact_services
from casework.contacts.services import ContactInput
from casework.demo import data, pathway_people, phrases, treatment
from casework.demo import names as nm
from casework.family import services as family_services
from casework.family.models import Involvement
from casework.pathways import services as pathway_services
from casework.pathways.definitions import pathways
from casework.people import services as people_services
from casework.people.codes import (
    ClosureReason,
    ContactKind,
    ContactOutcome,
    FamilyRole,
    HousingStatus,
    Sex,
    information,
)
from casework.people.models import Person
from casework.people.records import Details, Names, PersonFields, read_fields
from casework.people.services import NewInvolvement
from casework.security.kit import SecurityKit
from casework.security.vault import Vault
from casework.users.models import User

#: The seed of the default set. Change it and every name, date and note changes.
SEED = 20_260_214
EMAIL_DOMAIN = "northdale.example.org"

#: Who is who, by first name, in the plans below -> the local part of their email.
STAFF = {
    "robin": "worker",  # HOPE team: the account a newcomer signs in as
    "priya": "assessor",
    "alex": "custody",
    "morgan": "housing",
    "casey": "probation",
    "jamie": "hospital",
    "taylor": "idva",
    "nadia": "nadia.ferncliffe",
    "owen": "owen.gatley",
    "bethan": "bethan.coldwell",
    "imran": "imran.sowerby",
    "grace": "grace.halloway",
    "declan": "declan.prestwick",
    "lewis": "lewis.harrop",
    "aisha": "aisha.brindley",
    "colin": "colin.thackray",
    "megan": "megan.oldroyd",
    "sian": "sian.whitlow",
    "danny": "danny.kettlewell",
    "joy": "joy.ambler",
    "rowan": "ig",  # information governance: reviews lawful bases and emergency access
}

#: The HOPE-team worker whose caseload a newcomer sees first.
HOPE_WORKER = f"{STAFF['robin']}@{EMAIL_DOMAIN}"


def staff_email(key: str) -> str:
    return f"{STAFF[key]}@{EMAIL_DOMAIN}"


# --- what happens to a person: a plan of steps ----------------------------------------------


@dataclass(frozen=True)
class Create:
    by: str
    role: FamilyRole


@dataclass(frozen=True)
class Join:
    """``worker``'s agency joins the family (recorded by ``by``)."""

    by: str
    worker: str
    role: FamilyRole
    lead: bool = False


@dataclass(frozen=True)
class Lead:
    """``worker``'s agency becomes lead professional (recorded by ``by``)."""

    by: str
    worker: str


@dataclass(frozen=True)
class End:
    """``by``'s agency closes its involvement."""

    by: str
    reason: ClosureReason


@dataclass(frozen=True)
class Log:
    by: str
    kind: ContactKind
    outcome: ContactOutcome
    note: str
    place: str = ""
    minutes: int | None = None
    agency_only: bool = False
    label: str = ""


@dataclass(frozen=True)
class Revise:
    by: str
    label: str
    note: str
    #: A revision keeps the note's "my agency only" mark.
    agency_only: bool = False


@dataclass(frozen=True)
class RaiseAlert:
    by: str
    alert: str
    detail: str = ""


@dataclass(frozen=True)
class EndAlert:
    by: str
    alert: str


@dataclass(frozen=True)
class Needs:
    by: str
    needs: frozenset[str]


@dataclass(frozen=True)
class Housing:
    by: str
    status: HousingStatus


@dataclass(frozen=True)
class Death:
    by: str
    #: How many days before the step the person died.
    days_before: int


#: ``Consent.to`` for the private landlord (an agency without accounts, in the partnership).
LANDLORD = "landlord"


@dataclass(frozen=True)
class Consent:
    """The person consents to ``to``'s agency (a staff key, or :data:`LANDLORD`) seeing
    ``categories`` of what the other agencies record; ``by`` records it on the day."""

    by: str
    to: str
    categories: frozenset[Category]
    purpose: str
    #: The reference of the signed form (written consent); empty: given verbally.
    form: str = ""
    #: Days from the day it is given to its review date (None: the configured 12 months).
    review_days: int | None = None
    label: str = ""
    #: The label of the consent this one renews (the new record supersedes it).
    renews: str = ""


@dataclass(frozen=True)
class Withdraw:
    """The person withdraws the consent labelled ``label`` (told to ``by``)."""

    by: str
    label: str
    reason: str


@dataclass(frozen=True)
class Basis:
    """Another lawful basis for sharing with ``to``'s agency, recorded by ``by`` (in force at
    once, for the configured 30 days, waiting for information governance's review)."""

    by: str
    to: str
    kind: BasisKind
    categories: frozenset[Category]
    justification: str
    label: str = ""


@dataclass(frozen=True)
class ReviewBasis:
    """Information governance (``by``) approves the basis labelled ``label``."""

    by: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class BreakGlass:
    """``by`` opens the record in an emergency (their agency need not be involved)."""

    by: str
    reason: EmergencyReason
    detail: str
    label: str


@dataclass(frozen=True)
class EndBreakGlass:
    by: str
    label: str


@dataclass(frozen=True)
class ReviewBreakGlass:
    """Information governance (``by``) records that the emergency access was appropriate."""

    by: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class Refer:
    """``by`` starts a referral on ``pathway`` to ``to``'s agency, through the pathway service
    (``values`` as the form gives them); ``label`` names it for the moves that follow."""

    by: str
    to: str
    pathway: str
    transition: str
    values: dict[str, object]
    label: str


@dataclass(frozen=True)
class Move:
    """``by`` records ``transition`` on the referral labelled ``label``."""

    by: str
    label: str
    transition: str
    values: dict[str, object] = field(default_factory=dict)


#: Steps on a referral pathway (the engine checks who may make them).
Referring = Refer | Move
#: Steps about sharing taken by an agency involved with the person.
Sharing = Consent | Withdraw | Basis
#: Steps taken without the person's record open: emergency access, and governance's reviews.
Unopened = BreakGlass | EndBreakGlass | ReviewBasis | ReviewBreakGlass

Action = (
    Create
    | Join
    | Lead
    | End
    | Log
    | Revise
    | RaiseAlert
    | EndAlert
    | Needs
    | Housing
    | Death
    | Sharing
    | Unopened
    | Referring
)


@dataclass(frozen=True)
class Step:
    #: Days before today (0 is today).
    day: int
    #: Minutes after midnight, Europe/London.
    minute: int
    action: Action


@dataclass(frozen=True)
class PersonPlan:
    names: Names
    details: Details
    sex: Sex
    housing: HousingStatus
    steps: tuple[Step, ...]
    #: What the person shows in the demo ("story", "death", or the profile's name).
    kind: str = ""

    def ordered(self) -> list[Step]:
        indexed = sorted(enumerate(self.steps), key=lambda p: (-p[1].day, p[1].minute, p[0]))
        return [step for _, step in indexed]


# --- the "Tim's case" story, under an invented name -----------------------------------------


def _story(today: date) -> PersonPlan:
    """Keith: a long treatment history, homeless after his flat was cuckooed, malnourished
    with injecting wounds. The HOPE team builds rapport; he reports the exploitation to the
    police; social care funds a care-home place; housing finds him a flat on discharge."""
    rw = "robin"
    day_steps: list[tuple[int, int, Action]] = [
        (140, 9 * 60 + 40, Create(rw, FamilyRole.OUTREACH_WORKER)),
        (140, 9 * 60 + 45, Needs(rw, frozenset({"substance_use", "housing", "physical_health"}))),
        (
            140,
            9 * 60 + 50,
            Log(
                rw,
                ContactKind.OUTREACH,
                ContactOutcome.SEEN_CONCERNS,
                "Found Keith asleep in the doorway of the old bank on Northgate. Known to the "
                "service on and off since 2009; out of treatment for three years. Very thin, "
                "open wounds on both forearms. Agreed to come to the hub tomorrow.",
                place="Northgate",
                minutes=30,
            ),
        ),
        (
            139,
            11 * 60,
            Log(
                rw,
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Came to the hub. Said he left his flat on Cinder Road in the summer because a "
                "group from out of town took it over to deal from. Too scared to go back. Gave "
                "food, clean clothes and injecting equipment.",
                place="Wharf Street hub",
                minutes=60,
                label="takeover",
            ),
        ),
        (
            139,
            12 * 60 + 10,
            RaiseAlert(
                rw, "cuckooing", "His flat was taken over by dealers. Do not visit it alone."
            ),
        ),
        (139, 12 * 60 + 15, RaiseAlert(rw, "risk_at_address", "Cinder Street flat: see notes.")),
        (
            139,
            12 * 60 + 20,
            Needs(rw, frozenset({"substance_use", "housing", "physical_health", "exploitation"})),
        ),
        (
            137,
            14 * 60,
            Log(
                "bethan",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Assessment. Long history of heroin and crack use. Restarting methadone at "
                "30 ml, supervised daily at Bank Street pharmacy. Weight 48 kg.",
                place="Wharf Street hub",
                minutes=75,
            ),
        ),
        (135, 10 * 60, Join(rw, "jamie", FamilyRole.NURSE)),
        (
            135,
            13 * 60,
            Log(
                "jamie",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_CONCERNS,
                "Brought to A&E by his HOPE worker with infected injection sites on both arms "
                "and badly underweight. Admitted to ward 7 for IV antibiotics and feeding.",
                place="A&E, Northdale General",
                minutes=45,
            ),
        ),
        (133, 10 * 60, Join(rw, "lewis", FamilyRole.POLICE_CONTACT)),
        (
            133,
            15 * 60,
            Log(
                "lewis",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Keith told me about the takeover of his flat, with his HOPE worker there. "
                "Statement taken on the ward.",
                place="Ward 7, Northdale General",
                minutes=50,
            ),
        ),
        (
            133,
            16 * 60,
            Log(
                "lewis",
                ContactKind.PHONE,
                ContactOutcome.SUPPORT_GIVEN,
                "Intelligence submitted about the group using the Cinder Street flat. Details "
                "of the operation stay within the police.",
                agency_only=True,
            ),
        ),
        (
            130,
            11 * 60,
            Revise(
                rw,
                "takeover",
                "Came to the hub. Said he left his flat on Cinder Street in the "
                "summer because a group from out of town took it over to deal "
                "from. Too scared to go back. Gave food, clean clothes and "
                "injecting equipment. (Corrected: Cinder Street, not Cinder "
                "Road.)",
            ),
        ),
        (128, 10 * 60, Join(rw, "grace", FamilyRole.SOCIAL_WORKER)),
        (
            128,
            14 * 60,
            Log(
                "grace",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_CONCERNS,
                "Care Act assessment on the ward. He cannot manage on his own yet: weight, "
                "wounds and no safe home. Asking the funding panel for a short care-home place.",
                place="Ward 7, Northdale General",
                minutes=90,
            ),
        ),
        (
            124,
            16 * 60,
            Log(
                "grace",
                ContactKind.PHONE,
                ContactOutcome.SUPPORT_GIVEN,
                "Panel agreed 12 weeks at Beech House Care Home. Told Keith and the ward.",
            ),
        ),
        (122, 10 * 60, Join("grace", "joy", FamilyRole.SUPPORT_WORKER)),
        (122, 10 * 60 + 30, End("jamie", ClosureReason.COMPLETED)),
        (122, 11 * 60, Housing(rw, HousingStatus.CARE_HOME)),
        (
            122,
            17 * 60,
            Log(
                "joy",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_WELL,
                "Keith arrived from the ward. Settled into room 4 and ate a full meal. "
                "Methadone to be collected by staff from Bank Street pharmacy.",
                place="Beech House",
            ),
        ),
        (115, 10 * 60, Join(rw, "morgan", FamilyRole.HOUSING_OFFICER)),
        (
            115,
            11 * 60,
            Log(
                "morgan",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Homeless application taken at Beech House. Priority need accepted because of "
                "his health. He will bid for one-bedroom flats away from the town centre.",
                place="Beech House",
                minutes=60,
            ),
        ),
        (
            100,
            15 * 60,
            Log(
                "joy",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_WELL,
                "District nurse says the wounds on his left arm have closed. Up to 55 kg.",
            ),
        ),
        (
            75,
            14 * 60,
            Log(
                "morgan",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Offered a ground-floor one-bedroom flat on Heath Lane. Keith viewed it with "
                "Robin and accepted.",
                place="Heath Lane",
                minutes=45,
            ),
        ),
        (
            60,
            12 * 60,
            Log(
                "lewis",
                ContactKind.PHONE,
                ContactOutcome.SUPPORT_GIVEN,
                "Three arrests at the Cinder Street flat. Told Keith; he does not want to go "
                "back there and is happy with the Heath Lane offer.",
            ),
        ),
        (
            40,
            10 * 60,
            Log(
                "morgan",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Tenancy signed for Heath Lane. Moving-in date agreed with Beech House.",
                place="Council offices, Albion Terrace",
                minutes=40,
            ),
        ),
        (35, 9 * 60 + 30, End("joy", ClosureReason.COMPLETED)),
        (35, 10 * 60, Housing("morgan", HousingStatus.SETTLED)),
        (35, 10 * 60 + 5, EndAlert(rw, "risk_at_address")),
        (
            35,
            15 * 60,
            Log(
                rw,
                ContactKind.HOME_VISIT,
                ContactOutcome.SUPPORT_GIVEN,
                "Helped Keith move into the Heath Lane flat. Furniture from the Cellar's "
                "furniture project; gas and electric on. He agreed that I can talk to his "
                "landlord if he is in crisis.",
                place="Heath Lane",
                minutes=120,
            ),
        ),
        (34, 10 * 60, Join(rw, "danny", FamilyRole.PEER_MENTOR)),
        (
            34,
            13 * 60,
            Log(
                "danny",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_WELL,
                "Keith came to the recovery café with Robin for the first time. Quiet, but "
                "stayed for the whole session.",
                place="Cellar drop-in",
                minutes=90,
            ),
        ),
        (20, 11 * 60, Needs(rw, frozenset({"substance_use", "physical_health"}))),
        (
            10,
            10 * 60 + 30,
            Log(
                rw,
                ContactKind.WELFARE_CHECK,
                ContactOutcome.NO_ANSWER,
                "No answer at the flat for the weekly check. Found him later at the pharmacy, "
                "fine; his phone had run out of credit.",
                place="Heath Lane",
            ),
        ),
        (
            1,
            14 * 60,
            Log(
                "morgan",
                ContactKind.PHONE,
                ContactOutcome.SEEN_WELL,
                "Tenancy check by phone. Rent paid through housing benefit; no problems.",
            ),
        ),
    ]
    day_steps.extend(_story_consents(rw))
    # Weekly welfare checks by the HOPE worker: at Beech House, then at home.
    check_notes = (
        "Weekly welfare check. Eating well; gained another kilo.",
        "Weekly welfare check. Wounds healing; mood brighter. Talked about moving on.",
        "Weekly welfare check. Missed one dose this week; staff had the script changed to "
        "daily collection.",
        "Weekly welfare check. Said he is bored; signposted to the Cellar's evening group.",
    )
    for week, day in enumerate(range(119, 35, -7)):
        day_steps.append(
            (
                day,
                11 * 60,
                Log(
                    rw,
                    ContactKind.WELFARE_CHECK,
                    ContactOutcome.SEEN_WELL if week % 4 != 2 else ContactOutcome.SEEN_CONCERNS,
                    check_notes[week % len(check_notes)],
                    place="Beech House",
                    minutes=30,
                ),
            )
        )
    home_notes = (
        "Weekly home visit. Flat clean, food in the cupboards, methadone collected daily.",
        "Weekly home visit. He has started cooking for himself. Weight 61 kg.",
        "Weekly home visit. Worried a man from Cinder Street saw him in town; talked it "
        "through and told PC Harrop.",
    )
    for week, day in enumerate((28, 21, 14, 3)):
        day_steps.append(
            (
                day,
                10 * 60,
                Log(
                    rw,
                    ContactKind.HOME_VISIT,
                    ContactOutcome.SEEN_WELL,
                    home_notes[week % len(home_notes)],
                    place="Heath Lane",
                    minutes=40,
                ),
            )
        )
    return PersonPlan(
        names=Names("Keith", "Moorcroft", aliases=("Keith Moore",)),
        details=Details(
            date_of_birth=nm.date_of_birth(nm.seeded(SEED + 1), today, age=52),
            nhs_number=nm.nhs_number(nm.seeded(SEED + 1)),
            local_id="NRS-004417",
            phone="07700 900417",
        ),
        sex=Sex.MALE,
        housing=HousingStatus.NO_FIXED_ABODE,
        steps=tuple(Step(day, minute, action) for day, minute, action in day_steps),
        kind="story",
    )


def _story_consents(rw: str) -> list[tuple[int, int, Action]]:
    """Keith's consent, asked for by his HOPE worker (treatment leads) as each agency joins:
    first for the treatment service itself, then one agency at a time, and for his landlord
    once he has a tenancy."""
    c = Category
    return [
        (
            139,
            11 * 60 + 30,
            Consent(
                rw,
                rw,
                frozenset(
                    {c.IDENTITY, c.SUBSTANCE_USE, c.HEALTH, c.HOUSING, c.OFFENDING, c.CASE_NOTES}
                ),
                "So the recovery service, as lead, sees what the other agencies supporting him "
                "record and can coordinate his care.",
                form="NRS-CF-2291",
            ),
        ),
        (
            135,
            10 * 60 + 1,
            Consent(
                rw,
                "jamie",
                frozenset({c.IDENTITY, c.SUBSTANCE_USE, c.HEALTH}),
                "So the hospital knows his treatment and prescribing while he is on the ward.",
            ),
        ),
        (
            133,
            10 * 60 + 1,
            Consent(
                rw,
                "lewis",
                frozenset({c.IDENTITY, c.OFFENDING}),
                "So the police can act on the takeover of his flat and keep him safe.",
            ),
        ),
        (
            128,
            10 * 60 + 1,
            Consent(
                rw,
                "grace",
                frozenset({c.IDENTITY, c.SUBSTANCE_USE, c.HEALTH, c.HOUSING, c.CASE_NOTES}),
                "For his Care Act assessment and a care-home place.",
                form="NRS-CF-2318",
            ),
        ),
        (
            122,
            10 * 60 + 1,
            Consent(
                rw,
                "joy",
                frozenset({c.IDENTITY, c.SUBSTANCE_USE, c.HEALTH, c.CASE_NOTES}),
                "So Beech House can care for him and manage his methadone.",
            ),
        ),
        (
            115,
            10 * 60 + 1,
            Consent(
                rw,
                "morgan",
                frozenset({c.IDENTITY, c.HOUSING, c.HEALTH, c.SUBSTANCE_USE, c.CASE_NOTES}),
                "For his homeless application: his health is the reason for priority need.",
                form="NRS-CF-2342",
            ),
        ),
        (
            35,
            15 * 60 + 5,
            Consent(
                rw,
                LANDLORD,
                frozenset({c.IDENTITY, c.HEALTH, c.SUBSTANCE_USE}),
                "To talk to his landlord about his welfare if he is in crisis (for example if "
                "he stops answering the door).",
            ),
        ),
        (
            34,
            10 * 60 + 1,
            Consent(
                rw,
                "danny",
                frozenset({c.IDENTITY, c.SUBSTANCE_USE}),
                "So his peer mentor at the Cellar knows how his recovery is going.",
            ),
        ),
    ]


def _death(today: date) -> PersonPlan:
    """Lee: in treatment for most of the year, an overdose in the spring, died at home."""
    bw = "bethan"
    steps: list[tuple[int, int, Action]] = [
        (320, 10 * 60, Create(bw, FamilyRole.KEY_WORKER)),
        (320, 10 * 60 + 5, Needs(bw, frozenset({"substance_use", "mental_health"}))),
        (
            320,
            10 * 60 + 30,
            Log(
                bw,
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SUPPORT_GIVEN,
                "Assessment. Heroin and pregabalin; wants a script. Lives alone in a council "
                "flat. Started on methadone 30 ml.",
                place="Wharf Street hub",
                minutes=60,
            ),
        ),
        (300, 14 * 60, Join(bw, "casey", FamilyRole.PROBATION_OFFICER)),
        (
            250,
            11 * 60,
            Log(
                bw,
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_WELL,
                "Script review: stable on 60 ml. Talking about a volunteering place at the Cellar.",
                minutes=30,
            ),
        ),
        (
            240,
            10 * 60,
            Log(
                "casey",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_WELL,
                "Supervision. Order nearly complete; no new offences.",
                place="Probation office, Union Row",
                minutes=30,
            ),
        ),
        (180, 9 * 60, End("casey", ClosureReason.COMPLETED)),
        (110, 10 * 60, Join(bw, "jamie", FamilyRole.NURSE)),
        (
            110,
            10 * 60 + 30,
            Log(
                "jamie",
                ContactKind.FACE_TO_FACE,
                ContactOutcome.SEEN_CONCERNS,
                "Brought in after an overdose at home; naloxone given by paramedics. Left "
                "the ward against advice the next morning.",
                place="A&E, Northdale General",
                minutes=20,
            ),
        ),
        (109, 15 * 60, RaiseAlert(bw, "overdose_risk", "Overdose last week. Naloxone kit given.")),
        (
            100,
            11 * 60,
            Log(
                bw,
                ContactKind.HOME_VISIT,
                ContactOutcome.SEEN_CONCERNS,
                "Home visit after the overdose. Low; using on top of his script. Agreed "
                "daily supervised doses again and a GP appointment for his mood.",
                place="Home address",
                minutes=45,
            ),
        ),
        (
            75,
            11 * 60,
            Log(
                bw,
                ContactKind.PHONE,
                ContactOutcome.NO_ANSWER,
                "Missed three pick-ups. No answer on his phone; welfare check asked for.",
            ),
        ),
        (
            72,
            9 * 60,
            Death(bw, days_before=2),
        ),
    ]
    rng = nm.seeded(SEED + 2)
    return PersonPlan(
        names=Names("Lee", "Bamforth"),
        details=Details(
            date_of_birth=nm.date_of_birth(rng, today, age=41),
            phone=nm.phone(rng),
            address=nm.address(rng, flat=True),
            postcode=nm.postcode(rng),
        ),
        sex=Sex.MALE,
        housing=HousingStatus.SETTLED,
        steps=tuple(Step(day, minute, action) for day, minute, action in steps),
        kind="death",
    )


# --- everybody else: profiles filled in from the seed ---------------------------------------


@dataclass(frozen=True)
class Partner:
    worker: str
    role: FamilyRole
    chance: float
    end_chance: float = 0.0
    ends: tuple[ClosureReason, ...] = (ClosureReason.COMPLETED,)
    #: Becomes lead professional when joining (the creator was only the first contact).
    lead: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    count: int
    creators: tuple[str, ...]
    role: FamilyRole
    housing: tuple[HousingStatus, ...]
    needs: tuple[str, ...]
    alerts: tuple[str, ...]
    alert_chance: float
    partners: tuple[Partner, ...] = ()
    contacts: tuple[int, int] = (4, 12)
    #: Created this many days ago.
    age_days: tuple[int, int] = (30, 340)
    #: The creating agency closes its involvement once the others are in (a referral).
    creator_ends: ClosureReason | None = None
    female: float = 0.33
    identifiers: tuple[str, ...] = ("nhs",)


HOUSING_MIX = (
    HousingStatus.NO_FIXED_ABODE,
    HousingStatus.SOFA_SURFING,
    HousingStatus.HOSTEL,
    HousingStatus.TEMPORARY,
    HousingStatus.SETTLED,
    HousingStatus.SETTLED,
)
_LEFT = (ClosureReason.NO_LONGER_ENGAGING, ClosureReason.DECLINED)

PROFILES: tuple[Profile, ...] = (
    Profile(
        "hope",
        16,
        ("robin",),
        FamilyRole.OUTREACH_WORKER,
        HOUSING_MIX,
        ("substance_use", "housing", "physical_health", "mental_health", "exploitation"),
        ("overdose_risk", "cuckooing", "risk_to_staff", "self_harm", "safeguarding"),
        0.75,
        (
            Partner("morgan", FamilyRole.HOUSING_OFFICER, 0.5, 0.2, (ClosureReason.REFERRED_ON,)),
            Partner("megan", FamilyRole.NURSE, 0.3, 0.6),
            Partner("grace", FamilyRole.SOCIAL_WORKER, 0.2),
            Partner("danny", FamilyRole.PEER_MENTOR, 0.35, 0.3, _LEFT),
            Partner("aisha", FamilyRole.PROBATION_OFFICER, 0.2, 0.3),
            Partner("lewis", FamilyRole.POLICE_CONTACT, 0.15),
        ),
        contacts=(6, 16),
        identifiers=("nhs", "local"),
    ),
    Profile(
        "hope-team",
        6,
        ("nadia", "owen"),
        FamilyRole.OUTREACH_WORKER,
        HOUSING_MIX,
        ("substance_use", "housing", "physical_health", "mental_health"),
        ("overdose_risk", "risk_to_staff", "self_harm"),
        0.5,
        (
            Partner("imran", FamilyRole.HOUSING_OFFICER, 0.5, 0.2),
            Partner("danny", FamilyRole.PEER_MENTOR, 0.4, 0.3, _LEFT),
            Partner("jamie", FamilyRole.NURSE, 0.2, 0.7),
        ),
        contacts=(4, 12),
        identifiers=("nhs", "local"),
    ),
    Profile(
        "assessment",
        6,
        ("bethan", "priya"),
        FamilyRole.KEY_WORKER,
        (HousingStatus.SETTLED, HousingStatus.TEMPORARY, HousingStatus.HOSTEL),
        ("substance_use", "mental_health", "offending"),
        ("overdose_risk",),
        0.3,
        (
            Partner("danny", FamilyRole.PEER_MENTOR, 0.4, 0.3, _LEFT),
            Partner("casey", FamilyRole.PROBATION_OFFICER, 0.3, 0.4),
            Partner("imran", FamilyRole.HOUSING_OFFICER, 0.2),
        ),
        contacts=(5, 14),
        identifiers=("nhs", "local"),
    ),
    Profile(
        "custody",
        2,
        ("alex",),
        FamilyRole.POLICE_CONTACT,
        (HousingStatus.SETTLED, HousingStatus.SOFA_SURFING),
        ("offending",),  # custody officers read identity and offending only
        (),
        0.0,
        (Partner("priya", FamilyRole.KEY_WORKER, 1.0, lead=True),),
        contacts=(0, 0),
        age_days=(20, 120),
        creator_ends=ClosureReason.REFERRED_ON,
        identifiers=("pnc",),
    ),
    Profile(
        "housing",
        5,
        ("morgan", "imran"),
        FamilyRole.HOUSING_OFFICER,
        (
            HousingStatus.TEMPORARY,
            HousingStatus.HOSTEL,
            HousingStatus.NO_FIXED_ABODE,
            HousingStatus.SOFA_SURFING,
        ),
        ("housing", "substance_use"),
        ("risk_to_staff", "risk_at_address"),
        0.35,
        (
            Partner("robin", FamilyRole.OUTREACH_WORKER, 0.3),
            Partner("nadia", FamilyRole.OUTREACH_WORKER, 0.2),
            Partner("declan", FamilyRole.SOCIAL_WORKER, 0.3),
            Partner("danny", FamilyRole.PEER_MENTOR, 0.2, 0.5, _LEFT),
        ),
        contacts=(3, 10),
    ),
    Profile(
        "probation",
        5,
        ("casey", "aisha"),
        FamilyRole.PROBATION_OFFICER,
        (HousingStatus.SETTLED, HousingStatus.HOSTEL, HousingStatus.TEMPORARY),
        ("offending", "substance_use", "housing"),
        ("risk_to_staff", "domestic_abuse_perpetrator"),
        0.4,
        (
            Partner("owen", FamilyRole.OUTREACH_WORKER, 0.5),
            Partner("bethan", FamilyRole.KEY_WORKER, 0.3),
            Partner("imran", FamilyRole.HOUSING_OFFICER, 0.4, 0.3, (ClosureReason.COMPLETED,)),
            Partner("lewis", FamilyRole.POLICE_CONTACT, 0.3),
        ),
        contacts=(4, 10),
        identifiers=("nhs", "pnc"),
    ),
    Profile(
        "hospital",
        4,
        ("jamie", "jamie", "megan"),
        FamilyRole.NURSE,
        (HousingStatus.SETTLED, HousingStatus.HOSPITAL, HousingStatus.NO_FIXED_ABODE),
        ("physical_health", "mental_health", "substance_use"),
        ("self_harm", "overdose_risk"),
        0.6,
        (
            Partner("robin", FamilyRole.OUTREACH_WORKER, 0.5),
            Partner("grace", FamilyRole.SOCIAL_WORKER, 0.3),
        ),
        contacts=(2, 6),
    ),
    Profile(
        "domestic-abuse",
        4,
        ("taylor", "sian", "taylor"),
        FamilyRole.IDVA,
        (HousingStatus.SETTLED, HousingStatus.TEMPORARY, HousingStatus.SOFA_SURFING),
        ("mental_health", "housing", "substance_use"),
        ("domestic_abuse_victim", "safeguarding"),
        1.0,
        (
            Partner("lewis", FamilyRole.POLICE_CONTACT, 0.5),
            Partner("morgan", FamilyRole.HOUSING_OFFICER, 0.4),
            Partner("nadia", FamilyRole.OUTREACH_WORKER, 0.3),
        ),
        contacts=(4, 10),
        female=0.9,
    ),
    Profile(
        "cuckooing",
        3,
        ("lewis",),
        FamilyRole.POLICE_CONTACT,
        (HousingStatus.SETTLED, HousingStatus.TEMPORARY),
        ("exploitation", "substance_use", "housing"),
        ("cuckooing", "risk_at_address"),
        1.0,
        (
            Partner("robin", FamilyRole.OUTREACH_WORKER, 0.9, lead=True),
            Partner("morgan", FamilyRole.HOUSING_OFFICER, 0.5),
            Partner("declan", FamilyRole.SOCIAL_WORKER, 0.4),
        ),
        contacts=(2, 6),
        identifiers=("nhs", "pnc"),
    ),
    Profile(
        "social-care",
        2,
        ("grace", "declan"),
        FamilyRole.SOCIAL_WORKER,
        (HousingStatus.CARE_HOME, HousingStatus.SETTLED),
        ("physical_health", "mental_health", "substance_use"),
        ("safeguarding",),
        0.8,
        (
            Partner("joy", FamilyRole.SUPPORT_WORKER, 0.6),
            Partner("robin", FamilyRole.OUTREACH_WORKER, 0.3),
        ),
        contacts=(3, 8),
    ),
    Profile(
        "peer-support",
        3,
        ("danny",),
        FamilyRole.PEER_MENTOR,
        (HousingStatus.SETTLED, HousingStatus.TEMPORARY),
        ("substance_use", "mental_health"),
        (),
        0.0,
        (Partner("bethan", FamilyRole.KEY_WORKER, 0.4),),
        contacts=(3, 9),
        identifiers=(),
    ),
    Profile(
        "prison-release",
        1,
        ("colin",),
        FamilyRole.SUPPORT_WORKER,
        (HousingStatus.PRISON,),
        ("offending", "substance_use", "housing"),
        ("overdose_risk",),
        1.0,
        (
            Partner("casey", FamilyRole.PROBATION_OFFICER, 1.0, lead=True),
            Partner("owen", FamilyRole.OUTREACH_WORKER, 1.0),
        ),
        contacts=(2, 4),
        age_days=(60, 90),
        creator_ends=ClosureReason.COMPLETED,
        identifiers=("nhs", "pnc"),
    ),
    Profile(
        "new-referral",
        1,
        ("robin",),
        FamilyRole.OUTREACH_WORKER,
        (HousingStatus.NOT_KNOWN,),
        ("substance_use",),
        (),
        0.0,
        contacts=(0, 0),
        age_days=(0, 0),
        identifiers=(),
    ),
)

ALERT_DETAILS: dict[str, tuple[str, ...]] = {
    "risk_to_staff": (
        "Has threatened staff when refused money. Meet in pairs, in the hub.",
        "Verbal aggression when using. Do not visit alone.",
    ),
    "cuckooing": (
        "People from out of town using the flat to deal from. Do not visit alone.",
        "Believed to be holding drugs for a local group. Police aware.",
    ),
    "risk_at_address": (
        "Dogs and visitors at the address. Phone before visiting.",
        "Needles found on the stairs. Wear gloves.",
    ),
    "safeguarding": (
        "Adult safeguarding referral made to social care.",
        "Self-neglect concerns; safeguarding enquiry open.",
    ),
    "self_harm": (
        "History of overdose with intent. Follow up any missed appointment the same day.",
        "Cutting when distressed. Crisis team number on file.",
    ),
    "overdose_risk": (
        "Lower tolerance after time off opioids. Naloxone given.",
        "Mixing with pregabalin and alcohol. Naloxone given.",
    ),
    "domestic_abuse_victim": (
        "Do not contact when the partner may be there. Safe times agreed with the IDVA.",
        "High risk: heard at the risk conference. Safe number only.",
    ),
    "domestic_abuse_perpetrator": (
        "Subject of a non-molestation order. Never share the partner's whereabouts.",
    ),
    "domestic_abuse_high_risk": (
        "DASH 14 or more: referred to the MARAC; IDVA allocated. Safe number only.",
    ),
}

NICKNAMES = {
    "Daniel": "Danny",
    "Stephen": "Steve",
    "Anthony": "Tony",
    "Rebecca": "Becky",
    "Samantha": "Sam",
    "Matthew": "Matt",
    "Nicola": "Nicky",
    "Victoria": "Vicky",
    "Kevin": "Kev",
    "Richard": "Rich",
    "Michelle": "Shell",
}

_AGENCY_KIND_OF_STAFF: dict[str, AgencyKind] = {
    "robin": AgencyKind.TREATMENT,
    "priya": AgencyKind.TREATMENT,
    "nadia": AgencyKind.TREATMENT,
    "owen": AgencyKind.TREATMENT,
    "bethan": AgencyKind.TREATMENT,
    "alex": AgencyKind.POLICE,
    "lewis": AgencyKind.POLICE,
    "morgan": AgencyKind.HOUSING,
    "imran": AgencyKind.HOUSING,
    "casey": AgencyKind.PROBATION,
    "aisha": AgencyKind.PROBATION,
    "jamie": AgencyKind.HEALTH,
    "megan": AgencyKind.HEALTH,
    "taylor": AgencyKind.DOMESTIC_ABUSE,
    "sian": AgencyKind.DOMESTIC_ABUSE,
    "grace": AgencyKind.SOCIAL_CARE,
    "declan": AgencyKind.SOCIAL_CARE,
    "colin": AgencyKind.PRISON,
    "danny": AgencyKind.VOLUNTARY,
    "joy": AgencyKind.CARE_HOME,
}


def _kind(worker: str) -> AgencyKind:
    return _AGENCY_KIND_OF_STAFF[worker]


def _minute(rng: random.Random, low: int = 10 * 60, high: int = 17 * 60 + 30) -> int:
    return rng.randrange(low, high, 5)


class _Builder:
    """The steps of one ordinary person, kept consistent: a contact only while the agency is
    involved, a lead change only to an open involvement, and so on."""

    def __init__(self, rng: random.Random, profile: Profile, who: phrases.Pronouns) -> None:
        self.rng = rng
        self.profile = profile
        self.who = who
        self.steps: list[Step] = []
        self.labels = 0

    def add(self, day: int, action: Action, minute: int | None = None) -> None:
        self.steps.append(Step(day, _minute(self.rng) if minute is None else minute, action))

    def contacts(
        self, worker: str, count: int, first: int, last: int, *, recent: bool = False
    ) -> None:
        """``count`` contacts by ``worker`` on days ``first`` (oldest) to ``last``."""
        if count <= 0 or first < last:
            return
        days = sorted((self.rng.randint(last, first) for _ in range(count)), reverse=True)
        if recent and days and days[-1] > 13 and first >= 13:
            days[-1] = self.rng.randint(max(last, 0), 13)
        kind = _kind(worker)
        for day in days:
            contact_kind, outcome, note = phrases.contact_note(self.rng, kind, self.who)
            agency_only = False
            special = phrases.agency_only_note(self.rng, kind, self.who)
            if special is not None and self.rng.random() < 0.2:
                note, agency_only = special, True
            label = ""
            if self.rng.random() < 0.06 and day >= 1:
                self.labels += 1
                label = f"c{self.labels}"
                revised_on = self.rng.randint(max(0, day - 3), day - 1)
                revision = Revise(worker, label, phrases.revision_of(note), agency_only)
                self.add(revised_on, revision)
            face = contact_kind in {ContactKind.FACE_TO_FACE, ContactKind.OUTREACH,
                                    ContactKind.HOME_VISIT, ContactKind.WELFARE_CHECK}  # fmt: skip
            self.add(
                day,
                Log(
                    worker,
                    contact_kind,
                    outcome,
                    note,
                    place=phrases.place(self.rng) if face and self.rng.random() < 0.7 else "",
                    minutes=self.rng.choice((15, 20, 30, 45, 60, 90)) if face else None,
                    agency_only=agency_only,
                    label=label,
                ),
            )


def _person(rng: random.Random, profile: Profile, index: int, today: date) -> PersonPlan:
    sex, names, housing, details = _identity(rng, profile, index, today)
    creator = profile.creators[index % len(profile.creators)]
    build = _Builder(rng, profile, phrases.Pronouns.for_sex(sex))
    born = rng.randint(*profile.age_days)
    build.add(born, Create(creator, profile.role), minute=_minute(rng, 9 * 60, 10 * 60))
    extra = rng.randint(0, min(2, len(profile.needs)))
    wanted = {profile.needs[0], *rng.sample(profile.needs, extra)}
    build.add(born, Needs(creator, frozenset(wanted)))
    # A referrer that steps back raises its alerts on the first day only (it cannot add
    # anything once its involvement has ended).
    short_stay = profile.creator_ends is not None
    if profile.alerts and rng.random() < profile.alert_chance:
        count = 2 if len(profile.alerts) > 1 and rng.random() < 0.3 else 1
        for alert in rng.sample(profile.alerts, count):
            raised = born if short_stay else rng.randint(max(0, born - 10), born)
            build.add(raised, RaiseAlert(creator, alert, rng.choice(ALERT_DETAILS[alert])))
            if not short_stay and raised > 20 and rng.random() < 0.1:
                build.add(rng.randint(0, raised - 10), EndAlert(creator, alert))
    agencies = {_kind(creator)}
    open_partners: list[tuple[str, int]] = []
    lead_moved = False
    for partner in profile.partners:
        kind = _kind(partner.worker)
        if kind in agencies or len(agencies) >= 5 or rng.random() >= partner.chance:
            continue
        agencies.add(kind)
        joined = rng.randint(max(0, born - 60), born)
        build.add(joined, Join(creator, partner.worker, partner.role, lead=partner.lead))
        lead_moved = lead_moved or partner.lead
        ended = None
        if joined > 20 and rng.random() < partner.end_chance:
            ended = rng.randint(1, joined - 10)
            build.add(ended, End(partner.worker, rng.choice(partner.ends)))
        else:
            open_partners.append((partner.worker, joined))
        build.contacts(partner.worker, rng.randint(1, 4), joined - 1, (ended or 0) + 1)
    creator_until = 0
    successors = [(worker, joined) for worker, joined in open_partners if joined >= 2]
    if short_stay and successors and profile.creator_ends is not None:
        successor, joined = successors[0]
        creator_until = rng.randint(max(1, joined - 14), joined - 1)
        if not lead_moved:
            build.add(creator_until, Lead(creator, successor), minute=9 * 60)
        build.add(creator_until, End(creator, profile.creator_ends), minute=9 * 60 + 30)
        if housing is HousingStatus.PRISON:  # released: probation finds a hostel bed
            build.add(creator_until, Housing(successor, HousingStatus.HOSTEL), minute=11 * 60)
    build.contacts(
        creator,
        rng.randint(*profile.contacts),
        born,
        creator_until + 1 if creator_until else 0,
        recent=not creator_until,
    )
    if born > 60 and not short_stay and rng.random() < 0.25:
        new = rng.choice([status for status in HOUSING_MIX if status is not housing])
        build.add(rng.randint(1, born - 30), Housing(creator, new))
    return PersonPlan(names, details, sex, housing, tuple(build.steps), kind=profile.name)


#: A few people whose sex is recorded as other or not known, whatever the dice say.
SEX_OVERRIDES = {9: Sex.OTHER, 30: Sex.NOT_KNOWN}


def _identity(
    rng: random.Random, profile: Profile, index: int, today: date
) -> tuple[Sex, Names, HousingStatus, Details]:
    sex = SEX_OVERRIDES.get(index) or _sex(rng, profile.female)
    given = nm.given_name(rng, sex)
    family = nm.family_name(rng)
    known_as = NICKNAMES.get(given, "") if rng.random() < 0.5 else ""
    aliases = (f"{given} {nm.family_name(rng)}",) if rng.random() < 0.08 else ()
    names = Names(given, family, known_as, aliases)
    housing = rng.choice(profile.housing)
    return sex, names, housing, _details(rng, profile, index, today, given, family, housing)


def _sex(rng: random.Random, female: float) -> Sex:
    roll = rng.random()
    if roll < female:
        return Sex.FEMALE
    if roll < 0.97:
        return Sex.MALE
    return Sex.OTHER if roll < 0.985 else Sex.NOT_KNOWN


def _details(  # noqa: PLR0917 - a private helper of _person
    rng: random.Random,
    profile: Profile,
    index: int,
    today: date,
    given: str,
    family: str,
    housing: HousingStatus,
) -> Details:
    has_address = housing in {
        HousingStatus.SETTLED,
        HousingStatus.TEMPORARY,
        HousingStatus.HOSTEL,
        HousingStatus.CARE_HOME,
    }
    return Details(
        date_of_birth=nm.date_of_birth(rng, today, age=nm.age_between(rng)),
        nhs_number=nm.nhs_number(rng) if "nhs" in profile.identifiers else "",
        pnc_id=nm.pnc_id(rng) if "pnc" in profile.identifiers else "",
        local_id=nm.local_id("NRS", 1000 + index * 37) if "local" in profile.identifiers else "",
        phone=nm.phone(rng) if rng.random() < 0.75 else "",
        email=nm.email(rng, given, family) if rng.random() < 0.25 else "",
        address=nm.address(rng, flat=rng.random() < 0.7) if has_address else "",
        postcode=nm.postcode(rng) if has_address else "",
    )


# --- consent and other lawful bases --------------------------------------------------------

_C = Category
#: What each kind of agency needs to see of the others' records, when the person consents.
NEEDS_OF: dict[AgencyKind, frozenset[Category]] = {
    AgencyKind.TREATMENT: frozenset({_C.IDENTITY, _C.SUBSTANCE_USE, _C.HEALTH, _C.CASE_NOTES}),
    AgencyKind.HOUSING: frozenset({_C.IDENTITY, _C.HOUSING, _C.CASE_NOTES}),
    AgencyKind.SOCIAL_CARE: frozenset(
        {_C.IDENTITY, _C.SUBSTANCE_USE, _C.HEALTH, _C.HOUSING, _C.CASE_NOTES}
    ),
    AgencyKind.POLICE: frozenset({_C.IDENTITY, _C.OFFENDING}),
    AgencyKind.PROBATION: frozenset({_C.IDENTITY, _C.OFFENDING}),
    AgencyKind.PRISON: frozenset({_C.IDENTITY, _C.OFFENDING, _C.SUBSTANCE_USE}),
    AgencyKind.HEALTH: frozenset({_C.IDENTITY, _C.HEALTH, _C.SUBSTANCE_USE}),
    AgencyKind.DOMESTIC_ABUSE: frozenset(
        {_C.IDENTITY, _C.DOMESTIC_ABUSE, _C.HOUSING, _C.CASE_NOTES}
    ),
    AgencyKind.VOLUNTARY: frozenset({_C.IDENTITY, _C.SUBSTANCE_USE}),
    AgencyKind.CARE_HOME: frozenset({_C.IDENTITY, _C.HEALTH, _C.SUBSTANCE_USE, _C.CASE_NOTES}),
    AgencyKind.OTHER: frozenset({_C.IDENTITY}),
}

PURPOSES: dict[AgencyKind, str] = {
    AgencyKind.TREATMENT: "So the recovery service can coordinate treatment with the others.",
    AgencyKind.HOUSING: "So the housing officer can help with housing, knowing who else helps.",
    AgencyKind.SOCIAL_CARE: "For the social care assessment and the care and support plan.",
    AgencyKind.POLICE: "So the police can protect them and act on exploitation.",
    AgencyKind.PROBATION: "So the probation officer can plan supervision around treatment.",
    AgencyKind.PRISON: "For the resettlement plan before release.",
    AgencyKind.HEALTH: "So the hospital team knows about treatment and prescribing.",
    AgencyKind.DOMESTIC_ABUSE: "So the IDVA can plan for safety with the other agencies.",
    AgencyKind.VOLUNTARY: "So the peer mentor knows how recovery is going.",
    AgencyKind.CARE_HOME: "So the care home can care for them and manage medication.",
    AgencyKind.OTHER: "To coordinate support.",
}
LEAD_PURPOSE = "As lead professional: to see what the other agencies involved record."

#: The prefix of each recording agency's consent forms (fictional references).
FORM_PREFIX: dict[AgencyKind, str] = {
    AgencyKind.TREATMENT: "NRS",
    AgencyKind.HOUSING: "NCHO",
    AgencyKind.SOCIAL_CARE: "NASC",
    AgencyKind.POLICE: "NP",
    AgencyKind.PROBATION: "PSN",
    AgencyKind.PRISON: "HMPN",
    AgencyKind.HEALTH: "NGH",
    AgencyKind.DOMESTIC_ABUSE: "SHN",
    AgencyKind.VOLUNTARY: "TCRP",
    AgencyKind.CARE_HOME: "BHCH",
}

#: Staff whose roles may not record consent (custody officers read identity and offending).
_CANNOT_RECORD = frozenset({"alex", "rowan"})


def lead_categories(lead: AgencyKind, partners: Iterable[AgencyKind]) -> frozenset[Category]:
    """What the lead agency needs: its own needs, what each partner records, and notes."""
    info = information()
    return NEEDS_OF[lead] | {info.agency_category(kind) for kind in partners} | {_C.CASE_NOTES}


@dataclass(frozen=True)
class _Facts:
    """What the consent plan needs to know of a person's plan."""

    index: int
    kind: str
    creator: str
    born: int
    #: Partner agencies still involved at the end, with the day each joined.
    open_partners: dict[AgencyKind, int]
    partners: frozenset[AgencyKind]
    alerts: frozenset[str]

    @staticmethod
    def of(index: int, person: PersonPlan) -> _Facts:
        steps = person.ordered()
        first = steps[0]
        assert isinstance(first.action, Create)  # noqa: S101 - a plan starts with Create
        joined: dict[AgencyKind, int] = {}
        for step in steps:
            if isinstance(step.action, Join):
                joined[_kind(step.action.worker)] = step.day
            elif isinstance(step.action, End | Death):
                kinds = [_kind(step.action.by)] if isinstance(step.action, End) else list(joined)
                for kind in kinds:
                    joined.pop(kind, None)
        return _Facts(
            index=index,
            kind=person.kind,
            creator=first.action.by,
            born=first.day,
            open_partners={k: d for k, d in joined.items() if k is not _kind(first.action.by)},
            partners=frozenset(_kind(s.action.worker) for s in steps if isinstance(s.action, Join)),
            alerts=frozenset(s.action.alert for s in steps if isinstance(s.action, RaiseAlert)),
        )


def _sharing_roles(facts: list[_Facts]) -> dict[int, str]:
    """Who shows which consent state: mostly people on the HOPE worker's caseload (the first
    page a newcomer sees), chosen by what their plans hold so that each state fits the
    story (an expired consent with an agency still involved, and so on)."""
    roles: dict[int, str] = {}
    hope = [f for f in facts if f.kind == "hope" and f.creator == "robin"]

    def pick(role: str, candidates: Iterable[_Facts], key: Callable[[_Facts], int]) -> None:
        free = [f for f in candidates if f.index not in roles]
        if not free:
            raise LookupError(f"demo plan: nobody fits the consent state {role!r}")
        roles[min(free, key=key).index] = role

    def first(f: _Facts) -> int:
        return f.index

    pick("expiring", hope, key=lambda f: -f.born)
    probation = AgencyKind.PROBATION
    pick(
        "expired",
        (f for f in hope if f.open_partners.get(probation, 0) >= 190),
        key=lambda f: f.open_partners[probation],
    )
    social_care = AgencyKind.SOCIAL_CARE
    pick(
        "safeguarding",
        (f for f in hope if social_care in f.open_partners and "safeguarding" in f.alerts),
        key=lambda f: f.open_partners[social_care],
    )
    pick("renewed", (f for f in hope if f.open_partners.get(social_care, 0) >= 200), first)
    pick(
        "withdrawn",
        (f for f in hope if {probation, AgencyKind.POLICE} & set(f.open_partners)),
        first,
    )
    pick(
        "emergency",
        (f for f in hope if not f.partners and {"overdose_risk", "self_harm"} & f.alerts),
        first,
    )
    pick(
        "approved",
        (f for f in facts if f.kind == "domestic-abuse" and AgencyKind.POLICE in f.open_partners),
        first,
    )
    pick(
        "emergency-reviewed",
        (f for f in facts if f.kind == "hope-team" and not f.partners and "self_harm" in f.alerts),
        first,
    )
    return roles


def _months_later(today: date, day: int, months: int) -> int:
    """The days from ``day`` days ago to the same date ``months`` later."""
    given = today - timedelta(days=day)
    return (add_months(given, months) - given).days


class _SharingPlan:
    """The consent (and other bases) steps of one ordinary person: consent asked for by the
    lead agency's worker when the person is first seen and as each partner agency joins; a
    few people decline for one agency, or for all."""

    def __init__(
        self, rng: random.Random, person: PersonPlan, facts: _Facts, role: str, today: date
    ) -> None:
        self.rng = rng
        self.person = person
        self.facts = facts
        self.role = role
        self.today = today
        self.who = phrases.Pronouns.for_sex(person.sex)
        self.steps: list[Step] = []

    def give(
        self, step: Step, offset: int, by: str, to: str, categories: frozenset[Category]
    ) -> Consent:
        written = self.rng.random() < 0.35
        number = self.rng.randint(1000, 2999)
        lead = to == by
        consent = Consent(
            by,
            to,
            categories,
            LEAD_PURPOSE if lead else PURPOSES[_kind(to)],
            form=f"{FORM_PREFIX[_kind(by)]}-CF-{number}" if written else "",
            label="lead" if lead else to,
        )
        consent = self.shaped(step, consent)
        self.steps.append(Step(step.day, step.minute + offset, consent))
        return consent

    def shaped(self, step: Step, consent: Consent) -> Consent:
        """This person's consent state (see :func:`_sharing_roles`) shapes their consents."""
        role, kind, day = self.role, _kind(consent.to), step.day
        if role == "expiring" and consent.label == "lead":
            review = _months_later(self.today, day, 12)
            if not 0 <= review - day <= 30:  # the seed changed: keep the state anyway
                review = day + 21
            return dataclasses.replace(consent, review_days=review)
        if role == "expired" and kind is AgencyKind.PROBATION:
            # For the length of the licence: six months, and nobody renewed it.
            return dataclasses.replace(consent, review_days=_months_later(self.today, day, 6))
        if role == "renewed" and kind is AgencyKind.SOCIAL_CARE:
            months = _months_later(self.today, day, 6)
            renewed_on = day - months + 7  # a week before its review date
            self.steps.append(
                Step(
                    renewed_on,
                    11 * 60 + 40,
                    Consent(
                        consent.by,
                        consent.to,
                        consent.categories,
                        f"Reviewed with {self.who.him} at the six-month review of the care "
                        "and support plan: still agrees, for another year.",
                        form=f"{FORM_PREFIX[_kind(consent.by)]}-CF-{self.rng.randint(3000, 3999)}",
                        renews=consent.to,
                    ),
                )
            )
            return dataclasses.replace(consent, review_days=months)
        if role == "withdrawn" and kind in {AgencyKind.PROBATION, AgencyKind.POLICE}:
            agency = "probation" if kind is AgencyKind.PROBATION else "the police"
            self.steps.append(
                Step(
                    max(1, day // 4),
                    11 * 60 + 15,
                    Withdraw(
                        consent.by,
                        consent.to,
                        f"Asked that {agency} no longer see what the other agencies record: "
                        f"{self.who.he} will keep them up to date {self.who.him}self.",
                    ),
                )
            )
        return consent

    def declines(self, to: str) -> bool:
        """Whether the person says no to sharing with ``to``'s agency."""
        kind = _kind(to)
        if self.role == "safeguarding" and kind is AgencyKind.SOCIAL_CARE:
            return True
        if self.role == "approved" and kind is AgencyKind.POLICE:
            return True
        if self.role:
            return False
        chance = 0.2 if kind in {AgencyKind.POLICE, AgencyKind.PROBATION} else 0.05
        return self.rng.random() < chance

    def consents(self) -> None:
        steps = self.person.ordered()
        joins = [s for s in steps if isinstance(s.action, Join)]
        if not joins or (not self.role and self.rng.random() < 0.08):
            return  # nobody else to share with, or the person would rather not
        creator = self.facts.creator
        keeps_lead = not any(
            isinstance(s.action, Lead) or (isinstance(s.action, Join) and s.action.lead)
            for s in steps
        )
        consented: set[AgencyKind] = set()
        if creator not in _CANNOT_RECORD:
            own = _kind(creator)
            wanted = lead_categories(own, self.facts.partners) if keeps_lead else NEEDS_OF[own]
            self.give(steps[0], 1, creator, creator, wanted)
            consented.add(own)
        lead = creator
        for step in steps:
            action = step.action
            if isinstance(action, Lead):
                lead = action.worker
            if not isinstance(action, Join):
                continue
            lead = action.worker if action.lead else lead
            if lead in _CANNOT_RECORD:
                continue
            offset = 1
            for to in (lead, action.worker, creator):
                kind = _kind(to)
                if kind in consented:
                    continue
                consented.add(kind)
                if to == lead:
                    wanted = lead_categories(kind, self.facts.partners)
                elif self.declines(to):
                    continue
                else:
                    wanted = NEEDS_OF[kind]
                self.give(step, offset, lead, to, wanted)
                offset += 1

    def other_bases(self) -> None:
        who, role = self.who, self.role
        if role == "safeguarding":
            self.steps.append(
                Step(
                    2,
                    16 * 60 + 20,
                    Basis(
                        self.facts.creator,
                        self._partner(AgencyKind.SOCIAL_CARE),
                        BasisKind.SAFEGUARDING,
                        NEEDS_OF[AgencyKind.SOCIAL_CARE],
                        f"Exploited by the people using {who.his} flat and not eating. "
                        f"{who.he.capitalize()} will not agree to share with social care, but "
                        "the risk of serious harm is high: shared for the safeguarding enquiry.",
                    ),
                )
            )
        elif role == "approved":
            self.steps += [
                Step(
                    12,
                    14 * 60 + 10,
                    Basis(
                        self.facts.creator,
                        self._partner(AgencyKind.POLICE),
                        BasisKind.SAFEGUARDING,
                        frozenset({_C.IDENTITY, _C.DOMESTIC_ABUSE, _C.HOUSING}),
                        "High risk after the latest assault; referred to the risk conference. "
                        f"{who.he.capitalize()} does not want the police told, but {who.his} "
                        "life may be at risk: sharing what the police need to plan for safety.",
                        label="marac",
                    ),
                ),
                Step(
                    10,
                    10 * 60 + 30,
                    ReviewBasis(
                        "rowan", "marac", "Proportionate: a high-risk case, for safety planning."
                    ),
                ),
            ]
        elif role == "emergency":
            self.steps += [
                Step(
                    1,
                    22 * 60 + 40,
                    BreakGlass(
                        "megan",
                        EmergencyReason.RISK_TO_LIFE,
                        "Brought into A&E unconscious after a suspected overdose. Checking "
                        "what is prescribed and who the worker is.",
                        "a&e",
                    ),
                ),
                Step(1, 23 * 60 + 25, EndBreakGlass("megan", "a&e")),
            ]
        elif role == "emergency-reviewed":
            self.steps += [
                Step(
                    9,
                    2 * 60 + 15,
                    BreakGlass(
                        "lewis",
                        EmergencyReason.RISK_TO_LIFE,
                        "Reported missing by a relative after threats to end "
                        f"{who.his} life. Looking for {who.his} worker and last address.",
                        "missing",
                    ),
                ),
                Step(
                    7,
                    10 * 60 + 30,
                    ReviewBreakGlass(
                        "rowan", "missing", "Appropriate: a missing person at risk, at night."
                    ),
                ),
            ]

    def _partner(self, kind: AgencyKind) -> str:
        for step in self.person.steps:
            if isinstance(step.action, Join) and _kind(step.action.worker) is kind:
                return step.action.worker
        raise LookupError(f"demo plan: no {kind} agency in the family")


def _with_sharing(people: list[PersonPlan], today: date) -> list[PersonPlan]:
    """Add consent and the other lawful bases to every plan (from their own seed, so the
    people and their other steps stay exactly as they were)."""
    facts = [_Facts.of(index, person) for index, person in enumerate(people)]
    roles = _sharing_roles(facts)
    rng = nm.seeded(SEED + 3)
    shared = []
    for person, fact in zip(people, facts, strict=True):
        if person.kind in {"story", "custody"}:
            # The story has its own; a required assessment shares under the legal
            # obligation (with its pathway), so custody referrals record no consent.
            shared.append(person)
            continue
        sharing = _SharingPlan(rng, person, fact, roles.get(fact.index, ""), today)
        sharing.consents()
        sharing.other_bases()
        shared.append(dataclasses.replace(person, steps=person.steps + tuple(sharing.steps)))
    return shared


#: How many people :func:`plan` makes (the story, the death, the profiles, and the people
#: partway through the referral pathways).
EXPECTED_PEOPLE = 2 + sum(profile.count for profile in PROFILES) + pathway_people.COUNT


def plan(today: date) -> list[PersonPlan]:
    """Every person of the default set, in the order they are loaded (deterministic)."""
    rng = nm.seeded(SEED)
    people = [_story(today), _death(today)]
    seen = {(p.names.given, p.names.family) for p in people}
    index = 0
    for profile in PROFILES:
        for _ in range(profile.count):
            person = _person(rng, profile, index, today)
            while (person.names.given, person.names.family) in seen:
                person = _person(rng, profile, index, today)
            seen.add((person.names.given, person.names.family))
            people.append(person)
            index += 1
    # The pathway people come last, with their own seed and their own consent steps, so the
    # people above (and their consent plan) stay exactly as they were.
    return _with_sharing(people, today) + pathway_people.plans(today, seen)


# --- playing the plans through the services -------------------------------------------------


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    agency_id: uuid.UUID
    viewer: Viewer
    actor: Actor


@dataclass
class Summary:
    people: int = 0
    contacts: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def staff_members(db: Session) -> dict[str, Member]:
    emails = {staff_email(key): key for key in STAFF}
    found: dict[str, Member] = {}
    for user in db.scalars(select(User).where(User.email.in_(list(emails)))):
        agency = db.get_one(Agency, user.agency_id)
        viewer = Viewer(user.id, agency.id, agency.kind, user.roles)
        actor = Actor(
            user_id=user.id,
            agency_id=agency.id,
            request_id="demo-data",
            roles=frozenset(str(role) for role in user.roles),
        )
        found[emails[user.email]] = Member(user.id, agency.id, viewer, actor)
    missing = sorted(set(STAFF) - set(found))
    if missing:
        raise LookupError(f"demo staff missing (load the partnership first): {missing}")
    return found


@contextmanager
def replayed_clock() -> Iterator[Callable[[datetime], None]]:
    """Point the clock at past moments (set through the callable) while history is replayed,
    and put the previous clock back afterwards. Moments later than the real "now" are held
    at "now"."""
    previous = clock._source  # the clock has no getter: it is restored exactly as it was
    ceiling = previous()
    moment = ceiling

    def move_to(at: datetime) -> None:
        nonlocal moment
        moment = min(at, ceiling)

    clock.set_source(lambda: moment)
    try:
        yield move_to
    finally:
        clock.set_source(previous)


class _Player:
    def __init__(self, db: Session, kit: SecurityKit, staff: dict[str, Member]) -> None:
        self.db = db
        self.vault = Vault(kit.keystore)
        self.blind = kit.blind_index
        self.staff = staff
        self.rules = SharingRules.from_settings(kit.settings)
        self.agencies = {key: member.agency_id for key, member in staff.items()}
        landlord = db.scalar(select(Agency.id).where(Agency.name == data.LANDLORD))
        if landlord is None:
            raise LookupError("demo landlord missing (load the partnership first)")
        self.agencies[LANDLORD] = landlord
        self.summary = Summary()

    def play(self, person: PersonPlan, today: date, move_to: Callable[[datetime], None]) -> None:
        person_id: uuid.UUID | None = None
        involvements: dict[uuid.UUID, uuid.UUID] = {}
        contacts: dict[str, uuid.UUID] = {}
        alerts: dict[str, uuid.UUID] = {}
        #: Consent, bases and emergency accesses by their labels in the plan.
        labelled: dict[str, uuid.UUID] = {}
        #: Referrals by their labels in the plan.
        referrals: dict[str, uuid.UUID] = {}
        for step in person.ordered():
            moment = clock.london_datetime(
                today - timedelta(days=step.day), time(step.minute // 60, step.minute % 60)
            )
            move_to(moment)
            action = step.action
            member = self.staff[action.by]
            if isinstance(action, Create):
                person_id = self._create(person, member, action)
                involvements[member.agency_id] = self._open_involvement(person_id, member)
                continue
            assert person_id is not None, "a plan starts with Create"  # noqa: S101
            if isinstance(action, Unopened):
                self._unopened(action, member, person_id, labelled)
                continue
            if isinstance(action, Referring):
                self._referral(action, member, person_id, referrals)
                continue
            access = self._access(member, person_id)
            if isinstance(action, Sharing):
                self._share(action, member, access, labelled)
                continue
            self._step(action, member, access, clock.utcnow(), involvements, contacts, alerts)
        self.summary.people += 1

    def _step(  # noqa: PLR0917 - one branch per kind of step
        self,
        action: Action,
        member: Member,
        access: PersonAccess,
        now: datetime,
        involvements: dict[uuid.UUID, uuid.UUID],
        contacts: dict[str, uuid.UUID],
        alerts: dict[str, uuid.UUID],
    ) -> None:
        db, actor, viewer = self.db, member.actor, member.viewer
        today = clock.london_today()
        if isinstance(action, Join):
            worker = self.staff[action.worker]
            involvements[worker.agency_id] = family_services.add_involvement(
                db,
                actor=actor,
                viewer=viewer,
                access=access,
                agency_id=worker.agency_id,
                worker_id=worker.user_id,
                role=action.role,
                started_on=today,
                make_lead=action.lead,
            )
            self._count("involvements")
        elif isinstance(action, Lead):
            family_services.make_lead(
                db,
                actor=actor,
                viewer=viewer,
                access=access,
                involvement_id=involvements[self.staff[action.worker].agency_id],
                expected_version=None,
            )
        elif isinstance(action, End):
            family_services.end_involvement(
                db,
                actor=actor,
                viewer=viewer,
                access=access,
                involvement_id=involvements.pop(member.agency_id),
                ended_on=today,
                reason=action.reason,
                expected_version=None,
            )
            self._count("ended_involvements")
        elif isinstance(action, Log):
            self._log(action, member, access, now, contacts)
        elif isinstance(action, Revise):
            contact_services.revise_note(
                db,
                vault=self.vault,
                actor=actor,
                viewer=viewer,
                access=access,
                contact_id=contacts[action.label],
                body=action.note,
                agency_only=action.agency_only,
                expected_version=None,
            )
            self._count("revised_notes")
        elif isinstance(action, RaiseAlert):
            alerts[action.alert] = people_services.raise_alert(
                db, self.vault, actor, viewer, access, alert_type=action.alert, detail=action.detail
            )
            self._count("alerts")
        elif isinstance(action, EndAlert):
            people_services.end_alert(db, actor, viewer, access, alerts.pop(action.alert))
        elif isinstance(action, Needs):
            people_services.set_needs(db, actor, viewer, access, set(action.needs))
        elif isinstance(action, Housing):
            record = db.get_one(Person, access.person_id)
            fields = read_fields(self.vault, record)
            people_services.update_person(
                db,
                vault=self.vault,
                blind=self.blind,
                actor=actor,
                viewer=viewer,
                access=access,
                fields=dataclasses.replace(fields, housing_status=action.status),
                expected_version=None,
            )
        elif isinstance(action, Death):
            people_services.record_death(
                db,
                actor,
                viewer,
                access,
                died_on=today - timedelta(days=action.days_before),
                expected_version=None,
            )
            involvements.clear()
            self._count("deaths")

    def _share(
        self,
        action: Sharing,
        member: Member,
        access: PersonAccess,
        labelled: dict[str, uuid.UUID],
    ) -> None:
        """Consent given, renewed or withdrawn, or another lawful basis, through the services
        (dated today on the replayed clock)."""
        db, vault, actor, viewer = self.db, self.vault, member.actor, member.viewer
        today = clock.london_today()
        if isinstance(action, Consent):
            consent = ConsentInput(
                recipient=Recipient(agency_id=self.agencies[action.to]),
                categories=action.categories,
                purpose=action.purpose,
                given_on=today,
                method=ConsentMethod.WRITTEN if action.form else ConsentMethod.VERBAL,
                form_reference=action.form,
                review_on=today + timedelta(days=action.review_days)
                if action.review_days is not None
                else None,
            )
            if action.renews:
                basis_id = consent_services.supersede_consent(
                    db,
                    vault,
                    actor,
                    viewer,
                    access,
                    basis_id=labelled[action.renews],
                    data=consent,
                    expected_version=None,
                    rules=self.rules,
                )
                self._count("renewed_consents")
            else:
                basis_id = consent_services.record_consent(
                    db, vault, actor, viewer, access, data=consent, rules=self.rules
                )
                self._count("consents")
        elif isinstance(action, Withdraw):
            consent_services.withdraw(
                db,
                vault,
                actor,
                viewer,
                access,
                basis_id=labelled[action.label],
                on=today,
                reason=action.reason,
                expected_version=None,
            )
            self._count("withdrawn_consents")
            return
        else:
            basis_id = consent_services.record_basis(
                db,
                vault,
                actor,
                viewer,
                access,
                data=BasisInput(
                    kind=action.kind,
                    recipient=Recipient(agency_id=self.agencies[action.to]),
                    categories=action.categories,
                    justification=action.justification,
                ),
                rules=self.rules,
            )
            self._count("other_bases")
        if action.label:
            labelled[action.label] = basis_id

    def _unopened(
        self,
        action: Unopened,
        member: Member,
        person_id: uuid.UUID,
        labelled: dict[str, uuid.UUID],
    ) -> None:
        """Emergency access (by someone who may not see the person yet) and information
        governance's reviews (which need no case access)."""
        db, vault, actor, viewer = self.db, self.vault, member.actor, member.viewer
        if isinstance(action, BreakGlass):
            labelled[action.label] = consent_services.start_emergency(
                db,
                vault,
                actor,
                viewer,
                person_id=person_id,
                access=person_access(db, viewer, person_id),
                reason=action.reason,
                detail=action.detail,
                rules=self.rules,
            )
            self._count("emergency_accesses")
        elif isinstance(action, EndBreakGlass):
            consent_services.end_emergency(db, actor, viewer, labelled[action.label])
        elif isinstance(action, ReviewBasis):
            consent_services.review_basis(
                db,
                vault,
                actor,
                viewer,
                labelled[action.label],
                approve=True,
                note=action.note,
                expected_version=None,
            )
            self._count("reviews")
        else:
            consent_services.review_emergency(
                db,
                vault,
                actor,
                viewer,
                labelled[action.label],
                appropriate=True,
                note=action.note,
                expected_version=None,
            )
            self._count("reviews")

    def _referral(
        self,
        action: Referring,
        member: Member,
        person_id: uuid.UUID,
        referrals: dict[str, uuid.UUID],
    ) -> None:
        """A referral started or moved through the pathway services, at the replayed moment
        (``now=`` as well as the clock, so the engine's dates agree with the timeline's)."""
        now = clock.utcnow()
        if isinstance(action, Refer):
            outcome = pathway_services.start_referral(
                self.db,
                self.vault,
                member.actor,
                member.viewer,
                person_id=person_id,
                pathway=pathways()[action.pathway],
                transition=action.transition,
                to_agency_id=self.agencies[action.to],
                values=action.values,
                rules=self.rules,
                now=now,
            )
            referrals[action.label] = outcome.referral_id
            self._count("referrals")
            return
        pathway_services.make_transition(
            self.db,
            self.vault,
            member.actor,
            member.viewer,
            referral_id=referrals[action.label],
            transition=action.transition,
            values=action.values,
            expected_version=None,
            pathways=pathways().by_key,
            now=now,
        )
        self._count("referral_moves")

    def _log(
        self,
        action: Log,
        member: Member,
        access: PersonAccess,
        now: datetime,
        contacts: dict[str, uuid.UUID],
    ) -> None:
        contact_id = contact_services.log_contact(
            self.db,
            vault=self.vault,
            actor=member.actor,
            viewer=member.viewer,
            access=access,
            data=ContactInput(
                occurred_at=now,
                kind=action.kind,
                outcome=action.outcome,
                place=action.place,
                duration_minutes=action.minutes,
                note=action.note,
                agency_only=action.agency_only,
            ),
        )
        if action.label:
            contacts[action.label] = contact_id
        self.summary.contacts += 1
        if action.agency_only:
            self._count("agency_only_notes")

    def _create(self, person: PersonPlan, member: Member, action: Create) -> uuid.UUID:
        return people_services.create_person(
            self.db,
            vault=self.vault,
            blind=self.blind,
            actor=member.actor,
            viewer=member.viewer,
            fields=PersonFields(
                names=person.names,
                details=person.details,
                sex=person.sex,
                housing_status=person.housing,
            ),
            involvement=NewInvolvement(action.role, member.user_id),
        )

    def _open_involvement(self, person_id: uuid.UUID, member: Member) -> uuid.UUID:
        found = self.db.scalar(
            select(Involvement.id).where(
                Involvement.person_id == person_id,
                Involvement.agency_id == member.agency_id,
                Involvement.ended_on.is_(None),
            )
        )
        assert found is not None  # noqa: S101 - create_person made it
        return found

    def _access(self, member: Member, person_id: uuid.UUID) -> PersonAccess:
        access = person_access(self.db, member.viewer, person_id)
        if access is None:
            raise LookupError(f"demo plan error: {member.viewer.agency_id} cannot see the person")
        return access

    def _count(self, what: str) -> None:
        self.summary.counts[what] = self.summary.counts.get(what, 0) + 1


def load(
    db: Session, kit: SecurityKit, *, progress: Callable[[str], None] = lambda _step: None
) -> Summary:
    """Create the default set of people in ``db``'s transaction (the partnership, from
    :func:`casework.demo.data.load`, must exist). Person keys are committed to the keystore
    as each person is made (key first, then data)."""
    staff = staff_members(db)
    player = _Player(db, kit, staff)
    with replayed_clock() as move_to:
        today = clock.london_today()
        for person in plan(today):
            player.play(person, today, move_to)
            progress(f"person {player.summary.people}")
    db.flush()
    made = treatment.load(db, kit, today)
    player.summary.counts.update(
        treatment_episodes=made.episodes,
        treatment_open=made.open,
        treatment_died=made.died,
        prevalence_estimates=made.estimates,
    )
    return player.summary
