"""A demo-scale province on each graph store: FalkorDB copies a template seeded once per
process; on Neo4j (one database per server) servers of their own start on copies of the demo's
files, seeded once per run (``neo4j_demo_image``, tests/conftest.py): one per process for the
read-only demo, whose readers all run on one worker (the xdist group below), and one per module
that writes to it.

Why a second Neo4j server and not the process's ``neo4j`` database: ``demo_store`` is
session-scoped and read by tests of many modules, while ``store`` empties this process's
database before each of its tests; on one database every switch would cost a seed (45 s wall,
14 CPU-s of server). Measured 2026-12-07 at load average 8-10 (other agents): seeding the
demo here took 83 s wall in the setup of the group's first test; the Neo4j cases of the hub
files parametrized over both stores (215 tests, ``-n 2``) took 10:40 wall and 400 CPU-s
(pytest, its workers and their servers); the largest single costs are test_bulk's entity
export/import round trips through Neo4j (32-93 s each) and the whole-graph backups (13-40 s).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.neo4j_store import Neo4jStore
from graph_schema.store import GraphStore
from hub.demo import DemoData, Scale, generate
from hub.settings import load_settings
from hub.telemetry import Telemetry, open_telemetry
from tests.graphs import GRAPH_STORES, neo4j_demo_copy
from tests.neo4j import Neo4jProcess

# Every test that reads the Neo4j demo province runs in this xdist group, so one worker
# seeds it (about 25 s idle) instead of every worker that meets one such test.
NEO4J_DEMO_GROUP = "neo4j-demo"


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return generate(Scale.DEMO)


@pytest.fixture(scope="session")
def neo4j_demo_server(
    neo4j_demo_image: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Neo4jProcess]:
    """A Neo4j server holding only the demo province (the per-test ``store`` wipes its own)."""
    with neo4j_demo_copy(neo4j_demo_image, tmp_path_factory.mktemp("neo4j-demo")) as server:
        yield server


def _client(server: Neo4jProcess) -> Neo4jStore:
    return Neo4jStore(server.uri, user=server.user, password=server.password, query_timeout_s=600.0)


@pytest.fixture(scope="session")
async def neo4j_demo(neo4j_demo_server: Neo4jProcess) -> AsyncIterator[Neo4jStore]:
    """The migrated demo province on Neo4j, never written."""
    store = _client(neo4j_demo_server)
    yield store
    await store.close()


@pytest.fixture(scope="session")
async def falkordb_demo(demo_template: FalkorDBStore) -> AsyncIterator[FalkorDBStore]:
    """A copy of the demo province on this process's embedded FalkorDB, made once."""
    async with demo_template.snapshot() as graph:
        yield graph


@pytest.fixture(scope="session", params=GRAPH_STORES)
def demo_store(request: pytest.FixtureRequest) -> GraphStore:
    """Shared and read-only: tests that write use the empty ``store`` fixture instead. The
    demo province on each graph store (only the parameter's store is started)."""
    store: GraphStore = request.getfixturevalue(f"{request.param}_demo")
    return store


@pytest.fixture(scope="session")
async def demo_telemetry(
    demo_store: GraphStore, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Telemetry]:
    """An empty real telemetry store beside the demo graph, without an MQTT subscriber: every
    sensor answers NO_DATA."""
    settings = load_settings({"HUB_DATA_DIR": str(tmp_path_factory.mktemp("telemetry"))})
    telemetry = await open_telemetry(settings, demo_store, ingest_mqtt=False)
    yield telemetry
    await telemetry.close()


def uses_neo4j_demo(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("demo_store") == "neo4j":
        return True
    return "neo4j_demo" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the Neo4j demo province share one xdist group (and so one seeded server),
    in place of their module's group (tests/conftest.py)."""
    for item in items:
        if uses_neo4j_demo(item):
            item.own_markers = [m for m in item.own_markers if m.name != "xdist_group"]
            item.add_marker(pytest.mark.xdist_group(NEO4J_DEMO_GROUP), append=False)


# --- the demo province for a module to write to -------------------------------------------------


@pytest.fixture(scope="module")
async def falkordb_writable(demo_template: FalkorDBStore) -> AsyncIterator[FalkorDBStore]:
    async with demo_template.snapshot() as graph:
        yield graph


@pytest.fixture(scope="module")
async def neo4j_writable(
    neo4j_demo_image: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GraphStore]:
    """A server of the module's own on a copy of the demo's files: no seed, and the process's
    ``neo4j`` database (the ``store`` fixture's) is neither written nor emptied for it."""
    directory = tmp_path_factory.mktemp("neo4j-writable")
    with neo4j_demo_copy(neo4j_demo_image, directory) as server:
        store = _client(server)
        try:
            yield store
        finally:
            await store.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module", params=GRAPH_STORES)
def writable(request: pytest.FixtureRequest) -> GraphStore:
    """The demo province for the module to write to, on each graph store: a copy of the
    FalkorDB template, or a Neo4j server of the module's own on a copy of the demo's files."""
    graph: GraphStore = request.getfixturevalue(f"{request.param}_writable")
    return graph
