"""Generate the hubei-scale province and load it into a fresh embedded FalkorDB."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.registry import Figures, benchmark
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.bulk import graph_counts
from hub.demo import Scale, generate
from hub.seed import seed_demo


@benchmark("load_hubei", "generate hubei scale and load it through the upsert writer")
async def load_hubei() -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        store = await FalkorDBStore.embedded(Path(tmp) / "graph")
        try:
            await migrate(store)
            started = time.perf_counter()
            data = generate(Scale.HUBEI)
            generated = time.perf_counter()
            await seed_demo(store, "hubei", batch_size=5000, data=data)
            loaded = time.perf_counter()
            nodes, rels = await graph_counts(store)
            round_trips = store.stats.round_trips
        finally:
            await store.close()
    n_nodes = sum(n for label, n in nodes.items() if label != "SchemaVersion")
    n_rels = sum(rels.values())
    return {
        "nodes": n_nodes,
        "relationships": n_rels,
        "seconds to generate and validate": round(generated - started, 2),
        "seconds to load (check, compare, write)": round(loaded - generated, 2),
        "loaded entities+relationships per second": round(
            (n_nodes + n_rels) / (loaded - generated)
        ),
        "end to end per second (incl. generation)": round((n_nodes + n_rels) / (loaded - started)),
        "store round trips": round_trips,
    }
