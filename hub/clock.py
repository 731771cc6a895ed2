"""The hub's clock, injectable: services take ``now``/``today`` as arguments, and the GraphQL
layer reads them from the request context (``Context.extra["clock"]``), so tests fix time
without patching anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

# Programme dates (due dates, approval days) are Chinese calendar days.
ZONE = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(ZONE)


def clock_of(extra: dict[str, Any]) -> Clock:
    found = extra.get("clock")
    return found if callable(found) else system_clock


def fixed(at: dt.datetime) -> Clock:
    """A clock that always says ``at`` (for tests and replays)."""
    return lambda: at
