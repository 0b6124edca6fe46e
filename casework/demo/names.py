"""Invented names, places and identifiers for the fictional Northdale partnership.

Ordinary British names, combined at random: no combination is meant to be anyone. Phone
numbers are from Ofcom's drama range (07700 900000-900999), emails are at example.org, NHS
numbers start with 999 (never issued) and postcodes use the outward codes NX1-NX9, which no
real postcode area uses.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from casework.people.codes import Sex

FEMALE_NAMES = (
    "Abigail", "Agnieszka", "Aisha", "Alison", "Amanda", "Amy", "Angela", "Beth", "Caroline",
    "Charlotte", "Chloe", "Claire", "Dawn", "Debbie", "Donna", "Elaine", "Eleanor", "Emma",
    "Farah", "Gemma", "Hannah", "Hayley", "Helen", "Jade", "Janet", "Jennifer", "Joanne",
    "Julie", "Karen", "Kasia", "Kelly", "Kerry", "Kirsty", "Laura", "Leanne", "Linda", "Lisa",
    "Lorraine", "Louise", "Lucy", "Lynn", "Maria", "Michelle", "Molly", "Natalie", "Nicola",
    "Paula", "Rachel", "Rebecca", "Sadie", "Samantha", "Sandra", "Sarah", "Shannon", "Sharon",
    "Shazia", "Siân", "Sophie", "Stacey", "Susan", "Tanya", "Tracey", "Vicky", "Zoë",
)  # fmt: skip

MALE_NAMES = (
    "Aaron", "Adam", "Alan", "Andrew", "Anthony", "Ashley", "Barry", "Ben", "Bilal", "Callum",
    "Carl", "Colin", "Connor", "Craig", "Daniel", "Danny", "Darren", "Dean", "Dominic", "Gareth",
    "Gary", "Glen", "Graham", "Ian", "Imran", "Jack", "Jake", "Jason", "Joe", "Jordan", "Karl",
    "Keith", "Kevin", "Kieran", "Kyle", "Lee", "Liam", "Luke", "Marcus", "Mark", "Martin",
    "Matthew", "Mohammed", "Nathan", "Neil", "Patrick", "Paul", "Peter", "Phil", "Piotr",
    "Reece", "Richard", "Ryan", "Scott", "Sean", "Shane", "Simon", "Stephen", "Steve", "Stuart",
    "Tariq", "Terry", "Tomasz", "Tony", "Trevor", "Warren", "Wayne", "Yusuf", "Zak",
)  # fmt: skip

#: Given names for people whose sex is recorded as other or not known.
NEUTRAL_NAMES = ("Alex", "Charlie", "Jess", "Jo", "Kai", "Morgan", "Remy", "Sam")

FAMILY_NAMES = (
    "Ackroyd", "Ahmed", "Ainley", "Akhtar", "Armitage", "Bamforth", "Barraclough", "Baxter",
    "Beaumont", "Begum", "Binns", "Booth", "Bottomley", "Bradshaw", "Brearley", "Briggs",
    "Broadbent", "Brook", "Butterworth", "Byrne", "Campbell", "Cartwright", "Clegg", "Connolly",
    "Crabtree", "Crossley", "Davies", "Dawson", "Denby", "Dobson", "Doherty", "Duffy",
    "Earnshaw", "Ellis", "Evans", "Fairbank", "Fielding", "Firth", "Fletcher", "Fraser",
    "Gallagher", "Greenwood", "Haigh", "Halstead", "Hargreaves", "Harrison", "Hartley",
    "Haworth", "Hepworth", "Hinchliffe", "Holroyd", "Holt", "Horsfall", "Hughes", "Hussain",
    "Ibbotson", "Illingworth", "Iqbal", "Jagger", "Jones", "Kershaw", "Khan", "Kowalski",
    "Lloyd", "Lord", "Lumb", "Marsden", "McGuire", "McKenna", "Mellor", "Mitchell", "Moorhouse",
    "Morgan", "Murray", "Naylor", "Newton", "Nowak", "Nuttall", "O'Brien", "O'Neill",
    "Oldfield", "Pearson", "Pickles", "Price", "Priestley", "Pritchard", "Quinn", "Ramsden",
    "Redman", "Riley", "Robertshaw", "Rowley", "Rushworth", "Sagar", "Schofield",
    "Shackleton", "Sharp", "Shaw", "Smith", "Smith-Kaye", "Stansfield", "Sugden", "Swift",
    "Tattersall", "Taylor", "Thornton", "Uttley", "Vickers", "Wadsworth", "Wainwright",
    "Walker", "Whiteley", "Wilkinson", "Wolstenholme", "Wood", "Wrigley",
)  # fmt: skip

STREETS = (
    "Mill Lane", "Cinder Street", "Heath Lane", "Northgate", "Bank Street", "Wharf Street",
    "Moorside Road", "Chapel Row", "Foundry Street", "Albion Terrace", "Canal Walk",
    "Spring Gardens", "Hollins Road", "Weaver Close", "Station Approach", "Park View",
    "Quarry Bank", "Tenter Lane", "Bridge End", "Beacon Rise",
)  # fmt: skip

#: Fictional outward codes: NX is not a real postcode area.
DISTRICTS = tuple(f"NX{n}" for n in range(1, 10))
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters real inward codes use


def seeded(seed: int) -> random.Random:
    """A pseudo-random generator for demo data: repeatable, and never used for secrets."""
    return random.Random(seed)  # noqa: S311 - repeatable demo data, not security


def given_name(rng: random.Random, sex: Sex) -> str:
    if sex is Sex.FEMALE:
        return rng.choice(FEMALE_NAMES)
    if sex is Sex.MALE:
        return rng.choice(MALE_NAMES)
    return rng.choice(NEUTRAL_NAMES)


def family_name(rng: random.Random) -> str:
    return rng.choice(FAMILY_NAMES)


def postcode(rng: random.Random) -> str:
    letters = rng.choice(_INWARD_LETTERS) + rng.choice(_INWARD_LETTERS)
    return f"{rng.choice(DISTRICTS)} {rng.randint(1, 9)}{letters}"


def address(rng: random.Random, *, flat: bool) -> str:
    street = f"{rng.randint(1, 120)} {rng.choice(STREETS)}, Northdale"
    return f"Flat {rng.randint(1, 12)}, {street}" if flat else street


def phone(rng: random.Random) -> str:
    """A number from Ofcom's range for drama: 07700 900000 to 07700 900999."""
    return f"07700 900{rng.randint(0, 999):03d}"


