"""The measures behind every report, as set-based SQL narrowed by the access policy.

A **measure** is a query with one row per counted thing (a case, a referral, a consent, an
episode) carrying ``person_id`` and the breakdown columns a table groups by. The figures in a
table are ``GROUP BY`` counts over the measure; the people behind a figure (the drill-down) are
the same measure filtered to the figure's breakdown values and to the people the viewer may see.
Medians are worked out in Python from the per-row day counts (no portable SQL median).

Scope (DECISIONS §3): a manager's measures keep only what their agency may read under rules 1
and 2 (the list form of the access rule, with emergency access left out: a break-glass is for
one person's care, not for statistics); a partnership lead's cover the whole partnership.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    case,
    cast,
    distinct,
    false,
    func,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from casework.access.policy import (
    Viewer,
    readable_across_params,
    readable_for_figures,
    visible_bases,
    visible_people,
)
from casework.agencies.models import Agency, Team, TeamMembership
from casework.clock import london_datetime, to_london
from casework.consent.models import BasisKind, ReviewState, SharingBasis
from casework.contacts.models import LatestContact
from casework.family.models import Involvement
from casework.pathways.definitions import PathwayDef, pathways
from casework.pathways.models import Referral, ReferralEvent
from casework.people.codes import ClosureReason
from casework.people.models import Person
from casework.reports.definitions import REPORTS, scope_for
from casework.reports.periods import Filters, Period
from casework.reports.tables import (
    Cell,
    CellKind,
    Chart,
    ChartKind,
    Column,
    Drill,
    Report,
    Row,
    Scope,
    Section,
    Sum,
    Table,
    count,
    days,
    label,
    ratio,
)
from casework.tasks.models import Task, TaskSource, TaskState
from casework.treatment.models import DischargeReason, SubstanceGroup, TreatmentEpisode
from casework.treatment.queries import prevalence_for
from casework.users.models import User

#: The user id given to the access rule in reports: matches no emergency access (rule 3).
NO_EMERGENCY = uuid.UUID(int=0)
#: The first pathway in lists and funnels: Fine Lines.
FIRST_PATHWAY = "required_assessment"


Builder = Callable[[Session, Viewer, Scope, Filters, datetime], Report]
BUILDERS: dict[str, Builder] = {}


def agencies(db: Session) -> list[tuple[uuid.UUID, str]]:
    rows = db.execute(select(Agency.id, Agency.name).order_by(Agency.name)).all()
    return [(row.id, row.name) for row in rows]


def teams(db: Session, agency_id: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    statement = select(Team.id, Team.name).order_by(Team.name)
    if agency_id is not None:
        statement = statement.where(Team.agency_id == agency_id)
    return [(row.id, row.name) for row in db.execute(statement).all()]


def workers(
    db: Session, agency_id: uuid.UUID | None, *, team_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str]]:
    statement = select(User.id, User.full_name).where(User.is_service_account.is_(False))
    if agency_id is not None:
        statement = statement.where(User.agency_id == agency_id)
    if team_id is not None:
        statement = statement.where(
            User.id.in_(select(TeamMembership.user_id).where(TeamMembership.team_id == team_id))
        )
    rows = db.execute(statement.order_by(User.full_name)).all()
    return [(row.id, row.full_name) for row in rows]


def pathway_choices() -> list[tuple[str, str]]:
    every = sorted(pathways().by_key.values(), key=lambda p: (p.key != FIRST_PATHWAY, p.name))
    return [(p.key, p.name) for p in every]


# --- the request: who, what scope, which filters ----------------------------------------------


@dataclass
class Ctx:
    db: Session
    viewer: Viewer
    scope: Scope
    filters: Filters
    now: datetime

    def __post_init__(self) -> None:
        self.params: dict[str, object] = {
            **readable_across_params(self.viewer, now=self.now),
            "viewer_user_id": NO_EMERGENCY,
        }
        self.today = to_london(self.now).date()

    @property
    def agency_id(self) -> uuid.UUID | None:
        """The agency every figure is about (a manager's own; a lead's chosen one or None)."""
        if self.scope is Scope.AGENCY:
            return self.viewer.agency_id
        return self.filters.agency_id

    def rows(self, statement: Any) -> Sequence[Any]:
        return self.db.execute(statement, self.params).all()

    def scalar(self, statement: Any) -> Any:
        return self.db.execute(statement, self.params).scalar()


def start_of(day: date) -> datetime:
    """The first moment of a London day (in UTC, as stored)."""
    return london_datetime(day, time(0))


def end_of(day: date) -> datetime:
    """The first moment after a London day."""
    return start_of(day + timedelta(days=1))


def _in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= start_of(period.start), column < end_of(period.end))


def _workers(ctx: Ctx) -> Any | None:
    """The workers a team or worker filter narrows to (None: no such filter)."""
    if ctx.filters.worker_id is not None:
        return [ctx.filters.worker_id]
    if ctx.filters.team_id is not None:
        return select(TeamMembership.user_id).where(TeamMembership.team_id == ctx.filters.team_id)
    return None


def _on_caseloads(ctx: Ctx, person_col: Any) -> ColumnElement[bool]:
    """Team and worker filters on anything but cases: the person was on one of the workers'
    caseloads at some time in the period."""
    workers = _workers(ctx)
    if workers is None:
        return true()
    period = ctx.filters.period
    return (
        select(Involvement.id)
        .where(
            Involvement.person_id == person_col,
            Involvement.worker_id.in_(workers),
            Involvement.started_on <= period.end,
            or_(Involvement.ended_on.is_(None), Involvement.ended_on >= period.start),
        )
        .exists()
    )


def _agency_is(column: Any, ctx: Ctx) -> ColumnElement[bool]:
    agency = ctx.agency_id
    return true() if agency is None else column == agency


def _readable_items(
    ctx: Ctx, *, person_col: Any, agency_col: Any, category_col: Any
) -> ColumnElement[bool]:
    """A manager's rows: rules 1 and 2 (the access policy's form for figures)."""
    if ctx.scope is Scope.PARTNERSHIP:
        return true()
    return readable_for_figures(
        ctx.viewer,
        person_col=person_col,
        agency_col=agency_col,
        category_col=category_col,
        now=ctx.now,
    )


def _referrals_in_scope(ctx: Ctx) -> ColumnElement[bool]:
    scoped: ColumnElement[bool] = true()
    if ctx.scope is Scope.AGENCY:
        # Made by the agency or shared with it (rules 1-2), or sent to it.
        addressed = and_(
            Referral.to_agency_id == ctx.viewer.agency_id,
            Referral.category.in_(sorted(ctx.viewer.categories)),
        )
        scoped = or_(
            addressed,
            _readable_items(
                ctx,
                person_col=Referral.person_id,
                agency_col=Referral.from_agency_id,
                category_col=Referral.category,
            ),
        )
    agency = ctx.filters.agency_id if ctx.scope is Scope.PARTNERSHIP else None
    by_agency = (
        true()
        if agency is None
        else or_(Referral.from_agency_id == agency, Referral.to_agency_id == agency)
    )
    pathway = true() if ctx.filters.pathway is None else Referral.pathway == ctx.filters.pathway
    return and_(scoped, by_agency, pathway, _on_caseloads(ctx, Referral.person_id))


def _counts(ctx: Ctx, measure: Select[Any], *dims: str) -> Counter[tuple[Any, ...]]:
    sub = measure.subquery()
    columns = [sub.c[name] for name in dims]
    statement = select(*columns, func.count()).select_from(sub).group_by(*columns)
    return Counter({tuple(row[:-1]): int(row[-1]) for row in ctx.rows(statement)})


def _median(values: Iterable[float]) -> float | None:
    items = list(values)
    return float(statistics.median(items)) if items else None


# --- tables with totals -----------------------------------------------------------------------


def _grid(
    key: str,
    caption: str,
    heading: str,
    columns: list[tuple[str, str]],
    rows: list[tuple[str, list[Cell]]],
    *,
    total_column: str | None = None,
    total_row: bool = True,
) -> Table:
    """A table of counts with a total row, and a total column when ``total_column`` names it
    (the sum of the other count columns). Records the sums for secondary suppression."""
    cols = [Column("label", heading, numeric=False)]
    cols += [Column(k, text) for k, text in columns]
    table = Table(key, caption, cols)
    for text, cells in rows:
        table.rows.append(Row([label(text), *cells]))
    width = len(columns)
    if total_row and rows:
        sums: list[Cell] = []
        for c in range(1, width + 1):
            if all(table.cell(r, c).kind is CellKind.COUNT for r in range(len(rows))):
                total = sum(table.cell(r, c).n for r in range(len(rows)))
                sums.append(count(total, _total_drill(table, c, len(rows))))
                table.sums.append(Sum((len(rows), c), tuple((r, c) for r in range(len(rows)))))
            else:
                sums.append(Cell(CellKind.TEXT, ""))
        table.rows.append(Row([label("Total"), *sums], total=True))
    if total_column is not None:
        t = table.column_index(total_column)
        parts = [c for c in range(1, width + 1) if c != t]
        for r in range(len(table.rows)):
            table.sums.append(Sum((r, t), tuple((r, c) for c in parts)))
    return table


def _total_drill(table: Table, column: int, n_rows: int) -> Drill | None:
    """A total's drill-down: the column's measure without the row's breakdown value."""
    drills = [table.cell(r, column).drill for r in range(n_rows)]
    first = next((d for d in drills if d is not None), None)
    if first is None:
        return None
    row_keys = set.intersection(*[{k for k, _ in d.params} for d in drills if d is not None])
    varying = {k for k in row_keys if len({dict(d.params)[k] for d in drills if d}) > 1}
    return Drill(first.measure, tuple((k, v) for k, v in first.params if k not in varying))


