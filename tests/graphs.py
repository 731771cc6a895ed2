"""One embedded FalkorDB per test process, a fresh graph per test.

Starting an embedded FalkorDB (a Redis process with the module loaded) costs far more than a
test that uses it, so each pytest(-xdist worker) process starts ONE server (the session
fixture ``falkordb_server``) and every test gets a graph of its own on it, named uniquely per
process and test, and deleted afterwards. A FalkorDB graph is a separate keyspace with its own
nodes, indexes and constraints, so tests cannot see each other's data. Tests that need a server
of their own (killing it, restarting it, two hubs on one directory) use ``own_store``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import exceptions as redis_errors

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore

# Generous under load: an idle start or connect takes well under a second. (A connect is
# timed on the event loop, which a test's own CPU work, key hashing say, can hold for seconds
# on a busy machine: the hub's 5 s default failed tests there.)
START_TIMEOUT_S = 120.0
CONNECT_TIMEOUT_S = 60.0
# A copy of the demo province (``store.snapshot()``, GRAPH.COPY) took over a minute with a CPU
# hog on both cores: the template's client waits up to this long for one command.
COPY_TIMEOUT_S = 600.0

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
