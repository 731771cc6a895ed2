"""Fixtures shared by every test: real stores, never mocks.

``store`` is a migrated, empty graph on this process's one embedded FalkorDB (tests/graphs.py):
a graph per test, a server per pytest-xdist worker. ``own_store`` starts a server of its own,
for the tests that kill, restart or lock it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.seed import seed_demo
from tests.graphs import COPY_TIMEOUT_S, START_TIMEOUT_S, fresh_graph


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """This test process's embedded FalkorDB; tests use graphs of their own on it."""
    server = EmbeddedServer(tmp_path_factory.mktemp("falkordb"), start_timeout=START_TIMEOUT_S)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def demo_template(falkordb_server: EmbeddedServer) -> AsyncIterator[FalkorDBStore]:
    """The migrated demo province on this process's FalkorDB, seeded once per process and
    never written: fixtures take copies of it with ``demo_template.snapshot()`` (GRAPH.COPY,
    about a second, instead of the ten a seed takes)."""
    async with fresh_graph(falkordb_server, "template", socket_timeout_s=COPY_TIMEOUT_S) as graph:
        await migrate(graph)
        await seed_demo(graph, "demo")
        yield graph


@pytest.fixture
async def store(falkordb_server: EmbeddedServer) -> AsyncIterator[FalkorDBStore]:
    """A migrated, empty graph of the test's own on the shared embedded FalkorDB."""
    async with fresh_graph(falkordb_server) as graph:
        await migrate(graph)
        yield graph


@pytest.fixture
async def own_store(tmp_path: Path) -> AsyncIterator[FalkorDBStore]:
    """A migrated, empty embedded FalkorDB server of the test's own, in its directory."""
    graph = await FalkorDBStore.embedded(tmp_path / "graph")
    await migrate(graph)
    yield graph
    await graph.close()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n auto --dist loadgroup``, keep each module that has a module-scoped
    fixture (a demo hub, a seeded graph, a browser) on one worker, so it is built once instead
    of once per worker (and again whenever a worker switches modules). Other tests spread
    freely."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        scopes = {d.scope for defs in info.name2fixturedefs.values() for d in defs}
        if "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
