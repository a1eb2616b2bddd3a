"""Logging setup: readable text for people, one JSON object per line for machines.

Every record carries the application and revision being worked on, taken from context
variables that the controller sets around each reconcile, so a line never needs the
caller to repeat them.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import orjson

current_app: contextvars.ContextVar[str] = contextvars.ContextVar("gitward_app", default="")
current_revision: contextvars.ContextVar[str] = contextvars.ContextVar(
    "gitward_revision", default=""
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.app = current_app.get()
        record.revision = current_revision.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "app": getattr(record, "app", ""),
            "revision": getattr(record, "revision", ""),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        app = getattr(record, "app", "")
        revision = getattr(record, "revision", "")
        where = f" [{app}{'@' + revision[:12] if revision else ''}]" if app else ""
        line = (
            f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7}{where} "
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup(json_format: bool = False, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    handler.addFilter(_Context())
    root = logging.getLogger("gitward")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
