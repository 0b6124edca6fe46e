"""The request lifecycle: request id, audit, commit or roll back, response headers, teardown.

A request's database work is one transaction (``context.db()``). After a non-GET view returns
a 2xx/3xx response, it is committed *before* the response leaves; any error status, exception
or GET rolls it back. Services never commit. A commit that loses an optimistic-lock race
becomes a 409 page, never a silent overwrite.

What the request showed or refused is audited here too (``casework.web.audit``), before the
response leaves: in the request's own transaction when that commits (a successful POST, or a
GET on PostgreSQL, which shares the page's transaction), otherwise in a short transaction of
its own once the request's has ended (a GET on SQLite takes the write lock only for the audit
insert, never while it queries). If the audit cannot be written, the response is a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from casework.web import audit, context

log = logging.getLogger(__name__)

#: Pages that show nothing of a record: what the request decrypted was not shown.
_NOTHING_SHOWN = frozenset({403, 404, 500})


def _begin() -> None:
    context.request_id()


def _shows_reads(response: Response) -> bool:
    if response.status_code in _NOTHING_SHOWN:
        return False
    # A successful change redirects: the service audited the change itself.
    return not (request.method not in context.SAFE_METHODS and 300 <= response.status_code < 400)


def _error_page(status: int) -> Response:
    from casework.web.errors import render_error

    return render_error(status)


def _finish(response: Response) -> Response:
    session = g.pop("_casework_db", None)
    include_reads = _shows_reads(response)
    audited = False
    if session is not None:
        try:
            writes = request.method not in context.SAFE_METHODS
            shares = writes or not context.database().is_sqlite
            if response.status_code < 400 and shares:
                if audit.has_pending(include_reads=include_reads):
                    audit.write_pending(session, context.actor(), include_reads=include_reads)
                audited = True
                session.commit()
            else:
                session.rollback()
        except StaleDataError:
            session.rollback()
            response, audited = _error_page(409), False
            include_reads = False
        except IntegrityError:
            session.rollback()
            log.warning("integrity error on commit for %s", request.endpoint)
            response, audited = _error_page(409), False
            include_reads = False
        except SQLAlchemyError:
            session.rollback()
            log.exception("the request's transaction failed on %s", request.endpoint)
            audit.discard_pending()
            response, audited = _error_page(500), True
        finally:
            session.close()
    if not audited and audit.has_pending(include_reads=include_reads):
        try:
            with context.database().transaction() as db:
                audit.write_pending(db, context.actor(), include_reads=include_reads)
        except SQLAlchemyError:
            log.exception("could not write the audit row for %s", request.endpoint)
            audit.discard_pending()
            response = _error_page(500)
    audit.discard_pending()
    response.headers["X-Request-Id"] = context.request_id()
    # A view may mark its response "private" (a chart image): kept for that user's browser
    # only, never by a shared cache. Everything else is no-store.
    private = response.headers.get("Cache-Control", "").startswith("private")
    if request.endpoint != "static" and not private:
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