def email(rng: random.Random, given: str, family: str) -> str:
    local = "".join(ch for ch in f"{given}.{family}".lower() if ch.isascii() and ch != "'")
    return f"{local}{rng.randint(1, 99)}@example.org"


def nhs_number(rng: random.Random) -> str:
    """A number with a valid check digit in the 999 range, which the NHS never issues."""
    while True:
        digits = [9, 9, 9] + [rng.randint(0, 9) for _ in range(6)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, [*digits, check]))


def pnc_id(rng: random.Random) -> str:
    check = rng.choice("ABCDEFGHJKLMNPQRTUVWXYZ")
    return f"{rng.randint(0, 99):02d}/{rng.randint(1, 9_999_999):07d}{check}"


def local_id(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def date_of_birth(rng: random.Random, today: date, *, age: int) -> date:
    """A date of birth that makes the person ``age`` today."""
    try:
        latest = today.replace(year=today.year - age)
    except ValueError:  # today is 29 February
        latest = today.replace(year=today.year - age, day=28)
    return latest - timedelta(days=rng.randint(0, 364))


def age_between(rng: random.Random, low: int = 18, high: int = 70) -> int:
    """Ages weighted towards 25-55, as in treatment populations."""
    age = round(rng.triangular(low, high, 38))
    return max(low, min(high, age))
