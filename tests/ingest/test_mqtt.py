"""Through a real Mosquitto: publish → commit → query, dead letters, replay, live bus, republish;
and once through the hub's wiring into PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import Sensor
from graph_schema.writer import upsert
from hub.settings import load_settings
from hub.telemetry import open_telemetry
from ingest.bus import EventFilter, LiveBus, ReadingEvent, RollupEvent
from ingest.model import Reason
from ingest.mqtt import MqttConfig, MqttIngest
from ingest.pipeline import Pipeline
from ingest.postgres_store import PostgresTelemetryStore
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import Bucket
from tests.broker import Mosquitto
from tests.ingest.conftest import SALT, Stores
from tests.ingest.helpers import collector, demo_sensors, eventually, publisher

pytestmark = pytest.mark.anyio


def reading(ts: dt.datetime, value: float, metric: str = "energy_kwh", unit: str = "kWh") -> bytes:
    return json.dumps(
        {"ts": ts.isoformat(), "metric": metric, "value": value, "unit": unit}
    ).encode()


async def test_publish_commit_query_dead_letters_and_replay(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore, sensor_graph: FalkorDBStore
) -> None:
    [meter] = await demo_sensors(sensor_graph, "power", 1)
    late = f"pwr-late-{uuid.uuid4().hex[:8]}"
    bus = LiveBus()
    pipeline = Pipeline(
        telemetry, GraphSensors(sensor_graph), feeds.decoders(labor_salt=SALT), bus=bus
    )
    ingest = MqttIngest(
        pipeline, MqttConfig.from_url(broker.url, client_id="ingest-e2e"), linger_s=0.005
    )
    assert meter.project_code is not None
    feed = bus.subscribe(EventFilter(project_codes=frozenset({meter.project_code})))
    watcher, republished = collector(broker.port, "hub/v1/events/#")
    runner = asyncio.create_task(ingest.run())
    pub = publisher(broker.port)
    try:
        await asyncio.wait_for(ingest.connected.wait(), 10)
        await asyncio.sleep(0.2)  # the subscription is in place once SUBACK is back
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        topic = f"hub/v1/power/{meter.id}"
        for i in range(5):
            pub.publish(topic, reading(now - dt.timedelta(minutes=15 * (5 - i)), 1.0 + i), qos=1)
        bad = [
            (topic, b"{not json"),
            (f"hub/v1/power/{late}", reading(now - dt.timedelta(minutes=5), 9.0)),
            (topic, reading(now - dt.timedelta(minutes=1), -4.0)),
            (topic, reading(now + dt.timedelta(hours=2), 1.0)),
            (topic, reading(now, 1.0, unit="MWh")),
            (f"hub/v1/labor/{meter.id}", b'{"ts": "2025-01-01T08:00:00+08:00"}'),
        ]
        for bad_topic, payload in bad:
            pub.publish(bad_topic, payload, qos=1)
        # Valid traffic after the bad messages still flows, in a ThingsBoard-style batch.
        tb = {"ts": int(now.timestamp() * 1000), "values": {"energy_kwh": 0.5, "demand_kw": 40}}
        pub.publish(topic, json.dumps([tb]).encode(), qos=1)

        # Acknowledged means committed (a batch is decoded while the one before commits, so
        # "received" alone does not mean stored yet).
        await eventually(lambda: pipeline.counters.acked == 12, what="12 messages committed")
        start = now - dt.timedelta(days=1)
        end = now + dt.timedelta(minutes=1)
        points = await telemetry.series(
            start=start, end=end, bucket=Bucket.MIN15, sensor_ids=[meter.id]
        )
        assert sum(p.count for p in points) == 7
        assert sum(p.total for p in points if p.metric == "energy_kwh") == 1 + 2 + 3 + 4 + 5 + 0.5
        letters = await telemetry.dead_letters()
        assert sorted(d.code for d in letters) == sorted(
            [
                Reason.UNDECODABLE,
                Reason.UNKNOWN_SENSOR,
                Reason.OUT_OF_RANGE,
                Reason.FUTURE,
                Reason.INVALID,
                Reason.KIND_MISMATCH,
            ]
        )
        assert {d.payload for d in letters} >= {b"{not json"}
        c = pipeline.counters
        assert (c.stored, c.duplicate, c.dead_lettered) == (7, 0, 6)
        await eventually(lambda: c.acked == 12, what="every message acknowledged")

        # The live bus saw every committed reading and the rollups; MQTT got them republished.
        events = [feed._queue[i] for i in range(feed.pending())]
        assert sum(isinstance(e, ReadingEvent) for e in events) == 7
        assert any(isinstance(e, RollupEvent) and e.metric == "energy_kwh" for e in events)
        await eventually(lambda: len(republished) >= 7, what="republished events")
        topics = {t for t, _ in republished}
        assert f"hub/v1/events/power/{meter.id}" in topics
        assert f"hub/v1/events/power/{meter.id}/daily" in topics

        # Replaying before the cause is fixed changes nothing; after registering, stores once.
        again = await pipeline.replay(code=Reason.UNKNOWN_SENSOR)
        assert (again.replayed, again.stored, len(again.still_failing)) == ([], 0, 1)
        sensor = Sensor(id=late, kind="power", project_code=meter.project_code)
        await upsert(sensor_graph, "sensor", [sensor])
        fixed = await pipeline.replay(code=Reason.UNKNOWN_SENSOR)
        assert (len(fixed.replayed), fixed.stored, fixed.duplicates) == (1, 1, 0)
        assert (await pipeline.replay(code=Reason.UNKNOWN_SENSOR)).replayed == []
        assert (await pipeline.replay(ids=fixed.replayed)).stored == 0
        stored = await telemetry.series(start=start, end=end, bucket=Bucket.DAY, sensor_ids=[late])
        assert [p.count for p in stored] == [1]
        assert (await telemetry.counts()).readings == 8
        # The registry now knows the sensor, so live traffic for it is stored too.
        pub.publish(f"hub/v1/power/{late}", reading(now, 2.0), qos=1)
        await eventually(lambda: pipeline.counters.acked == 13)
        assert (await telemetry.counts()).readings == 9
    finally:
        ingest.stop()
        await runner
        feed.close()
        pub.loop_stop()
        pub.disconnect()
        watcher.loop_stop()
        watcher.disconnect()


async def test_the_hub_ingests_into_postgresql(
    broker: Mosquitto, sensor_graph: FalkorDBStore, postgres_stores: Stores, tmp_path: Path
) -> None:
    """The hub's own wiring (``open_telemetry`` from settings) with HUB_TELEMETRY_URL naming a
    PostgreSQL database: MQTT in, readings, rollups and dead letters out."""
    [meter] = await demo_sensors(sensor_graph, "power", 1)
    settings = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path),
            "HUB_TELEMETRY_URL": postgres_stores.url(),
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": "ingest-postgres",
            "HUB_MQTT_REPUBLISH": "false",
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_CAMERA_ENABLED": "false",
        }
    )
    telemetry = await open_telemetry(settings, sensor_graph)
    pub = publisher(broker.port, client_id="pg-publisher")
    try:
        assert isinstance(telemetry.store, PostgresTelemetryStore)
        assert telemetry.ingest is not None
        await asyncio.wait_for(telemetry.ingest.connected.wait(), 10)
        await asyncio.sleep(0.2)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        topic = f"hub/v1/power/{meter.id}"
        for i in range(20):
            pub.publish(topic, reading(now - dt.timedelta(minutes=15 * (20 - i)), 0.5), qos=1)
        pub.publish(topic, reading(now - dt.timedelta(minutes=15), 0.5), qos=1)  # a duplicate
        pub.publish(topic, b"{not json", qos=1)
        counters = telemetry.pipeline.counters
        await eventually(lambda: counters.acked == 22, what="22 messages committed")
        assert (counters.stored, counters.duplicate, counters.dead_lettered) == (20, 1, 1)
        counts = await telemetry.store.counts()
        assert (counts.readings, counts.dead_letters_pending) == (20, 1)
        points = await telemetry.store.series(
            start=now - dt.timedelta(days=1), end=now, bucket=Bucket.DAY, sensor_ids=[meter.id]
        )
        assert sum(p.total for p in points) == 10.0
        days = await telemetry.store.daily(
            start=(now - dt.timedelta(days=2)).date(), end=now.date() + dt.timedelta(days=1)
        )
        assert sum(r.value for r in days if r.sensor_id == meter.id) == 10.0
        assert {r.project_code for r in days} == {meter.project_code}
    finally:
        pub.loop_stop()
        pub.disconnect()
        await telemetry.close()