# --- measures -----------------------------------------------------------------------------------


def _open_cases(ctx: Ctx) -> Any:
    """Cases (involvements) open now, of the agency in scope, with the agency's last contact
    (from ``latest_contacts``, kept on write)."""
    latest = (
        select(
            LatestContact.person_id,
            LatestContact.agency_id,
            func.max(LatestContact.occurred_at).label("occurred_at"),
        )
        .where(_agency_is(LatestContact.agency_id, ctx))
        .group_by(LatestContact.person_id, LatestContact.agency_id)
        .subquery()
    )
    workers = _workers(ctx)
    return (
        select(
            Involvement.person_id.label("person_id"),
            Involvement.agency_id.label("agency"),
            Involvement.worker_id.label("worker"),
            latest.c.occurred_at.label("last_contact"),
        )
        .outerjoin(
            latest,
            and_(
                latest.c.person_id == Involvement.person_id,
                latest.c.agency_id == Involvement.agency_id,
            ),
        )
        .where(
            Involvement.ended_on.is_(None),
            _agency_is(Involvement.agency_id, ctx),
            true() if workers is None else Involvement.worker_id.in_(workers),
        )
    )


BANDS = (("0_7", "0 to 7 days", 0, 7), ("8_14", "8 to 14", 8, 14), ("15_28", "15 to 28", 15, 28))
OVER = ("over_28", "Over 28 days")
NEVER = ("none", "No contact yet")


def _band(ctx: Ctx, last: Any) -> Any:
    """Days since last contact, in bands, worked out when read (it moves with the clock)."""
    whens = [(last.is_(None), NEVER[0])]
    for key, _, _, high in BANDS:
        whens.append((last >= start_of(ctx.today - timedelta(days=high)), key))
    return case(*whens, else_=OVER[0])


def _open_cases_banded(ctx: Ctx) -> Any:
    sub = _open_cases(ctx).subquery()
    return select(
        sub.c.person_id,
        sub.c.agency,
        sub.c.worker,
        _band(ctx, sub.c.last_contact).label("band"),
    )


def _cases_started(ctx: Ctx) -> Any:
    period = ctx.filters.period
    workers = _workers(ctx)
    return select(
        Involvement.person_id.label("person_id"), Involvement.agency_id.label("agency")
    ).where(
        Involvement.started_on >= period.start,
        Involvement.started_on <= period.end,
        _agency_is(Involvement.agency_id, ctx),
        true() if workers is None else Involvement.worker_id.in_(workers),
    )


def _cases_closed(ctx: Ctx) -> Any:
    period = ctx.filters.period
    workers = _workers(ctx)
    return select(
        Involvement.person_id.label("person_id"),
        Involvement.closure_reason.label("reason"),
    ).where(
        Involvement.ended_on >= period.start,
        Involvement.ended_on <= period.end,
        _agency_is(Involvement.agency_id, ctx),
        true() if workers is None else Involvement.worker_id.in_(workers),
    )


TASK_KINDS = (
    (TaskSource.WELFARE_CHECK, "Welfare checks"),
    (TaskSource.PATHWAY, "Pathway deadlines"),
    (TaskSource.CONSENT_REVIEW, "Consent reviews"),
    (TaskSource.MANUAL, "Other tasks"),
)


def _overdue(ctx: Ctx) -> Any:
    workers = _workers(ctx)
    return select(
        Task.person_id.label("person_id"),
        Task.source.label("source"),
        case((Task.red_since.is_not(None), "red"), else_="overdue").label("level"),
    ).where(
        Task.state == TaskState.OPEN,
        Task.due_at < ctx.now,
        _agency_is(Task.agency_id, ctx),
        true() if workers is None else Task.user_id.in_(workers),
    )


# --- names for row headings -------------------------------------------------------------------


def _names(ctx: Ctx, model: Any, ids: Iterable[Any]) -> dict[Any, str]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    column = model.full_name if model is User else model.name
    return dict(ctx.db.execute(select(model.id, column).where(model.id.in_(wanted))).all())


def _d(measure: str, **params: object) -> Drill:
    return Drill(measure, tuple((k, str(v)) for k, v in params.items() if v is not None))


# --- 1. caseload --------------------------------------------------------------------------------


def _caseload(ctx: Ctx) -> Report:
    by = "worker" if ctx.agency_id is not None else "agency"
    banded = _counts(ctx, _open_cases_banded(ctx), by, "band")
    keys = sorted({k[0] for k in banded}, key=lambda k: (k is None, str(k)))
    per_worker: Counter[Any] = Counter()
    for (key, _), n in banded.items():
        per_worker[key] += n
    names = _names(ctx, User if by == "worker" else Agency, keys)
    band_keys = [b[0] for b in BANDS] + [OVER[0], NEVER[0]]
    band_labels = [b[1] for b in BANDS] + [OVER[1], NEVER[1]]
    rows = []
    for key in keys:
        who = names.get(key, "No named worker") if key is not None else "No named worker"
        value = "" if key is None else str(key)
        cells = [count(sum(banded[(key, b)] for b in band_keys), _d("open_cases", **{by: value}))]
        cells += [
            count(banded[(key, b)], _d("open_cases", **{by: value, "band": b})) for b in band_keys
        ]
        rows.append((who, cells))
    rows.sort(key=lambda item: item[0])
    open_table = _grid(
        "open_cases",
        "Open cases and days since the last contact",
        "Worker" if by == "worker" else "Agency",
        [("open", "Open cases"), *zip(band_keys, band_labels, strict=True)],
        rows,
        total_column="open",
    )
    total = open_table.rows[-1].cells if rows else []

    def headline() -> str:
        if not total:
            return "No open cases match these filters."
        return (
            f"{total[1].shown} open cases; {total[5].shown} with no contact for over 28 days "
            f"and {total[6].shown} with none yet."
        )

    chart = Chart(
        ChartKind.BAR,
        "Open cases by days since the last contact",
        band_labels,
        [("Open cases", total[2:7] if total else [])],
        "Bar chart of open cases by days since the last contact; the data is in the table below.",
    )
    sections = [
        Section(
            "open",
            "Open cases",
            headline,
            [open_table, _team_table(ctx, per_worker)] if by == "worker" else [open_table],
            chart,
            [
                "An open case is an agency's involvement with a person that has not ended.",
                "Days since the last contact count from the agency's latest contact with the "
                "person to today, so these figures change day by day.",
            ],
        ),
        _new_and_closed(ctx),
        _overdue_section(ctx),
    ]
    return _report(ctx, "caseload", sections)


