"""Short, plain-English case notes for generated contacts, by the kind of agency recording them.

Every note is invented. Templates name the person only by pronoun, so a note reads naturally
for anyone; places are fictional Northdale ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from casework.agencies.models import AgencyKind
from casework.people.codes import ContactKind, ContactOutcome, Sex


@dataclass(frozen=True)
class Pronouns:
    he: str
    him: str
    his: str

    @staticmethod
    def for_sex(sex: Sex) -> Pronouns:
        if sex is Sex.MALE:
            return Pronouns("he", "him", "his")
        if sex is Sex.FEMALE:
            return Pronouns("she", "her", "her")
        return Pronouns("they", "them", "their")


PLACES = (
    "Wharf Street hub", "Bus station", "Market square", "Cellar drop-in", "Northgate library",
    "Bank Street pharmacy", "Probation office, Union Row", "A&E, Northdale General",
    "Mill Lane hostel", "Canal towpath by the lock", "Café on Northgate", "Home address",
    "Beech House", "Council offices, Albion Terrace", "Park View food bank",
)  # fmt: skip

_FILLS: dict[str, tuple[str, ...]] = {
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "pharmacy": ("Bank Street pharmacy", "the Northgate pharmacy", "the pharmacy on Mill Lane"),
    "spot": (
        "the bus station", "the market square", "the canal towpath", "the back of the library",
        "the underpass on Bridge End", "the benches on Chapel Row",
    ),
    "topic": (
        "cutting down on crack", "getting back on a script", "money and benefits",
        "sleeping rough again", "seeing the kids", "the court date", "staying safe when using",
        "registering with a GP", "going back to college", "the evening group",
    ),
    "mood": ("tired but chatty", "low", "brighter than last week", "anxious", "well", "agitated"),
    "kit": ("needles and a sharps bin", "foil", "naloxone", "a clean-kit pack", "condoms"),
    "dose": (
        "methadone stays at 40 ml", "methadone up to 60 ml", "buprenorphine 12 mg continues",
        "moving to twice-weekly pick-up", "back to daily supervised consumption",
    ),
    "item": ("a food parcel", "a sleeping bag", "a bus pass", "a phone top-up", "warm clothes"),
    "paper": ("ID", "a bank statement", "the tenancy letter", "proof of benefits"),
    "property": ("a one-bed flat on Heath Lane", "a bedsit on Foundry Street",
                 "a ground-floor flat on Weaver Close", "a shared house on Spring Gardens"),
    "hostel": ("Mill Lane hostel", "the Tenter Lane project", "Albion House"),
    "wound": ("an abscess on the thigh", "infected injection sites on both arms",
              "a leg ulcer", "a cut hand"),
    "review": ("the support plan", "the risk assessment", "the care plan"),
    "group": ("the evening group", "the recovery café", "the Fine Lines group", "SMART Recovery"),
}  # fmt: skip


class _Fill(dict[str, str]):
    """Slots filled on first use only (most templates use one or two)."""

    def __init__(self, rng: random.Random, pronouns: Pronouns) -> None:
        super().__init__(
            he=pronouns.he,
            He=pronouns.he.capitalize(),
            him=pronouns.him,
            his=pronouns.his,
            His=pronouns.his.capitalize(),
        )
        self._rng = rng

    def __missing__(self, key: str) -> str:
        value = self._rng.choice(_FILLS[key])
        self[key] = value
        return value


Template = tuple[ContactKind, ContactOutcome, str]

#: "[agency kind]" sections of "contact_kind outcome: note" lines; an indented line continues
#: the note above it. "[common]" notes fit any agency and are added to every section.
_TEMPLATE_TEXT = """
[common]
phone no_answer: Phoned twice, no answer. Left a voicemail asking {him} to ring back.
text support_given: Texted a reminder about {day}'s appointment. {He} replied to say ok.
attempted not_found: Went to meet {him} as arranged but {he} did not come. Will try again.
[treatment]
outreach seen_well: Found {him} at {spot}. {He} looked {mood}. Talked about {topic}.
outreach seen_concerns: Seen at {spot}. Very thin and {mood}. Gave {item} and {kit}.
outreach not_found: Not at {spot} or the other usual places. Asked around; no one had seen {him}
    since {day}.
face_to_face support_given: Key work session. Talked about {topic}. {He} agreed to come to
    {group} on {day}.
face_to_face seen_well: Script review: {dose}. Collecting from {pharmacy}.
face_to_face support_given: Harm reduction: gave {kit} and went through overdose signs again.
welfare_check seen_well: Welfare check. {He} looked {mood}; eating and sleeping better.
welfare_check seen_concerns: Welfare check. Missed two pick-ups at {pharmacy}; said {he} felt
    unwell. Will ask the prescriber to review.
phone support_given: Rang to check in. {He} said things are hard with {topic}; booked a session
    for {day}.
home_visit seen_well: Home visit. Flat tidy, food in. {He} seemed proud of how things are going.
face_to_face referred: Referred to the GP practice about {wound}.
[housing]
face_to_face support_given: Homeless application taken. Still need {paper} before it can be
    decided.
