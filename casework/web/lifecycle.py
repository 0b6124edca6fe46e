"""The request lifecycle: request id, commit or roll back, response headers, teardown.

A request's database work is one transaction (``context.db()``). After a non-GET view returns
a 2xx/3xx response, it is committed *before* the response leaves; any error status, exception
or GET rolls it back. Services never commit. A commit that loses an optimistic-lock race
becomes a 409 page, never a silent overwrite.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from casework.web import context

log = logging.getLogger(__name__)


def _begin() -> None:
    context.request_id()


def _finish(response: Response) -> Response:
    session = g.pop("_casework_db", None)
    if session is not None:
        try:
            if request.method not in context.SAFE_METHODS and response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        except StaleDataError:
            session.rollback()
            from casework.web.errors import render_error

            response = render_error(409)
        except IntegrityError:
            session.rollback()
            log.warning("integrity error on commit for %s", request.endpoint)
            from casework.web.errors import render_error

            response = render_error(409)
        finally:
            session.close()
    response.headers["X-Request-Id"] = context.request_id()
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _teardown(_exc: BaseException | None) -> None:
    session = g.pop("_casework_db", None)
    if session is not None:
        session.rollback()
        session.close()


def init_lifecycle(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_teardown)
