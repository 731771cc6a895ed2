"""A demo-scale province loaded once per session into a real embedded FalkorDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.demo import DemoData, Scale, generate
from hub.seed import seed_demo


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return generate(Scale.DEMO)


@pytest.fixture(scope="session")
async def demo_store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FalkorDBStore]:
    """Shared and read-only: tests that write use the empty ``store`` fixture instead."""
    graph = await FalkorDBStore.embedded(Path(tmp_path_factory.mktemp("demo")) / "graph")
    await migrate(graph)
    await seed_demo(graph, "demo")
    yield graph
    await graph.close()
