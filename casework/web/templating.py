"""Jinja set-up: our templates first, then the GOV.UK macros; filters and globals."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.main import WTFormsHelpers
from govuk_frontend_wtf.main import wtforms_errors as govuk_wtforms_errors
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from markupsafe import Markup, escape

from casework.access import policy
from casework.access.policy import PersonAccess
from casework.auth.services import session_expiry
from casework.clock import to_london, utcnow
from casework.consent.rules import TEMPLATE_GLOBALS as SHARING_GLOBALS
from casework.people.labels import TEMPLATE_GLOBALS
from casework.settings import REPO_ROOT
from casework.web import context
from casework.web.fields import GovDateField
from casework.web.navigation import (
    BADGE_PLACEHOLDER,
    BADGE_WORDS,
    badge_count,
    badge_markup,
    items_for,
)
from casework.web.principal import Principal


def london_datetime(value: datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    if value is None:
        return ""
    text = to_london(value).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def london_date(value: datetime | None) -> str:
    return london_datetime(value, "%-d %B %Y")


def day(value: date | None, fmt: str = "%-d %B %Y") -> str:
    """A calendar date (already in Europe/London), e.g. "1 December 2026"."""
    return value.strftime(fmt) if value else ""


#: What templates may ask the access policy (``allowed("log_contact", header.access)``): the
#: same predicates the services enforce, so a page never offers what would be refused.
_ACTIONS = {
    "add": policy.may_add,
    "log_contact": policy.may_log_contact,
    "change_identity": policy.may_change_identity,
    "manage_family": policy.may_manage_family,
    "record_basis": policy.may_record_basis,
    "open_in_emergency": policy.may_open_in_emergency,
}


def allowed(action: str, access: PersonAccess) -> bool:
    return bool(_ACTIONS[action](context.viewer(), access))


@lru_cache(maxsize=256)
def _fixed_url(script_root: str, endpoint: str, filename: str | None) -> str:
    return url_for(endpoint, filename=filename) if filename else url_for(endpoint)


def fixed_url(endpoint: str, filename: str | None = None) -> str:
    """``url_for`` for a link without parameters (a menu item, a static file), built once:
    a page has a dozen of them and each ``url_for`` costs tens of microseconds."""
    return _fixed_url(request.script_root, endpoint, filename)


@lru_cache(maxsize=128)
def _id_url_pattern(script_root: str, endpoint: str, names: tuple[str, ...]) -> str:
    """``url_for`` with a unique stand-in id per argument, turned into a format string."""
    stand_ins: dict[str, Any] = {name: uuid.UUID(int=index + 1) for index, name in enumerate(names)}
    pattern = url_for(endpoint, **stand_ins).replace("{", "{{").replace("}", "}}")
    for name, stand_in in stand_ins.items():
        pattern = pattern.replace(str(stand_in), "{" + name + "}")
    return pattern


def id_url(endpoint: str, **ids: object) -> str:
    """``url_for`` for a route whose only arguments are UUIDs, built from a cached pattern:
    long lists (a timeline, a caseload) link every row, and each ``url_for`` costs tens of
    microseconds."""
    return _id_url_pattern(request.script_root, endpoint, tuple(sorted(ids))).format(**ids)


def person_href(person_id: object) -> str:
    return id_url("people.view", person_id=person_id)


def page_link(number: int) -> str:
    """The current page's URL with the same query but another page number."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return url_for(request.endpoint or "home.index", **(request.view_args or {}), **args)


def _navigation() -> list[dict[str, Any]]:
    user = current_user._get_current_object()
    if not isinstance(user, Principal) or (
        context.settings().mfa_required and not user.mfa_verified
    ):
        return []
    current = request.endpoint or ""
    items = []
    for item in items_for(user.roles):
        blueprint = item.endpoint.split(".", 1)[0]
        if item.active_for:
            active = current.startswith(item.active_for)
        elif item.endpoint == "home.index":
            active = blueprint == current.split(".", 1)[0]
        elif blueprint in ("home", "auth"):
            active = current == item.endpoint
        else:
            active = current.startswith(blueprint + ".")
        items.append(
            {
                "text": item.text,
                "href": fixed_url(item.endpoint),
                "active": active,
                "badge": item.badge,
            }
        )
    return items


@dataclass(frozen=True)
class SessionTiming:
    """What the timeout warning (assets/js/session-timeout.mjs) needs, as of this render."""

    #: Seconds until the session ends unless it is used again (the idle timeout).
    idle_seconds: int
    #: Seconds until the session ends whatever happens (the absolute timeout).
    absolute_seconds: int
    idle_minutes: int
    absolute_hours: int


