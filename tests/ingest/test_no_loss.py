"""No loss, no double count: SIGKILL the ingest worker mid-stream, or restart the broker.

The worker is ``hub ingest`` in a real subprocess, configured by its environment as in
production (tests/ingest/workers.py), against a real Mosquitto with persistence on and sensors
from a seeded graph. Redeliveries are expected; the store must absorb them, so afterwards every
published reading is stored exactly once and the daily rollups add up to what was sent.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from tests.broker import Mosquitto
from tests.ingest.workers import HubWorker

pytestmark = pytest.mark.anyio  # the seeded graph is an async session fixture

N = 1200


class Worker(HubWorker):
    """One ``hub ingest`` worker, started and stopped again by the test, on one SQLite file."""

    def __init__(self, tmp: Path, graph: Path, sensors: list[str], broker: Mosquitto) -> None:
        self.db = tmp / "telemetry.db"
        super().__init__(
            "no-loss-worker",
            tmp,
            graph,
            mqtt_url=broker.url,
            telemetry_url=f"sqlite:///{self.db}",
            group=None,
            extra={
                "HUB_MQTT_REPUBLISH": "false",
                "HUB_TELEMETRY_BATCH_SIZE": "100",
                "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
                "HUB_ALERTS_ENABLED": "false",
                "HUB_LOG_FORMAT": "json",
            },
        )
        self.sensors = sensors
        self.broker = broker

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0, self.log()

    def totals(self, run: int) -> dict[str, int] | None:
        """What run ``run`` ingested, from the line ``hub ingest`` logs once it has stopped."""
        path = self.data.parent / f"{self.name}-{run}.log"
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"ingest"' in line:
                entry = json.loads(line)
                if isinstance(entry.get("ingest"), dict):
                    return dict(entry["ingest"])
        return None

    def duplicates(self) -> int:
        """Redelivered readings the runs stopped gracefully found already stored."""
        return sum(int(t["duplicate"]) for r in range(self.starts) if (t := self.totals(r)))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stored(self) -> int:
        if not self.db.exists():
            return 0
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not migrated yet
        finally:
            conn.close()


@pytest.fixture
def worker(
    tmp_path: Path, broker: Mosquitto, meter_graph: tuple[Path, list[str]]
) -> Iterator[Worker]:
    graph, sensors = meter_graph
    w = Worker(tmp_path, graph, sensors, broker)
    yield w
    w.stop()


def _payload(i: int, sensors: list[str]) -> tuple[str, bytes]:
    # Sensor i % 4 reports every 15 min, ending a few hours ago: all in the past, none repeated.
    base = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(days=4)
    ts = base + dt.timedelta(minutes=15 * (i // len(sensors)))
    body = {"ts": ts.isoformat(), "metric": "energy_kwh", "value": 1 + i % 7, "unit": "kWh"}
    return f"hub/v1/power/{sensors[i % len(sensors)]}", json.dumps(body).encode()


def _publish_all(port: int, sensors: list[str], on_progress: Callable[[int], None]) -> list[int]:
    """Publish N readings at QoS 1; return the packet ids the broker acknowledged."""
    client = Client(CallbackAPIVersion.VERSION2, client_id="no-loss-pub", clean_session=False)
    acked: set[int] = set()
    # A message published while the broker is down is queued by paho and sent on reconnect;
    # its MQTTMessageInfo keeps the NO_CONN code, so count PUBACKs instead.
    client.on_publish = lambda c, u, mid, rc, p: acked.add(mid)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    mids: list[int] = []
    try:
        for i in range(N):
            topic, body = _payload(i, sensors)
            mids.append(client.publish(topic, body, qos=1).mid)
            on_progress(i + 1)
            time.sleep(0.0015)
        deadline = time.monotonic() + 60
        while not acked.issuperset(mids) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    return [mid for mid in mids if mid in acked]


def _run(worker: Worker, disrupt: Callable[[int], None]) -> None:
    worker.start()
    worker.wait_subscribed()  # the persistent session now exists on the broker
    marks = {N // 3: 1, 2 * N // 3: 2}
    hits: list[int] = []

    def progress(sent: int) -> None:
        if sent in marks:
            hits.append(marks[sent])

    acked: list[int] = []
    thread = threading.Thread(
        target=lambda: acked.extend(_publish_all(worker.broker.port, worker.sensors, progress))
    )
    thread.start()
    done = 0
    while thread.is_alive() or done < len(hits):
        if done < len(hits):
            disrupt(hits[done])
            done += 1
        time.sleep(0.01)
    thread.join()
    assert done == 2, "both disruptions happened mid-stream"
    assert len(acked) == N, "the broker acknowledged every publication"
    deadline = time.monotonic() + 30
    while worker.stored() < N and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # anything still arriving would be a duplicate; give it the chance

    conn = sqlite3.connect(worker.db)
    try:
        distinct = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT sensor_id, metric, ts_ms FROM readings)"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        total = conn.execute("SELECT sum(value) FROM readings").fetchone()[0]
        rolled = conn.execute("SELECT sum(value), sum(samples) FROM daily").fetchone()
    finally:
        conn.close()
    assert distinct == N
    assert rows - distinct == 0  # duplicates stored
    expected = sum(1 + i % 7 for i in range(N))
    assert total == expected
    assert rolled == (expected, N), "a redelivery was rolled up twice"


async def test_no_loss_when_the_worker_is_killed_twice(worker: Worker) -> None:
    def kill_and_restart(n: int) -> None:
        worker.kill()
        time.sleep(0.3)
        worker.start()

    _run(worker, kill_and_restart)
    assert worker.starts == 3


async def test_no_loss_when_the_broker_restarts_twice(worker: Worker) -> None:
    def restart_broker(n: int) -> None:
        worker.broker.stop()
        time.sleep(0.3)
        worker.broker.start()

    _run(worker, restart_broker)
    assert worker.process is not None and worker.process.poll() is None


async def test_sigterm_commits_and_acknowledges_in_flight_batches(worker: Worker) -> None:
    # A graceful stop finishes the batch being committed and sends its acknowledgements before
    # disconnecting: the broker then redelivers only what was never committed, so the restarted
    # worker finds no duplicates (a SIGKILL leaves committed-but-unacknowledged readings).
    def terminate_and_restart(n: int) -> None:
        worker.wait_subscribed()
        worker.terminate()
        worker.start()

    _run(worker, terminate_and_restart)
    assert worker.starts == 3
    worker.wait_subscribed()
    worker.terminate()
    assert worker.duplicates() == 0
