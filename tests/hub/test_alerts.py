"""The alert lifecycle on the real embedded FalkorDB: four states with who and when, one active
alert per (type, subject) under concurrent triggers, auto-clear, region propagation."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.monitoring.alerts import (
    AlertFeed,
    AlertFilter,
    Alerts,
    AlertType,
    Change,
    Finding,
    Severity,
    Status,
    active_key,
)
from hub.projects.financing import region_tree
from tests.hub import handbuilt

pytestmark = pytest.mark.anyio
T0 = dt.datetime(2025, 6, 16, 2, 0, tzinfo=dt.UTC)


async def _service(store: FalkorDBStore) -> Alerts:
    await handbuilt.build(store)
    alerts = Alerts(store, AlertFeed())
    alerts.tree = await region_tree(store)
    alerts.project_regions = {handbuilt.P1: "330106", handbuilt.P2: "330203"}
    return alerts


def _idle(project: str = handbuilt.P1, severity: Severity = Severity.MAJOR) -> Finding:
    return Finding(AlertType.PROJECT_IDLE, project, severity, "no activity", project_code=project)


async def test_ten_concurrent_triggers_make_exactly_one_active_alert(store: FalkorDBStore) -> None:
    alerts = await _service(store)
    sub = alerts.feed.subscribe()
    results = await asyncio.gather(*(alerts.raise_all([_idle()], T0) for _ in range(10)))
    assert sum(len(r) for r in results) == 1  # one call opened it; nine found it active
    active = await alerts.list(
        AlertFilter(statuses=(Status.ACTIVE_UNACK, Status.ACTIVE_ACK)), limit=100
    )
    assert len(active) == 1
    assert active[0].occurrences == 10
    assert active[0].regions == ("330106", "330100", "330000")
    event = await asyncio.wait_for(anext(sub), 1)
    assert (event.change, event.alert.id) == (Change.RAISED, active[0].id)
    # Concurrent triggers of different subjects open one each.
    other = [_idle(handbuilt.P2)] * 5
    await asyncio.gather(*(alerts.raise_all(other[:1], T0) for _ in other))
    assert await alerts.count(AlertFilter(types=(AlertType.PROJECT_IDLE,))) == 2


async def test_four_states_with_who_and_when(store: FalkorDBStore) -> None:
    alerts = await _service(store)
    first = await alerts.raise_one(_idle(), T0)
    assert first.status is Status.ACTIVE_UNACK and first.acknowledged_by is None
    t1 = T0 + dt.timedelta(minutes=5)
    acked = await alerts.acknowledge(first.id, "monitor:zhang", t1)
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == (
        Status.ACTIVE_ACK, "monitor:zhang", t1,
    )  # fmt: skip
    again = await alerts.acknowledge(first.id, "monitor:li", t1 + dt.timedelta(minutes=1))
    assert again.acknowledged_by == "monitor:zhang"  # the first acknowledgement stays
    t2 = T0 + dt.timedelta(hours=1)
    [cleared] = await alerts.clear_keys(
        [active_key(AlertType.PROJECT_IDLE, handbuilt.P1)], t2, "ok"
    )
    assert (cleared.alert.status, cleared.alert.cleared_at) == (Status.CLEARED_ACK, t2)
    # The condition returns: a new alert, the old one stays as history.
    second = await alerts.raise_one(_idle(), t2 + dt.timedelta(hours=1))
    assert second.id != first.id and second.status is Status.ACTIVE_UNACK
    by_hand = await alerts.clear(second.id, "operator:wang", t2 + dt.timedelta(hours=2))
    assert (by_hand.status, by_hand.cleared_by) == (Status.CLEARED_UNACK, "operator:wang")
    late = await alerts.acknowledge(second.id, "monitor:zhang", t2 + dt.timedelta(hours=3))
    assert late.status is Status.CLEARED_ACK
    history = await alerts.list(AlertFilter(project_code=handbuilt.P1), limit=10)
    assert [a.id for a in history] == [second.id, first.id]  # newest first


async def test_reconcile_raises_new_and_clears_ended_within_its_scope(
    store: FalkorDBStore,
) -> None:
    alerts = await _service(store)
    await alerts.raise_all([_idle(handbuilt.P1), _idle(handbuilt.P2)], T0)
    raised, cleared = await alerts.reconcile(
        AlertType.PROJECT_IDLE, [], T0, subjects=[handbuilt.P1]
    )
    assert raised == [] and [e.alert.subject for e in cleared] == [handbuilt.P1]
    assert await alerts.active_subjects(AlertType.PROJECT_IDLE) == {handbuilt.P2}
    # Region propagation: Ningbo's screen sees P2's alert, Hangzhou's does not.
    assert await alerts.count(AlertFilter(region="330200")) == 1
    in_hangzhou = await alerts.list(AlertFilter(region="330100"), limit=10)
    assert [a.status for a in in_hangzhou] == [Status.CLEARED_UNACK]
    ningbo = alerts.feed.subscribe("330200")
    hangzhou = alerts.feed.subscribe("330100")
    await alerts.reconcile(AlertType.PROJECT_IDLE, [_idle(handbuilt.P1)], T0)
    event = await asyncio.wait_for(anext(hangzhou), 1)
    assert event.alert.project_code == handbuilt.P1
    cleared_p2 = await asyncio.wait_for(anext(ningbo), 1)
    assert (cleared_p2.change, cleared_p2.alert.subject) == (Change.CLEARED, handbuilt.P2)
