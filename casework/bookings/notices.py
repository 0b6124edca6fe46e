"""The printable required-assessment notices (RA1 to RA5): their titles and wording, and the
answers each one repeats. Plain data; the wording is Casework's own plain-English summary of
the Drugs Act 2005, sections 9 to 14, not the statutory form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from casework.pathways.definitions import FieldDef, FieldKind, PathwayDef
from casework.pathways.queries import EventView

CODES = ("RA1", "RA2", "RA3", "RA4", "RA5")


@dataclass(frozen=True)
class NoticeText:
    code: str
    title: str
    #: Paragraphs of plain-English wording, in order.
    paragraphs: tuple[str, ...]
    #: Shown as a warning: what happens if the person does not attend.
    warning: str = ""


TEXTS: dict[str, NoticeText] = {
    "RA1": NoticeText(
        "RA1",
        "You must attend an initial assessment",
        (
            "You were tested for a specified Class A drug after your arrest, and the test was "
            "positive. Under the Drugs Act 2005 (sections 9 to 14) a police officer can require "
            "you to attend an initial assessment of your drug use with a treatment service.",
            "This notice is that requirement. You must go to the appointment shown above and stay "
            "until the assessment is finished. The assessor will talk with you about your drug "
            "use and whether support or treatment would help you.",
            "If you cannot attend at this time, contact the treatment service before the "
            "appointment. Only they can change it, and they will give you a new notice.",
        ),
        warning=(
            "If you fail without good cause to attend, or to stay for the whole assessment, "
            "you commit an offence. The treatment service will tell the police, and you may "
            "be prosecuted."
        ),
    ),
    "RA2": NoticeText(
        "RA2",
        "Your initial assessment has moved",
        (
            "Your required initial assessment under the Drugs Act 2005 has a new date, time or "
            "place. This notice replaces the earlier one. The requirement to attend still "
            "applies: go to the new appointment shown above and stay until it is finished.",
        ),
        warning=(
            "If you fail without good cause to attend, or to stay for the whole assessment, "
            "you commit an offence, and the police will be told."
        ),
    ),
    "RA3": NoticeText(
        "RA3",
        "You attended your initial assessment",
        (
            "This notice confirms that you attended your required initial assessment under "
            "the Drugs Act 2005 and stayed until it was finished.",
            "Keep it safe: it shows you met the requirement. The assessor will tell you if a "
            "follow-up assessment is needed.",
        ),
    ),
    "RA4": NoticeText(
        "RA4",
        "You must attend a follow-up assessment",
        (
            "At your initial assessment, the assessor decided that you need a follow-up "
            "assessment. Under the Drugs Act 2005 you are required to attend it.",
            "Go to the appointment shown above and stay until it is finished. If you cannot attend "
            "at this time, contact the treatment service before the appointment.",
        ),
        warning=(
            "If you fail without good cause to attend, or to stay for the whole follow-up "
            "assessment, you commit an offence. The treatment service will tell the police."
        ),
    ),
    "RA5": NoticeText(
        "RA5",
        "You do not need a follow-up assessment",
        (
            "At your initial assessment, the assessor decided that a follow-up assessment is "
            "not needed. You do not have to attend any further required assessment for this "
            "arrest.",
            "You can still ask the treatment service for support at any time.",
        ),
    ),
}

#: The pathway fields each notice repeats (when its event recorded them), in order.
SHOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "RA1": ("appointment_at", "place"),
    "RA2": ("appointment_at", "place"),
    "RA3": (),
    "RA4": ("follow_up_at", "place"),
    "RA5": (),
}


@dataclass(frozen=True)
class NoticeRow:
    label: str
    value: str


@dataclass(frozen=True)
class Notice:
    text: NoticeText
    rows: tuple[NoticeRow, ...]
    issued_at: datetime
    issued_by: str
    agency: str


def shown(spec: FieldDef, raw: str) -> str:
    """One answer as the check-your-answers page and the notices show it."""
    if not raw:
        return ""
    if spec.kind is FieldKind.CHOICE:
        return spec.choices.get(raw, raw)
    if spec.kind is FieldKind.YES_NO:
        return "Yes" if raw == "yes" else "No"
    if spec.kind is FieldKind.DATE:
        return date.fromisoformat(raw).strftime("%-d %B %Y")
    if spec.kind is FieldKind.DATETIME:
        moment = datetime.fromisoformat(raw)
        return moment.strftime("%A %-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")
    return raw


def notice_for(code: str, pathway: PathwayDef, event: EventView) -> Notice:
    """The notice ``code`` for the event that produced it, with the answers it repeats."""
    step = pathway.transitions[event.transition]
    labels = {spec.name: spec.label.rstrip("?") for spec in step.fields}
    by_label = {answer.label: answer.value for answer in event.answers}
    rows = tuple(
        NoticeRow(labels[name], by_label[labels[name]])
        for name in SHOWN_FIELDS.get(code, ())
        if name in labels and labels[name] in by_label
    )
    return Notice(TEXTS[code], rows, event.occurred_at, event.actor, event.agency)
