"""Faults on the write path: the telemetry store fills up mid-stream.

SQLite's ``max_page_count`` makes the real database file full (SQLITE_FULL on the next commit),
which is what a full disk looks like to ingest. Ingest must stop acknowledging (so the broker
keeps every message), say why, and store everything once there is room again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from ingest.mqtt import MqttConfig, MqttIngest
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.broker import Mosquitto
from tests.ingest.conftest import SALT
from tests.ingest.helpers import demo_sensors, eventually, publisher

pytestmark = pytest.mark.anyio


async def _set_max_pages(store: SQLiteTelemetryStore, pages: int | None) -> None:
    def run() -> None:
        assert store._wconn is not None
        if pages is None:
            store._wconn.execute("PRAGMA max_page_count = 1073741823")
        else:
            current = store._wconn.execute("PRAGMA page_count").fetchone()[0]
            store._wconn.execute(f"PRAGMA max_page_count = {current + pages}")

    await store._write(run)


async def test_a_full_store_stops_acknowledgements_and_loses_nothing(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore, sensor_graph: FalkorDBStore
) -> None:
    [meter] = await demo_sensors(sensor_graph, "power", 1)
    pipeline = Pipeline(telemetry, GraphSensors(sensor_graph), feeds.decoders(labor_salt=SALT))
    config = MqttConfig.from_url(broker.url, client_id="ingest-full", reconnect_min_s=0.1)
    ingest = MqttIngest(pipeline, config, linger_s=0.005, republish=False)
    runner = asyncio.create_task(ingest.run())
    pub = publisher(broker.port, client_id="full-pub")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
    try:
        await asyncio.wait_for(ingest.connected.wait(), 10)
        await asyncio.sleep(0.2)
        await _set_max_pages(telemetry, 0)  # no room for one more page
        n = 300
        for i in range(n):
            body = {"ts": (start + dt.timedelta(minutes=i)).isoformat(), "metric": "energy_kwh",
                    "value": 1.0, "unit": "kWh"}  # fmt: skip
            pub.publish(f"hub/v1/power/{meter.id}", json.dumps(body).encode(), qos=1)
        await eventually(lambda: ingest.error is not None, what="the commit failing")
        assert "full" in (ingest.error or "").lower(), ingest.error
        await asyncio.sleep(1.0)
        # A first small batch may still fit in the file's last page; after that nothing is
        # committed, and nothing is acknowledged that was not committed.
        stuck = pipeline.counters.acked
        assert stuck < n and (await telemetry.counts()).readings == stuck
        await asyncio.sleep(0.5)
        assert pipeline.counters.acked == stuck
        await _set_max_pages(telemetry, None)  # room again: ingest recovers by itself
        await eventually(lambda: pipeline.counters.acked == n, timeout=30, what="all acked")
        assert ingest.error is None
        assert (await telemetry.counts()).readings == n
        assert pipeline.counters.duplicate == 0
    finally:
        ingest.stop()
        await runner
        pub.loop_stop()
        pub.disconnect()
