"""Reports: who may see which, the filters they may use, and each report built from its
measures (``queries.py``), suppressed for the viewer (``suppression.py``).

Every figure is a count over a **measure**: a set-based query giving one row per counted thing
(a case, a referral, a person) with the person and the breakdown values, already narrowed by the
access policy for the viewer's scope. The count in a table and the people behind it (the
drill-down) come from the same measure, so they cannot disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.access.policy import Viewer
from casework.agencies.models import Agency
from casework.reports import definitions, queries
from casework.reports.definitions import REPORTS
from casework.reports.periods import (
    Filters,
    Period,
    PeriodError,
    Preset,
    check_period,
    preset_period,
)
from casework.reports.suppression import suppress
from casework.reports.tables import Drill, Report, Scope

#: Who sees which reports (defined beside the report list, so the measures can use it too).
scope_for = definitions.scope_for
DEFAULT_PRESET = Preset.LAST_12_MONTHS
#: Drill-down lists show at most this many people (the count says how many there are).
DRILL_LIMIT = 500


class ReportNotFoundError(LookupError):
    """No report of that name (the page answers 404)."""


class FilterError(ValueError):
    """A filter the viewer gave that cannot be used: ``field`` names it (the page shows the
    message on that field and answers 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def may_drill_down(viewer: Viewer) -> bool:
    """Person-level lists only through the access rule's rules 1-3: a case role is needed."""
    return viewer.works_with_cases


#: A team or worker list longer than this is not drawn as a select (a large partnership has
#: thousands of workers): the page asks for an agency or a team first.
MAX_CHOICES = 150


@dataclass(frozen=True)
class FilterChoices:
    """The values the viewer may pick in each filter."""

    agencies: list[tuple[uuid.UUID, str]]
    teams: list[tuple[uuid.UUID, str]]
    workers: list[tuple[uuid.UUID, str]]
    pathways: list[tuple[str, str]]
    #: A manager's reports are always about their own agency.
    agency_fixed: bool
    #: Why a list is empty although there are teams or workers ("Choose an agency first").
    teams_note: str = ""
    workers_note: str = ""


def filter_choices(
    db: Session,
    viewer: Viewer,
    *,
    agency_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    every: bool = False,
) -> FilterChoices:
    """What the filters offer: teams of the agency in question, workers of the team chosen or
    of the agency; lists longer than :data:`MAX_CHOICES` only with ``every`` (naming the
    breakdown of a figure)."""
    agencies = _agencies(db, viewer)
    agency_fixed = scope_for(viewer) is not Scope.PARTNERSHIP
    agency = viewer.agency_id if agency_fixed else agency_id
    teams = queries.teams(db, agency)
    teams_note = ""
    if not every and len(teams) > MAX_CHOICES:
        teams, teams_note = [], "Choose an agency first to filter by team"
    workers = queries.workers(db, agency, team_id=team_id)
    workers_note = ""
    if not every and len(workers) > MAX_CHOICES:
        workers, workers_note = [], "Choose a team first to filter by worker"
    return FilterChoices(
        agencies=agencies,
        teams=teams,
        workers=workers,
        pathways=queries.pathway_choices(),
        agency_fixed=agency_fixed,
        teams_note=teams_note,
        workers_note=workers_note,
    )


def _agencies(db: Session, viewer: Viewer) -> list[tuple[uuid.UUID, str]]:
    """The agencies a viewer's reports may be about: a lead's every one, a manager's own."""
    if scope_for(viewer) is Scope.PARTNERSHIP:
        return queries.agencies(db)
    return [(viewer.agency_id, db.get_one(Agency, viewer.agency_id).name)]


def _own(viewer: Viewer) -> uuid.UUID | None:
    """The agency a viewer's reports are about (None: a partnership lead's whole partnership)."""
    return None if scope_for(viewer) is Scope.PARTNERSHIP else viewer.agency_id


def _date(args: Mapping[str, str], key: str) -> date | None:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(key, "Enter a real date, for example 2026-04-01") from None


def _period(args: Mapping[str, str], prefix: str, today: date) -> Period | None:
    start = _date(args, f"{prefix}from")
    end = _date(args, f"{prefix}to")
    if start is None and end is None:
        return None
    if start is None:
        raise FilterError(f"{prefix}from", "Enter the start of the period")
    if end is None:
        raise FilterError(f"{prefix}to", "Enter the end of the period")
    if end > today:
        raise FilterError(f"{prefix}to", "The end of the period cannot be in the future")
    try:
        return check_period(start, end)
    except PeriodError as error:
        raise FilterError(f"{prefix}{error.field}", error.message) from None


def _choice(
    args: Mapping[str, str], key: str, allowed: Callable[[], list[tuple[uuid.UUID, str]]]
) -> uuid.UUID | None:
    """The id given for a filter, if it is one of ``allowed`` (read only when one is given)."""
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = uuid.UUID(raw)
    except ValueError:
        raise FilterError(key, f"Choose a {key} from the list") from None
    if value not in {choice for choice, _ in allowed()}:
        # Unknown, or not one the viewer may filter by: the same answer.
        raise FilterError(key, f"Choose a {key} from the list")
    return value


def check_filters(db: Session, viewer: Viewer, args: Mapping[str, str], *, today: date) -> Filters:
    """The filters of a report request, each checked against what the viewer may use."""
    preset = (args.get("preset") or "").strip()
    period = _period(args, "", today)
    if period is None:
        try:
            period = preset_period(Preset(preset) if preset else DEFAULT_PRESET, today)
        except ValueError:
            raise FilterError("preset", "Choose a period from the list") from None
    baseline = _period(args, "baseline_", today)
    pathway = (args.get("pathway") or "").strip() or None
    if pathway is not None and pathway not in {key for key, _ in queries.pathway_choices()}:
        raise FilterError("pathway", "Choose a pathway from the list")
    raw_wait = (args.get("waiting_days") or "").strip()
    waiting_days = 14
    if raw_wait:
        if not raw_wait.isdigit() or not 1 <= int(raw_wait) <= 365:
            raise FilterError("waiting_days", "Enter a whole number of days from 1 to 365")
        waiting_days = int(raw_wait)
    agency_id = _choice(args, "agency", lambda: _agencies(db, viewer))
    scope_agency = agency_id or _own(viewer)
    team_id = _choice(args, "team", lambda: queries.teams(db, scope_agency))
    worker_id = _choice(args, "worker", lambda: queries.workers(db, scope_agency, team_id=team_id))
    return Filters(
        period=period,
        agency_id=agency_id,
        team_id=team_id,
        worker_id=worker_id,
        pathway=pathway,
        baseline=baseline,
        waiting_days=waiting_days,
    )


def build(
    db: Session,
    viewer: Viewer,
    name: str,
    filters: Filters,
    *,
    now: datetime,
    export: bool = False,
    threshold: int = 5,
) -> Report:
    """One report for the viewer. Exports, and everything a partnership lead sees, are
    suppressed (counts from 1 to ``threshold`` - 1 hidden, with secondary suppression)."""
    if name not in REPORTS:
        raise ReportNotFoundError(name)
    scope = scope_for(viewer)
    if scope is None:
        raise PermissionError("reports")
    report = queries.BUILDERS[name](db, viewer, scope, filters, now)
    if threshold > 0 and (export or scope is Scope.PARTNERSHIP):
        suppress(report, threshold)
    return report


@dataclass(frozen=True)
class DrillResult:
    person_ids: list[uuid.UUID]
    #: How many people the figure counts for this viewer (may exceed ``person_ids``).
    total: int
    #: What the figure is, in words ("Open cases of A. Worker").
    label: str


def drill_down(
    db: Session,
    viewer: Viewer,
    name: str,
    filters: Filters,
    drill: Drill,
    *,
    now: datetime,
) -> DrillResult:
    """The people behind one figure that the viewer may see (the access policy's list filter
    applied on top of the measure). Raises ``ReportNotFoundError`` for an unknown report or measure,
    ``PermissionError`` when the viewer may not see people."""
    if name not in REPORTS:
        raise ReportNotFoundError(name)
    if scope_for(viewer) is None or not may_drill_down(viewer):
        raise PermissionError("drill-down")
    ids, total, label = queries.people_behind(db, viewer, name, filters, drill, now=now)
    return DrillResult(ids[:DRILL_LIMIT], total, label)