def _team_table(ctx: Ctx, per_worker: Counter[Any]) -> Table:
    """Open cases by team, from the per-worker counts: a person has one involvement per agency,
    so one named worker there, and a team's people are the sum of its members'."""
    teams = ctx.db.execute(
        select(Team.id, Team.name).where(_agency_is(Team.agency_id, ctx)).order_by(Team.name)
    ).all()
    members = ctx.db.execute(
        select(TeamMembership.team_id, TeamMembership.user_id).where(
            TeamMembership.team_id.in_([team_id for team_id, _ in teams])
        )
    ).all()
    found: Counter[Any] = Counter()
    for team_id, user_id in members:
        found[team_id] += per_worker[user_id]
    table = Table(
        "open_by_team",
        "Open cases by team (a worker in two teams counts in both)",
        [Column("label", "Team", numeric=False), Column("open", "People with an open case")],
    )
    for team_id, name in teams:
        table.rows.append(Row([label(name), count(found[team_id], _d("open_cases", team=team_id))]))
    return table


def _new_and_closed(ctx: Ctx) -> Section:
    started = _counts(ctx, _cases_started(ctx), "agency")
    closed = _counts(ctx, _cases_closed(ctx), "reason")
    new_total = sum(started.values())
    table = Table(
        "new_cases",
        "New cases in the period",
        [Column("label", "Cases", numeric=False), Column("count", "Number")],
        [Row([label("New cases opened"), count(new_total, _d("new_cases"))])],
    )
    rows = [
        (reason.label, [count(closed[(reason,)], _d("closed_cases", reason=reason.value))])
        for reason in ClosureReason
    ]
    closed_table = _grid(
        "closed_cases",
        "Cases closed in the period, by reason",
        "Reason",
        [("count", "Cases")],
        rows,
    )
    return Section(
        "new_closed",
        "New and closed cases",
        lambda: (
            f"{table.cell(0, 1).shown} cases opened and "
            f"{closed_table.rows[-1].cells[1].shown} closed in the period."
        ),
        [table, closed_table],
        Chart(
            ChartKind.HBAR,
            "Cases closed by reason",
            [reason.label for reason in ClosureReason],
            [("Cases closed", [closed_table.cell(i, 1) for i in range(len(ClosureReason))])],
            "Bar chart of cases closed in the period by reason; the data is in the table below.",
        ),
        ["A case is new when its involvement started in the period; closed when it ended."],
    )


def _overdue_section(ctx: Ctx) -> Section:
    found = _counts(ctx, _overdue(ctx), "source", "level")
    rows = []
    for source, text in TASK_KINDS:
        overdue = found[(source, "overdue")] + found[(source, "red")]
        rows.append(
            (
                text,
                [
                    count(overdue, _d("overdue", source=source.value)),
                    count(found[(source, "red")], _d("overdue", source=source.value, level="red")),
                ],
            )
        )
    table = _grid(
        "overdue",
        "Overdue welfare checks and tasks, now",
        "Work",
        [("overdue", "Overdue"), ("red", "Escalated (red)")],
        rows,
    )
    return Section(
        "overdue",
        "Overdue welfare checks and tasks",
        lambda: (
            f"{table.rows[-1].cells[1].shown} pieces of work are overdue now, "
            f"{table.cell(0, 1).shown} of them welfare checks."
        ),
        [table],
        None,
        ["Overdue: open and past its due time. Escalated: its reminder ladder has turned it red."],
    )


def _report(ctx: Ctx, name: str, sections: list[Section]) -> Report:
    return Report(
        name=name,
        title=REPORTS[name].title,
        filters=ctx.filters,
        scope=ctx.scope,
        sections=sections,
        generated_at=ctx.now,
    )


# --- 2. referrals -------------------------------------------------------------------------------


def _pathways(ctx: Ctx) -> list[PathwayDef]:
    every = pathways().by_key
    chosen = [every[ctx.filters.pathway]] if ctx.filters.pathway else list(every.values())
    return sorted(chosen, key=lambda p: (p.key != FIRST_PATHWAY, p.name))


def _first_answers(ctx: Ctx) -> Any:
    """Each referral's first answer: the receiving agency's first move after the referral."""
    ranked = (
        select(
            ReferralEvent.referral_id,
            ReferralEvent.to_stage,
            ReferralEvent.occurred_at,
            func.row_number()
            .over(
                partition_by=ReferralEvent.referral_id,
                order_by=(ReferralEvent.occurred_at, ReferralEvent.id),
            )
            .label("n"),
        )
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(
            ReferralEvent.from_stage.is_not(None),
            ReferralEvent.agency_id == Referral.to_agency_id,
            _in_period(Referral.created_at, ctx.filters.period),
        )
        .subquery()
    )
    return select(ranked.c.referral_id, ranked.c.to_stage, ranked.c.occurred_at).where(
        ranked.c.n == 1
    )


ANSWERS = (
    ("taken_up", "Taken up"),
    ("declined", "Declined or not taken up"),
    ("closed", "Withdrawn or closed without an answer"),
    ("waiting", "No answer yet"),
)


def _answer_class(answer: Any) -> Any:
    on_path = [
        and_(Referral.pathway == p.key, answer.c.to_stage.in_(p.main_path))
        for p in pathways().by_key.values()
    ]
    return case(
        (answer.c.to_stage.is_not(None) & or_(*on_path), "taken_up"),
        (answer.c.to_stage.is_not(None), "declined"),
        (Referral.closed_at.is_not(None), "closed"),
        else_="waiting",
    )


def _referrals_made(ctx: Ctx) -> Any:
    answer = _first_answers(ctx).subquery()
    return (
        select(
            Referral.person_id.label("person_id"),
            Referral.pathway.label("pathway"),
            Referral.from_agency_id.label("source"),
            Referral.to_agency_id.label("receiver"),
            _answer_class(answer).label("answer"),
            Referral.created_at.label("created_at"),
            answer.c.occurred_at.label("answered_at"),
            cast(_days_apart(ctx, answer.c.occurred_at, Referral.created_at), Float).label(
                "wait_days"
            ),
            case(
                (
                    and_(
                        answer.c.to_stage.is_(None),
                        Referral.closed_at.is_(None),
                        Referral.created_at < ctx.now - timedelta(days=ctx.filters.waiting_days),
                    ),
                    "yes",
                ),
                else_="no",
            ).label("long_wait"),
        )
        .outerjoin(answer, answer.c.referral_id == Referral.id)
        .where(_in_period(Referral.created_at, ctx.filters.period), _referrals_in_scope(ctx))
    )


@dataclass
class _Tally:
    """One breakdown value's referrals: counts by answer, long waits, and the days to answer."""

    made: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    long_wait: int = 0
    waits: list[float] = field(default_factory=list)

    def add(self, answer: str, long_wait: str, wait: float | None) -> None:
        self.made += 1
        self.answers[answer] += 1
        self.long_wait += long_wait == "yes"
        if wait is not None:
            self.waits.append(round(wait, 1))


def _tallies(rows: Sequence[Any]) -> dict[str, dict[Any, _Tally]]:
    """Every breakdown in one pass over the rows (pathway, source, receiver, answer, long
    wait, days)."""
    out: dict[str, dict[Any, _Tally]] = {"pathway": {}, "source": {}, "receiver": {}, "": {}}
    for pathway, source, receiver, answer, long_wait, wait in rows:
        for by, value in (
            ("pathway", pathway),
            ("source", source),
            ("receiver", receiver),
            ("", ""),
        ):
            tally = out[by].get(value)
            if tally is None:
                tally = out[by][value] = _Tally()
            tally.add(answer, long_wait, wait)
    return out


