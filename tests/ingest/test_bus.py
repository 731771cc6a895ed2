"""The live bus: filters, bounded queues that drop the oldest, and a publisher that never waits."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from ingest.bus import Event, EventFilter, LiveBus, ReadingEvent, RollupEvent, Subscription
from ingest.mqtt import event_message

pytestmark = pytest.mark.anyio


def reading(i: int, project: str = "P1", kind: str = "power") -> ReadingEvent:
    return ReadingEvent(kind, f"s{i}", project, "energy_kwh", i, float(i), "kWh")


async def test_subscribers_get_what_their_filter_allows() -> None:
    bus = LiveBus()
    power_p1 = bus.subscribe(
        EventFilter(project_codes=frozenset({"P1"}), kinds=frozenset({"power"}))
    )
    everything = bus.subscribe()
    bus.publish([reading(1), reading(2, project="P2"), reading(3, kind="labor")])
    assert [e.sensor_id async for e in _take(power_p1, 1)] == ["s1"]
    assert [e.sensor_id async for e in _take(everything, 3)] == ["s1", "s2", "s3"]


async def test_a_slow_subscriber_loses_the_oldest_events_and_counts_them() -> None:
    bus = LiveBus()
    slow = bus.subscribe(maxsize=3)
    fast = bus.subscribe(maxsize=100)
    bus.publish(reading(i) for i in range(10))  # returns at once: nobody is waiting on it
    assert (slow.dropped, bus.dropped, fast.dropped) == (7, 7, 0)
    assert [e.sensor_id async for e in _take(slow, 3)] == ["s7", "s8", "s9"]
    assert fast.pending() == 10


async def test_closing_ends_iteration_and_unsubscribes() -> None:
    bus = LiveBus()
    async with bus.subscribe() as sub:
        assert bus.active
    assert not bus.active
    assert [e async for e in sub] == []


def test_republished_topics_and_bodies() -> None:
    topic, body = event_message(reading(5))
    assert topic == "hub/v1/events/power/s5"
    assert b'"type": "reading"' in body
    day = dt.date(2025, 3, 1)
    headcount = RollupEvent("labor", None, "P1", "headcount", day, 12, 1)
    assert event_message(headcount)[0] == "hub/v1/events/projects/P1/labor/daily"


async def _take(sub: Subscription, n: int) -> AsyncIterator[Event]:
    for _ in range(n):
        yield await sub.__anext__()
