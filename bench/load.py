"""Generate the hubei-scale province and load it into a fresh embedded FalkorDB."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.registry import Figures, benchmark
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.bulk import graph_counts
from hub.seed import seed_demo


@benchmark("load_hubei", "generate hubei scale and load it through the upsert writer")
async def load_hubei() -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        store = await FalkorDBStore.embedded(Path(tmp) / "graph")
        try:
            await migrate(store)
            started = time.perf_counter()
            await seed_demo(store, "hubei", batch_size=5000)
            elapsed = time.perf_counter() - started
            nodes, rels = await graph_counts(store)
            round_trips = store.stats.round_trips
        finally:
            await store.close()
    n_nodes = sum(n for label, n in nodes.items() if label != "SchemaVersion")
    n_rels = sum(rels.values())
    return {
        "nodes": n_nodes,
        "relationships": n_rels,
        "seconds (generate + validate + load)": round(elapsed, 2),
        "entities+relationships per second": round((n_nodes + n_rels) / elapsed),
        "store round trips": round_trips,
    }
