"""One log format for every line the server writes (its own, uvicorn's, the worker's): human by
default, JSON with TEN99_LOG_FORMAT=json. Each line written while a request is served carries
its request id, and once the key is known its account and environment; the worker's lines carry
the account and environment of the work."""

from __future__ import annotations

import logging
import logging.config
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import orjson

# What a log line says of the request (or the background work) it was written for.
CONTEXT_FIELDS = ("request_id", "account", "environment")
_context: ContextVar[dict[str, str] | None] = ContextVar("log_context", default=None)

# What else a line may carry (`logger.info(..., extra={...})`), in this order.
DETAIL_FIELDS = (
    "method",
    "route",
    "status",
    "task",
    "subject",
    "delivery",
    "event",
    "attempt",
    "url",
    "error",
    "duration_ms",
)


def bind(**fields: str | None) -> None:
    """Add fields to the context of this request or piece of work (a new dict: a context
    copied into another task keeps what it had)."""
    current = _context.get()
    _context.set({**(current or {}), **{k: v for k, v in fields.items() if v is not None}})


def unbind() -> None:
    _context.set(None)


class _WithContext:
    """A log record factory: `make_record`'s records, with the context's fields set."""

    adds_log_context = True  # what `install` looks for, so that it wraps a factory once

    def __init__(self, make_record: Callable[..., logging.LogRecord]):
        self.make_record = make_record

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make_record(*args, **kwargs)
        context = _context.get()
        if context:
            for name, value in context.items():
                setattr(record, name, value)
        return record


def install() -> None:
    """Make every log record of this process carry the context it was written in. Context
    fields are set with `bind`, never passed as `extra` (logging refuses to overwrite them)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "adds_log_context", False):
        logging.setLogRecordFactory(_WithContext(factory))


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {
        name: getattr(record, name)
        for name in (*DETAIL_FIELDS, *CONTEXT_FIELDS)
        if getattr(record, name, None) is not None
    }


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class HumanFormatter(logging.Formatter):
    """`2026-11-30T12:00:00.123Z INFO  server.access: GET /… 200 request_id=req_… …`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{name}={value}" for name, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, the details, and
    a traceback where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


FORMATTERS = {"human": HumanFormatter, "json": JsonFormatter}


def config(level: str, log_format: str) -> dict:
    """A `logging.config.dictConfig` for the server's process, uvicorn's loggers included
    (uvicorn applies it in each of its worker processes)."""
    formatter = FORMATTERS[log_format]
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "server",
    }
    # uvicorn's own access line is off: server.access writes one (route template, latency).
    quiet = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"server": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": quiet,
            "uvicorn.error": quiet,
            "uvicorn.access": quiet,
            # Alembic names its dialect at every start; server.store.schema says what it migrated.
            "alembic": {"level": "WARNING"},
        },
    }


def configure(level: str, log_format: str) -> None:
    install()
    logging.config.dictConfig(config(level, log_format))
