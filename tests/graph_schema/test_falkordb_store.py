"""The embedded FalkorDB adapter against its real server process: what only FalkorDB has
(its parameter header, the embedded server's life, GRAPH.COPY). The port's contract, on both
stores, is in test_store_contract.py."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import OrderedDict
from pathlib import Path

import pytest

from graph_schema import falkordb_store as falkordb_store_module
from graph_schema.cypher import Statement
from graph_schema.errors import GraphUnavailable
from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from tests.waiting import finishes, wait_until

pytestmark = pytest.mark.anyio

WRITE = Statement(
    "test.write",
    "UNWIND $rows AS row MERGE (n:Thing {id: row.id}) SET n.name = row.name RETURN count(n) AS n",
    write=True,
)
COUNT = Statement("test.count", "MATCH (n:Thing) RETURN count(n) AS n")
NAME = Statement("test.name", "MATCH (n:Thing {id: $id}) RETURN n.name AS name")


async def _exited(server: EmbeddedServer) -> None:
    """Wait until the killed server process is gone (idle: a few ms)."""
    await asyncio.to_thread(
        wait_until, lambda: server.exit_code() is not None, ceiling=60, what="server exit"
    )


def test_the_parameter_header_is_spelled_as_the_client_spells_it() -> None:
    """The store builds the ``CYPHER ...`` header itself (faster); the text must be the
    client's to the byte, for every kind of value a statement sends."""
    from falkordb.asyncio.graph import AsyncGraph

    from graph_schema.model import RegionLevel

    params = {
        "rows": [
            {"key": "a", "props": {"name": "x\"}) //\\' \n 中文", "n": 3, "f": 1.5e-7}},
            {"key": "", "props": {"big": 10**20, "t": True, "no": None, "l": [1, "b", [2.0]]}},
        ],
        "after": "",
        "limit": 700,
        "level": RegionLevel.CITY,  # a str subclass
        "pair": ("a", -1.0),
        "empty": [],
        "map": {},
        "inf": float("inf"),
    }
    client = AsyncGraph.__new__(AsyncGraph)
    assert falkordb_store_module.params_header(params) == client._build_params_header(params)
    assert falkordb_store_module.params_header({}) == ""


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    first = await FalkorDBStore.embedded(tmp_path / "g")
    await first.run(WRITE, {"rows": [{"id": str(i), "name": "n"} for i in range(100)]})
    await first.close()
    second = await FalkorDBStore.embedded(tmp_path / "g")
    try:
        assert (await second.run(COUNT))[0]["n"] == 100
    finally:
        await second.close()


async def test_a_second_hub_on_the_same_directory_is_refused(own_store: FalkorDBStore) -> None:
    assert own_store._server is not None
    with pytest.raises(GraphUnavailable, match="another hub"):
        await FalkorDBStore.embedded(own_store._server.data_dir)


@pytest.mark.timing
async def test_a_killed_server_is_reported_then_restarted_with_its_data(
    own_store: FalkorDBStore,
) -> None:
    store = own_store
    await store.run(WRITE, {"rows": [{"id": "k", "name": "kept"}]})
    await asyncio.sleep(1.2)  # appendfsync everysec
    server = store._server
    assert server is not None and server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    await _exited(server)
    assert server.exit_code() == -signal.SIGKILL
    # The next call notices the dead process and starts a new one on the same files.
    rows = await store.run(NAME, {"id": "k"})
    assert rows == [{"name": "kept"}]
    assert server.restarts == 1