def _referral_table(
    ctx: Ctx,
    tallies: dict[str, dict[Any, _Tally]],
    by: str,
    *,
    key: str,
    caption: str,
    heading: str,
) -> Table:
    groups = tallies[by]
    if by == "pathway":
        defs = pathways().by_key
        order = [p.key for p in _pathways(ctx)]
        names = {k: defs[k].name for k in order}
    else:
        order = list(groups)
        names = _names(ctx, Agency, order)
        order.sort(key=lambda k: names.get(k, ""))
    out = []
    for value in order:
        tally = groups.get(value, _Tally())
        cells = [count(tally.made, _d("referrals", **{by: value}))]
        cells += [
            count(tally.answers[a], _d("referrals", **{by: value, "answer": a})) for a, _ in ANSWERS
        ]
        cells.append(count(tally.long_wait, _d("referrals", **{by: value, "long_wait": "yes"})))
        cells.append(days(_median(tally.waits), len(tally.waits)))
        out.append((names.get(value, str(value)), cells))
    table = _grid(
        key,
        caption,
        heading,
        [
            ("made", "Referrals made"),
            *ANSWERS,
            ("long_wait", f"No answer after {ctx.filters.waiting_days} days"),
            ("median", "Median days to an answer"),
        ],
        out,
    )
    # Made = the four answers (each row, total row included); "no answer after N days" is part
    # of "no answer yet", and the median is not a count.
    made = table.column_index("made")
    table.sums += [
        Sum((r, made), tuple((r, table.column_index(a)) for a, _ in ANSWERS))
        for r in range(len(table.rows))
    ]
    if table.rows and table.rows[-1].total:
        every = tallies[""].get("", _Tally())
        table.rows[-1].cells[-1] = days(_median(every.waits), len(every.waits))
    return table


def _referrals(ctx: Ctx) -> Report:
    made_sub = _referrals_made(ctx).subquery()
    # Only what the tables need: no ids per person, no times to convert (days come worked out).
    rows = ctx.rows(
        select(
            made_sub.c.pathway,
            made_sub.c.source,
            made_sub.c.receiver,
            made_sub.c.answer,
            made_sub.c.long_wait,
            made_sub.c.wait_days,
        )
    )
    tallies = _tallies(rows)
    by_pathway = _referral_table(
        ctx,
        tallies,
        "pathway",
        key="by_pathway",
        caption="Referrals made in the period, by pathway",
        heading="Pathway",
    )
    by_source = _referral_table(
        ctx,
        tallies,
        "source",
        key="by_source",
        caption="Referrals by referring agency",
        heading="Referring agency",
    )
    by_receiver = _referral_table(
        ctx,
        tallies,
        "receiver",
        key="by_receiver",
        caption="Referrals by receiving agency",
        heading="Receiving agency",
    )

    def headline() -> str:
        if not rows:
            return "No referrals were made in the period."
        total = by_pathway.rows[-1]
        waited = total.cells[by_pathway.column_index("long_wait")]
        return (
            f"{total.cells[1].shown} referrals were made in the period; {waited.shown} have had "
            f"no answer after {ctx.filters.waiting_days} days."
        )

    n = len(by_pathway.rows) - 1 if by_pathway.rows else 0
    chart = Chart(
        ChartKind.HBAR,
        "Referrals made by pathway",
        [by_pathway.rows[i].heading for i in range(n)],
        [("Referrals made", [by_pathway.cell(i, 1) for i in range(n)])],
        "Bar chart of referrals made in the period by pathway; the data is in the table below.",
    )
    notes = [
        "The referrals counted are those made in the period.",
        "An answer is the receiving agency's first step after the referral. Taken up: that "
        "step is on the pathway's main path (accepted, attended...). Declined or not taken up: "
        "any other step (declined, failed to attend...).",
        "Median days to an answer counts from the referral to that first step.",
    ]
    sections = [
        Section("pathways", "By pathway", headline, [by_pathway], chart, notes),
        Section(
            "agencies",
            "By agency",
            "Where referrals came from and went to.",
            [by_source, by_receiver],
        ),
    ]
    return _report(ctx, "referrals", sections)


# --- 3. consent and lawful basis ----------------------------------------------------------------


def _in_force(ctx: Ctx) -> ColumnElement[bool]:
    today = ctx.today
    return and_(
        SharingBasis.starts_on <= today,
        SharingBasis.ends_on >= today,
        SharingBasis.withdrawn_at.is_(None),
        SharingBasis.superseded_at.is_(None),
        or_(SharingBasis.review_state.is_(None), SharingBasis.review_state != ReviewState.REJECTED),
    )


def _bases(ctx: Ctx) -> Any:
    """Consent and basis records the viewer's agency may see (the agency they name or that
    recorded them), one row each, classified now."""
    scoped = true() if ctx.scope is Scope.PARTNERSHIP else visible_bases(ctx.viewer)
    agency = ctx.filters.agency_id if ctx.scope is Scope.PARTNERSHIP else None
    by_agency = (
        true()
        if agency is None
        else or_(SharingBasis.agency_id == agency, SharingBasis.recorded_by_agency_id == agency)
    )
    in_force = _in_force(ctx)
    consent = SharingBasis.kind == BasisKind.CONSENT
    other = and_(
        SharingBasis.kind.in_([BasisKind.VITAL_INTERESTS, BasisKind.SAFEGUARDING]),
        or_(SharingBasis.review_state.is_(None), SharingBasis.review_state == ReviewState.PENDING),
    )
    overdue = SharingBasis.recorded_at < ctx.now - timedelta(days=7)
    period = ctx.filters.period
    return select(
        SharingBasis.person_id.label("person_id"),
        SharingBasis.agency_id.label("agency"),
        SharingBasis.agency_kind.label("kind"),
        case((and_(consent, in_force), "yes"), else_="no").label("consent"),
        case(
            (
                and_(consent, in_force, SharingBasis.ends_on <= ctx.today + timedelta(days=30)),
                "yes",
            ),
            else_="no",
        ).label("expiring"),
        case(
            (
                and_(
                    consent,
                    SharingBasis.withdrawn_on >= period.start,
                    SharingBasis.withdrawn_on <= period.end,
                ),
                "yes",
            ),
            else_="no",
        ).label("withdrawn"),
        case((and_(other, in_force), "yes"), else_="no").label("review"),
        case((and_(other, in_force, overdue), "yes"), else_="no").label("review_overdue"),
    ).where(scoped, by_agency, _on_caseloads(ctx, SharingBasis.person_id))


CONSENT_COLUMNS = (
    ("consent", "People with consent in force"),
    ("expiring", "Consents ending in the next 30 days"),
    ("withdrawn", "Consents withdrawn in the period"),
    ("review", "Other basis in force, waiting for review"),
    ("review_overdue", "Of which waiting over 7 days"),
)


def _consent(ctx: Ctx) -> Report:
    sub = _bases(ctx).subquery()
    columns = []
    for key, _ in CONSENT_COLUMNS:
        person = case((sub.c[key] == "yes", sub.c.person_id))
        columns.append(func.count(distinct(person)) if key == "consent" else func.count(person))
    statement = select(sub.c.agency, sub.c.kind, *columns).group_by(sub.c.agency, sub.c.kind)
    found = ctx.rows(statement)
    names = _names(ctx, Agency, [row.agency for row in found])
    rows = []
    for row in found:
        if row.agency is not None:
            name, params = names.get(row.agency, "Unknown agency"), {"agency": row.agency}
        else:
            kind = row.kind.label if hasattr(row.kind, "label") else str(row.kind)
            name, params = f"Any {kind.lower()} agency", {"kind": row.kind}
        values = list(row[2:])
        if not any(values):
            continue
        cells = [
            count(int(v), _d("bases", **params, **{key: "yes"}))
            for (key, _), v in zip(CONSENT_COLUMNS, values, strict=True)
        ]
        rows.append((name, cells))
    rows.sort(key=lambda item: item[0])
    table = Table(
        "by_recipient",
        "Consent and other lawful bases, by the agency they name",
        [Column("label", "Named agency", numeric=False)]
        + [Column(k, text) for k, text in CONSENT_COLUMNS],
        [Row([label(name), *cells]) for name, cells in rows],
    )
    # No totals across named agencies (a person may consent to several, and a sum of shown
    # and hidden cells would give the hidden ones away).
    headline = (
        f"{len(table.rows)} agencies are named in consent or lawful-basis records; the table "
        "shows, for each, consents in force, ending soon and withdrawn, and sharing waiting "
        "for review."
        if table.rows
        else "No consent or lawful-basis records match these filters."
    )
    chart = Chart(
        ChartKind.HBAR,
        "People with consent in force, by named agency",
        [r.heading for r in table.rows],
        [("People with consent in force", [r.cells[1] for r in table.rows])],
        "Bar chart of people with consent in force for each named agency; the data is in the "
        "table below.",
    )
    notes = [
        "In force: given on or before today, not withdrawn or replaced, and today on or before "
        "its review date.",
        "Other basis: vital interests or safeguarding, recorded by a worker and not yet "
        "approved by information governance.",
        "The figures cover the records your agency may see: those naming it or recorded by it.",
    ]
    return _report(
        ctx,
        "consent",
        [Section("consent", "Consent and lawful basis", headline, [table], chart, notes)],
    )


