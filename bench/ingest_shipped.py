"""``hub ingest`` as shipped against a bare paho subscriber, draining the same backlog in one run.

Both hold a persistent QoS 1 session on ``hub/v1/+/+`` on one Mosquitto (persistence on, the
shipped autosave lines). With both sessions subscribed and away, publishers put N single-reading
messages on the broker; then each subscriber in turn connects and drains its copy:

- bare: paho-mqtt 2.x, ``on_message`` counts, paho acknowledges (the floor any Python
  subscriber pays);
- ``hub ingest``: the real command in a subprocess with default settings (batch size, linger,
  republishing on, SQLite WAL ``synchronous=FULL``), configured as docker-compose.yml's worker
  (``HUB_MQTT_PARTITION`` unset: one worker takes everything); rate = readings committed
  between the first and the last commit, read from its ``/metrics``.

Then two ``hub ingest`` workers (partitions 1/2 and 2/2: the broker sends each the topics of its
share of the sensors) drain a backlog of the same size together, for the scaling ratio: readings
committed per second while both drain (from both workers' first commit to the first one's last,
so their unequal start-up is not counted; see ``_drain``).

Last, latency as shipped: one ``hub ingest`` (default settings) takes 5,000 msg/s from
``bench/mqtt_publisher.py`` processes (1,000 registered meters, each reading's ``ts`` the moment
it was encoded, ms); a subscriber on ``hub/v1/events/power/#`` times every republished reading:
publish → committed → republished. The machine is shared: CPU used by other processes during
each phase is reported.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.ingest import _machine_ticks, _proc_ticks
from bench.quick import check, province, seed
from bench.registry import Figures, benchmark

ROOT = Path(__file__).resolve().parents[1]
N = 40_000


LATENCY_SENSORS = 1000  # bench/mqtt_publisher.py's meters pwr-b0..pwr-b999


def _seed(graph: Path) -> list[str]:
    from graph_schema.falkordb_store import FalkorDBStore
    from graph_schema.migrations import migrate
    from graph_schema.model import Sensor
    from graph_schema.writer import upsert
    from tests.ingest.helpers import demo_sensors

    async def run() -> list[str]:
        store = await FalkorDBStore.embedded(graph)
        try:
            await migrate(store)
            await seed(store, province(True), quick=True)
            meters = await demo_sensors(store, "power", 200)
            project = meters[0].project_code
            extra = [
                Sensor(id=f"pwr-b{i}", kind="power", project_code=project)
                for i in range(LATENCY_SENSORS)
            ]
            await upsert(store, "sensor", extra)
            return [s.id for s in meters]
        finally:
            await store.close()

    return asyncio.run(run())


def _bare(port: int, connect_only: bool = False) -> tuple[Client, list[float]]:
    seen: list[float] = []
    client = Client(
        CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=MQTTProtocolVersion.MQTTv5
    )

    def on_message(c: Client, u: object, msg: MQTTMessage) -> None:
        seen.append(time.perf_counter())

    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 10_000
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    if connect_only:
        client.subscribe("hub/v1/+/+", qos=1)
    client.loop_start()
    return client, seen


def _publish(port: int, sensors: list[str], n: int, days_back: int) -> None:
    from datetime import UTC, datetime, timedelta

    # Each backlog its own days: a reading already stored would be a duplicate, not counted.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_back)
    client = Client(CallbackAPIVersion.VERSION2, client_id="bench-backlog-pub")
    acked: set[int] = set()
    client.on_publish = lambda c, u, mid, rc, p: acked.add(mid)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    mids = []
    for i in range(n):
        sensor = sensors[i % len(sensors)]
        ts = start + timedelta(seconds=5 * (i // len(sensors)))
        body = {"ts": ts.isoformat(), "metric": "energy_kwh", "value": 0.25, "unit": "kWh"}
        mids.append(client.publish(f"hub/v1/power/{sensor}", json.dumps(body), qos=1).mid)
        while len(mids) - len(acked) > 900:
            time.sleep(0.001)
    while not acked.issuperset(mids):
        time.sleep(0.01)
    client.loop_stop()
    client.disconnect()


class _Hub:
    def __init__(self, tmp: Path, graph: Path, broker_url: str, name: str, extra: dict[str, str]):
        self.data = tmp / name
        shutil.copytree(graph, self.data / "graph")
        sock = __import__("socket").socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HUB_DATA_DIR": str(self.data),
            "HUB_HTTP_PORT": str(self.port),
            "HUB_MQTT_URL": broker_url,
            "HUB_MQTT_CLIENT_ID": name,
            "HUB_TELEMETRY_URL": f"sqlite:///{tmp / 'telemetry.db'}",
            "HUB_TELEMETRY_LABOR_SALT": "bench",
            "HUB_CAMERA_ENABLED": "false",
            **extra,
        }
        self.log = (tmp / f"{name}.log").open("wb")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "ingest"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def metric(self, name: str) -> float | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
        return None

    def wait_connected(self) -> None:
        deadline = time.monotonic() + 180
        while self.metric("hub_broker_connected") != 1.0:
            assert self.process is not None and self.process.poll() is None, "hub ingest died"
            if time.monotonic() > deadline:
                raise RuntimeError("hub ingest did not connect")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)


def _drain(hubs: list[_Hub], shares: list[int]) -> tuple[float, float]:
    """Start the hubs on their backlogs (``shares[i]`` readings for ``hubs[i]``); return
    (readings/s committed while all of them drain, other processes' CPU %).

    The window opens when every hub has committed its first batch and closes when the first
    one has committed its whole share: start-up (a minute on a loaded machine, never equal for
    two processes) and the tail of the last one are outside it, so two workers are compared
    with one on the time they really drained together. For one hub: first to last commit."""
    for h in hubs:
        h.start()
    opened: tuple[float, float, int] | None = None  # time, stored, machine ticks
    ticks0 = 0
    deadline = time.monotonic() + 600
    while True:
        stored = [h.metric("hub_ingest_stored_total") or 0.0 for h in hubs]
        now = time.perf_counter()
        if opened is None and all(stored):
            opened = now, sum(stored), _machine_ticks()
            ticks0 = sum(_proc_ticks(h.process.pid) for h in hubs if h.process)
        if opened is not None and any(s >= n for s, n in zip(stored, shares, strict=True)):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"drained {stored} of {shares}")
        time.sleep(0.2)
    start, base, machine0 = opened
    elapsed = max(now - start, 1e-3)  # a tiny backlog may commit in one batch
    ours = sum(_proc_ticks(h.process.pid) for h in hubs if h.process) - ticks0
    other = max(0, _machine_ticks() - machine0 - ours)
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(stored) - base) / elapsed, 100.0 * other / tick / elapsed / (os.cpu_count() or 1)


def shipped_vs_bare(quick: bool = False) -> Figures:
    """``quick``: a backlog of 500, no two-worker part, one short latency run at 200/s."""
    n = 500 if quick else N
    sys.path.insert(0, str(ROOT))
    from tests.broker import Mosquitto, shipped_autosave

    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-shipped-") as tmp_name:
        tmp = Path(tmp_name)
        graph = tmp / "graph"
        sensors = _seed(graph)
        broker = Mosquitto(tmp / "mosquitto", extra=shipped_autosave()[0])
        broker.start()
        try:
            one = _Hub(tmp / "one", graph, broker.url, "bench-hub", {})
            one.start()  # subscribe once, so the session queues the backlog
            one.wait_connected()
            one.stop()
            bare, seen = _bare(broker.port, connect_only=True)
            time.sleep(0.5)
            bare.loop_stop()
            bare.disconnect()
            _publish(broker.port, sensors, n, days_back=3)

            machine0 = _machine_ticks()
            bare, seen = _bare(broker.port)
            deadline = time.monotonic() + 300
            while len(seen) < n and time.monotonic() < deadline:
                time.sleep(0.05)
            bare.loop_stop()
            bare.disconnect()
            check(len(seen) == n, f"the bare subscriber got the whole backlog: {len(seen)} of {n}")
            bare_rate = (len(seen) - 1) / (seen[-1] - seen[0])
            elapsed = seen[-1] - seen[0]
            tick = os.sysconf("SC_CLK_TCK")
            busy = max(0, _machine_ticks() - machine0) / tick / elapsed
            figures["bare paho subscriber, msg/s"] = round(bare_rate)
            figures["bare: machine busy % (all processes)"] = round(
                100 * busy / (os.cpu_count() or 1)
            )

            hub_rate, other = _drain([one], [n])
            stored = int(one.metric("hub_ingest_stored_total") or 0)
            one.stop()
            check(stored >= n, f"hub ingest stored the whole backlog: {stored} of {n}")
            figures["hub ingest (default settings), readings/s"] = round(hub_rate)
            figures["hub ingest: other processes' CPU %"] = round(other)
            figures["hub ingest / bare paho"] = round(hub_rate / bare_rate, 2)

            if quick:
                return figures | _latency(tmp, graph, broker, 200, 2, quick=True)
            two = [
                _Hub(tmp / "two", graph, broker.url, f"bench-part-{k}",
                     {"HUB_MQTT_PARTITION": f"{k}/2"})
                for k in (1, 2)
            ]  # fmt: skip
            for h in two:
                h.start()
            for h in two:
                h.wait_connected()
            for h in two:
                h.stop()
            _publish(broker.port, sensors, n, days_back=6)
            from ingest.mqtt import partition_of

            owners = [partition_of(sensors[i % len(sensors)], 2) for i in range(n)]
            pair_rate, other = _drain(two, [owners.count(k) for k in range(2)])
            received = [int(h.metric("hub_ingest_received_total") or 0) for h in two]
            skipped = [int(h.metric("hub_ingest_other_partitions_total") or 0) for h in two]
            for h in two:
                h.stop()
            figures["2 workers: received by worker 1, 2 (their shares)"] = (
                f"{received[0]}, {received[1]} ({owners.count(0)}, {owners.count(1)})"
            )
            figures["2 workers: received for the other worker, skipped"] = (
                f"{skipped[0]}, {skipped[1]}"
            )
            figures["2 hub ingest workers (partitions), readings/s"] = round(pair_rate)
            figures["2 workers: other processes' CPU %"] = round(other)
            figures["2 workers / 1"] = round(pair_rate / hub_rate, 2)

        finally:
            broker.stop()
        # A fresh broker (same settings): the sessions above would queue this traffic too.
        broker = Mosquitto(tmp / "mosquitto-latency", extra=shipped_autosave()[0])
        broker.start()
        try:
            # At the target, then at a rate this shared machine keeps up with.
            for rate in (5000, 1000):
                figures |= _latency(tmp, graph, broker, rate)
        finally:
            broker.stop()
    return figures


def _latency(
    tmp: Path,
    graph: Path,
    broker: Any,
    rate: int = 5000,
    seconds: int = 12,
    *,
    quick: bool = False,
) -> Figures:
    """One ``hub ingest`` (default settings) at ``rate`` msg/s: publish → commit → republish."""
    hub = _Hub(tmp / f"latency-{rate}", graph, broker.url, f"bench-latency-{rate}", {})
    delays: list[float] = []
    watcher = Client(CallbackAPIVersion.VERSION2, client_id="bench-events")

    def on_message(c: Client, u: object, msg: MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("type") == "reading":
            sent = datetime.fromisoformat(body["ts"]).timestamp()
            delays.append(1000 * (time.time() - sent))

    watcher.on_message = on_message
    watcher.connect("127.0.0.1", broker.port)
    watcher.subscribe("hub/v1/events/power/+", qos=0)
    watcher.loop_start()
    hub.start()
    try:
        hub.wait_connected()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        share = LATENCY_SENSORS // 2
        machine0, t0 = _machine_ticks(), time.monotonic()
        ticks0 = _proc_ticks(hub.process.pid) if hub.process else 0

        def command(p: int) -> list[str]:
            return [
                sys.executable, "-m", "bench.mqtt_publisher", "--port", str(broker.port),
                "--rate", str(rate / 2), "--seconds", str(seconds), "--first", str(p * share),
                "--sensors", str(share), "--client-id", f"bench-latency-pub-{p}",
            ]  # fmt: skip

        pubs = [
            subprocess.Popen(command(p), cwd=ROOT, env=env, stdout=subprocess.PIPE)
            for p in range(2)
        ]
        reports = [json.loads(p.communicate(timeout=seconds + 120)[0]) for p in pubs]
        published = sum(int(r["acked"]) for r in reports)
        offered = sum(r["sent"] / r["sending_s"] for r in reports)
        deadline = time.monotonic() + 120
        while (hub.metric("hub_ingest_stored_total") or 0) < published:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        # From the first publication (the publishers' start, same monotonic clock) to the
        # publishers' exit or the last commit, whichever is later: their start-up is outside.
        window = time.monotonic() - min(float(r["started"]) for r in reports)
        ours = (_proc_ticks(hub.process.pid) if hub.process else 0) - ticks0
        time.sleep(1.0)  # the last republished events are on their way (QoS 0, loopback)
        elapsed = time.monotonic() - t0
        tick = os.sysconf("SC_CLK_TCK")
        busy = max(0, _machine_ticks() - machine0) / tick / elapsed / (os.cpu_count() or 1)
        stored = int(hub.metric("hub_ingest_stored_total") or 0)
    finally:
        hub.stop()
        watcher.loop_stop()
        watcher.disconnect()
    ordered = sorted(delays)
    if quick:
        check(stored == published, f"latency: stored {stored} of {published} published")
        check(bool(ordered), "latency: republished readings seen")

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else -1

    return {
        f"latency {rate}/s: offered (publishers achieved), msg/s": round(offered),
        f"latency {rate}/s: published (broker acked)": published,
        f"latency {rate}/s: stored by hub ingest": stored,
        f"latency {rate}/s: republished readings timed": len(ordered),
        f"latency {rate}/s: publish → commit → republish p50 ms": pct(0.50),
        f"latency {rate}/s: p99 ms": pct(0.99),
        f"latency {rate}/s: max ms": round(ordered[-1], 1) if ordered else -1,
        f"latency {rate}/s: committed/s, first publish to publishers' exit": round(stored / window),
        f"latency {rate}/s: hub ingest CPU (cores)": round(ours / tick / window, 2),
        f"latency {rate}/s: machine busy % (all processes)": round(100 * busy),
    }


@benchmark(
    "ingest-shipped",
    "hub ingest with default settings vs a bare paho subscriber, one backlog, one run",
)
async def ingest_shipped(quick: bool = False) -> Figures:
    return await asyncio.to_thread(shipped_vs_bare, quick)
