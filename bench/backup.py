"""Backup and restore of the hubei-scale graph: the snapshot copy (the only moment that holds
up writers), the dump, the files, and a restore into an empty store."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from redis.exceptions import ResponseError

from bench.quick import check, province, seed
from bench.registry import Figures, benchmark
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from graph_schema.statements.entities import ANY_REGION
from hub import backup


@benchmark("backup", "export (GRAPH.COPY snapshot) and restore of the hubei-scale graph")
async def backup_hubei(quick: bool = False) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        root = Path(tmp)
        source = await FalkorDBStore.embedded(root / "source")
        target = await FalkorDBStore.embedded(root / "target")
        try:
            await migrate(source)
            await migrate(target)
            await seed(source, province(quick), quick=quick)
            connection = source._connect().connection
            # How long a point read waits while the copy runs (a write waits the same).
            samples: list[tuple[float, float]] = []
            done = asyncio.Event()

            async def probe() -> None:
                while not done.is_set():
                    sent = time.perf_counter()
                    await source.run(ANY_REGION)
                    samples.append((sent, time.perf_counter() - sent))
                    await asyncio.sleep(0.01)

            prober = asyncio.create_task(probe())
            retries = 0
            while True:  # GRAPH.COPY forks; Redis's background save after the load may too
                started = time.perf_counter()
                try:
                    await connection.execute_command("GRAPH.COPY", "hub", "bench_copy")
                    break
                except ResponseError as exc:
                    if "fork" not in str(exc):
                        raise
                    retries += 1
                    await asyncio.sleep(0.5)
            copied = time.perf_counter()
            done.set()
            await prober
            stalls = [wait for sent, wait in samples if started <= sent + wait and sent <= copied]
            await connection.execute_command("GRAPH.DELETE", "bench_copy")
            load = os.getloadavg()[0]
            started_dump = time.perf_counter()
            dump = await backup.dump_graph(source, root / "backup")
            dumped = time.perf_counter()
            restored_counts = await backup.restore_graph(target, root / "backup")
            restored = time.perf_counter()
            check(
                restored_counts == (dump.nodes, dump.relationships),
                f"the restore gives back what was dumped: {restored_counts} against "
                f"{(dump.nodes, dump.relationships)}",
            )
        finally:
            await source.close()
            await target.close()
        size = sum(p.stat().st_size for p in (root / "backup").iterdir())
    nodes = sum(dump.nodes.values())
    rels = sum(dump.relationships.values())
    return {
        "nodes (by label, a node counted per label)": nodes,
        "relationships": rels,
        "GRAPH.COPY alone, s": round(copied - started, 2),
        "longest point read during the copy, ms": round(max(stalls, default=0.0) * 1000, 1),
        "point reads during the copy": len(stalls),
        "copies refused while a background save ran": retries,
        "export (copy + read + write files), s": round(dumped - started_dump, 2),
        "export rows per second": round((nodes + rels) / (dumped - started_dump)),
        "backup size, MB": round(size / 1e6, 1),
        "restore into an empty store, s": round(restored - dumped, 2),
        "restore rows per second": round((nodes + rels) / (restored - dumped)),
        "load average (1 min) at the copy": round(load, 2),
    }
