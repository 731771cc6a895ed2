"""Logging for people or for collectors, and the request id every line of a request carries.

``configure`` installs one handler on the root logger: ``text`` (a line for people) or ``json``
(one object a line for Loki, Elasticsearch or CloudWatch). ``RequestContext`` is the ASGI
middleware that takes the caller's ``X-Request-ID`` (or makes one), keeps it in a context
variable for the request's lifetime, returns it in the response and writes one access line;
every log line written meanwhile, by any logger, carries it as ``request_id``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A caller's id is kept only if it is short and plain, so it cannot forge log lines or fields.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# LogRecord attributes that are not extra fields passed with `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}

access_log = logging.getLogger("hub.access")


# Probes and scrapes come every few seconds: their access lines are DEBUG, not noise at INFO.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _stamp_request_id() -> None:
    # Every record gets the request id when it is made, whichever handler writes it.
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_hub_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory._hub_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_stamp_request_id()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, any
    ``extra=`` fields, and the formatted exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return line if rid is None else f"{line} [request_id={rid}]"


def configure(level: str, fmt: str = "text") -> None:
    """Send every logger's records to stderr in ``fmt`` (``text`` or ``json``) from ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Uvicorn's own loggers propagate to ours (their access log is replaced by RequestContext's).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def accept_request_id(value: str | None) -> str:
    """The caller's id when it is acceptable, else a new one (32 hex digits)."""
    if value is not None and _ACCEPTABLE_ID.match(value):
        return value
    return uuid.uuid4().hex


# (path template or "other", method, status, seconds): what the metrics record per request.
ResponseObserver = Callable[[str, str, int, float], None]


class RequestContext:
    """ASGI middleware: request id in, out and on every log line; one access line per request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        route_of: Callable[[str], str] = lambda path: path,
        observer: ResponseObserver | None = None,
    ) -> None:
        self.app = app
        self.route_of = route_of
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.encode())
        rid = accept_request_id(raw.decode("latin-1") if raw is not None else None)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), rid.encode()),
                ]
            elif message["type"] == "websocket.accept":
                status = 101
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
            path = scope.get("path", "")
            access_log.log(
                logging.DEBUG if path in _QUIET_PATHS else logging.INFO,
                "%s %s %s %.1f ms",
                method,
                path,
                status or "-",
                elapsed * 1000,
                extra={"method": method, "path": path, "status": status, "ms": elapsed * 1000},
            )
            if self.observer is not None:
                self.observer(self.route_of(path), method, status, elapsed)
            request_id.reset(token)
