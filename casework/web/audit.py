"""Auditing what a request showed or refused (DECISIONS §4).

Changes are audited by the services, in the change's transaction. This module audits the rest:

* **Reads.** A view that shows a person's information declares it with :func:`audit_read`
  (one audit row per page view, list or export, listing every person shown). As a backstop,
  a request that decrypted people's values without declaring any read is audited anyway, as
  ``read.undeclared.<endpoint>`` listing everyone its vault opened (and a warning is logged,
  so tests catch the view).
* **Refusals.** A person or item the user may not see (404), a refused action (403) and a
  refused form (a field error) are recorded with :func:`audit_refusal`.

Both are written by :func:`write_pending` when the request finishes, **before the response is
sent**; if that fails, the request fails. They go into the request's own transaction when it
commits anyway (a successful POST, or any GET on PostgreSQL), and otherwise into a short write
transaction of their own after the request's transaction has ended — so on SQLite a page view
never holds the single write lock while it queries.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from casework.access.categories import Category
from casework.access.policy import PersonAccess
from casework.audit import recorder
from casework.audit.recorder import Actor

log = logging.getLogger(__name__)


@dataclass
class ReadAudit:
    action: str
    #: Named after the endpoint (``read.<endpoint>``) because no view gave a name yet.
    generic: bool = False
    people: set[uuid.UUID] = field(default_factory=set)
    revealed: set[uuid.UUID] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    emergency_access_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Refusal:
    action: str
    person_id: uuid.UUID | None
    details: dict[str, Any]


def audit_read(
    action: str | None,
    *,
    people: Iterable[uuid.UUID] = (),
    revealed: Iterable[uuid.UUID] = (),
    categories: Iterable[Category | str] = (),
    access: PersonAccess | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Declare what this request shows: one row per request, whatever the number of calls
    (the first named action names it — ``None`` means "name it after the endpoint" unless a
    later call names it; later calls add people, categories and details)."""
    pending: ReadAudit | None = g.get("_casework_read_audit")
    if pending is None:
        pending = ReadAudit(action or f"read.{request.endpoint}", generic=action is None)
        g._casework_read_audit = pending
    elif pending.generic and action is not None:
        pending.action, pending.generic = action, False
    pending.people.update(people)
    pending.revealed.update(revealed)
    pending.categories.update(str(category) for category in categories)
    if access is not None:
        pending.people.add(access.person_id)
        if access.emergency_access_id is not None:
            pending.emergency_access_id = access.emergency_access_id
    if details:
        pending.details.update(details)


def audit_refusal(
    reason: str, *, person_id: uuid.UUID | None = None, details: dict[str, Any] | None = None
) -> None:
    """Record that this request was refused (written when the request finishes)."""
    refusals: list[Refusal] = g.setdefault("_casework_refusals", [])
    refusals.append(
        Refusal(
            "access.refused",
            person_id,
            {"endpoint": request.endpoint or "", "reason": reason, **(details or {})},
        )
    )


def person_in_url() -> uuid.UUID | None:
    value = (request.view_args or {}).get("person_id")
    return value if isinstance(value, uuid.UUID) else None


def _pending_read() -> ReadAudit | None:
    pending: ReadAudit | None = g.get("_casework_read_audit")
    vault = g.get("_casework_vault")
    opened: set[uuid.UUID] = set(vault.opened) if vault is not None else set()
    if pending is None:
        if not opened:
            return None
        # The backstop: a view that showed people's information without declaring it.
        log.warning("endpoint %s decrypted people without declaring the read", request.endpoint)
        return ReadAudit(f"read.undeclared.{request.endpoint}", people=opened)
    # A view that declared its read names what it showed; it may have decrypted more than it
    # showed (a caseload sorts every name, and shows one page).
    return pending


def has_pending(*, include_reads: bool) -> bool:
    if g.get("_casework_refusals"):
        return True
    vault = g.get("_casework_vault")
    opened = vault is not None and bool(vault.opened)
    return include_reads and (g.get("_casework_read_audit") is not None or opened)


def write_pending(db: Session, actor: Actor, *, include_reads: bool) -> None:
    """Write the request's refusals and (with ``include_reads``: the response shows a page of
    it, not a refusal page or a redirect after a change the service audited) its read audit
    into ``db``'s transaction. Clears them: each is written once."""
    refusals: list[Refusal] = g.pop("_casework_refusals", [])
    read = _pending_read() if include_reads else None
    g.pop("_casework_read_audit", None)
    vault = g.get("_casework_vault")
    if vault is not None:
        vault.opened.clear()
    for refusal in refusals:
        recorder.record(
            db,
            actor,
            refusal.action,
            outcome="denied",
            target_type="person" if refusal.person_id else None,
            target_id=refusal.person_id,
            details=refusal.details,
        )
    if read is not None:
        recorder.record(
            db,
            actor,
            read.action,
            people=read.people,
            revealed=read.revealed,
            categories=read.categories,
            emergency_access_id=read.emergency_access_id,
            details=read.details,
        )


def discard_pending() -> None:
    g.pop("_casework_refusals", None)
    g.pop("_casework_read_audit", None)
