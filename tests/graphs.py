"""One embedded FalkorDB and one Neo4j per test process, a fresh graph per test.

Starting an embedded FalkorDB (a Redis process with the module loaded) costs far more than a
test that uses it, so each pytest(-xdist worker) process starts ONE server (the session
fixture ``falkordb_server``) and every test gets a graph of its own on it, named uniquely per
process and test, and deleted afterwards. A FalkorDB graph is a separate keyspace with its own
nodes, indexes and constraints, so tests cannot see each other's data. Tests that need a server
of their own (killing it, restarting it, two hubs on one directory) use ``own_store``.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from enum import StrEnum
from pathlib import Path

import redis.asyncio as redis_asyncio
from redis import exceptions as redis_errors

from graph_schema.cypher import Statement, identifier
from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, migrate
from graph_schema.neo4j_store import Neo4jStore
from graph_schema.statements.entities import SET_SCHEMA_VERSION
from hub.seed import seed_demo
from tests.neo4j import Neo4jProcess

# Generous under load: an idle start or connect takes well under a second. (A connect is
# timed on the event loop, which a test's own CPU work, key hashing say, can hold for seconds
# on a busy machine: the hub's 5 s default failed tests there.)
START_TIMEOUT_S = 120.0
CONNECT_TIMEOUT_S = 60.0
# A copy of the demo province (``store.snapshot()``, GRAPH.COPY) took over a minute with a CPU
# hog on both cores: the template's client waits up to this long for one command.
COPY_TIMEOUT_S = 600.0

# The graph stores every `store` test runs on, in its test id: `test_x[falkordb]`, `[neo4j]`.
GRAPH_STORES = ("falkordb", "neo4j")

_graphs = itertools.count()


def graph_name(prefix: str = "test") -> str:
    """A graph name no other test process or test uses."""
    return f"{prefix}_{os.getpid()}_{next(_graphs)}"


@asynccontextmanager
async def fresh_graph(
    server: EmbeddedServer, prefix: str = "test", *, socket_timeout_s: float = 60.0
) -> AsyncIterator[FalkorDBStore]:
    """A client of ``server`` on a new, empty graph; the graph is deleted on exit."""
    name = graph_name(prefix)
    store = FalkorDBStore(
        socket_path=server.socket_path,
        graph=name,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        socket_timeout_s=socket_timeout_s,
    )
    try:
        await store.ping()
        yield store
    finally:
        with contextlib.suppress(redis_errors.RedisError, OSError):
            await store._connect().connection.execute_command("GRAPH.DELETE", name)
        await store.close()


# --- Neo4j -----------------------------------------------------------------------------------
# Neo4j Community serves ONE user database, so a test process (pytest-xdist worker) runs one
# server (the session fixture ``neo4j_server``, tests/neo4j.py) and tests take turns on its one
# database through ``Neo4jDatabase``: it is migrated once, and each test that wants it empty has
# the data deleted while the migrated indexes and constraints stay (building them again costs
# far more than deleting a small graph); the schema-version node the data wipe deletes is
# written back.

_WIPE = Statement(
    "test.wipe",
    # Small test graphs: one transaction. CALL { } IN TRANSACTIONS would need an implicit
    # transaction and buys nothing below a few hundred thousand nodes.
    "MATCH (n) DETACH DELETE n",
    write=True,
)
_SCHEMA = Statement(
    "test.schema",
    "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN collect(name) AS names",
)
_DROP_INDEX = "DROP INDEX {name} IF EXISTS"
_DROP_CONSTRAINT = "DROP CONSTRAINT {name} IF EXISTS"
_CONSTRAINTS = Statement(
    "test.constraints", "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names"
)


class Contents(StrEnum):
    """What the one database holds between tests."""

    UNKNOWN = "unknown"  # a test may have written to it, or nothing was put in yet
    DEMO = "demo"  # migrated, the demo province seeded and only read since


class Neo4jDatabase:
    """This process's one Neo4j database, handed out a test at a time.

    ``empty()`` yields a migrated, empty store (the ``store`` fixture's Neo4j half);
    ``demo()`` yields the migrated demo province. Read-only users of the demo pass
    ``writes=False`` so the next ``demo()`` reuses the seeded data instead of seeding again:
    on this one database the seed, not a copy, is the cost of a fresh demo graph. Every store
    handed out is a client of its own (its own ``stats``, closed on exit).

    Measured 2026-12-07 (2 cores, load average 16 from the other agents, so idle is faster):
    server start 15.6 s wall / 7.4 s CPU; the first ``empty()`` migrates, 8.3 s / 3.6 s of
    server CPU; each later ``empty()`` 130-310 ms wall, 30-100 ms server CPU and ~8 ms in the
    test process; ``seed_demo`` 44.7 s wall, 14.0 s server CPU and 5.3 s in the test process
    (41,794 nodes); ``demo()`` again with nothing in between: no round trip; ``empty()`` after
    the demo (deleting it) 7.0 s / 3.0 s. So keep the demo's Neo4j readers together (one
    module, or modules on one xdist group), read-only where they can be (``writes=False``):
    every switch between ``empty()`` and ``demo()`` costs a seed and a delete."""

    def __init__(self, server: Neo4jProcess) -> None:
        self.server = server
        self.contents = Contents.UNKNOWN
        self._schema: frozenset[str] | None = None  # index and constraint names after migrate
        self._constraints: frozenset[str] = frozenset()

    def env(self) -> dict[str, str]:
        """Hub settings (``load_settings(env)``) that open this database."""
        return {
            "HUB_GRAPH_URL": self.server.uri,
            "HUB_GRAPH_USER": self.server.user,
            "HUB_GRAPH_PASSWORD": self.server.password,
        }

    def client(self) -> Neo4jStore:
        return Neo4jStore(self.server.uri, user=self.server.user, password=self.server.password)

    async def _reset(self, store: Neo4jStore) -> None:
        """Delete the data; keep the migrated schema, restoring it if a test changed it."""
        await store.run(_WIPE)
        if self._schema is None:
            await migrate(store)
            self._schema = frozenset((await store.run(_SCHEMA))[0]["names"])
            self._constraints = frozenset((await store.run(_CONSTRAINTS))[0]["names"])
            return
        names = frozenset((await store.run(_SCHEMA))[0]["names"])
        if names != self._schema:
            # A test added or dropped an index or constraint: put back the migrated set.
            constraints = frozenset((await store.run(_CONSTRAINTS))[0]["names"])
            for name in sorted(constraints - self._constraints):
                await store.run(_ddl(_DROP_CONSTRAINT, name))
            for name in sorted(names - self._schema - constraints):
                await store.run(_ddl(_DROP_INDEX, name))
            await migrate(store)  # the version node is gone with the data: all run, missing made
            return
        await store.run(
            SET_SCHEMA_VERSION,
            {"version": LATEST, "applied_at": "test", "dialect": store.dialect.value},
        )

    @asynccontextmanager
    async def empty(self) -> AsyncIterator[Neo4jStore]:
        store = self.client()
        try:
            await self._reset(store)
            self.contents = Contents.UNKNOWN
            yield store
        finally:
            await store.close()

    @asynccontextmanager
    async def demo(self, *, writes: bool = True) -> AsyncIterator[Neo4jStore]:
        store = self.client()
        try:
            if self.contents is not Contents.DEMO:
                self.contents = Contents.UNKNOWN
                await self._reset(store)
                await seed_demo(store, "demo")
            self.contents = Contents.UNKNOWN if writes else Contents.DEMO
            yield store
        finally:
            if writes:
                self.contents = Contents.UNKNOWN
            await store.close()


def _ddl(template: str, name: str) -> Statement:
    return Statement("test.drop", template.format(name=identifier(name)), write=True)


# --- the demo province on Neo4j, seeded once per test run -------------------------------------
# Seeding the demo on Neo4j costs about 19 CPU-s (14 in the server, 5 in the test process) and
# 45-80 s wall; starting a server on a copy of a seeded store costs about 5-7 CPU-s and 10-15 s.
# So one process of a run seeds it once on a server of its own and stops it (the "image"); the
# read-only demo server and every module's writable province start on copies of its files.
# Only the default database is copied: the system database (users, the default database's
# entry) is made anew by each server, which sets the password (Neo4j refuses to set a user's
# password to the one it has, so a copied system database would not start).
_DEMO_FILES = ("data/databases/neo4j", "data/transactions/neo4j")
_READY = "ready"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def neo4j_demo_image(root: Path) -> Path:
    """The stopped Neo4j files of the migrated demo province under ``root``, seeded by the
    first process that asks (the others wait for it on a lock)."""
    image = root / "neo4j-demo-image"
    with _locked(root / "neo4j-demo-image.lock"):
        if not (image / _READY).exists():
            shutil.rmtree(image, ignore_errors=True)
            with Neo4jProcess(image) as server:
                store = Neo4jStore(
                    server.uri, user=server.user, password=server.password, query_timeout_s=600.0
                )
                try:
                    await migrate(store)
                    await seed_demo(store, "demo")
                finally:
                    await store.close()
            (image / _READY).write_text("seeded and stopped\n", encoding="utf-8")
    return image


def neo4j_demo_copy(image: Path, directory: Path) -> Neo4jProcess:
    """A server (not yet started) in ``directory`` on a copy of the image's demo province."""
    for part in _DEMO_FILES:
        shutil.copytree(image / part, directory / part)
    return Neo4jProcess(directory)


