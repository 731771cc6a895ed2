"""Loading generated demo data through the same writer that imports and mutations use."""

from __future__ import annotations

from collections import Counter
from typing import Any

from graph_schema.statements import entities as st
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome
from hub.bulk import import_records
from hub.demo import DemoData, Scale, generate
from hub.demo.factors import seed_factors


async def is_seeded(store: GraphStore) -> bool:
    rows = await store.run(st.ANY_REGION)
    return bool(rows)


async def seed_demo(
    store: GraphStore,
    scale: str,
    *,
    seed: int = 2026,
    batch_size: int = 5000,
    progress: Any = None,
    data: DemoData | None = None,
) -> dict[str, Counter[Outcome]]:
    """Generate the province at ``scale`` (unless ``data`` is given) and upsert it."""
    if data is None:
        data = generate(Scale(scale), seed=seed)
    counts: dict[str, Counter[Outcome]] = {}
    tasks = {}
    if progress is not None:
        for entity, records in data:
            tasks[entity] = progress.add_task(entity, total=len(records))

    def advance(entity: str, n: int) -> None:
        if progress is not None:
            progress.advance(tasks[entity], n)

    for entity, records in data:
        counts[entity] = await import_records(
            store, entity, records, batch_size=batch_size, progress=advance
        )
    # Financing, land tracking, schedules and approvals (issue 9) on top of the entities.
    await seed_factors(store, data, seed)
    return counts
