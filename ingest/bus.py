"""The in-process live bus: committed readings and rollup changes, fanned out to subscribers.

Publishing never waits: each subscriber has a bounded queue, and when it is full the oldest event
is dropped and counted, so a slow GraphQL client or MQTT republisher cannot hold up ingest.
Publish and subscribe from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from ingest.model import from_ms


@dataclass(frozen=True, slots=True)
class ReadingEvent:
    """A reading that was just committed (never a duplicate)."""

    kind: str
    sensor_id: str
    project_code: str | None
    metric: str
    ts_ms: int
    value: float
    unit: str

    @property
    def ts(self) -> dt.datetime:
        return from_ms(self.ts_ms)


@dataclass(frozen=True, slots=True)
class RollupEvent:
    """A daily rollup that changed: per sensor (``sensor_id`` set) or per project (headcount)."""

    kind: str
    sensor_id: str | None
    project_code: str | None
    metric: str
    day: dt.date
    value: float
    samples: int


Event = ReadingEvent | RollupEvent


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants; ``None`` means any."""

    project_codes: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    sensor_ids: frozenset[str] | None = None

    def matches(self, event: Event) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        if self.project_codes is not None and event.project_code not in self.project_codes:
            return False
        return self.sensor_ids is None or event.sensor_id in self.sensor_ids


class BoundedQueue[T]:
    """An async iterator over what is offered to it, holding at most ``maxsize`` items: when
    full the oldest is dropped and counted, so whoever offers never waits. An async context
    manager whose exit closes it (and tells its owner through ``on_close``)."""

    def __init__(self, maxsize: int, on_close: Callable[[BoundedQueue[T]], None]) -> None:
        self._queue: deque[T] = deque()
        self._maxsize = maxsize
        self._on_close = on_close
        self._ready = asyncio.Event()
        self.dropped = 0
        self.closed = False

    def put(self, item: T) -> bool:
        """Queue ``item``; True when the oldest had to be dropped for it."""
        dropped = len(self._queue) >= self._maxsize
        if dropped:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(item)
        self._ready.set()
        return dropped

    def pending(self) -> int:
        return len(self._queue)

    def take(self, n: int) -> list[T]:
        """Up to ``n`` queued items, oldest first, without waiting."""
        queue = self._queue
        return [queue.popleft() for _ in range(min(n, len(queue)))]

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        self.closed = True
        self._on_close(self)
        self._ready.set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Subscription(BoundedQueue[Event]):
    """Live-bus events matching a filter, with a bounded queue."""

    def __init__(self, bus: LiveBus, event_filter: EventFilter, maxsize: int) -> None:
        super().__init__(maxsize, bus._remove)  # type: ignore[arg-type]
        self._bus = bus
        self.filter = event_filter

    def _offer(self, event: Event) -> None:
        if self.put(event):
            self._bus.dropped += 1


class LiveBus:
    """Fan-out of committed events to in-process subscribers."""

    def __init__(self, *, default_queue: int = 1000) -> None:
        self._subscribers: list[Subscription] = []
        self._default_queue = default_queue
        self.published = 0
        self.dropped = 0

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(
        self, event_filter: EventFilter | None = None, *, maxsize: int | None = None
    ) -> Subscription:
        size = maxsize or self._default_queue
        if size < 1:
            raise ValueError("a subscription queue holds at least one event")
        sub = Subscription(self, event_filter or EventFilter(), size)
        self._subscribers.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    def publish(self, events: Iterable[Event]) -> None:
        subscribers = self._subscribers
        for event in events:
            self.published += 1
            for sub in subscribers:
                if sub.filter.matches(event):
                    sub._offer(event)

    def close(self) -> None:
        for sub in list(self._subscribers):
            sub.close()
