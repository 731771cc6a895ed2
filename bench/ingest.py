"""Ingest throughput. First ``hub ingest`` as shipped against a bare paho subscriber, and its
latency (``bench/ingest_shipped.py``); then publishers in other processes, Mosquitto on loopback,
and ``hub ingest`` tuned for throughput through its settings (batches of up to 5,000, 20 ms
linger, republishing off) committing durably (SQLite WAL, synchronous=FULL).

A reading counts once its batch has committed; the worker's counters are read from its
``/metrics``. CPU is read from /proc for every process, and the share of the machine used by
anything else during each phase is reported so the figures can be judged.

Run alone under a lock: ``flock /tmp/bench.lock python -m bench ingest``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.quick import check
from bench.registry import Figures, benchmark

if TYPE_CHECKING:
    from bench.ingest_shipped import _Hub

ROOT = Path(__file__).resolve().parents[1]
SENSORS = 1000  # bench/mqtt_publisher.py's meters pwr-b0..pwr-b999, registered in the graph
TICK = os.sysconf("SC_CLK_TCK")
# hub ingest's settings for this bench: large batches, a short linger, nothing republished.
TUNED = {
    "HUB_MQTT_REPUBLISH": "false",
    "HUB_TELEMETRY_BATCH_SIZE": "5000",
    "HUB_TELEMETRY_BATCH_LATENCY_MS": "20",
    "HUB_TELEMETRY_SYNCHRONOUS": "FULL",
}
# Counter names in /metrics, by the key the phases read.
_COUNTERS = {
    "received": "hub_ingest_received_total",
    "stored": "hub_ingest_stored_total",
    "duplicate": "hub_ingest_duplicates_total",
    "conflicts": "hub_ingest_conflicts_total",
    "dead_lettered": "hub_ingest_dead_letters_total",
    "batches": "hub_ingest_batches_total",
}


def _proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values) - values[3] - values[4]  # less idle and iowait


def _stats(hub: _Hub) -> dict[str, float]:
    """The worker's ingest counters from its /metrics (dead letters summed over reasons)."""
    from prometheus_client.parser import text_string_to_metric_families

    for _ in range(50):
        try:
            url = f"http://127.0.0.1:{hub.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as r:
                text = r.read().decode()
        except OSError:
            time.sleep(0.02)
            continue
        totals = dict.fromkeys(_COUNTERS, 0.0)
        names = {v: k for k, v in _COUNTERS.items()}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in names:
                    totals[names[sample.name]] += sample.value
        # Readings committed or found already there: what the batches held.
        totals["readings"] = totals["stored"] + totals["duplicate"] + totals["conflicts"]
        return totals
    raise RuntimeError("the worker serves no /metrics")


@dataclass
class Rig:
    tmp: Path
    broker: object
    hub: _Hub


def _start(tmp: Path, graph: Path) -> Rig:
    sys.path.insert(0, str(ROOT))
    from bench.ingest_shipped import _Hub
    from tests.broker import Mosquitto

    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    hub = _Hub(tmp, graph, broker.url, "bench-ingest", TUNED)
    hub.start()
    hub.wait_connected()
    return Rig(tmp, broker, hub)


def _stop(rig: Rig) -> None:
    rig.hub.stop()
    rig.broker.stop()  # type: ignore[attr-defined]


def _publishers(
    rig: Rig, *, procs: int, rate: float, seconds: float, batch: int, qos: int
) -> list[subprocess.Popen[bytes]]:
    port = str(rig.broker.port)  # type: ignore[attr-defined]
    share = SENSORS // procs

    def command(p: int) -> list[str]:
        return [
            sys.executable, "-m", "bench.mqtt_publisher", "--port", port,
            "--rate", str(rate / procs), "--seconds", str(seconds), "--batch", str(batch),
            "--qos", str(qos), "--first", str(p * share), "--sensors", str(share),
            "--client-id", f"bench-pub-{p}",
        ]  # fmt: skip

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [
        subprocess.Popen(command(p), cwd=ROOT, env=env, stdout=subprocess.PIPE)
        for p in range(procs)
    ]


