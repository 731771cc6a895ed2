"""A module's own graph on each graph store, for module-scoped fixtures that fill a small
province of their own (chains, scoreboard): ``@pytest.fixture(scope="module",
params=GRAPH_STORES)`` and ``async with module_graph(request, tmp_path_factory, "x")``.

FalkorDB: an embedded server of the module's own. Neo4j: this process's one database, emptied
(tests/graphs.py); pytest runs a module's tests together, and the module's xdist group keeps
them on one worker, so nothing else empties it while the module holds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from graph_schema.store import GraphStore
from tests.graphs import Neo4jDatabase


@asynccontextmanager
async def module_graph(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> AsyncIterator[GraphStore]:
    if request.param == "neo4j":
        database: Neo4jDatabase = request.getfixturevalue("neo4j")
        async with database.empty() as graph:
            yield graph
        return
    store = await FalkorDBStore.embedded(tmp_path_factory.mktemp(name) / "graph")
    try:
        await migrate(store)
        yield store
    finally:
        await store.close()