# --- 4. funnels ---------------------------------------------------------------------------------


def _cohort(ctx: Ctx, pathway: str | None = None) -> Any:
    """The referrals made in the period (on one pathway) that the viewer may read."""
    return select(Referral.id).where(
        _in_period(Referral.created_at, ctx.filters.period),
        _referrals_in_scope(ctx),
        true() if pathway is None else Referral.pathway == pathway,
    )


def _reached(ctx: Ctx, pathway: str | Sequence[str] | None = None) -> Any:
    """One row per cohort referral (on one pathway, or on all) and stage it ever reached (the
    events the viewer may read), with when it first got there and the reason recorded on the
    way."""
    readable: ColumnElement[bool] = true()
    if ctx.scope is Scope.AGENCY:
        # Where a referral has got to is shown to both its ends (``stage_shown``): a stage the
        # viewer's roles may read counts when the agency made or received the referral;
        # otherwise the step must be readable under rules 1-2.
        readable = or_(
            and_(
                ReferralEvent.category.in_(sorted(ctx.viewer.categories)),
                or_(
                    Referral.from_agency_id == ctx.viewer.agency_id,
                    Referral.to_agency_id == ctx.viewer.agency_id,
                ),
            ),
            _readable_items(
                ctx,
                person_col=ReferralEvent.person_id,
                agency_col=ReferralEvent.agency_id,
                category_col=ReferralEvent.category,
            ),
        )
    reason = func.coalesce(
        ReferralEvent.data["reason"].as_string(), ReferralEvent.data["what_happened"].as_string()
    )
    return (
        select(
            ReferralEvent.referral_id.label("referral_id"),
            ReferralEvent.person_id.label("person_id"),
            Referral.pathway.label("pathway"),
            ReferralEvent.to_stage.label("stage"),
            func.min(ReferralEvent.occurred_at).label("first_at"),
            func.max(reason).label("reason"),
        )
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        # The referral's own start is part of the referral, which the cohort already limits to
        # those the viewer may read (the receiving agency reads what it was sent); every later
        # step must be readable in its own right.
        .where(
            _in_period(Referral.created_at, ctx.filters.period),
            _referrals_in_scope(ctx),
            true()
            if pathway is None
            else Referral.pathway == pathway
            if isinstance(pathway, str)
            else Referral.pathway.in_(list(pathway)),
            or_(ReferralEvent.from_stage.is_(None), readable),
        )
        .group_by(
            ReferralEvent.referral_id,
            ReferralEvent.person_id,
            Referral.pathway,
            ReferralEvent.to_stage,
        )
    )


def _days_apart(ctx: Ctx, later: Any, earlier: Any) -> Any:
    """Days between two stored times, worked out by the database (a float)."""
    if ctx.db.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


@dataclass
class Reached:
    """What the funnels need, counted by the database: referrals reaching each (pathway, stage)
    by reason, and the days from each main-path stage to the next, one value per referral."""

    reasons: dict[tuple[str, str], Counter[str | None]]
    gaps: dict[tuple[str, str], list[float]]

    def count(self, pathway: str, stage: str) -> int:
        return sum(self.reasons.get((pathway, stage), Counter()).values())


def _reached_figures(ctx: Ctx, chosen: list[PathwayDef]) -> Reached:
    """Counts by (pathway, stage, reason) and the days between consecutive main-path stages,
    in one statement: the cohort's steps are worked out once (a CTE) and read twice."""
    sub = _reached(ctx, ctx.filters.pathway).cte("reached")
    counts = select(
        sub.c.pathway,
        sub.c.stage,
        sub.c.reason,
        func.count().label("n"),
        cast(null(), Float).label("gap"),
    ).group_by(sub.c.pathway, sub.c.stage, sub.c.reason)
    parts: list[Any] = [counts]
    steps = [
        (p.key, p.main_path[i - 1], p.main_path[i])
        for p in chosen
        for i in range(1, len(p.main_path))
    ]
    if steps:
        before = sub.alias("before")
        after = sub.alias("after")
        parts.append(
            select(
                after.c.pathway,
                after.c.stage,
                cast(null(), String).label("reason"),
                cast(null(), Integer).label("n"),
                cast(_days_apart(ctx, after.c.first_at, before.c.first_at), Float).label("gap"),
            )
            .select_from(before)
            .join(after, after.c.referral_id == before.c.referral_id)
            .where(
                or_(
                    *[
                        and_(
                            before.c.pathway == key,
                            before.c.stage == earlier,
                            after.c.stage == later,
                        )
                        for key, earlier, later in steps
                    ]
                )
            )
        )
    reasons: dict[tuple[str, str], Counter[str | None]] = {}
    gaps: dict[tuple[str, str], list[float]] = {}
    for pathway, stage, reason, n, gap in ctx.rows(union_all(*parts)):
        if gap is None:
            reasons.setdefault((pathway, stage), Counter())[reason] += int(n)
        else:
            gaps.setdefault((pathway, stage), []).append(round(float(gap), 1))
    return Reached(reasons, gaps)


def _funnel_tables(reached: Reached, pathway: PathwayDef) -> tuple[Table, Table]:
    main = Table(
        f"funnel_{pathway.key}",
        f"{pathway.name}: referrals made in the period reaching each stage",
        [
            Column("label", "Stage", numeric=False),
            Column("count", "Referrals"),
            Column("from_previous", "From the previous stage"),
            Column("from_start", "From the start"),
            Column("median_days", "Median days from the previous stage"),
        ],
    )
    start = reached.count(pathway.key, pathway.main_path[0])
    previous: int | None = None
    for i, stage in enumerate(pathway.main_path):
        here = reached.count(pathway.key, stage)
        drill = _d("reached", pathway=pathway.key, stage=stage)
        if previous is None:
            cells = [
                count(here, drill),
                Cell(CellKind.TEXT, ""),
                Cell(CellKind.TEXT, ""),
                days(None, 0),
            ]
        else:
            gaps = reached.gaps.get((pathway.key, stage), [])
            cells = [
                count(here, drill),
                ratio(here, previous, of=((i, 1), (i - 1, 1))),
                ratio(here, start, of=((i, 1), (0, 1))),
                days(_median(gaps), len(gaps)),
            ]
        main.rows.append(Row([label(pathway.stages[stage].label), *cells]))
        previous = here
    side = Table(
        f"branches_{pathway.key}",
        f"{pathway.name}: referrals that left the main path, and why",
        [Column("label", "Stage and reason", numeric=False), Column("count", "Referrals")],
    )
    choices = _reason_labels(pathway)
    for stage, stage_def in pathway.stages.items():
        if stage in pathway.main_path:
            continue
        reasons = reached.reasons.get((pathway.key, stage), Counter())
        top = len(side.rows)
        side.rows.append(
            Row(
                [
                    label(stage_def.label),
                    count(sum(reasons.values()), _d("reached", pathway=pathway.key, stage=stage)),
                ]
            )
        )
        if len(reasons) > 1 or (reasons and None not in reasons):
            parts = []
            for code, n in sorted(reasons.items(), key=lambda item: str(item[0])):
                text = choices.get(code or "", "No reason recorded")
                side.rows.append(
                    Row(
                        [
                            label(f"{stage_def.label}: {text}"),
                            count(
                                n,
                                _d("reached", pathway=pathway.key, stage=stage, reason=code)
                                if code
                                else None,
                            ),
                        ]
                    )
                )
                parts.append((len(side.rows) - 1, 1))
            side.sums.append(Sum((top, 1), tuple(parts)))
    return main, side


