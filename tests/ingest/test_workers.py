"""Several ``hub ingest`` workers on one shared subscription and one telemetry store.

Consecutive readings of one meter reach different workers (the broker deals a shared group's
messages round robin), so each rollup pair spans two processes' commits. Every daily row must
equal a recomputation from the stored raw readings, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.seed import seed_demo
from tests.broker import Mosquitto
from tests.ingest.conftest import Stores
from tests.ingest.helpers import demo_sensors, publisher
from tests.ingest.workers import HubWorker, payload, rollup_mismatches, stored_readings

pytestmark = pytest.mark.anyio

METRICS = ("demand_kw", "register_kwh", "energy_kwh")


@pytest.fixture(scope="module")
async def seeded_graph(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """One seeded embedded graph, closed (saved) so each worker can start from a copy."""
    path = Path(tmp_path_factory.mktemp("workers")) / "graph"
    graph = await FalkorDBStore.embedded(path)
    try:
        await migrate(graph)
        await seed_demo(graph, "demo")
        sensors = [s.id for s in await demo_sensors(graph, "power", 6)]
    finally:
        await graph.close()
    return path, sensors


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def traffic(sensors: list[str], hours: int) -> list[tuple[str, bytes]]:
    """Demand, register and interval readings every 15 min across local midnights, in time
    order and interleaved across meters, as gateways send them (with demand gaps > 1 h and a
    register that is replaced mid-run)."""
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        hours=hours + 2
    )
    out = []
    register = {s: 1000.0 * (i + 1) for i, s in enumerate(sensors)}
    for step in range(hours * 4):
        ts = start + dt.timedelta(minutes=15 * step)
        for i, sensor in enumerate(sensors):
            topic = f"hub/v1/power/{sensor}"
            if not (i == 0 and 20 <= step < 27):  # meter 0's demand drops out for 1.75 h
                out.append((topic, payload(ts, "demand_kw", 10.0 + (step * 7 + i) % 13)))
            register[sensor] += 2.5 + (step + i) % 4
            if i == 1 and step == 40:
                register[sensor] = 3.0  # a replaced meter counts from zero
            out.append((topic, payload(ts, "register_kwh", round(register[sensor], 3))))
            out.append((topic, payload(ts, "energy_kwh", 1.0 + (step + 3 * i) % 5)))
    return out


@pytest.mark.parametrize("workers", [2])
async def test_rollups_stay_exact_with_several_workers(
    stores: Stores,
    tmp_path: Path,
    mosquitto: Mosquitto,
    seeded_graph: tuple[Path, list[str]],
    workers: int,
) -> None:
    graph, sensors = seeded_graph
    url = stores.url("shared")
    hubs = [
        HubWorker(
            f"ingest-{n}",
            tmp_path,
            graph,
            mqtt_url=mosquitto.url,
            telemetry_url=url,
            # Small batches, so the workers' commits interleave finely.
            extra={"HUB_TELEMETRY_BATCH_SIZE": "20", "HUB_TELEMETRY_BATCH_LATENCY_MS": "2"},
        )
        for n in range(workers)
    ]
    messages = traffic(sensors, hours=30)
    device = publisher(mosquitto.port, client_id="workers-gateway")
    try:
        for hub in hubs:
            hub.start()
        for hub in hubs:
            hub.wait_subscribed()
        for topic, body in messages:
            device.publish(topic, body, qos=1)
        deadline = time.monotonic() + 180
        while stored_readings(url) < len(messages) and time.monotonic() < deadline:
            time.sleep(0.2)
        per_worker = [hub.metrics() or "" for hub in hubs]
    finally:
        device.loop_stop()
        device.disconnect()
        for hub in hubs:
            hub.stop()
    assert stored_readings(url) == len(messages)
    # Every worker took part (the race needs two writers).
    for text in per_worker:
        stored = [
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("hub_ingest_stored_total")
        ]
        assert stored and stored[0] > 0, "a worker stored nothing"
    compared, wrong, examples = rollup_mismatches(url)
    assert compared >= len(sensors) * len(METRICS) * 2  # two local days at least
    assert wrong == 0, examples
