"""People partway through every referral pathway, for the default demo set.

Each is a :class:`casework.demo.people.PersonPlan` like the others, played through the same
services; their referrals go through the pathway services (``start_referral``,
``make_transition``) at the replayed moment, so stages, tasks, lawful bases, the timeline and
the audit trail are all real. What they show:

- **Required assessment and Fine Lines** over a year, in proportions like the Calderdale
  funnel: of the assessments held, about 43% appropriate for Fine Lines; about 79% of those at
  the group session; nearly all of them took up service; about 40% of those completed 12
  weeks. Also assessments booked for today and this week (one for a disputed test) and one
  failure to attend, with its task for the police.
- **Hospital on-ward referrals** at each stage (waiting on the ward, seen, discharged, in the
  detox house, engaged, not seen).
- **Domestic abuse**: a DASH score of 16 with the high-risk alert, the MARAC and IDVA
  referrals; a standard-risk case.
- **Prison release**: one on day 15 of the 21-day clock (at risk), one picked up on day 9, one
  not picked up.
- **General referrals**: waiting, accepted, and one declined (the referrer is told).

Everything comes from a seed of its own, so adding these people changed nobody else.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from casework.access.categories import Category
from casework.demo import names as nm
from casework.people.codes import FamilyRole, HousingStatus, Sex
from casework.people.records import Details, Names

if TYPE_CHECKING:
    from casework.demo.people import Action, PersonPlan

SEED_OFFSET = 5

#: (days ago booked, what happened after) for the required assessments of the last year.
#: "nf": not appropriate for Fine Lines; "fl": left before the group; "gl": left after the
#: group; "tl": took up service then left; "tu": still in the programme; "done": completed.
#: 23 held: 10 appropriate (43%), 8 of them at the group (80%), 7 took up service, 3 of the
#: 7 completed so far (with 2 still in the programme).
FINE_LINES: tuple[tuple[int, str], ...] = (
    (350, "done"), (330, "nf"), (318, "nf"), (300, "gl"), (288, "done"), (270, "nf"),
    (255, "nf"), (240, "fl"), (226, "tl"), (210, "nf"), (196, "done"), (180, "nf"),
    (166, "nf"), (150, "tl"), (135, "nf"), (120, "fl"), (104, "nf"), (90, "nf"),
    (76, "tu"), (60, "nf"), (45, "tl"), (34, "tu"), (22, "nf"),
)  # fmt: skip

#: Booked and still open: (days ago booked, days from today of the appointment, disputed).
BOOKED: tuple[tuple[int, int, bool], ...] = ((1, 0, False), (2, 3, False), (8, 4, True))

COUNT = len(FINE_LINES) + len(BOOKED) + 1 + 6 + 2 + 3 + 3


def _at(today: date, days_ago: int, hour: int, minute: int = 0) -> str:
    """A Europe/London wall-clock value for a datetime field."""
    return datetime.combine(today - timedelta(days=days_ago), time(hour, minute)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def _on(today: date, days_ago: int) -> str:
    return (today - timedelta(days=days_ago)).isoformat()


class _Plans:
    def __init__(self, today: date, seen: set[tuple[str, str]]) -> None:
        self.today = today
        self.seen = seen
        self.rng = nm.seeded(_seed())
        self.made: list[PersonPlan] = []

    def person(
        self,
        kind: str,
        steps: list[tuple[int, int, Action]],
        *,
        female: float = 0.35,
        housing: HousingStatus = HousingStatus.NOT_KNOWN,
    ) -> None:
        from casework.demo import people as demo

        rng = self.rng
        while True:
            roll = rng.random()
            sex = Sex.FEMALE if roll < female else Sex.MALE
            given, family = nm.given_name(rng, sex), nm.family_name(rng)
            if (given, family) not in self.seen:
                break
        self.seen.add((given, family))
        born = nm.date_of_birth(rng, self.today, age=nm.age_between(rng, 19, 62))
        self.made.append(
            demo.PersonPlan(
                names=Names(given, family, "", ()),
                details=Details(date_of_birth=born),
                sex=sex,
                housing=housing,
                steps=tuple(demo.Step(day, minute, action) for day, minute, action in steps),
                kind=kind,
            )
        )


def _seed() -> int:
    from casework.demo import people as demo

    return demo.SEED + SEED_OFFSET


def _booking(
    rng: random.Random, today: date, booked: int, appointment_in: int, *, disputed: bool = False
) -> dict[str, object]:
    """A custody booking made ``booked`` days ago for an appointment ``appointment_in`` days
    after the booking day."""
    values: dict[str, object] = {
        "test_result": rng.choice(("cocaine", "cocaine", "cocaine", "both", "opiates")),
        "tested_on": _on(today, booked),
        "trigger_offence": rng.choice(("theft", "theft", "burglary", "drugs_possession", "fraud")),
        "custody_suite": "Northdale Central custody suite",
        "disputed": "yes" if disputed else "no",
        "appointment_at": _at(today, booked - appointment_in, rng.choice((10, 11, 14, 15))),
        "place": "Northdale Recovery Service, 12 Foundry Street",
    }
    if disputed:
        values["sample_sent_on"] = _on(today, booked)
    return values


def _required_assessments(plans: _Plans) -> None:
    from casework.demo.people import Create, Join, Move, Needs, Refer

    today, rng = plans.today, plans.rng
    alex, priya = "alex", "priya"
    for booked, path in FINE_LINES:
        held = booked - 3  # the assessment, three days after the booking
        steps: list[tuple[int, int, Action]] = [
            (booked, 15 * 60, Create(alex, FamilyRole.POLICE_CONTACT)),
            (booked, 15 * 60 + 5, Needs(alex, frozenset({"offending"}))),
            (
                booked,
                15 * 60 + 10,
                Refer(
                    alex,
                    priya,
                    "required_assessment",
                    "book",
                    _booking(rng, today, booked, 3),
                    "ra",
                ),
            ),
            (held, 16 * 60, Move(priya, "ra", "attend")),
        ]
        if rng.random() < 0.3:  # follow-up required (RA4), then attended
            steps.append(
                (
                    held,
                    16 * 60 + 10,
                    Move(
                        priya,
                        "ra",
                        "require_follow_up",
                        {
                            "follow_up_at": _at(today, held - 7, 10),
                            "place": "Northdale Recovery Service, 12 Foundry Street",
                        },
                    ),
                )
            )
            held -= 7
            steps.append((held, 16 * 60, Move(priya, "ra", "attend_follow_up")))
        else:
            steps.append((held, 16 * 60 + 10, Move(priya, "ra", "follow_up_not_needed")))
        if path == "nf":
            reason = rng.choice(
                ("other_treatment", "no_problem_use", "declined", "other_treatment")
            )
            steps.append(
                (held, 16 * 60 + 20, Move(priya, "ra", "not_suitable", {"reason": reason}))
            )
        else:
            steps.append((held, 16 * 60 + 20, Move(priya, "ra", "suitable")))
            group = held - 7
            if path == "fl":
                steps.append(
                    (group, 19 * 60, Move(priya, "ra", "leave_early", {"reason": "disengaged"}))
                )
            else:
                steps.append((group, 19 * 60, Move(priya, "ra", "attend_group")))
                if path == "gl":
                    steps.append(
                        (
                            group - 7,
                            10 * 60,
                            Move(priya, "ra", "leave_early", {"reason": "breached"}),
                        )
                    )
                else:
                    up = group - 7
                    # The key worker is named as the service joins the family (taking up
                    # service joins it too; joining first names the worker).
                    steps.append((up, 9 * 60 + 55, Join(priya, "bethan", FamilyRole.KEY_WORKER)))
                    steps.append((up, 10 * 60, Move("bethan", "ra", "take_up_service")))
                    if path == "done":
                        steps.append((up - 84, 18 * 60, Move("bethan", "ra", "complete")))
                    elif path == "tl":
                        left = max(1, up - rng.randint(20, 50))
                        steps.append(
                            (
                                left,
                                12 * 60,
                                Move(
                                    "bethan",
                                    "ra",
                                    "leave_early",
                                    {"reason": rng.choice(("disengaged", "moved"))},
                                ),
                            )
                        )
        plans.person("fine-lines", steps)
    # Booked for today and this week; one disputed test, its assessment five working days on.
    for booked, appointment, disputed in BOOKED:
        values = _booking(rng, today, booked, booked + appointment, disputed=disputed)
        plans.person(
            "ra-booked",
            [
                (booked, 16 * 60, Create(alex, FamilyRole.POLICE_CONTACT)),
                (
                    booked,
                    16 * 60 + 10,
                    Refer(alex, priya, "required_assessment", "book", values, "ra"),
                ),
            ],
        )
    # Failed to attend three days ago: the police prepare an evidential statement.
    plans.person(
        "ra-failed",
        [
            (7, 15 * 60, Create(alex, FamilyRole.POLICE_CONTACT)),
            (
                7,
                15 * 60 + 10,
                Refer(alex, priya, "required_assessment", "book", _booking(rng, today, 7, 4), "ra"),
            ),
            (
                3,
                17 * 60,  # after the appointment (10:00 to 15:00) and the time waited
                Move(
                    priya,
                    "ra",
                    "fail_to_attend",
                    {
                        "what_happened": "did_not_attend",
                        "contact_attempts": "Waited 45 minutes; called the mobile twice and left a "
                        "message; no answer at the address given.",
                    },
                ),
            ),
        ],
    )


def _hospital(plans: _Plans) -> None:
    from casework.demo.people import Consent, Create, Join, Move, Needs, Refer

    today = plans.today
    health = frozenset({Category.IDENTITY, Category.HEALTH, Category.SUBSTANCE_USE})
    purpose = "So the recovery service can see them on the ward and after discharge."
    #: (creator, days ago referred, ward, need, what happened after)
    cases = (
        ("jamie", 0, "gastro", "alcohol", ()),
        ("megan", 2, "emergency", "opiates", ("seen",)),
        ("jamie", 6, "medical_assessment", "alcohol", ("seen", "discharged")),
        ("megan", 9, "gastro", "alcohol", ("seen", "detox")),
        ("jamie", 40, "orthopaedics", "opiates_and_crack", ("seen", "discharged", "engaged")),
        ("megan", 25, "emergency", "crack", ("not_seen",)),
    )
    for creator, day, ward, need, path in cases:
        steps: list[tuple[int, int, Action]] = [
            (day, 9 * 60, Create(creator, FamilyRole.NURSE)),
            (day, 9 * 60 + 5, Needs(creator, frozenset({"physical_health", "substance_use"}))),
            (day, 9 * 60 + 10, Consent(creator, "robin", health, purpose)),
            (
                day,
                9 * 60 + 20,
                Refer(
                    creator,
                    "robin",
                    "hospital",
                    "refer",
                    {
                        "ward": ward,
                        "admitted_on": _on(today, day + 1),
                        "need": need,
                        "summary": "Admitted after a fall; "
                        "drinking heavily. Agrees to see the team.",
                    },
                    "hos",
                ),
            ),
        ]
        seen = max(day - 1, 0)
        for step in path:
            if step == "seen":
                steps.append(
                    (
                        seen,
                        14 * 60,
                        Move("robin", "hos", "see_on_ward", {"seen_on": _on(today, seen)}),
                    )
                )
            elif step == "not_seen":
                steps.append(
                    (seen, 14 * 60, Move("robin", "hos", "not_seen", {"reason": "self_discharged"}))
                )
            elif step == "discharged":
                out = max(seen - 2, 0)
                steps.append(
                    (
                        out,
                        12 * 60,
                        Move(
                            creator,
                            "hos",
                            "discharge",
                            {"discharged_on": _on(today, out), "discharged_to": "home"},
                        ),
                    )
                )
            elif step == "detox":
                out = max(seen - 3, 0)
                steps.append(
                    (
                        out,
                        12 * 60,
                        Move(
                            creator, "hos", "discharge_to_detox", {"discharged_on": _on(today, out)}
                        ),
                    )
                )
            elif step == "engaged":
                # The treatment service joins the family before the referral ends (an ended
                # referral no longer makes it involved).
                steps.append((day - 12, 10 * 60, Join("robin", "nadia", FamilyRole.KEY_WORKER)))
                steps.append(
                    (
                        day - 12,
                        11 * 60,
                        Move("robin", "hos", "engage", {"engaged_on": _on(today, day - 12)}),
                    )
                )
        plans.person("hospital-referral", steps, housing=HousingStatus.HOSPITAL)


def _domestic_abuse(plans: _Plans) -> None:
    from casework.demo.people import Consent, Create, Move, Needs, Refer

    today = plans.today
    shared = frozenset({Category.IDENTITY, Category.DOMESTIC_ABUSE})
    purpose = "So the IDVA service can plan for safety with the recovery service."
    # DASH 16: high risk. The alert, the prompt, the MARAC and IDVA referrals.
    plans.person(
        "dash-high",
        [
            (20, 10 * 60, Create("nadia", FamilyRole.OUTREACH_WORKER)),
            (20, 10 * 60 + 5, Needs("nadia", frozenset({"substance_use", "mental_health"}))),
            (12, 11 * 60, Consent("nadia", "taylor", shared, purpose)),
            (
                12,
                11 * 60 + 20,
                Refer(
                    "nadia",
                    "taylor",
                    "domestic_abuse",
                    "refer",
                    {
                        "dash_score": "16",
                        "dash_completed_on": _on(today, 12),
                        "safe_to_phone": "no",
                        "summary": "Safe to meet at the hub on weekday mornings. "
                        "Partner checks her phone.",
                    },
                    "da",
                ),
            ),
            (
                11,
                10 * 60,
                Move("taylor", "da", "allocate_idva", {"idva_allocated_on": _on(today, 11)}),
            ),
            (
                10,
                15 * 60,
                Move(
                    "taylor",
                    "da",
                    "refer_to_marac",
                    {"marac_referred_on": _on(today, 10), "marac_on": _on(today, -4)},
                ),
            ),
        ],
        female=1.0,
    )
    # DASH 9: standard support from the service.
    plans.person(
        "dash-standard",
        [
            (45, 10 * 60, Create("owen", FamilyRole.OUTREACH_WORKER)),
            (30, 11 * 60, Consent("owen", "sian", shared, purpose)),
            (
                30,
                11 * 60 + 20,
                Refer(
                    "owen",
                    "sian",
                    "domestic_abuse",
                    "refer",
                    {
                        "dash_score": "9",
                        "dash_completed_on": _on(today, 30),
                        "safe_to_phone": "yes",
                    },
                    "da",
                ),
            ),
            (28, 10 * 60, Move("sian", "da", "support")),
        ],
        female=0.8,
    )


def _prison_release(plans: _Plans) -> None:
    from casework.demo.people import Consent, Create, Join, Move, Needs, Refer

    today = plans.today
    shared = frozenset({Category.IDENTITY, Category.OFFENDING, Category.SUBSTANCE_USE})
    purpose = "For continuity of care: treatment in the community on release."
    #: (days since release, what happened: None (waiting), "picked_up" on day 9, "not")
    cases = ((15, None), (30, "picked_up"), (40, "not"))
    for released, outcome in cases:
        referred = released + 7  # the resettlement team refers a week before release
        steps: list[tuple[int, int, Action]] = [
            (referred, 9 * 60, Create("colin", FamilyRole.SUPPORT_WORKER)),
            (referred, 9 * 60 + 5, Needs("colin", frozenset({"offending", "substance_use"}))),
            (referred, 9 * 60 + 10, Consent("colin", "owen", shared, purpose)),
            (
                referred,
                9 * 60 + 20,
                Refer(
                    "colin",
                    "owen",
                    "prison_release",
                    "refer",
                    {
                        "release_date": _on(today, released),
                        "treatment_need": "opiates",
                        "on_prescription": "yes",
                        "summary": "Released on methadone 40 ml; "
                        "last dose on the morning of release.",
                    },
                    "prl",
                ),
            ),
        ]
        if outcome == "picked_up":
            steps.append(
                (
                    released - 4,
                    10 * 60,
                    Move(
                        "owen",
                        "prl",
                        "book_appointment",
                        {"first_appointment_at": _at(today, released - 9, 10)},
                    ),
                )
            )
            steps.append((released - 9, 10 * 60, Join("owen", "owen", FamilyRole.KEY_WORKER)))
            steps.append(
                (
                    released - 9,
                    11 * 60,
                    Move("owen", "prl", "pick_up", {"attended_on": _on(today, released - 9)}),
                )
            )
        elif outcome == "not":
            steps.append(
                (
                    released - 22,
                    11 * 60,
                    Move("owen", "prl", "not_pick_up", {"reason": "did_not_attend"}),
                )
            )
        plans.person("prison-release-referral", steps, female=0.15)


def _general(plans: _Plans) -> None:
    from casework.demo.people import Consent, Create, Move, Refer

    identity = frozenset({Category.IDENTITY, Category.HOUSING, Category.SUBSTANCE_USE})
    purpose = "So the agency referred to can offer support."
    #: (creator, receiving staff, days ago, what happened)
    cases = (
        ("imran", "danny", 3, None),
        ("morgan", "grace", 20, "accept"),
        ("casey", "imran", 12, "decline"),
    )
    for creator, to, day, outcome in cases:
        steps: list[tuple[int, int, Action]] = [
            (day, 10 * 60, Create(creator, FamilyRole.SUPPORT_WORKER)),
            (day, 10 * 60 + 10, Consent(creator, to, identity, purpose)),
            (
                day,
                10 * 60 + 20,
                Refer(
                    creator,
                    to,
                    "general",
                    "refer",
                    {
                        "reason": "support" if to != "imran" else "housing",
                        "summary": "Would like help to stay in recovery.",
                    },
                    "ref",
                ),
            ),
        ]
        if outcome == "accept":
            steps.append((day - 2, 11 * 60, Move(to, "ref", "accept")))
        elif outcome == "decline":
            steps.append(
                (
                    day - 2,
                    11 * 60,
                    Move(
                        to,
                        "ref",
                        "decline",
                        {
                            "reason": "no_capacity",
                            "explanation": "No hostel places this month; "
                            "we will look again in four weeks.",
                        },
                    ),
                )
            )
        plans.person("general-referral", steps)


def plans(today: date, seen: set[tuple[str, str]]) -> list[PersonPlan]:
    """The pathway people, in the order they are loaded (deterministic)."""
    made = _Plans(today, seen)
    _required_assessments(made)
    _hospital(made)
    _domestic_abuse(made)
    _prison_release(made)
    _general(made)
    assert len(made.made) == COUNT, (len(made.made), COUNT)  # noqa: S101 - a plan invariant
    return made.made