def _reason_labels(pathway: PathwayDef) -> dict[str, str]:
    labels: dict[str, str] = {}
    for transition in pathway.transitions.values():
        for spec in transition.fields:
            if spec.name in ("reason", "what_happened"):
                labels.update(spec.choices)
    return labels


def _funnel_headline(main: Table) -> Callable[[], str]:
    first, last = main.rows[0], main.rows[-1]
    return lambda: (
        f"Of {first.cells[1].shown} referrals made in the period, {last.cells[1].shown} "
        f"reached “{last.heading}”."
    )


def _funnel(ctx: Ctx) -> Report:
    sections = []
    chosen = _pathways(ctx)
    reached = _reached_figures(ctx, chosen)
    for pathway in chosen:
        main, side = _funnel_tables(reached, pathway)
        first = main.cell(0, 1).n
        headline = (
            _funnel_headline(main)
            if first
            else ("No referrals on this pathway were made in the period.")
        )
        chart = Chart(
            ChartKind.HBAR,
            f"{pathway.name}: referrals reaching each stage",
            [row.heading for row in main.rows],
            [("Referrals", [row.cells[1] for row in main.rows])],
            f"Funnel chart of {pathway.name} referrals reaching each stage; the data is in the "
            "table below.",
        )
        sections.append(
            Section(
                pathway.key,
                pathway.name,
                headline,
                [main, side],
                chart,
                [
                    "The cohort is the referrals made in the period. Each stage counts those that "
                    "ever reached it, whatever happened after.",
                    "From the previous stage: the share of those at the stage before that got "
                    "here; from the start: the share of the whole cohort.",
                    "Median days from the previous stage: over the referrals that reached both.",
                ],
            )
        )
    return _report(ctx, "funnel", sections)


# --- 5. continuity of care ----------------------------------------------------------------------

CONTINUITY = (
    ("within_21", "First appointment attended within 21 days of release"),
    ("after_21", "First appointment attended after 21 days"),
    ("waiting", "Not yet attended: still open"),
    ("not_picked_up", "Not picked up (closed)"),
)
PICKUP_DAYS = 21


def _releases(ctx: Ctx) -> list[dict[str, Any]]:
    """Prison releases with a treatment need whose release date is in the period: one dict
    per referral with its class (Python: date arithmetic is not portable SQL)."""
    release = Referral.data["release_date"].as_string()
    statement = select(
        Referral.person_id,
        release.label("release_date"),
        Referral.data["attended_on"].as_string().label("attended_on"),
        Referral.closed_at,
    ).where(
        Referral.pathway == "prison_release",
        release >= ctx.filters.period.start.isoformat(),
        release <= ctx.filters.period.end.isoformat(),
        _referrals_in_scope(ctx),
    )
    out = []
    for row in ctx.rows(statement):
        released = date.fromisoformat(row.release_date)
        attended = date.fromisoformat(row.attended_on) if row.attended_on else None
        gap = (attended - released).days if attended else None
        if gap is not None:
            cls = "within_21" if gap <= PICKUP_DAYS else "after_21"
        else:
            cls = "not_picked_up" if row.closed_at is not None else "waiting"
        since = (ctx.today - released).days
        at_risk = cls == "waiting" and 14 <= since <= PICKUP_DAYS
        out.append(
            {
                "person_id": row.person_id,
                "class": cls,
                "gap": gap,
                "at_risk": "yes" if at_risk else "no",
            }
        )
    return out


def _continuity(ctx: Ctx) -> Report:
    items = _releases(ctx)
    classes = Counter(item["class"] for item in items)
    total = len(items)
    table = Table(
        "continuity",
        "Prison releases with a treatment need in the period",
        [
            Column("label", "Outcome", numeric=False),
            Column("count", "People"),
            Column("share", "Share of releases"),
        ],
    )
    table.rows.append(
        Row(
            [
                label("Released with a treatment need"),
                count(total, _d("releases")),
                Cell(CellKind.TEXT, ""),
            ]
        )
    )
    for i, (key, text) in enumerate(CONTINUITY, start=1):
        table.rows.append(
            Row(
                [
                    label(text),
                    count(classes[key], _d("releases", **{"class": key})),
                    ratio(classes[key], total, of=((i, 1), (0, 1))),
                ]
            )
        )
    table.sums.append(Sum((0, 1), tuple((i, 1) for i in range(1, len(CONTINUITY) + 1))))
    gaps = [item["gap"] for item in items if item["gap"] is not None]
    at_risk = sum(1 for item in items if item["at_risk"] == "yes")
    timing = Table(
        "continuity_timing",
        "Days to the first community appointment, and open cases at risk",
        [Column("label", "Measure", numeric=False), Column("value", "Value")],
        [
            Row(
                [
                    label("Median days from release to the first appointment attended"),
                    days(_median(gaps), len(gaps)),
                ]
            ),
            Row(
                [
                    label("Open, 14 to 21 days since release (at risk)"),
                    count(at_risk, _d("releases", at_risk="yes")),
                ]
            ),
        ],
    )
    within = table.cell(1, 2)
    headline = (
        (
            lambda: (
                f"{within.shown} of prison leavers with a treatment need attended a first "
                "community appointment within 21 days of release."
            )
        )
        if total
        else "No prison releases with a treatment need in the period."
    )
    chart = Chart(
        ChartKind.HBAR,
        "Prison releases by outcome",
        [text for _, text in CONTINUITY],
        [("People", [table.cell(i, 1) for i in range(1, len(CONTINUITY) + 1)])],
        "Bar chart of prison releases with a treatment need by outcome; the data is in the "
        "table below.",
    )
    notes = [
        "The releases counted are continuity-of-care referrals whose release date is in the "
        "period; the 21 days count from the release date to the first appointment attended.",
        "At risk: still waiting 14 to 21 days after release (worked out today).",
    ]
    return _report(
        ctx,
        "continuity",
        [Section("continuity", "Continuity of care", headline, [table, timing], chart, notes)],
    )


# --- 6. hospital and domestic abuse -------------------------------------------------------------


