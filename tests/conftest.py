"""Fixtures shared by every test: real stores, never mocks.

``store`` is a migrated, empty graph of the test's own, once on each graph store (test ids
``[falkordb]`` and ``[neo4j]``): on FalkorDB a graph per test on this process's one embedded
server, on Neo4j this process's one server's database, wiped (tests/graphs.py). A server of each
kind per pytest-xdist worker, started when a test first needs it. ``own_store`` starts an
embedded FalkorDB of its own, for the tests that kill, restart or lock it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from graph_schema.store import GraphStore
from tests.graphs import (
    COPY_TIMEOUT_S,
    GRAPH_STORES,
    START_TIMEOUT_S,
    Neo4jDatabase,
    falkordb_demo_template,
    fresh_graph,
    neo4j_demo_image,
)
from tests.neo4j import Neo4jProcess

# The hubs tests start (`hub serve`, `hub demo` subprocesses) serve from one process unless a
# test asks for workers (tests/hub/test_workers.py): one per core would start a worker per
# core for every one of them, on a CI that is at its time limit.
os.environ.setdefault("HUB_HTTP_WORKERS", "1")

# The whole suite checks compiled reads against the resolvers (issue 28): every hub a test
# builds runs HUB_API_EXECUTION=compare unless the test asks for a mode, in this process (the
# settings read the environment for what a test's own mapping leaves out) and in subprocesses,
# so a compiled answer that differs from the resolvers' fails the test that saw it with an
# INTERNAL error.
os.environ.setdefault("HUB_API_EXECUTION", "compare")

# `pytester` runs a small suite in a subprocess (tests/test_neo4j_server.py).
pytest_plugins = ("pytester",)


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


def _run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's temporary directory, shared by its pytest-xdist workers."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above each worker's own
    return root


@pytest.fixture(scope="session")
async def demo_template(
    falkordb_server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FalkorDBStore]:
    """The migrated demo province on this process's FalkorDB, never written: fixtures take
    copies of it with ``demo_template.snapshot()`` (GRAPH.COPY, about a second, instead of the
    ten a seed takes). Seeded by the run's first process, restored from its dump by the others
    (tests/graphs.py)."""
    async with fresh_graph(falkordb_server, "template", socket_timeout_s=COPY_TIMEOUT_S) as graph:
        await falkordb_demo_template(_run_root(tmp_path_factory), falkordb_server, graph)
        yield graph


@pytest.fixture(scope="session")
async def migrated_template(falkordb_server: EmbeddedServer) -> AsyncIterator[FalkorDBStore]:
    """An empty graph with every migration applied, never written: ``store`` takes copies of
    it (GRAPH.COPY, ~0.1 s) instead of running the migrations for each test (~0.5 s idle,
    seconds under load)."""
    async with fresh_graph(falkordb_server, "migrated", socket_timeout_s=COPY_TIMEOUT_S) as graph:
        await migrate(graph)
        yield graph


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jProcess]:
    """This test process's Neo4j server (one database: tests take turns, see ``neo4j``).
    No Java, no Maven or an unbuilt launcher is an error with the reason, never a skip."""
    with Neo4jProcess(tmp_path_factory.mktemp("neo4j")) as server:
        yield server


@pytest.fixture(scope="session")
def neo4j(neo4j_server: Neo4jProcess) -> Neo4jDatabase:
    """This process's one Neo4j database: ``async with neo4j.empty() as store`` or
    ``neo4j.demo(writes=False)`` (tests/graphs.py)."""
    return Neo4jDatabase(neo4j_server)


@pytest.fixture(scope="session", name="neo4j_demo_image")
async def neo4j_demo_image_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated demo province's Neo4j files, seeded once per run (by the first pytest-xdist
    worker that needs them, in the run's shared temporary directory): servers start on copies
    (``tests.graphs.neo4j_demo_copy``)."""
    return await neo4j_demo_image(_run_root(tmp_path_factory))


@pytest.fixture
async def falkordb_store(migrated_template: FalkorDBStore) -> AsyncIterator[FalkorDBStore]:
    """A migrated, empty graph of the test's own on the shared embedded FalkorDB."""
    async with migrated_template.snapshot() as graph:
        yield graph


@pytest.fixture
async def neo4j_store(neo4j: Neo4jDatabase) -> AsyncIterator[GraphStore]:
    """This process's Neo4j database, migrated and emptied for the test."""
    async with neo4j.empty() as graph:
        yield graph


@pytest.fixture(params=GRAPH_STORES)
def store(request: pytest.FixtureRequest) -> GraphStore:
    """A migrated, empty graph of the test's own, on each graph store in turn."""
    graph: GraphStore = request.getfixturevalue(f"{request.param}_store")
    return graph


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
    _leave_out_like_pairs(config, items)
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        scopes = {d.scope for defs in info.name2fixturedefs.values() for d in defs}
        if "module" in scopes and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    _longest_first(items)


def _leave_out_like_pairs(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``cross_stores`` takes a source (``demo_store``) and a target (``store``)
    on each store; its Neo4j-to-Neo4j pair is left out: the two cross pairs already run each
    store's export against the other's import, which also catches a fault both sides of one
    store would share (and it cost 40-50 s a test). FalkorDB-to-FalkorDB stays, the cheap pair
    every earlier change was measured on."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        like = params.get("demo_store") == params.get("store") == "neo4j"
        (dropped if like and item.get_closest_marker("cross_stores") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# Seconds per test (setup + call + teardown) from a whole run, written by
# `TEST_DURATIONS_OUT=tests/durations.json make test`. Only the order of the run uses it. (Not a
# HUB_* name: the settings refuse HUB_* variables they do not know, and tests that start the hub
# pass it their environment.) Only the run started in the repository writes it, not a pytester
# run inside a test.
DURATIONS = Path(__file__).with_name("durations.json")


def _unit(item: pytest.Item) -> str:
    """What pytest-xdist's loadgroup hands out in one piece: a group, or a lone test."""
    marker = item.get_closest_marker("xdist_group")
    return f"group:{marker.args[0]}" if marker and marker.args else item.nodeid


def _longest_first(items: list[pytest.Item]) -> None:
    """Hand the longest pieces of work out first (xdist takes them in collection order), so the
    run does not end with one worker finishing a 60-second test while the other is idle. Tests
    missing from the file keep their order after the known long ones; the order is the same on
    every worker (xdist checks that), since it depends only on the file and the collection."""
    try:
        seconds: dict[str, float] = json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    weight: dict[str, float] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        unit = _unit(item)
        weight[unit] = weight.get(unit, 0.0) + seconds.get(item.nodeid, 0.0)
        first.setdefault(unit, index)
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda i: (-weight[_unit(i)], first[_unit(i)], order[id(i)]))


_measured: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if os.environ.get("TEST_DURATIONS_OUT"):
        nodeid, at, group = report.nodeid.rpartition("@")  # loadgroup appends "@<group>"
        if not (at and group.startswith("tests/")):
            nodeid = report.nodeid
        _measured[nodeid] = _measured.get(nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("TEST_DURATIONS_OUT")
    if (
        out
        and _measured
        and not hasattr(session.config, "workerinput")
        and Path(session.config.rootpath).resolve() == DURATIONS.parent.parent.resolve()
    ):
        kept = {k: round(v, 1) for k, v in sorted(_measured.items()) if v >= 0.5}
        Path(out).write_text(json.dumps(kept, indent=0, ensure_ascii=False) + "\n", "utf-8")
