"""Fixtures shared by every test: a real embedded FalkorDB per test, never a mock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FalkorDBStore]:
    """A migrated, empty embedded FalkorDB in the test's own directory."""
    graph = await FalkorDBStore.embedded(tmp_path / "graph")
    await migrate(graph)
    yield graph
    await graph.close()
