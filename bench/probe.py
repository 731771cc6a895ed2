"""A probe query's latency while the worst query the limits accept runs (``python -m bench
probe``), with the analytics in worker processes (``hub.offload``) against the same analytics
run on the event loop, side by side in one run.

The demo province is loaded into a fresh embedded FalkorDB and served in-process by one uvicorn
on loopback. The worst accepted query is 12 aliased investment forecasts (12 x 400 = 4,800 of
the 5,000 cost budget; a 13th is refused). While it runs, one client sends the probe
``{ regions(first: 1) { totalCount } }`` back to back and records each latency; the worst
query runs ``ROUNDS`` times per variant. The acceptance figure is the probe's p95 under 100 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn

from bench.quick import check, province, seed
from bench.registry import Figures, benchmark
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub import offload
from hub.app import create_app
from hub.settings import load_settings

FORECAST = 'investmentForecast(region: "330100") { value backtest { rmse } }'
WORST = "{ " + " ".join(f"a{i}: {FORECAST}" for i in range(12)) + " }"
PROBE = "{ regions(first: 1) { totalCount } }"
ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _serving(store: FalkorDBStore, port: int) -> AsyncIterator[str]:
    # The probe sends back to back: no rate limit here, this measures latency.
    settings = load_settings(
        {
            "HUB_AUTH_ANONYMOUS_ROLE": "viewer",
            "HUB_HTTP_TIMEOUT_S": "300",
            "HUB_HTTP_RATE_PER_S": "100000",
            "HUB_HTTP_RATE_BURST": "100000",
        }
    )
    config = uvicorn.Config(
        create_app(settings, store=store),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_keep_alive=600,  # an inline run blocks the loop longer than the default 5 s
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _measure(
    base: str, rounds: int = ROUNDS, worst_query: str = WORST
) -> tuple[list[float], float]:
    probes: list[float] = []
    worst_s = 0.0
    async with (
        httpx.AsyncClient(base_url=base, timeout=600) as worst_client,
        httpx.AsyncClient(base_url=base, timeout=600) as probe_client,
    ):
        await probe_client.post("/graphql", json={"query": PROBE})  # warm
        for _ in range(rounds):
            started = time.perf_counter()
            worst = asyncio.create_task(worst_client.post("/graphql", json={"query": worst_query}))
            while not worst.done():
                t = time.perf_counter()
                response = await probe_client.post("/graphql", json={"query": PROBE})
                probes.append(time.perf_counter() - t)
                response.raise_for_status()
            result = await worst
            result.raise_for_status()
            if "errors" in result.json():
                raise RuntimeError(result.text[:500])
            worst_s += time.perf_counter() - started
    return probes, worst_s / rounds


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(0.95 * len(ordered)) - 1)]


@benchmark("probe", "probe latency while the worst accepted query runs: worker processes vs inline")
async def probe(quick: bool = False) -> Figures:
    # quick: one round of a worst query of 2 forecasts instead of 12
    rounds, worst = (ROUNDS, WORST)
    if quick:
        rounds, worst = 1, "{ " + " ".join(f"a{i}: {FORECAST}" for i in range(2)) + " }"
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
        store = await FalkorDBStore.embedded(Path(tmp) / "graph")
        try:
            await migrate(store)
            await seed(store, province(True, statistics=True), quick=quick)
            for variant in ("workers", "inline"):
                offload.inline = variant == "inline"
                try:
                    async with _serving(store, _free_port()) as base:
                        probes, worst_s = await _measure(base, rounds, worst)
                finally:
                    offload.inline = False
                    offload.shutdown()
                check(bool(probes), f"{variant}: probes answered while the worst query ran")
                figures[f"{variant}: probes"] = len(probes)
                figures[f"{variant}: probe p50 ms"] = round(1000 * statistics.median(probes), 1)
                figures[f"{variant}: probe p95 ms"] = round(1000 * _p95(probes), 1)
                figures[f"{variant}: probe max ms"] = round(1000 * max(probes), 1)
                figures[f"{variant}: worst query s"] = round(worst_s, 2)
        finally:
            await store.close()
    figures["p95 inline / workers"] = round(
        float(figures["inline: probe p95 ms"]) / float(figures["workers: probe p95 ms"]), 1
    )
    return figures
