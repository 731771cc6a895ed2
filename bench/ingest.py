"""Ingest throughput and latency. First ``hub ingest`` as shipped against a bare paho subscriber
(``bench/ingest_shipped.py``); then publishers in other processes, Mosquitto on loopback, the
stand-alone worker (``python -m connectors.worker``, its own batch settings, republishing off)
committing durably (SQLite WAL, synchronous=FULL).

A reading counts once its batch has committed; the worker's ``stored`` counter is read from its
stats file. Latency is commit time minus the reading's timestamp, which the publisher sets to the
moment it publishes (same clock). CPU is read from /proc for every process, and the share of the
machine used by anything else during each phase is reported so the figures can be judged.

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
from dataclasses import dataclass
from pathlib import Path

from bench.registry import Figures, benchmark

ROOT = Path(__file__).resolve().parents[1]
SENSORS = 1000
TICK = os.sysconf("SC_CLK_TCK")


def _proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values) - values[3] - values[4]  # less idle and iowait


def _stats(path: Path) -> dict[str, float]:
    for _ in range(50):
        try:
            return dict(json.loads(path.read_text()))
        except (FileNotFoundError, ValueError):
            time.sleep(0.02)
    raise RuntimeError("the worker writes no stats")


@dataclass
class Rig:
    tmp: Path
    broker: object
    worker: subprocess.Popen[bytes]
    stats: Path
    latency: Path


def _start(tmp: Path, *, latency: bool) -> Rig:
    sys.path.insert(0, str(ROOT))
    from tests.broker import Mosquitto

    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    sensors = tmp / "sensors.json"
    sensors.write_text(
        json.dumps(
            [{"id": f"pwr-b{i}", "kind": "power", "project_code": "P"} for i in range(SENSORS)]
        )
    )
    stats, lat = tmp / "stats.json", tmp / "latency.json"
    command = [
        sys.executable, "-m", "connectors.worker", "--db", str(tmp / "t.db"),
        "--mqtt-url", broker.url, "--client-id", "bench-ingest", "--sensors", str(sensors),
        "--no-republish", "--batch-size", "5000", "--linger-ms", "20", "--stats", str(stats),
    ]  # fmt: skip
    if latency:
        command += ["--latency", str(lat)]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "HUB_TELEMETRY_LABOR_SALT": "bench", "PYTHONPATH": str(ROOT)},
        stdout=(tmp / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not (stats.exists() and _stats(stats).get("connected")):
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError((tmp / "worker.log").read_text())
        time.sleep(0.05)
    time.sleep(0.3)
    return Rig(tmp, broker, worker, stats, lat)


def _stop(rig: Rig) -> None:
    rig.worker.terminate()
    rig.worker.wait(30)
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
    before = _stats(rig.stats)
    pubs = _publishers(rig, procs=procs, rate=rate, seconds=seconds, batch=batch, qos=qos)
    broker_pid = rig.broker.process.pid  # type: ignore[attr-defined]
    time.sleep(1.0)  # ramp up; measure the steady middle
    pids = {"subscriber": rig.worker.pid, "broker": broker_pid}
    ticks0 = {k: _proc_ticks(p) for k, p in pids.items()}
    pub0 = sum(_proc_ticks(p.pid) for p in pubs)
    me0, machine0, t0 = _proc_ticks(os.getpid()), _machine_ticks(), time.monotonic()
    s0 = _stats(rig.stats)
    time.sleep(max(1.0, seconds - 2.0))
    s1 = _stats(rig.stats)
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
    while _stats(rig.stats)["received"] - before["received"] < published:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    drained = time.monotonic()
    after = _stats(rig.stats)
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


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


@benchmark("ingest", "MQTT QoS 1 → pipeline → SQLite (durable), publishers in other processes")
async def ingest() -> Figures:
    return await asyncio.to_thread(_run_all)


def _run_all() -> Figures:
    from bench.ingest_shipped import shipped_vs_bare

    # First `hub ingest` as shipped (a subprocess, default settings) against a bare paho
    # subscriber in the same run; then the stand-alone worker's phases below.
    figures: Figures = shipped_vs_bare()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        rig = _start(Path(tmp) / "a", latency=False)
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
        rig = _start(Path(tmp) / "b", latency=True)
        try:
            figures |= _phase("5,000 msg/s", rig, procs=2, rate=5000, seconds=12, batch=1, qos=1)
        finally:
            _stop(rig)
        latencies = json.loads(rig.latency.read_text())
    figures["5,000 msg/s: latency p50 ms"] = _percentile(latencies, 0.50)
    figures["5,000 msg/s: latency p99 ms"] = _percentile(latencies, 0.99)
    figures["5,000 msg/s: latency max ms"] = float(max(latencies))
    figures["5,000 msg/s: readings timed"] = len(latencies)
    return figures
