"""Partitioned workers through a real Mosquitto: the broker splits the feed.

Each worker subscribes to ``hub/v1/+/<sensor>`` for its share of the registered sensors, so it
receives only its share (with the former whole-feed subscription every worker received every
message and acknowledged the others' unread: two workers drained at 0.42 of one). The split
survives a broker restart (plain persistent subscriptions, which Mosquitto restores), and a
sensor registered later is picked up by its owner when the registry is read again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from connectors import feeds
from ingest.model import SensorInfo
from ingest.mqtt import MqttConfig, MqttIngest, partition_of
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.broker import Mosquitto
from tests.ingest.conftest import SALT
from tests.ingest.helpers import eventually, publisher

pytestmark = pytest.mark.anyio

SENSORS = [f"pwr-split-{i:02d}" for i in range(16)]


def reading(ts: dt.datetime, value: float) -> bytes:
    body = {"ts": ts.isoformat(), "metric": "energy_kwh", "value": value, "unit": "kWh"}
    return json.dumps(body).encode()


@asynccontextmanager
async def workers(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore, registry: StaticSensors
) -> AsyncIterator[list[MqttIngest]]:
    out = []
    for k in range(2):
        pipeline = Pipeline(telemetry, registry, feeds.decoders(labor_salt=SALT))
        config = MqttConfig.from_url(
            broker.url, client_id=f"split-{k + 1}", partition=(k, 2), partition_refresh_s=3600
        )
        out.append(MqttIngest(pipeline, config, linger_s=0.005))
    runners = [asyncio.create_task(w.run()) for w in out]
    try:
        for w in out:
            # Connected means the broker granted the partition's subscriptions.
            await asyncio.wait_for(w.connected.wait(), 30)
        yield out
    finally:
        for w in out:
            w.stop()
        await asyncio.gather(*runners)


async def test_the_broker_sends_each_worker_its_share_across_a_restart(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore
) -> None:
    registry = StaticSensors({s: SensorInfo(s, "power", "P-SPLIT") for s in SENSORS})
    owner = {s: partition_of(s, 2) for s in SENSORS}
    share = [sum(1 for s in SENSORS if owner[s] == k) for k in range(2)]
    assert all(share), share  # both partitions hold meters
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    pub = publisher(broker.port, "split-gateway")
    try:
        async with workers(broker, telemetry, registry) as (one, two):
            assert (one.partition_topics, two.partition_topics) == tuple(share)
            for i in range(3):
                for s in SENSORS:
                    ts = now + dt.timedelta(minutes=i)
                    pub.publish(f"hub/v1/power/{s}", reading(ts, 1.0 + i), qos=1).wait_for_publish()
            total = 3 * len(SENSORS)
            await eventually(
                lambda: one.pipeline.counters.acked + two.pipeline.counters.acked == total,
                timeout=60,
                what="every reading committed",
            )
            # Each worker received its share and nothing else.
            assert [w.pipeline.counters.stored for w in (one, two)] == [3 * n for n in share]
            assert (one.other_partitions, two.other_partitions) == (0, 0)

            # A graceful restart: the sessions come back with their per-sensor subscriptions,
            # so what is published before the workers reconnect is queued for its owner.
            pub.loop_stop()
            pub.disconnect()
            broker.stop()
            broker.start()
            pub = publisher(broker.port, "split-gateway")
            later = now + dt.timedelta(minutes=10)
            for s in SENSORS:
                pub.publish(f"hub/v1/power/{s}", reading(later, 5.0), qos=1).wait_for_publish()
            total += len(SENSORS)
            await eventually(
                lambda: one.pipeline.counters.acked + two.pipeline.counters.acked == total,
                timeout=60,
                what="readings published across the restart committed",
            )
            assert [w.pipeline.counters.stored for w in (one, two)] == [4 * n for n in share]
            assert (one.other_partitions, two.other_partitions) == (0, 0)

            # A sensor registered later: its owner subscribes when it reads the registry
            # again (refresh_partition returns once the broker granted it).
            new = "pwr-split-late"
            registry.add(SensorInfo(new, "power", "P-SPLIT"))
            mine = partition_of(new, 2)
            added = [await w.refresh_partition() for w in (one, two)]
            assert added == [1 if k == mine else 0 for k in range(2)]
            pub.publish(f"hub/v1/power/{new}", reading(later, 7.0), qos=1).wait_for_publish()
            total += 1
            owner_of_new = (one, two)[mine]
            await eventually(
                lambda: owner_of_new.pipeline.counters.stored == 4 * share[mine] + 1,
                timeout=30,
                what="the new sensor's reading stored by its owner",
            )
            assert (one, two)[1 - mine].pipeline.counters.stored == 4 * share[1 - mine]
        assert (await telemetry.counts()).readings == total
    finally:
        pub.loop_stop()
        pub.disconnect()


def split_worker(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore, registry: StaticSensors, k: int
) -> MqttIngest:
    pipeline = Pipeline(telemetry, registry, feeds.decoders(labor_salt=SALT))
    config = MqttConfig.from_url(
        broker.url,
        client_id=f"split-{k + 1}",
        partition=(k, 2),
        partition_refresh_s=3600,
        adopt_after_s=0.2,
    )
    return MqttIngest(pipeline, config, linger_s=0.005)


async def test_a_stopped_workers_share_is_adopted_until_it_returns(
    broker: Mosquitto, telemetry: SQLiteTelemetryStore
) -> None:
    registry = StaticSensors({s: SensorInfo(s, "power", "P-SPLIT") for s in SENSORS})
    share = [sum(1 for s in SENSORS if partition_of(s, 2) == k) for k in range(2)]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    one, two = (split_worker(broker, telemetry, registry, k) for k in range(2))
    tasks = {w: asyncio.create_task(w.run()) for w in (one, two)}
    pub = publisher(broker.port, "adopt-gateway")
    try:
        for w in (one, two):
            await asyncio.wait_for(w.connected.wait(), 30)
        # Worker 2 stops (its status says down); worker 1 adopts its session after the delay.
        two.stop()
        await tasks.pop(two)
        await eventually(
            lambda: one.adopted_partitions == ["2/2"], timeout=30, what="partition 2 adopted"
        )
        for s in SENSORS:
            pub.publish(f"hub/v1/power/{s}", reading(now, 1.0), qos=1).wait_for_publish()
        await eventually(
            lambda: one.pipeline.counters.stored == len(SENSORS),
            timeout=30,
            what="both shares stored by the live worker",
        )
        # Worker 2 returns: its connection takes the session back, the adopter ends.
        back = split_worker(broker, telemetry, registry, 1)
        tasks[back] = asyncio.create_task(back.run())
        await asyncio.wait_for(back.connected.wait(), 30)
        await eventually(
            lambda: one.adopted_partitions == [], timeout=30, what="partition 2 handed back"
        )
        later = now + dt.timedelta(minutes=1)
        for s in SENSORS:
            pub.publish(f"hub/v1/power/{s}", reading(later, 2.0), qos=1).wait_for_publish()
        await eventually(
            lambda: (
                back.pipeline.counters.stored == share[1]
                and one.pipeline.counters.stored == len(SENSORS) + share[0]
            ),
            timeout=30,
            what="each share stored by its own worker again",
        )
        assert (await telemetry.counts()).readings == 2 * len(SENSORS)
    finally:
        pub.loop_stop()
        pub.disconnect()
        for w in tasks:
            w.stop()
        await asyncio.gather(*tasks.values())
