"""Logging: one line per event with the request id; structured arguments are refused.

A dict or list passed as a log argument is where personal data slips into logs, so the filter
turns such a record into an error naming the logger instead (Funding Service's pattern).
"""

from __future__ import annotations

import logging

from flask import g, has_request_context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class RejectStructuredArgs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if any(isinstance(arg, dict | list | set | tuple) for arg in args if arg is not None):
            record.msg = "log call with structured arguments refused (logger %s)"
            record.args = (record.name,)
            record.levelno = logging.ERROR
            record.levelname = "ERROR"
        return True


def configure_logging(level: str) -> None:
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    root = logging.getLogger()
    if any(getattr(h, "_casework", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler()
    handler._casework = True  # type: ignore[attr-defined]
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RejectStructuredArgs())
    root.addHandler(handler)
    root.setLevel(level)
