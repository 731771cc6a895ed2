"""A stand-alone ingest worker: MQTT in, telemetry store out. ``python -m connectors.worker``.

The hub runs the same pieces inside its own process; this entry point lets ingest scale out as
separate processes on a shared subscription, and lets tests and benchmarks kill and restart the
subscriber. Sensors come from the graph (``--graph-url``) or from a JSON file (``--sensors``:
``[{"id": ..., "kind": ..., "project_code": ...}]``) for a worker that runs without one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from connectors import feeds
from graph_schema.connect import open_graph_store
from graph_schema.store import GraphStore
from ingest.bus import LiveBus
from ingest.model import SensorInfo
from ingest.mqtt import MqttConfig, MqttIngest
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors, SensorRegistry, StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import CommitResult


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m connectors.worker")
    p.add_argument("--db", type=Path, required=True, help="SQLite telemetry file")
    p.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    p.add_argument("--client-id", default="e-ledger-hub")
    p.add_argument("--mqtt311", action="store_true", help="MQTT 3.1.1 instead of 5")
    p.add_argument("--shared-group", default=None)
    p.add_argument("--sensors", type=Path, help="JSON list of sensors (instead of the graph)")
    p.add_argument("--graph-url", default=None, help="e.g. embedded:///abs/dir")
    p.add_argument("--batch-size", type=int, default=2000)
    p.add_argument("--linger-ms", type=float, default=10.0)
    p.add_argument("--no-republish", action="store_true")
    p.add_argument("--synchronous", default="FULL", choices=["NORMAL", "FULL", "EXTRA"])
    p.add_argument("--labor-salt-env", default="HUB_TELEMETRY_LABOR_SALT")
    p.add_argument("--stats", type=Path, help="write counters here as JSON, 5 times a second")
    p.add_argument("--latency", type=Path, help="write publish→commit latencies (ms) at exit")
    return p.parse_args(argv)


async def _registry(args: argparse.Namespace) -> tuple[SensorRegistry, GraphStore | None]:
    if args.sensors is not None:
        rows = json.loads(args.sensors.read_text(encoding="utf-8"))
        infos = {r["id"]: SensorInfo(r["id"], r["kind"], r.get("project_code")) for r in rows}
        return StaticSensors(infos), None
    if args.graph_url is None:
        raise SystemExit("give --sensors FILE or --graph-url URL")
    graph = await open_graph_store(args.graph_url, data_dir=args.db.parent)
    return GraphSensors(graph), graph


async def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    salt = os.environ.get(args.labor_salt_env, "").encode()
    if not salt:
        raise SystemExit(f"set {args.labor_salt_env} to the labor hashing salt")
    store = await SQLiteTelemetryStore.open(args.db, feeds.metrics(), synchronous=args.synchronous)
    sensors, graph = await _registry(args)
    latencies: list[int] = []

    def on_commit(result: CommitResult, committed_ms: int) -> None:
        if args.latency is not None:
            latencies.extend(committed_ms - r.ts_ms for r in result.stored)

    pipeline = Pipeline(
        store, sensors, feeds.decoders(labor_salt=salt), bus=LiveBus(), on_commit=on_commit
    )
    config = MqttConfig.from_url(
        args.mqtt_url,
        client_id=args.client_id,
        mqtt5=not args.mqtt311,
        shared_group=args.shared_group,
    )
    ingest = MqttIngest(
        pipeline,
        config,
        batch_size=args.batch_size,
        linger_s=args.linger_ms / 1000,
        republish=not args.no_republish,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ingest.stop)
    stats_task = None
    if args.stats is not None:
        stats_task = asyncio.create_task(_write_stats(args.stats, pipeline, ingest))
    try:
        await ingest.run()
    finally:
        if stats_task is not None:
            stats_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stats_task
            _dump(args.stats, pipeline, ingest)
        if args.latency is not None:
            args.latency.write_text(json.dumps(latencies), encoding="utf-8")
        await store.close()
        if graph is not None:
            await graph.close()
    return 0


async def _write_stats(path: Path, pipeline: Pipeline, ingest: MqttIngest) -> None:
    while True:
        _dump(path, pipeline, ingest)
        await asyncio.sleep(0.2)


def _dump(path: Path | None, pipeline: Pipeline, ingest: MqttIngest) -> None:
    if path is None:
        return
    data = {
        **pipeline.counters.as_dict(),
        "connected": ingest.connected.is_set(),
        "error": ingest.error,
        "at": time.time(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sys.exit(asyncio.run(main()))
