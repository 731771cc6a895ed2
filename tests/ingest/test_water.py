"""The water-meter feed end to end, once per telemetry store (SQLite, PostgreSQL): MQTT through
a real Mosquitto into the hub's own wiring, then GraphQL's daily m³ per project. A malformed
water message is dead-lettered with its stable code and ingest goes on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors import water
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import Sensor
from graph_schema.writer import upsert
from hub.app import create_app
from hub.settings import load_settings
from hub.telemetry import open_telemetry
from ingest.model import Reason
from tests.broker import Mosquitto
from tests.hub.apps import started
from tests.ingest.conftest import Stores
from tests.ingest.helpers import demo_sensors, eventually, publisher

pytestmark = pytest.mark.anyio
SH = ZoneInfo("Asia/Shanghai")

WATER = """
query ($code: String!, $from: DateTime!, $to: DateTime!) {
  project(code: $code) {
    monitoring(from: $from, to: $to) {
      water { day value }
      daily { sensorId kind metric day value }
    }
  }
}"""


def reading(ts: dt.datetime, metric: str, value: float, unit: str = "m3") -> bytes:
    return json.dumps(
        {"ts": ts.isoformat(), "metric": metric, "value": value, "unit": unit}
    ).encode()


async def test_water_meters_from_mqtt_to_the_daily_total_in_graphql(
    broker: Mosquitto, sensor_graph: FalkorDBStore, stores: Stores, tmp_path: Path
) -> None:
    # Two water meters on a demo project that has a power meter: one reports interval
    # volumes, the other its register. The graph is shared: new sensor ids only.
    [power_meter] = await demo_sensors(sensor_graph, "power", 1)
    project = power_meter.project_code
    assert project is not None
    tag = uuid.uuid4().hex[:8]
    volume_id, register_id = f"wtr-{tag}-1", f"wtr-{tag}-2"
    meters = [
        Sensor(id=sid, kind=water.KIND, project_code=project, unit=water.UNIT)
        for sid in (volume_id, register_id)
    ]
    await upsert(sensor_graph, "sensor", meters)
    settings = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path),
            "HUB_TELEMETRY_URL": stores.url(),
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"ingest-water-{tag}",
            "HUB_MQTT_REPUBLISH": "false",
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_CAMERA_ENABLED": "false",
            "HUB_AUTH_ANONYMOUS_ROLE": "monitor",
            # The app below starts through its lifespan: no watch on the shared graph.
            "HUB_ALERTS_ENABLED": "false",
        }
    )
    telemetry = await open_telemetry(settings, sensor_graph)
    pub = publisher(broker.port, client_id=f"water-publisher-{tag}")
    try:
        assert telemetry.ingest is not None
        await asyncio.wait_for(telemetry.ingest.connected.wait(), 10)
        await asyncio.sleep(0.2)  # the subscription is in place once SUBACK is back
        # Yesterday in Shanghai: a complete local day, whenever the test runs.
        day = dt.datetime.now(SH).date() - dt.timedelta(days=1)

        def at(hour: int, minute: int = 0) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(hour, minute), SH)

        volume, register = f"hub/v1/water/{volume_id}", f"hub/v1/water/{register_id}"
        pub.publish(volume, reading(at(8, 15), "volume_m3", 2.5), qos=1)
        pub.publish(volume, reading(at(9, 15), "volume_m3", 4.0), qos=1)
        pub.publish(register, reading(at(8), "register_m3", 1000.0), qos=1)
        # Malformed: not JSON, then a volume in litres; neither stops ingest.
        pub.publish(volume, b"{not json", qos=1)
        pub.publish(volume, reading(at(10, 15), "volume_m3", 1500.0, unit="L"), qos=1)
        pub.publish(volume, reading(at(11, 15), "volume_m3", 1.5), qos=1)
        pub.publish(register, reading(at(17), "register_m3", 1012.0), qos=1)
        counters = telemetry.pipeline.counters
        await eventually(lambda: counters.acked == 7, what="7 messages committed")
        assert (counters.stored, counters.dead_lettered) == (5, 2)
        letters = await telemetry.store.dead_letters()
        assert sorted((d.code, d.source) for d in letters) == sorted(
            [(Reason.UNDECODABLE, volume), (Reason.INVALID, volume)]
        )
        assert b"{not json" in {d.payload for d in letters}

        app = create_app(settings, store=sensor_graph, telemetry=telemetry)
        async with started(app) as client:
            window = {
                "from": at(0).isoformat(),
                "to": (at(0) + dt.timedelta(days=1)).isoformat(),
            }
            response = await client.post(
                "/graphql", json={"query": WATER, "variables": {"code": project, **window}}
            )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        monitoring = body["data"]["project"]["monitoring"]
        # 2.5 + 4.0 + 1.5 m³ of interval volume, and 12 m³ on the register.
        assert monitoring["water"] == [{"day": day.isoformat(), "value": 20.0}]
        daily = {
            (d["sensorId"], d["metric"]): (d["kind"], d["value"])
            for d in monitoring["daily"]
            if d["kind"] == "WATER"
        }
        assert daily == {
            (volume_id, "volume_m3"): ("WATER", 8.0),
            (register_id, "register_m3"): ("WATER", 12.0),
        }
    finally:
        pub.loop_stop()
        pub.disconnect()
        await telemetry.close()
