"""Each role's home page. ``/`` sends a user to the page of their main role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from casework.access.categories import Category
from casework.access.roles import Role
from casework.access.rules import SIGNED_IN, access, roles
from casework.clock import london_today, utcnow
from casework.consent import queries as consent_queries
from casework.consent.rules import SharingRules
from casework.family import queries as family_queries
from casework.home import queries
from casework.inbox import queries as inbox_queries
from casework.pathways import queries as pathway_queries
from casework.pathways.definitions import pathways
from casework.tasks import queries as task_queries
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import categories_of
from casework.web.navigation import home_endpoint
from casework.welfare.labels import due_words

bp = Blueprint("home", __name__)

#: Referrals waiting for the agency shown on the inbox (the rest are one link away).
WAITING_SHOWN = 10


@bp.route("/")
@access(SIGNED_IN)
def index() -> ResponseReturnValue:
    return redirect(url_for(home_endpoint(context.principal().roles)))


def _rules() -> SharingRules:
    return SharingRules.from_settings(context.settings())


def _page(template: str, **extra: object) -> str:
    principal = context.principal()
    return render_template(
        template,
        principal=principal,
        teams=queries.teams_of(context.db(), principal.id),
        **extra,
    )


@bp.route("/home/worker")
@access(roles(Role.WORKER))
def worker() -> ResponseReturnValue:
    """My work: welfare checks due and overdue, referrals waiting, my tasks, consent reviews
    due, then my caseload. Each item links straight to its action."""
    viewer, db, vault = context.viewer(), context.db(), context.vault()
    now = utcnow()
    checks = inbox_queries.my_checks(db, vault, viewer, now=now)
    tasks = inbox_queries.my_tasks(db, vault, viewer, now=now)
    referrals = pathway_queries.referral_list(
        db, vault, viewer, pathways().by_key, to_my_agency=True, open_only=True, limit=WAITING_SHOWN
    )
    page = family_queries.caseload(db, vault, viewer, [viewer.user_id])
    due = consent_queries.due_for_review(db, vault, viewer, _rules())
    audit_read(
        "caseload.viewed",
        people=[row.person_id for row in page.rows]
        + [item.person_id for item in due]
        + [item.person_id for item in (*checks, *tasks) if item.person_id]
        + [item.person_id for item in referrals],
        categories=categories_of(*(row.alerts for row in page.rows), checks, tasks)
        | _stage_categories(referrals),
        details={"referrals": [str(item.id) for item in referrals]} if referrals else None,
    )
    return _page(
        "home/worker.html",
        page=page,
        team=None,
        due=due,
        checks=checks,
        tasks=tasks,
        referrals=referrals,
        waiting=pathway_queries.count_waiting(db, viewer),
        agency_tasks=task_queries.count_open(db, viewer),
        now=now,
        due_words=due_words,
    )


@bp.route("/home/assessor")
@access(roles(Role.ASSESSOR))
def assessor() -> ResponseReturnValue:
    viewer, db = context.viewer(), context.db()
    return _page(
        "home/assessor.html",
        booked_today=pathway_queries.count_bookings_on(db, viewer, london_today()),
        waiting=pathway_queries.count_waiting(db, viewer),
    )


@bp.route("/home/custody")
@access(roles(Role.CUSTODY_OFFICER))
def custody() -> ResponseReturnValue:
    viewer, db = context.viewer(), context.db()
    bookings = pathway_queries.referral_list(
        db,
        context.vault(),
        viewer,
        pathways().by_key,
        pathway="required_assessment",
        from_my_agency=True,
        limit=10,
    )
    audit_read(
        "referrals.listed",
        people=[item.person_id for item in bookings],
        categories={Category.IDENTITY, *_stage_categories(bookings)},
        details={"referrals": [str(item.id) for item in bookings], "show": "home"},
    )
    return _page(
        "home/custody.html",
        bookings=bookings,
        task_count=task_queries.count_open(db, viewer),
        now=utcnow(),
    )


def _stage_categories(items: list[pathway_queries.ReferralSummary]) -> set[Category]:
    """The categories of the stages shown (as the referral lists audit them)."""
    defs = pathways().by_key
    found: set[Category] = set()
    for item in items:
        pathway = defs.get(item.pathway)
        if item.stage_shown and pathway is not None and item.stage in pathway.stages:
            found.add(pathway.stages[item.stage].category)
    return found


@bp.route("/home/manager")
@access(roles(Role.MANAGER))
def manager() -> ResponseReturnValue:
    """Team overview: the managed teams' welfare checks due today and overdue, escalated first."""
    viewer, db, vault = context.viewer(), context.db(), context.vault()
    now = utcnow()
    teams = family_queries.managed_teams(db, viewer)
    checks = inbox_queries.team_checks(db, vault, viewer, [team.id for team in teams], now=now)
    audit_read(
        "inbox.team_viewed",
        people=[item.person_id for item in checks if item.person_id],
        categories=categories_of(checks),
        details={"teams": [str(team.id) for team in teams]},
    )
    return _page(
        "home/manager.html",
        managed=teams,
        checks=checks,
        red=[item for item in checks if item.red],
        now=now,
        due_words=due_words,
    )


@bp.route("/home/information-governance")
@access(roles(Role.INFORMATION_GOVERNANCE))
def information_governance() -> ResponseReturnValue:
    return _page(
        "home/information_governance.html",
        security=queries.security_summary(context.db()),
        reviews=consent_queries.review_counts(context.db(), _rules()),
    )


@bp.route("/home/partnership")
@access(roles(Role.PARTNERSHIP_LEAD))
def partnership_lead() -> ResponseReturnValue:
    return _page("home/partnership_lead.html", kinds=queries.agencies_by_kind(context.db()))


@bp.route("/home/admin")
@access(roles(Role.ADMIN))
def admin() -> ResponseReturnValue:
    return _page("home/admin.html", figures=queries.admin_figures(context.db()))


@bp.route("/home/no-role")
@access(SIGNED_IN)
def no_role() -> ResponseReturnValue:
    return _page("home/no_role.html")
