"""The two longest lists, rendered in Python: a caseload's rows and a timeline's entries.

A caseload page shows up to fifty people and a timeline fifty entries; Jinja's per-attribute
lookups and loops cost more than building the same markup here (ADR 0022, bench/README.md).
Every value from a record goes through ``markupsafe.escape``; the markup is the same the
templates wrote before (GOV.UK table, MOJ timeline).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape

from casework.people.codes import TimelineKind
from casework.people.labels import timeline_line
from casework.web.templating import id_url, london_date, person_href


def _alert_tags(alerts: Iterable[Any]) -> str:
    return "".join(f'<strong class="app-alert-tag">{escape(a.label)}</strong>' for a in alerts)


def caseload_rows(rows: Sequence[Any], *, with_worker: bool) -> Markup:
    """The ``<tr>`` of each caseload row (``family.queries.CaseloadRow``)."""
    out = []
    for row in rows:
        born = (
            f'<br><span class="govuk-body-s">Born {row.year_of_birth}</span>'
            if row.year_of_birth
            else ""
        )
        seen = london_date(row.last_contact) if row.last_contact else "None recorded"
        worker = (
            f'<td class="govuk-table__cell" data-label="Worker">{escape(row.worker_name)}</td>'
            if with_worker
            else ""
        )
        href = person_href(row.person_id)
        red = (
            '<br><strong class="govuk-tag govuk-tag--red">Welfare check overdue</strong>'
            if getattr(row, "red_check", False)
            else ""
        )
        out.append(
            '<tr class="govuk-table__row">'
            f'<td class="govuk-table__cell"><a class="govuk-link" href="{href}">'
            f"{escape(row.names.display)}</a>{born}{red}</td>"
            f'<td class="govuk-table__cell" data-label="Alerts">{_alert_tags(row.alerts)}</td>'
            f'<td class="govuk-table__cell" data-label="Last contact">{seen}</td>'
            f"{worker}</tr>"
        )
    return Markup("".join(out))  # noqa: S704 - every value above is escaped


def timeline_entries(items: Sequence[Any], person_id: uuid.UUID) -> Markup:
    """The MOJ timeline's entries (``people.queries.TimelineItem``), words from
    ``people.labels.timeline_line``."""
    out = []
    for item in items:
        line = timeline_line(item)
        title = escape(line.title)
        lines = line.lines
        if line.contact_id:
            href = id_url("contacts.view", person_id=person_id, contact_id=line.contact_id)
            title = Markup(f'<a class="govuk-link" href="{href}">{title}</a>')  # noqa: S704
        elif item.kind is TimelineKind.REFERRAL:
            title = referral_title(item.details)
        elif item.kind is TimelineKind.WELFARE_SCHEDULE:
            words, lines = welfare_words(item.details)
            title = escape(words)
            if item.agency_name != (item.actor_agency_name or item.agency_name):
                lines.insert(0, item.agency_name)
        texts = "".join(
            f'<p class="govuk-body govuk-!-margin-bottom-1">{escape(text)}</p>' for text in lines
        )
        note = (
            f'<p class="govuk-body app-note govuk-!-margin-bottom-1">{escape(line.note)}</p>'
            if line.note
            else ""
        )
        small = "".join(
            f'<p class="govuk-body-s govuk-!-margin-bottom-0">{escape(text)}</p>'
            for text in line.small
        )
        out.append(
            '<div class="moj-timeline__item"><div class="moj-timeline__header">'
            f'<h3 class="moj-timeline__title">{title}</h3>'
            f'<p class="moj-timeline__byline">{escape(line.byline)}</p></div>'
            f'<p class="moj-timeline__date"><time datetime="{escape(line.when_iso)}">'
            f"{escape(line.when_text)}</time></p>"
            f'<div class="moj-timeline__description">{texts}{note}{small}</div></div>'
        )
    return Markup("".join(out))  # noqa: S704 - every value above is escaped


def referral_title(details: dict[str, Any]) -> Markup:
    """ "Required assessment and Fine Lines: Attended", linking to the referral (whose page
    applies the access policy again)."""
    from casework.pathways.definitions import pathways

    pathway = pathways().get(str(details.get("pathway", "")))
    key = str(details.get("transition", ""))
    step = pathway.transitions.get(key) if pathway else None
    name = pathway.name if pathway else "Referral"
    words = escape(f"{name}: {step.label}" if step else name)
    try:
        referral_id = uuid.UUID(str(details.get("referral_id", "")))
    except ValueError:
        return Markup(words)  # noqa: S704 - escaped above
    href = id_url("pathways.view", referral_id=referral_id)
    return Markup(f'<a class="govuk-link" href="{href}">{words}</a>')  # noqa: S704


def welfare_words(details: dict[str, Any]) -> tuple[str, list[str]]:
    """A ``welfare_schedule`` entry: "Welfare checks: paused" and the kind of check (and, for
    a change, which parts changed). Codes only in the details: nothing about the person."""
    from casework.welfare.labels import ACTION_LABELS, FIELD_LABELS, kind_label

    action = str(details.get("action", ""))
    title = "Welfare checks: " + ACTION_LABELS.get(action, action or "changed").lower()
    lines = [kind_label(str(details["kind"]))] if details.get("kind") else []
    fields = [f for f in str(details.get("fields", "")).split(",") if f]
    if fields:
        lines.append("Changed: " + ", ".join(FIELD_LABELS.get(f, f).lower() for f in fields))
    return title, lines


#: Registered as template globals by ``casework.web.templating``.
ROW_GLOBALS = {"caseload_rows": caseload_rows, "timeline_entries": timeline_entries}
