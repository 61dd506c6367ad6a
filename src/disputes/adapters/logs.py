"""Structured logs: one JSON object a line on stderr (``python-json-logger``), at DISPUTES_LOG_LEVEL.

Every line written while a request is answered carries its ``request_id`` (the caller's X-Request-ID,
or one made up) and, when the caller sent a W3C ``traceparent``, its ``trace_id``: the API sets them in
:data:`REQUEST_CONTEXT` for the request's task and thread.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass

from pythonjsonlogger.json import JsonFormatter


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    trace_id: str | None = None
    parent_id: str | None = None


REQUEST_CONTEXT: ContextVar[RequestContext | None] = ContextVar("disputes_request", default=None)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class _WithRequest(logging.Filter):
    """Adds the current request's id and trace id to each record written while it is answered."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = REQUEST_CONTEXT.get()
        if context is not None:
            record.request_id = context.request_id
            if context.trace_id is not None:
                record.trace_id = context.trace_id
        return True


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%SZ",
    )
    formatter.converter = time.gmtime  # UTC, as the "Z" says
    handler.setFormatter(formatter)
    handler.addFilter(_WithRequest())
    return handler


def configure_logging(level: str) -> None:
    """JSON lines on stderr for every logger of the process (uvicorn's included), at ``level``."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(json_handler())
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def logging_config(level: str) -> dict[str, object]:
    """What :func:`configure_logging` does, as a ``logging.config.dictConfig`` dictionary: for processes
    that configure themselves from one (the serving processes of ``disputes serve --workers N``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": "disputes.adapters.logs.json_handler"}},
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
    }