def _reached_counts(ctx: Ctx, keys: Sequence[str]) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Referrals made in the period on these pathways, and how many reached each stage (two
    statements for all the pathways)."""
    sub = _reached(ctx, keys).subquery()
    found = Counter(
        {
            (row[0], row[1]): int(row[2])
            for row in ctx.rows(
                select(sub.c.pathway, sub.c.stage, func.count()).group_by(
                    sub.c.pathway, sub.c.stage
                )
            )
        }
    )
    made_rows = ctx.rows(
        select(Referral.pathway, func.count())
        .where(
            _in_period(Referral.created_at, ctx.filters.period),
            _referrals_in_scope(ctx),
            Referral.pathway.in_(list(keys)),
        )
        .group_by(Referral.pathway)
    )
    return Counter({row[0]: int(row[1]) for row in made_rows}), found


def _share_table(
    key: str,
    caption: str,
    *,
    first: str,
    made: int,
    measure: Drill,
    rows: list[tuple[str, int, Drill]],
) -> Table:
    table = Table(
        key,
        caption,
        [
            Column("label", "Measure", numeric=False),
            Column("count", "Referrals"),
            Column("share", "Share of referrals"),
        ],
        [Row([label(first), count(made, measure), Cell(CellKind.TEXT, "")])],
    )
    for i, (text, n, drill) in enumerate(rows, start=1):
        table.rows.append(Row([label(text), count(n, drill), ratio(n, made, of=((i, 1), (0, 1)))]))
    return table


def _high_risk(ctx: Ctx) -> tuple[int, int]:
    score = Referral.data["dash_score"].as_integer()
    statement = select(
        func.count(Referral.data["dash_completed_on"].as_string()),
        func.count(case((score >= 14, Referral.id))),
    ).where(Referral.id.in_(_cohort(ctx, "domestic_abuse")))
    row = ctx.rows(statement)[0]
    return int(row[0]), int(row[1])


def _hospital_da(ctx: Ctx) -> Report:
    made_by, stages = _reached_counts(ctx, ("hospital", "domestic_abuse"))
    made = made_by["hospital"]
    reached = Counter({stage: n for (key, stage), n in stages.items() if key == "hospital"})
    hospital = _share_table(
        "hospital",
        "Hospital on-ward referrals made in the period",
        first="On-ward referrals",
        made=made,
        measure=_d("reached", pathway="hospital", stage="referred"),
        rows=[
            (
                "Seen on the ward before discharge",
                reached["seen_on_ward"],
                _d("reached", pathway="hospital", stage="seen_on_ward"),
            ),
            (
                "Discharged into the detox house",
                reached["detox_house"],
                _d("reached", pathway="hospital", stage="detox_house"),
            ),
            (
                "Engaged with treatment after discharge",
                reached["engaged"],
                _d("reached", pathway="hospital", stage="engaged"),
            ),
        ],
    )
    da_made = made_by["domestic_abuse"]
    da = Counter({stage: n for (key, stage), n in stages.items() if key == "domestic_abuse"})
    dash, high = _high_risk(ctx)
    abuse = _share_table(
        "domestic_abuse",
        "Domestic abuse referrals made in the period",
        first="Domestic abuse referrals",
        made=da_made,
        measure=_d("reached", pathway="domestic_abuse", stage="referred"),
        rows=[
            ("DASH risk checklist completed", dash, _d("dash", completed="yes")),
            ("High risk (DASH 14 or more)", high, _d("dash", high="yes")),
            (
                "Referred to the MARAC",
                da["marac_referred"],
                _d("reached", pathway="domestic_abuse", stage="marac_referred"),
            ),
            (
                "IDVA allocated",
                da["idva_allocated"],
                _d("reached", pathway="domestic_abuse", stage="idva_allocated"),
            ),
        ],
    )
    seen = hospital.cell(1, 2)
    engaged = hospital.cell(3, 2)
    return _report(
        ctx,
        "hospital-da",
        [
            Section(
                "hospital",
                "Hospital on-ward referrals",
                (
                    lambda: (
                        f"Of on-ward referrals, {seen.shown} were seen before discharge and "
                        f"{engaged.shown} engaged with treatment after."
                    )
                )
                if made
                else "No hospital on-ward referrals were made in the period.",
                [hospital],
                Chart(
                    ChartKind.HBAR,
                    "Hospital on-ward referrals by outcome",
                    [r.heading for r in hospital.rows],
                    [("Referrals", [r.cells[1] for r in hospital.rows])],
                    "Bar chart of hospital on-ward referrals and their outcomes; the data is in "
                    "the table below.",
                ),
                ["Counts are of referrals made in the period that ever reached each stage."],
            ),
            Section(
                "domestic_abuse",
                "Domestic abuse",
                (
                    lambda: (
                        f"{abuse.cell(2, 1).shown} domestic abuse referrals in the period "
                        "were high risk."
                    )
                )
                if da_made
                else "No domestic abuse referrals were made in the period.",
                [abuse],
                Chart(
                    ChartKind.HBAR,
                    "Domestic abuse referrals: DASH, MARAC and IDVA",
                    [r.heading for r in abuse.rows],
                    [("Referrals", [r.cells[1] for r in abuse.rows])],
                    "Bar chart of domestic abuse referrals with DASH, high risk, MARAC and IDVA "
                    "counts; the data is in the table below.",
                ),
                ["High risk: a DASH score of 14 or more when referred."],
            ),
        ],
    )


# --- 7. partnership figures ---------------------------------------------------------------------


def _episodes(ctx: Ctx, period: Period) -> Any:
    readable = _readable_items(
        ctx,
        person_col=TreatmentEpisode.person_id,
        agency_col=TreatmentEpisode.agency_id,
        category_col=TreatmentEpisode.category,
    )
    agency = ctx.filters.agency_id if ctx.scope is Scope.PARTNERSHIP else None
    return select(
        TreatmentEpisode.person_id.label("person_id"),
        TreatmentEpisode.substance_group.label("group"),
        case(
            (
                and_(
                    TreatmentEpisode.started_on >= period.start,
                    TreatmentEpisode.started_on <= period.end,
                ),
                "yes",
            ),
            else_="no",
        ).label("new"),
        case(
            (
                and_(
                    TreatmentEpisode.discharge_reason == DischargeReason.DIED,
                    TreatmentEpisode.ended_on >= period.start,
                    TreatmentEpisode.ended_on <= period.end,
                ),
                "yes",
            ),
            else_="no",
        ).label("died"),
    ).where(
        TreatmentEpisode.started_on <= period.end,
        or_(TreatmentEpisode.ended_on.is_(None), TreatmentEpisode.ended_on >= period.start),
        readable,
        true() if agency is None else TreatmentEpisode.agency_id == agency,
        _on_caseloads(ctx, TreatmentEpisode.person_id),
    )


def _treatment_figures(ctx: Ctx, period: Period) -> tuple[int, int, int, Counter[str]]:
    sub = _episodes(ctx, period).subquery()

    def people(flag: str) -> Any:
        return func.count(distinct(case((sub.c[flag] == "yes", sub.c.person_id))))

    row = ctx.rows(select(func.count(distinct(sub.c.person_id)), people("new"), people("died")))[0]
    groups = Counter(
        {
            str(g): int(n)
            for g, n in ctx.rows(
                select(sub.c.group, func.count(distinct(sub.c.person_id))).group_by(sub.c.group)
            )
        }
    )
    return int(row[0]), int(row[1]), int(row[2]), groups


def _partnership(ctx: Ctx) -> Report:
    period = ctx.filters.period
    baseline = ctx.filters.baseline or period.before()
    now_in, now_new, now_died, groups = _treatment_figures(ctx, period)
    base_in, base_new, base_died, _ = _treatment_figures(ctx, baseline)
    this = ctx.filters.query_args()
    table = Table(
        "treatment",
        f"In treatment: {period.label}, against the baseline {baseline.label}",
        [
            Column("label", "Measure", numeric=False),
            Column("period", "This period"),
            Column("baseline", "Baseline period"),
        ],
        [
            Row(
                [
                    label("Adults in treatment"),
                    count(now_in, _d("in_treatment")),
                    count(base_in, _d("in_treatment", period="baseline")),
                ]
            ),
            Row(
                [
                    label("New presentations"),
                    count(now_new, _d("in_treatment", new="yes")),
                    count(base_new, _d("in_treatment", new="yes", period="baseline")),
                ]
            ),
            Row(
                [
                    label("Deaths in treatment"),
                    count(now_died, _d("in_treatment", died="yes")),
                    count(base_died, _d("in_treatment", died="yes", period="baseline")),
                ]
            ),
        ],
    )
    del this
    estimates = prevalence_for(ctx.db, period.end.year)
    need = Table(
        "unmet_need",
        "Unmet need by substance group: the share of the estimated number not in treatment",
        [
            Column("label", "Substance group", numeric=False),
            Column("in_treatment", "In treatment"),
            Column("estimate", "Estimated number"),
            Column("unmet", "Unmet need"),
            Column("source", "Source of the estimate", numeric=False),
        ],
    )
    for group in SubstanceGroup:
        found = estimates.get(group)
        n = groups[group.value]
        if found is None or found.estimate <= 0:
            unmet: float | None = None
            estimate = Cell(CellKind.TEXT, "no estimate")
            source = Cell(CellKind.TEXT, "")
        else:
            unmet = round(max(0.0, 1 - n / found.estimate) * 100, 1)
            estimate = Cell(CellKind.NUMBER, found.estimate)
            source = Cell(CellKind.TEXT, f"{found.source} ({found.year})")
        need.rows.append(
            Row(
                [
                    label(group.label),
                    count(n, _d("in_treatment", group=group.value)),
                    estimate,
                    Cell(CellKind.PERCENT, unmet),
                    source,
                ]
            )
        )

    def headline() -> str:
        now_cell, base_cell = table.cell(0, 1), table.cell(0, 2)
        text = (
            f"{now_cell.shown} adults were in treatment in the period against "
            f"{base_cell.shown} in the baseline"
        )
        if not (now_cell.suppressed or base_cell.suppressed):
            change = now_in - base_in
            text += f" ({'up' if change > 0 else 'down' if change < 0 else 'no change'}"
            text += "" if change == 0 else f" {abs(change):,}"
            text += ")"
        return f"{text}; {table.cell(2, 1).shown} died in treatment."

    return _report(
        ctx,
        "partnership",
        [
            Section(
                "treatment",
                "Numbers in treatment",
                headline,
                [table],
                Chart(
                    ChartKind.BAR,
                    "In treatment, new presentations and deaths: this period and the baseline",
                    [r.heading for r in table.rows],
                    [
                        ("This period", [r.cells[1] for r in table.rows]),
                        ("Baseline", [r.cells[2] for r in table.rows]),
                    ],
                    "Bar chart comparing this period with the baseline; the data is in the table "
                    "below.",
                ),
                [
                    "In treatment: a treatment episode open at any time in the period.",
                    "New presentations: episodes that started in the period.",
                    "Deaths in treatment: episodes that ended in the period because the person "
                    "died.",
                ],
            ),
            Section(
                "unmet_need",
                "Unmet need",
                "Unmet need is the share of the estimated number of people using each substance "
                "group who were not in treatment.",
                [need],
                Chart(
                    ChartKind.HBAR,
                    "People in treatment by substance group",
                    [r.heading for r in need.rows],
                    [("In treatment", [r.cells[1] for r in need.rows])],
                    "Bar chart of people in treatment by substance group; the data is in the "
                    "table below.",
                ),
                [
                    "Unmet need = 1 - (people in treatment / estimated number), from the latest "
                    "estimate entered for the period's year or before.",
                ],
            ),
        ],
    )


BUILDERS.update(
    {
        "caseload": lambda db, viewer, scope, filters, now: _caseload(
            Ctx(db, viewer, scope, filters, now)
        ),
        "referrals": lambda db, viewer, scope, filters, now: _referrals(
            Ctx(db, viewer, scope, filters, now)
        ),
        "consent": lambda db, viewer, scope, filters, now: _consent(
            Ctx(db, viewer, scope, filters, now)
        ),
        "funnel": lambda db, viewer, scope, filters, now: _funnel(
            Ctx(db, viewer, scope, filters, now)
        ),
        "continuity": lambda db, viewer, scope, filters, now: _continuity(
            Ctx(db, viewer, scope, filters, now)
        ),
        "hospital-da": lambda db, viewer, scope, filters, now: _hospital_da(
            Ctx(db, viewer, scope, filters, now)
        ),
        "partnership": lambda db, viewer, scope, filters, now: _partnership(
            Ctx(db, viewer, scope, filters, now)
        ),
    }
)


# --- drill-down ---------------------------------------------------------------------------------

MEASURES: dict[str, tuple[str, Callable[[Ctx, dict[str, str]], Any]]] = {}


def _sql_measure(build: Callable[[Ctx], Select[Any]]) -> Callable[[Ctx, dict[str, str]], Any]:
    def people(ctx: Ctx, params: dict[str, str]) -> Any:
        sub = build(ctx).subquery()
        conditions = []
        for key, value in params.items():
            if key not in sub.c:
                raise LookupError(key)
            column = sub.c[key]
            if isinstance(column.type, Uuid) and value:
                # Compared as a UUID: its text form differs by database (SQLite: no hyphens).
                try:
                    conditions.append(column == uuid.UUID(value))
                except ValueError:
                    conditions.append(false())
                continue
            conditions.append(func.coalesce(func.cast(column, String()), "") == value)
        return select(sub.c.person_id).where(*conditions)

    return people


def _python_measure(
    build: Callable[[Ctx], list[dict[str, Any]]],
) -> Callable[[Ctx, dict[str, str]], Any]:
    def people(ctx: Ctx, params: dict[str, str]) -> Any:
        for key in params:
            if key not in ("class", "at_risk"):
                raise LookupError(key)
        return [
            item["person_id"]
            for item in build(ctx)
            if all(str(item.get(k, "")) == v for k, v in params.items())
        ]

    return people


def _team_cases(ctx: Ctx) -> Any:
    sub = _open_cases(ctx).subquery()
    return select(sub.c.person_id, TeamMembership.team_id.label("team")).join(
        TeamMembership, TeamMembership.user_id == sub.c.worker
    )


def _reached_any(ctx: Ctx) -> Any:
    return _reached(ctx, ctx.filters.pathway)


def _dash(ctx: Ctx) -> Any:
    score = Referral.data["dash_score"].as_integer()
    return select(
        Referral.person_id.label("person_id"),
        case(
            (Referral.data["dash_completed_on"].as_string().is_not(None), "yes"), else_="no"
        ).label("completed"),
        case((score >= 14, "yes"), else_="no").label("high"),
    ).where(Referral.id.in_(_cohort(ctx, "domestic_abuse")))


def _open_cases_people(ctx: Ctx, params: dict[str, str]) -> Any:
    build = _team_cases if "team" in params else _open_cases_banded
    return _sql_measure(build)(ctx, params)


def _in_treatment_people(ctx: Ctx, params: dict[str, str]) -> Any:
    """People in treatment in the period, or in the baseline (``period=baseline``); team and
    worker filters still mean the reporting period's caseloads, as in the figures."""
    baseline = params.pop("period", None) == "baseline"
    period = (ctx.filters.baseline or ctx.filters.period.before()) if baseline else None
    return _sql_measure(lambda c: _episodes(c, period or c.filters.period))(ctx, params)


