"""One embedded FalkorDB per test process, a fresh graph per test.

Starting an embedded FalkorDB (a Redis process with the module loaded) costs far more than a
test that uses it, so each pytest(-xdist worker) process starts ONE server (the session
fixture ``falkordb_server``) and every test gets a graph of its own on it, named uniquely per
process and test, and deleted afterwards. A FalkorDB graph is a separate keyspace with its own
nodes, indexes and constraints, so tests cannot see each other's data. Tests that need a server
of their own (killing it, restarting it, two hubs on one directory) use ``own_store``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis_asyncio
from redis import exceptions as redis_errors

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore

# Generous under load: an idle start or connect takes well under a second. (A connect is
# timed on the event loop, which a test's own CPU work, key hashing say, can hold for seconds
# on a busy machine: the hub's 5 s default failed tests there.)
START_TIMEOUT_S = 120.0
CONNECT_TIMEOUT_S = 60.0
COPY_TIMEOUT_S = 600.0

_graphs = itertools.count()


def graph_name(prefix: str = "test") -> str:
    """A graph name no other test process or test uses."""
    return f"{prefix}_{os.getpid()}_{next(_graphs)}"


@asynccontextmanager
async def fresh_graph(server: EmbeddedServer, prefix: str = "test") -> AsyncIterator[FalkorDBStore]:
    """A client of ``server`` on a new, empty graph; the graph is deleted on exit."""
    name = graph_name(prefix)
    store = FalkorDBStore(
        socket_path=server.socket_path, graph=name, connect_timeout_s=CONNECT_TIMEOUT_S
    )
    try:
        await store.ping()
        yield store
    finally:
        with contextlib.suppress(redis_errors.RedisError, OSError):
            await store._connect().connection.execute_command("GRAPH.DELETE", name)
        await store.close()


@asynccontextmanager
async def copied_graph(
    server: EmbeddedServer, source: str, prefix: str = "copy"
) -> AsyncIterator[FalkorDBStore]:
    """A client of ``server`` on a new graph holding a copy of graph ``source`` (nodes, edges,
    indexes and constraints: ``GRAPH.COPY``, about a second for the demo province instead of
    the ten a seed takes); the copy is deleted on exit."""
    name = graph_name(prefix)
    store = FalkorDBStore(
        socket_path=server.socket_path, graph=name, connect_timeout_s=CONNECT_TIMEOUT_S
    )
    # The copy has a client of its own without the store's 60 s socket timeout: with both
    # cores taken by a CPU hog it took longer than that (it forks the server, and the child
    # serializes the graph while the parent loads it). COPY_TIMEOUT_S is the ceiling.
    copier: Any = redis_asyncio.Redis(unix_socket_path=str(server.socket_path))  # untyped calls
    try:
        await store.ping()
        deadline = time.monotonic() + COPY_TIMEOUT_S
        while True:
            try:
                await asyncio.wait_for(
                    copier.execute_command("GRAPH.COPY", source, name),
                    max(1.0, deadline - time.monotonic()),
                )
                break
            except redis_errors.ResponseError as exc:
                # The copy forks the server, which it cannot while another child (a background
                # save or AOF rewrite of the embedded server) runs: poll until that ends.
                if "could not fork" not in str(exc) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        yield store
    finally:
        with contextlib.suppress(redis_errors.RedisError, OSError):
            await store._connect().connection.execute_command("GRAPH.DELETE", name)
        await store.close()
        await copier.aclose()
