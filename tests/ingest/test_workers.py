"""Several ``hub ingest`` workers on one shared subscription and one telemetry store.

Consecutive readings of one meter reach different workers (the broker deals a shared group's
messages round robin), so each rollup pair spans two processes' commits. Every daily row must
equal a recomputation from the stored raw readings, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Mosquitto
from tests.ingest.conftest import Stores
from tests.ingest.helpers import publisher
from tests.ingest.workers import HubWorker, rollup_mismatches, stored_readings, traffic

pytestmark = pytest.mark.anyio

METRICS = ("demand_kw", "register_kwh", "energy_kwh")


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.mark.parametrize("workers", [2])
async def test_rollups_stay_exact_with_several_workers(
    stores: Stores,
    tmp_path: Path,
    mosquitto: Mosquitto,
    worker_graph: tuple[Path, list[str]],
    workers: int,
) -> None:
    graph, sensors = worker_graph
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