def _seconds_until(moment: datetime, now: datetime) -> int:
    # Rounded up: the page's timer may run a little late, never early (see the script).
    return max(0, math.ceil((moment - now).total_seconds()))


def _session_timing() -> SessionTiming | None:
    """For pages of a fully signed-in user (the ones "Stay signed in" can keep): else None."""
    user = current_user._get_current_object()
    if not isinstance(user, Principal) or user.must_change_password:
        return None
    settings = context.settings()
    if settings.mfa_required and not user.mfa_verified:
        return None
    expiry = session_expiry(
        context.kit(), created_at=user.session_created_at, last_seen_at=user.session_last_seen_at
    )
    now = utcnow()
    return SessionTiming(
        idle_seconds=_seconds_until(expiry.idle_at, now),
        absolute_seconds=_seconds_until(expiry.absolute_at, now),
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
    )


#: Stands in for the CSRF token in the cached chrome; replaced on every request.
CSRF_PLACEHOLDER = "__casework_csrf_token__"


@lru_cache(maxsize=512)
def _chrome(  # noqa: PLR0917 - a cache key: every argument is part of it
    service_name: str,
    partnership_name: str,
    home_url: str,
    sign_out_url: str,
    signed_in: bool,
    nav: tuple[tuple[str, str, bool, str], ...],
) -> str:
    template = current_app.jinja_env.get_template("layouts/_chrome.html")
    return template.render(
        service_name=service_name,
        partnership_name=partnership_name,
        home_url=home_url,
        sign_out_url=sign_out_url,
        signed_in=signed_in,
        csrf_placeholder=CSRF_PLACEHOLDER,
        nav=[
            {"html": escape(text) + BADGE_PLACEHOLDER.format(badge), "href": href, "active": active}
            if badge
            else {"text": text, "href": href, "active": active}
            for text, href, active, badge in nav
        ],
    )


def page_chrome() -> Markup:
    """The page header and service navigation. The markup comes from the GOV.UK macros,
    rendered once per distinct (menu, current section) and reused: the menu is a function of
    the user's roles and the page, never of case data."""
    done: Markup | None = g.get("_casework_chrome")
    if done is not None:
        return done  # the GOV.UK page template asks for its header block twice
    settings = context.settings()
    signed_in = bool(current_user.is_authenticated)
    html = _chrome(
        settings.service_name,
        settings.partnership_name,
        fixed_url("home.index") if signed_in else fixed_url("auth.sign_in"),
        fixed_url("auth.sign_out"),
        signed_in,
        tuple(
            (item["text"], item["href"], item["active"], item["badge"]) for item in _navigation()
        ),
    )
    if signed_in:
        html = html.replace(CSRF_PLACEHOLDER, escape(generate_csrf()))
        for key in BADGE_WORDS:
            placeholder = BADGE_PLACEHOLDER.format(key)
            if placeholder in html:
                html = html.replace(placeholder, badge_markup(key, badge_count(key)))
    done = Markup(html)  # noqa: S704 - rendered by our own template with autoescape
    g._casework_chrome = done
    return done


def _globals() -> dict[str, Any]:
    settings = context.settings()
    return {
        "service_name": settings.service_name,
        "partnership_name": settings.partnership_name,
        "demo_mode": settings.demo_mode,
        "mfa_required": settings.mfa_required,
        "navigation": _navigation,
        "page_chrome": page_chrome,
        "fixed_url": fixed_url,
        "person_href": person_href,
        "id_url": id_url,
        "session_timing": _session_timing,
    }


def error_summary(form: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The GOV.UK error summary's items for a form, each linking to the first box of its field
    (a date field's day box, not the group around the three boxes)."""
    summary: dict[str, Any] = govuk_wtforms_errors(form, params or {})
    dates = {f"#{field.id}" for field in form if isinstance(field, GovDateField)}
    for item in summary.get("errorList", []):
        if item.get("href") in dates:
            item["href"] += "-day"
    return summary


def init_templating(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(REPO_ROOT / "templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["london_datetime"] = london_datetime
    app.jinja_env.filters["london_date"] = london_date
    app.jinja_env.filters["day"] = day
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.globals.update(SHARING_GLOBALS)
    app.jinja_env.globals["allowed"] = allowed
    from casework.web.rows import ROW_GLOBALS  # imports this module's URL helpers

    app.jinja_env.globals.update(ROW_GLOBALS)
    app.jinja_env.globals["page_link"] = page_link
    app.context_processor(_globals)
    WTFormsHelpers(app)
    app.jinja_env.globals["wtforms_errors"] = error_summary
