"""A stand-alone camera worker: cameras in, telemetry out (``python -m connectors.camera.worker``).

The hub polls its cameras itself (``HUB_CAMERA_ENABLED``); this entry point moves that work to
other processes or machines: each worker reads the configured cameras from the graph and polls
those whose id hashes to its shard (``--shard 2/4``: the third of four workers), so hundreds of
cameras spread over several cores without coordination. Run the hub with
``HUB_CAMERA_ENABLED=false`` then.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import zlib
from pathlib import Path

from connectors import feeds
from connectors.camera.runner import CameraFleet
from graph_schema.connect import open_graph_store
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m connectors.camera.worker")
    p.add_argument("--db", type=Path, required=True, help="SQLite telemetry file")
    p.add_argument("--graph-url", required=True, help="e.g. embedded:///abs/dir")
    p.add_argument("--refresh-s", type=float, default=30.0, help="re-read configurations, s")
    p.add_argument("--shard", default="0/1", help="INDEX/COUNT: poll this share of the cameras")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    return p.parse_args(argv)


def shard_of(sensor_id: str, count: int) -> int:
    """The worker (0..count-1) that polls a camera: stable across processes and restarts."""
    return zlib.crc32(sensor_id.encode()) % count


async def main(argv: list[str] | None = None, *, stop: asyncio.Event | None = None) -> int:
    """Poll this shard's cameras until SIGTERM/SIGINT, ``--seconds``, or ``stop`` is set (an
    embedding caller's own trigger, as a signal is from a shell)."""
    args = _args(argv)
    index, _, count = args.shard.partition("/")
    mine, shards = int(index), int(count)
    if not 0 <= mine < shards:
        raise SystemExit(f"--shard {args.shard}: INDEX must be in 0..COUNT-1")
    store = await SQLiteTelemetryStore.open(args.db, feeds.metrics())
    graph = await open_graph_store(args.graph_url, data_dir=args.db.parent)
    try:
        pipeline = Pipeline(store, GraphSensors(graph), feeds.decoders(labor_salt=None))
        fleet = CameraFleet(
            graph,
            pipeline,
            refresh_s=args.refresh_s,
            accept=lambda sensor_id: shard_of(sensor_id, shards) == mine,
            state_dir=args.db.parent / "cameras",
        )
        task = asyncio.create_task(fleet.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        if stop is not None:
            stop_task = asyncio.create_task(stop.wait())
            stop_task.add_done_callback(lambda _: task.cancel())
            task.add_done_callback(lambda _: stop_task.cancel())
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, args.seconds)
    finally:
        await graph.close()
        await store.close()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sys.exit(asyncio.run(main()))
