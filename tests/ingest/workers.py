"""Real ``hub ingest`` workers as subprocesses, for the multi-worker and broker-restart tests.

Each worker has its own data dir holding a copy of one seeded embedded graph (in production
they share Neo4j) and commits to the telemetry store ``telemetry_url`` names, shared by all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg

from connectors import feeds
from ingest.rollups import daily, local_day, zone
from ingest.store import DEFAULT_TZ
from tests.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
SALT = "test-salt-not-secret"


class HubWorker:
    """``hub ingest`` in a subprocess, with its own HTTP port for /metrics."""

    def __init__(
        self,
        name: str,
        tmp: Path,
        graph: Path,
        *,
        mqtt_url: str,
        telemetry_url: str,
        group: str | None = "ingest",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.data = tmp / name
        if not (self.data / "graph").exists():
            # Not the closed server's pid, lock or socket files: this worker starts its own.
            shutil.copytree(
                graph,
                self.data / "graph",
                ignore=shutil.ignore_patterns("*.pid", "*.lock", "*.sock"),
            )
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HUB_DATA_DIR": str(self.data),
            "HUB_HTTP_HOST": "127.0.0.1",
            "HUB_HTTP_PORT": str(self.port),
            "HUB_MQTT_URL": mqtt_url,
            "HUB_MQTT_CLIENT_ID": name,
            "HUB_TELEMETRY_URL": telemetry_url,
            "HUB_TELEMETRY_LABOR_SALT": SALT,
            "HUB_CAMERA_ENABLED": "false",
            "HUB_LOG_LEVEL": "INFO",
            **(extra or {}),
        }
        if group:
            self.env["HUB_MQTT_SHARED_GROUP"] = group
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        # A fresh port at every start: a port picked once and reused at a restart minutes later
        # may by then belong to another test's process (seen once in a full parallel run).
        self.port = free_port()
        self.env["HUB_HTTP_PORT"] = str(self.port)
        log = (self.data.parent / f"{self.name}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "ingest"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.starts += 1

    def metrics(self) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                return str(r.read().decode())
        except OSError:
            return None

    def wait_subscribed(self, timeout: float = 300) -> None:
        # A generous ceiling (tests/waiting.py): start-up on a loaded 2-core machine with
        # every core busy took up to 2 minutes (embedded graph server, imports).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                if "address already in use" in self.log():
                    # free_port's port was taken between its check and the worker's bind (the
                    # suite's processes share the ephemeral range): start again on another, as
                    # the same start (its log replaced; tests count starts).
                    self.starts -= 1
                    self.start()
                    continue
                raise AssertionError(f"{self.name} exited: {self.log()}")
            text = self.metrics()
            if text is not None and 'hub_broker_connected{link="ingest"} 1.0' in text:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not subscribe: {self.log()}")

    def log(self) -> str:
        path = self.data.parent / f"{self.name}-{self.starts - 1}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed, no DISCONNECT (the broker sends the will)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- the stored state, read back with plain SQL (not through the adapters) -----------------------


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            return list(conn.execute(sql))
        except sqlite3.OperationalError:
            return []  # not migrated yet
        finally:
            conn.close()
    with psycopg.connect(url, autocommit=True) as pg:
        try:
            return list(pg.execute(sql))
        except psycopg.errors.UndefinedTable:
            return []


def count(url: str, sql: str) -> int:
    rows = _rows(url, sql)
    return int(rows[0][0]) if rows else 0


def stored_readings(url: str) -> int:
    return count(url, "SELECT count(*) FROM readings")


def rollup_mismatches(url: str, tz_name: str = DEFAULT_TZ) -> tuple[int, int, list[str]]:
    """Every stored daily row against a recomputation from the stored raw readings:
    (rows compared, rows wrong, the first few differences)."""
    specs = feeds.metrics()
    tz = zone(tz_name)
    points: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for sensor, metric, ts, value in _rows(
        url, "SELECT sensor_id, metric, ts_ms, value FROM readings ORDER BY 1, 2, 3"
    ):
        points[(sensor, metric)].append((int(ts), float(value)))
    expected: dict[tuple[str, str, str], tuple[float, int]] = {}
    for (sensor, metric), series in points.items():
        totals = daily(specs[metric], series, tz)
        samples: dict[dt.date, int] = defaultdict(int)
        for ts, _ in series:
            samples[local_day(ts, tz)] += 1
        for day in set(totals) | set(samples):
            expected[(sensor, metric, day.isoformat())] = (totals.get(day, 0.0), samples[day])
    stored = {
        (s, m, str(d)): (float(v), int(n))
        for s, m, d, v, n in _rows(url, "SELECT sensor_id, metric, day, value, samples FROM daily")
    }
    wrong = []
    for key in sorted(set(stored) | set(expected)):
        want = expected.get(key, (0.0, 0))
        got = stored.get(key, (0.0, 0))
        if got[1] != want[1] or abs(got[0] - want[0]) > 1e-6 * max(1.0, abs(want[0])):
            wrong.append(f"{key}: stored {got}, recomputed {want}")
    return len(stored), len(wrong), wrong[:5]


def payload(ts: dt.datetime, metric: str, value: float) -> bytes:
    unit = "kW" if metric == "demand_kw" else "kWh"
    return json.dumps(
        {"ts": ts.isoformat(), "metric": metric, "value": value, "unit": unit}
    ).encode()


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