@pytest.mark.timing
async def test_a_crash_loop_is_reported_as_unavailable_not_spun(
    own_store: FalkorDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = own_store
    server = store._server
    assert server is not None
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    await _exited(server)
    await store.run(COUNT)  # first crash: restarted transparently
    assert server.restarts == 1
    # From now on a restart interval no busy machine can outlast between the two kills: the
    # second crash is always "within the interval", whatever the load.
    monkeypatch.setattr(falkordb_store_module, "_RESTART_INTERVAL_S", 3600.0)
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    await _exited(server)
    with pytest.raises(GraphUnavailable, match="exit"):
        await store.run(COUNT)  # within the restart interval: reported, not retried


@pytest.mark.timing
async def test_a_hung_server_times_out_instead_of_hanging(tmp_path: Path) -> None:
    hung = await FalkorDBStore.embedded(tmp_path / "h", socket_timeout_s=1.0)
    server = hung._server
    assert server is not None and server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        # The socket timeout (1 s) turns the hang into an error; the ceiling stops a hang.
        with pytest.raises(GraphUnavailable):
            await finishes(hung.run(COUNT), ceiling=120, what="a query to a stopped server")
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await hung.close()


async def test_a_graph_copy_the_server_loses_is_asked_again(
    falkordb_store: FalkorDBStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A lost GRAPH.COPY (seen in CI: the client blocked for good, no fork at work, no copy
    # written) looks, from the client, like a copy held up by CLIENT PAUSE WRITE: blocked with
    # nothing under way. Held up twice, the snapshot gives each attempt up and asks again; once
    # the pause is lifted it copies, and no abandoned copy is left behind.
    store = falkordb_store
    monkeypatch.setattr(falkordb_store_module, "_COPY_STALL_S", 0.3)
    monkeypatch.setattr(falkordb_store_module, "_COPY_POLL_S", 0.05)
    monkeypatch.setattr(falkordb_store_module, "_COPY_ATTEMPTS", 1000)
    await store.run(WRITE, {"rows": [{"id": str(i), "name": "n"} for i in range(50)]})
    admin = store._connect().connection

    async def counted() -> int:
        async with store.snapshot() as view:
            return int((await view.run(COUNT))[0]["n"])

    def lost() -> int:
        return sum("was lost by the server" in r.getMessage() for r in caplog.records)

    caplog.set_level("WARNING", logger="graph_schema.falkordb_store")
    await admin.execute_command("CLIENT", "PAUSE", "120000", "WRITE")
    try:
        copying = asyncio.create_task(counted())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120  # a ceiling: two attempts need 2 x 0.3 s of stall
        while lost() < 2 and not copying.done() and loop.time() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
    assert lost() >= 2 and not copying.done()
    assert await finishes(copying, ceiling=120, what="the snapshot after the pause") == 50
    graphs = await admin.execute_command("GRAPH.LIST")
    ours = f"{store._graph_name}__snapshot_"  # the fixture's store is itself a snapshot
    assert not [g for g in graphs if str(g).startswith(ours)], graphs


EVERY_VALUE = Statement(
    "test.every_value",
    "MATCH (n:Thing) WITH n ORDER BY n.id LIMIT 2 "
    "RETURN n.id AS id, n.name AS name, null AS nothing, 7 AS int, -2.5 AS double, "
    "1e300 * 10 AS inf, true AS yes, false AS no, ['中文', 1, [null, 0.1]] AS list, "
    "{a: 1, b: {c: 'x'}, d: [true]} AS map, n {.id, .name, k: [n.id]} AS projection, "
    "point({latitude: 30.5, longitude: 114.25}) AS point",
)


async def test_a_read_reply_is_read_as_the_client_reads_it(falkordb_store: FalkorDBStore) -> None:
    """falkordb_reply reads scalars, lists, maps and points itself and gives exactly what the
    client's QueryResult gives; a reply with a node goes to the client's parser."""
    from falkordb.asyncio.query_result import QueryResult

    from graph_schema import falkordb_reply

    await falkordb_store.run(
        WRITE, {"rows": [{"id": "1", "name": '中文 "q" \\'}, {"id": "2", "name": ""}]}
    )
    graph = await falkordb_store._graph()

    async def both(statement: Statement) -> tuple[object, list[dict[str, object]]]:
        response = await graph.execute_command(
            "GRAPH.RO_QUERY", graph.name, statement.text, "--compact"
        )
        parsed = QueryResult(graph)
        await parsed.parse(response)
        return falkordb_reply.rows(response), falkordb_store_module._rows(parsed)

    fast, client = await both(EVERY_VALUE)
    assert fast == client
    assert len(client) == 2 and client[0]["name"] == '中文 "q" \\'
    # The same types, but maps are plain dicts (in the same order), not OrderedDicts.
    kinds = [dict if type(v) is OrderedDict else type(v) for v in client[0].values()]
    assert [type(v) for v in fast[0].values()] == kinds
    assert list(fast[0]["map"]) == ["a", "b", "d"]
    assert await falkordb_store.run(EVERY_VALUE) == client
    node = Statement("test.node", "MATCH (n:Thing) RETURN n ORDER BY n.id")
    fast, client = await both(node)
    assert fast is None
    assert [r["n"].properties["id"] for r in await falkordb_store.run(node)] == ["1", "2"]
    assert await both(Statement("test.none", "MATCH (n:Nothing) RETURN n.id AS id")) == (
        [],
        [],
    )
