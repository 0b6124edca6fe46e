"""The default demo set: about 60 people supported in Northdale, made through the real services.

Every person is created, joined by other agencies, contacted and so on by calling the same
services the pages call (``people.services``, ``family.services``, ``contacts.services``), so
encryption, search tokens, the timeline and the audit trail are all real. A year of history is
replayed by moving the one injectable clock (:mod:`casework.clock`) to each event's time
before the service call, so that record dates, timeline entries and audit rows agree with
each other and always end "today".

Everything comes from one fixed random seed: the same people, with the same names, every run.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import clock
from casework.access.policy import PersonAccess, Viewer, person_access
from casework.agencies.models import Agency, AgencyKind
from casework.audit.recorder import Actor
from casework.contacts import services as contact_services
from casework.contacts.services import ContactInput
from casework.demo import names as nm
from casework.demo import phrases
from casework.family import services as family_services
from casework.family.models import Involvement
from casework.people import services as people_services
from casework.people.codes import (
    ClosureReason,
    ContactKind,
    ContactOutcome,
    FamilyRole,
    HousingStatus,
    Sex,
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


Action = Create | Join | Lead | End | Log | Revise | RaiseAlert | EndAlert | Needs | Housing | Death


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


#: How many people :func:`plan` makes (the story, the death and the profiles).
EXPECTED_PEOPLE = 2 + sum(profile.count for profile in PROFILES)


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
    return people


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
        self.summary = Summary()

    def play(self, person: PersonPlan, today: date, move_to: Callable[[datetime], None]) -> None:
        person_id: uuid.UUID | None = None
        involvements: dict[uuid.UUID, uuid.UUID] = {}
        contacts: dict[str, uuid.UUID] = {}
        alerts: dict[str, uuid.UUID] = {}
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
            access = self._access(member, person_id)
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
    return player.summary
