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
from casework.pathways import queries as pathway_queries
from casework.pathways.definitions import pathways
from casework.tasks import queries as task_queries
from casework.web import context
from casework.web.audit import audit_read
from casework.web.case import categories_of
from casework.web.navigation import home_endpoint

bp = Blueprint("home", __name__)


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
    viewer, db, vault = context.viewer(), context.db(), context.vault()
    page = family_queries.caseload(db, vault, viewer, [viewer.user_id])
    due = consent_queries.due_for_review(db, vault, viewer, _rules())
    audit_read(
        "caseload.viewed",
        people=[row.person_id for row in page.rows] + [item.person_id for item in due],
        categories=categories_of(*(row.alerts for row in page.rows)),
    )
    return _page(
        "home/worker.html",
        page=page,
        team=None,
        due=due,
        waiting=pathway_queries.count_waiting(db, viewer),
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
    return _page("home/manager.html")


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
