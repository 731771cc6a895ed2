"""No loss, no double count: SIGKILL the ingest worker mid-stream, or restart the broker.

The worker runs as a real subprocess (``python -m connectors.worker``) against a real Mosquitto
with persistence on. Redeliveries are expected; the store must absorb them, so afterwards every
published reading is stored exactly once and the daily rollups add up to what was sent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from tests.broker import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
N = 1200
SENSORS = [f"pwr-nl{i}" for i in range(4)]
PROJECT = "2024-330102-04-01-00001X"


class Worker:
    def __init__(self, tmp: Path, broker: Mosquitto) -> None:
        self.tmp = tmp
        self.db = tmp / "telemetry.db"
        self.sensors = tmp / "sensors.json"
        self.sensors.write_text(
            json.dumps([{"id": s, "kind": "power", "project_code": PROJECT} for s in SENSORS])
        )
        self.broker = broker
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "HUB_TELEMETRY_LABOR_SALT": "x", "PYTHONPATH": str(ROOT)}
        log = (self.tmp / f"worker-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "connectors.worker", "--db", str(self.db),
                "--mqtt-url", self.broker.url, "--client-id", "no-loss-worker",
                "--sensors", str(self.sensors), "--no-republish",
                "--batch-size", "100", "--linger-ms", "5",
                "--stats", str(self.tmp / f"stats-{self.starts}.json"),
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.starts += 1

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0

    def wait_connected(self, timeout: float = 180) -> None:  # a ceiling: idle, ~3 s
        """Until this run's stats say it is subscribed (its signal handlers are in place)."""
        path = self.tmp / f"stats-{self.starts - 1}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if json.loads(path.read_text())["connected"]:
                    return
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)
        raise AssertionError("the worker did not connect")

    def duplicates(self) -> int:
        """Redelivered readings each run found already stored (from its stats file)."""
        total = 0
        for path in self.tmp.glob("stats-*.json"):
            total += int(json.loads(path.read_text())["duplicate"])
        return total

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
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
def worker(tmp_path: Path, broker: Mosquitto) -> Iterator[Worker]:
    w = Worker(tmp_path, broker)
    yield w
    w.stop()


def _payload(i: int) -> tuple[str, bytes]:
    # Sensor i % 4 reports every 15 min, ending a few hours ago: all in the past, none repeated.
    base = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(days=4)
    ts = base + dt.timedelta(minutes=15 * (i // len(SENSORS)))
    body = {"ts": ts.isoformat(), "metric": "energy_kwh", "value": 1 + i % 7, "unit": "kWh"}
    return f"hub/v1/power/{SENSORS[i % len(SENSORS)]}", json.dumps(body).encode()


def _publish_all(port: int, on_progress: Callable[[int], None]) -> list[int]:
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
            topic, body = _payload(i)
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
    deadline = time.monotonic() + 120  # a ceiling; idle: under a second
    while worker.stored() == 0 and not worker.db.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # subscribed: the persistent session now exists on the broker
    marks = {N // 3: 1, 2 * N // 3: 2}
    hits: list[int] = []

    def progress(sent: int) -> None:
        if sent in marks:
            hits.append(marks[sent])

    acked: list[int] = []
    thread = threading.Thread(
        target=lambda: acked.extend(_publish_all(worker.broker.port, progress))
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


def test_no_loss_when_the_worker_is_killed_twice(worker: Worker) -> None:
    def kill_and_restart(n: int) -> None:
        worker.kill()
        time.sleep(0.3)
        worker.start()

    _run(worker, kill_and_restart)
    assert worker.starts == 3


def test_no_loss_when_the_broker_restarts_twice(worker: Worker) -> None:
    def restart_broker(n: int) -> None:
        worker.broker.stop()
        time.sleep(0.3)
        worker.broker.start()

    _run(worker, restart_broker)
    assert worker.process is not None and worker.process.poll() is None


def test_sigterm_commits_and_acknowledges_in_flight_batches(worker: Worker) -> None:
    # A graceful stop finishes the batch being committed and sends its acknowledgements before
    # disconnecting: the broker then redelivers only what was never committed, so the restarted
    # worker finds no duplicates (a SIGKILL leaves committed-but-unacknowledged readings).
    def terminate_and_restart(n: int) -> None:
        worker.wait_connected()
        worker.terminate()
        worker.start()

    _run(worker, terminate_and_restart)
    assert worker.starts == 3
    worker.wait_connected()
    worker.terminate()
    assert worker.duplicates() == 0