# --- the demo province on FalkorDB, seeded once per test run -----------------------------------
# Each process's FalkorDB holds a template of the demo (tests/conftest.py, ``demo_template``);
# seeding it costs about 11 s wall and 8 CPU-s, restoring a DUMP of another process's template
# (the serialisation GRAPH.COPY uses too, indexes and constraints included) about 1 s.


async def falkordb_demo_template(root: Path, server: EmbeddedServer, store: FalkorDBStore) -> None:
    """Put the migrated demo province into ``store`` (a new graph on ``server``): seeded by the
    first process of the run, restored from its dump under ``root`` by the others."""
    dump = root / "falkordb-demo.dump"
    raw = redis_asyncio.Redis(
        unix_socket_path=str(server.socket_path), socket_timeout=COPY_TIMEOUT_S
    )
    try:
        with _locked(root / "falkordb-demo.lock"):
            if dump.exists():
                await raw.restore(store._graph_name, 0, dump.read_bytes())
                return
            await migrate(store)
            await seed_demo(store, "demo")
            blob = await raw.dump(store._graph_name)
            assert isinstance(blob, bytes)
            partial = dump.with_name(f"{dump.name}.{os.getpid()}")
            partial.write_bytes(blob)
            partial.replace(dump)
    finally:
        await raw.aclose()