def _phase(
    name: str, rig: Rig, *, procs: int, rate: float, seconds: float, batch: int, qos: int
) -> Figures:
    before = _stats(rig.hub)
    pubs = _publishers(rig, procs=procs, rate=rate, seconds=seconds, batch=batch, qos=qos)
    broker_pid = rig.broker.process.pid  # type: ignore[attr-defined]
    time.sleep(1.0)  # ramp up; measure the steady middle
    assert rig.hub.process is not None
    pids = {"subscriber": rig.hub.process.pid, "broker": broker_pid}
    ticks0 = {k: _proc_ticks(p) for k, p in pids.items()}
    pub0 = sum(_proc_ticks(p.pid) for p in pubs)
    me0, machine0, t0 = _proc_ticks(os.getpid()), _machine_ticks(), time.monotonic()
    s0 = _stats(rig.hub)
    time.sleep(max(1.0, seconds - 2.0))
    s1 = _stats(rig.hub)
    t1, machine1, me1 = time.monotonic(), _machine_ticks(), _proc_ticks(os.getpid())
    ticks1 = {k: _proc_ticks(p) for k, p in pids.items()}
    pub1 = sum(_proc_ticks(p.pid) for p in pubs)
    published = 0
    offered = 0.0
    first_publish = float("inf")
    for p in pubs:
        out, _ = p.communicate(timeout=120)
        report = json.loads(out)
        published += int(report["acked"])
        offered += report["sent"] / report["sending_s"]
        first_publish = min(first_publish, report["started"])
    # Let the subscriber drain the backlog: every message the broker acknowledged must arrive.
    deadline = time.monotonic() + 90
    while _stats(rig.hub)["received"] - before["received"] < published:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    drained = time.monotonic()
    after = _stats(rig.hub)
    span = t1 - t0
    cpu = {k: (ticks1[k] - ticks0[k]) / TICK / span for k in pids}
    publishers = (pub1 - pub0) / TICK / span
    machine = (machine1 - machine0) / TICK / span
    ours = sum(cpu.values()) + publishers + (me1 - me0) / TICK / span
    rate_in = (s1["stored"] - s0["stored"]) / span
    return {
        f"{name}: messages published (broker acked)": published,
        f"{name}: messages received by subscriber": int(after["received"] - before["received"]),
        # What the publishers managed over their own sending time (paced to the offered rate).
        f"{name}: publishers' achieved rate (msg/s)": round(offered),
        # Every message received and committed, over the time from the first publish: the
        # steady window below starts while publishers are still starting up, so at an offered
        # rate the subscriber keeps up with it reads a few percent low; this does not.
        f"{name}: end to end (all received / time since first publish, msg/s)": round(
            published / (drained - first_publish)
        ),
        f"{name}: seconds from the window end until all were received": round(drained - t1, 1),
        f"{name}: readings committed/s (steady window)": round(rate_in),
        f"{name}: messages received/s (steady window)": round(
            (s1["received"] - s0["received"]) / span
        ),
        f"{name}: readings stored in phase": int(after["stored"] - before["stored"]),
        f"{name}: duplicates": int(after["duplicate"] - before["duplicate"]),
        f"{name}: dead letters": int(after["dead_lettered"] - before["dead_lettered"]),
        f"{name}: mean batch": round(
            (after["readings"] - before["readings"]) / max(1, after["batches"] - before["batches"])
        ),
        f"{name}: CPU subscriber (cores)": round(cpu["subscriber"], 2),
        f"{name}: CPU broker (cores)": round(cpu["broker"], 2),
        f"{name}: CPU publishers (cores)": round(publishers, 2),
        f"{name}: CPU other processes (share of 2 cores)": f"{max(0.0, machine - ours) / 2:.1%}",
    }


@benchmark("ingest", "MQTT QoS 1 → pipeline → SQLite (durable), publishers in other processes")
async def ingest(quick: bool = False) -> Figures:
    return await asyncio.to_thread(_run_quick if quick else _run_all)


def _run_quick() -> Figures:
    """One short tuned phase (the shipped comparison is ``ingest-shipped``'s own quick run):
    every acknowledged message received and stored once."""
    from bench.ingest_shipped import _seed

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        graph = Path(tmp) / "graph"
        _seed(graph)
        rig = _start(Path(tmp) / "a", graph)
        try:
            before = _stats(rig.hub)
            figures = _phase("quick, 500/s offered", rig, procs=1, rate=500, seconds=2, batch=1,
                             qos=1)  # fmt: skip
            published = int(figures["quick, 500/s offered: messages published (broker acked)"])
            # The last batch may still be committing when the phase has seen every message.
            deadline = time.monotonic() + 60
            while _stats(rig.hub)["stored"] - before["stored"] < published:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            after = _stats(rig.hub)
        finally:
            _stop(rig)
    received = int(after["received"] - before["received"])
    stored = int(after["stored"] - before["stored"])
    check(published > 0, "the publisher's messages acknowledged")
    check(received == published, f"every message received: {received} of {published}")
    check(stored == published, f"every reading stored once: {stored} of {published}")
    return figures


def _run_all() -> Figures:
    from bench.ingest_shipped import _seed, shipped_vs_bare

    # First `hub ingest` as shipped (a subprocess, default settings) against a bare paho
    # subscriber in the same run, and its latency; then `hub ingest` tuned, phases below.
    figures: Figures = shipped_vs_bare()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        graph = Path(tmp) / "graph"
        _seed(graph)  # the demo province and the publishers' meters, pwr-b0..pwr-b999
        rig = _start(Path(tmp) / "a", graph)
        try:
            # Offered load above capacity: the committed rate in the window is the capacity.
            figures |= _phase("single, 25k/s offered", rig, procs=2, rate=25_000, seconds=8,
                              batch=1, qos=1)  # fmt: skip
            figures |= _phase("single, 10k/s offered", rig, procs=2, rate=10_000, seconds=20,
                              batch=1, qos=1)  # fmt: skip
            figures |= _phase("batch of 100, 1k/s offered", rig, procs=1, rate=1000, seconds=10,
                              batch=100, qos=1)  # fmt: skip
        finally:
            _stop(rig)
    return figures
