"""A camera alert says when its condition began: readings of the same state that keep coming
(every interval while a camera stays offline) do not move the "since" of its message."""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.monitoring.alerts import AlertFilter, AlertType
from hub.monitoring.watch import Watch
from ingest.bus import ReadingEvent
from tests.hub import sites
from tests.hub.sites import LOW, D
from tests.hub.test_fusion import ACTIVE, watch

pytestmark = pytest.mark.anyio
__all__ = ["watch"]  # the fixture, shared with test_fusion


async def test_the_since_of_a_camera_alert_is_when_the_state_began(
    watch: Watch, store: FalkorDBStore
) -> None:
    await watch.refresh()
    start = sites.noon(D)
    for minutes in (0, 1, 2, 10):
        event = ReadingEvent(
            "camera", "cam-low-1", LOW, "camera_health", start + minutes * 60_000, 1.0, "code"
        )
        await watch.on_reading(event)
    active = await watch.alerts.list(
        AlertFilter(types=(AlertType.CAMERA_HEALTH,), subject="cam-low-1", statuses=ACTIVE),
        limit=5,
    )
    began = dt.datetime.fromtimestamp(start / 1000, dt.UTC).isoformat()
    assert [a.message for a in active] == [f"camera cam-low-1: offline since {began}"]
    assert active[0].details["since"] == began
    # Another state begins its own "since".
    later = start + 20 * 60_000
    await watch.on_reading(
        ReadingEvent("camera", "cam-low-1", LOW, "camera_health", later, 7.0, "code")
    )
    active = await watch.alerts.list(
        AlertFilter(types=(AlertType.CAMERA_HEALTH,), subject="cam-low-1", statuses=ACTIVE),
        limit=5,
    )
    moved = dt.datetime.fromtimestamp(later / 1000, dt.UTC).isoformat()
    assert [a.message for a in active] == [f"camera cam-low-1: moved since {moved}"]