face_to_face support_given: Viewed {property} together. {He} liked it; bid placed.
phone support_given: Temporary place at {hostel} extended to {day} week.
home_visit seen_well: Tenancy check. Rent account up to date; no complaints from neighbours.
home_visit seen_concerns: Tenancy check. Arrears building up; agreed a repayment plan of £5 a
    week.
phone no_answer: Tried to ring about {paper}. No answer; letter sent.
[social_care]
face_to_face support_given: Care Act assessment started. Needs help with cooking and managing
    money.
home_visit seen_concerns: Visit with the HOPE worker. Worried about self-neglect; reviewing
    {review}.
phone support_given: Panel agreed the support package. Starts {day}.
face_to_face seen_well: Review of {review}. Things are more settled.
[police]
face_to_face seen_concerns: Spoke to {him} on patrol near {spot}. Worried about the group around
    {him}.
home_visit seen_well: Safe and well visit at the address. No visitors present.
home_visit no_answer: Called at the address after a report of people coming and going. No
    answer.
face_to_face referred: Arrested and tested positive for cocaine; required assessment booked with
    treatment.
[probation]
face_to_face seen_well: Supervision appointment. Talked about {topic}. Licence conditions kept.
face_to_face support_given: Supervision. Went through the sentence plan; {he} agreed to keep
    going to {group}.
phone no_answer: Missed today's appointment. Warning letter sent; rebooked for {day}.
video seen_well: Video check-in. {He} looked {mood}.
[prison]
face_to_face support_given: Pre-release planning. Housing and a treatment appointment on release
    day still to confirm.
face_to_face referred: Referral sent to the Recovery Service for continuity of care after
    release.
phone support_given: Rang community probation about the release address.
[health]
face_to_face seen_concerns: Seen in A&E with {wound}. Dressed, antibiotics started.
face_to_face support_given: Ward visit by the liaison nurse. Eating better; methadone continued
    on the ward.
phone referred: Discharge planning call with the HOPE team. District nurse to follow up {wound}.
face_to_face seen_well: Wound clinic. Healing well; next dressing on {day}.
[domestic_abuse]
phone support_given: Safety plan reviewed. {He} knows the safe number and when to ring.
face_to_face support_given: Met at a safe place. Talked through options; {he} said it was too
    soon to leave.
face_to_face referred: Risk checklist done with {him}; referral to the risk conference.
text support_given: Texted at the agreed time only. {He} replied: ok.
[voluntary]
face_to_face seen_well: Came to {group}. {He} talked a bit about {topic}.
face_to_face support_given: Peer mentor met {him} for a brew before {group}. Planned the week
    together.
phone seen_well: Rang to see how {he} got on at the appointment. Went fine.
[care_home]
face_to_face seen_well: Settling in. Eating three meals a day and sleeping well.
face_to_face seen_concerns: Went out for the afternoon and came back late. Staff to talk it
    through tomorrow.
face_to_face support_given: District nurse dressed {wound}. Healing.
"""


def _parse_templates(text: str) -> dict[str, tuple[Template, ...]]:
    sections: dict[str, list[Template]] = {}
    current: list[Template] = []
    for line in text.strip().splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif line.startswith(" "):
            last = current[-1]
            current[-1] = (last[0], last[1], f"{last[2]} {line.strip()}")
        else:
            codes, note = line.split(": ", 1)
            kind, outcome = codes.split()
            current.append((ContactKind(kind), ContactOutcome(outcome), note))
    common = sections.pop("common")
    return {name: (*found, *common) for name, found in sections.items()} | {"common": tuple(common)}


_TEMPLATES = _parse_templates(_TEMPLATE_TEXT)
TEMPLATES: dict[AgencyKind, tuple[Template, ...]] = {
    kind: _TEMPLATES.get(kind.value, _TEMPLATES["common"]) for kind in AgencyKind
}

AGENCY_ONLY_TEMPLATES: dict[AgencyKind, tuple[str, ...]] = {
    AgencyKind.POLICE: (
        "Intelligence logged about visitors to the address. Not for sharing outside the police.",
        "Names of the people seen with {him} passed to the neighbourhood team.",
    ),
    AgencyKind.DOMESTIC_ABUSE: (
        "Safe contact times and the code word agreed. Do not share outside Safe Haven.",
        "{He} gave us the address where {he} stayed last night. Keep within the service.",
    ),
    AgencyKind.PROBATION: ("Recall considered and not taken forward this time.",),
}


def contact_note(
    rng: random.Random, kind: AgencyKind, who: Pronouns
) -> tuple[ContactKind, ContactOutcome, str]:
    """A contact kind, outcome and note that fit an agency of this kind."""
    contact_kind, outcome, template = rng.choice(TEMPLATES[kind])
    return contact_kind, outcome, template.format_map(_Fill(rng, who))


def agency_only_note(rng: random.Random, kind: AgencyKind, who: Pronouns) -> str | None:
    """A note an agency keeps to itself, or None if agencies of this kind rarely have one."""
    choices = AGENCY_ONLY_TEMPLATES.get(kind)
    if not choices:
        return None
    return rng.choice(choices).format_map(_Fill(rng, who))


def revision_of(note: str) -> str:
    """A second revision of a note: the worker adds something they forgot."""
    return note + " (Added later: agreed to meet again next week.)"


def place(rng: random.Random) -> str:
    return rng.choice(PLACES)
