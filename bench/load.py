"""Generate the hubei-scale province and load it into a fresh store: the embedded FalkorDB, and
with ``--graph neo4j|both`` a Neo4j server the run starts (see ``bench.graphs``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.graphs import open_graphs
from bench.quick import check, province
from bench.registry import Figures, benchmark
from hub.bulk import graph_counts
from hub.seed import seed_demo
from hub.store import open_store


@benchmark("load_hubei", "generate hubei scale and load it through the upsert writer")
async def load_hubei(quick: bool = False) -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        async with open_graphs(Path(tmp)) as graphs:
            started = time.perf_counter()
            data = province(quick)
            generation = time.perf_counter() - started
            figures["seconds to generate and validate"] = round(generation, 2)
            loads: dict[str, float] = {}
            for graph in graphs:
                p = graph.prefix(graphs)
                store = await open_store(graph.settings)  # migrated, as a fresh hub starts
                try:
                    trips_before = store.stats.round_trips
                    began = time.perf_counter()
                    await seed_demo(store, "hubei", batch_size=5000, data=data)
                    loads[graph.name] = seconds = time.perf_counter() - began
                    nodes, rels = await graph_counts(store)
                    round_trips = store.stats.round_trips - trips_before
                finally:
                    await store.close()
                n_nodes = sum(n for label, n in nodes.items() if label != "SchemaVersion")
                check(
                    nodes.get("Project") == len(data.project)
                    and nodes.get("Enterprise") == len(data.enterprise),
                    f"{graph.name}: every project and enterprise loaded, found {dict(nodes)}",
                )
                n_rels = sum(rels.values())
                figures |= {
                    f"{p}nodes": n_nodes,
                    f"{p}relationships": n_rels,
                    f"{p}seconds to load (check, compare, write)": round(seconds, 2),
                    f"{p}loaded entities+relationships per second": round(
                        (n_nodes + n_rels) / seconds
                    ),
                    f"{p}end to end per second (incl. generation)": round(
                        (n_nodes + n_rels) / (seconds + generation)
                    ),
                    f"{p}store round trips": round_trips,
                }
    if len(loads) > 1:
        figures["neo4j ÷ falkordb: seconds to load"] = round(loads["neo4j"] / loads["falkordb"], 2)
    return figures