MEASURES.update(
    {
        "open_cases": ("Open cases", _open_cases_people),
        "new_cases": ("New cases in the period", _sql_measure(_cases_started)),
        "closed_cases": ("Cases closed in the period", _sql_measure(_cases_closed)),
        "overdue": ("Overdue work", _sql_measure(_overdue)),
        "referrals": ("Referrals made in the period", _sql_measure(_referrals_made)),
        "bases": ("Consent and lawful-basis records", _sql_measure(_bases)),
        "reached": ("Referrals reaching a stage", _sql_measure(_reached_any)),
        "releases": ("Prison releases", _python_measure(_releases)),
        "dash": ("Domestic abuse referrals", _sql_measure(_dash)),
        "in_treatment": ("People in treatment", _in_treatment_people),
    }
)


def people_behind(
    db: Session, viewer: Viewer, name: str, filters: Filters, drill: Drill, *, now: datetime
) -> tuple[list[uuid.UUID], int, str]:
    """The people behind one figure that the viewer may see (the access policy's list filter on
    top of the measure), by person id; their total; and the figure's name."""
    if drill.measure not in MEASURES:
        raise LookupError(drill.measure)
    scope = scope_for(viewer)
    if scope is None:
        raise PermissionError("reports")
    ctx = Ctx(db, viewer, scope, filters, now)
    title, measure = MEASURES[drill.measure]
    behind = measure(ctx, dict(drill.params))
    if isinstance(behind, list):
        candidates: Any = behind or [NO_EMERGENCY]
    else:
        candidates = behind
    statement = (
        select(Person.id)
        .where(Person.id.in_(candidates), visible_people(viewer, now=now))
        .order_by(Person.id)
    )
    ids = list(db.execute(statement, ctx.params).scalars())
    return ids, len(ids), title
