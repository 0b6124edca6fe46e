"""Jinja set-up: our templates first, then the GOV.UK macros; filters and globals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from casework.clock import to_london
from casework.settings import REPO_ROOT
from casework.web import context
from casework.web.navigation import items_for
from casework.web.principal import Principal


def london_datetime(value: datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    if value is None:
        return ""
    text = to_london(value).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def london_date(value: datetime | None) -> str:
    return london_datetime(value, "%-d %B %Y")


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
        active = current == item.endpoint or (
            blueprint != "auth" and current.startswith(blueprint + ".")
        )
        items.append({"text": item.text, "href": url_for(item.endpoint), "active": active})
    return items


def _globals() -> dict[str, Any]:
    settings = context.settings()
    return {
        "service_name": settings.service_name,
        "partnership_name": settings.partnership_name,
        "demo_mode": settings.demo_mode,
        "mfa_required": settings.mfa_required,
        "navigation": _navigation,
    }


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
    app.context_processor(_globals)
    WTFormsHelpers(app)
