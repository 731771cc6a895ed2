"""The Neo4j adapter. Without a server only the failure path runs; with ``NEO4J_URI`` set
(a disposable database: it must be empty, or ``NEO4J_TEST_WIPE=1``) the full suite runs live."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph_schema.connect import open_graph_store
from graph_schema.cypher import Statement
from graph_schema.errors import GraphQueryError, GraphUnavailable
from graph_schema.migrations import LATEST, current_version, migrate
from graph_schema.model import validate
from graph_schema.neo4j_store import Neo4jStore
from graph_schema.statements import COUNT_NODES
from graph_schema.writer import Outcome, upsert
from tests.waiting import finishes

pytestmark = pytest.mark.anyio
NEO4J_URI = os.environ.get("NEO4J_URI")
live = pytest.mark.skipif(not NEO4J_URI, reason="NEO4J_URI not set: no live Neo4j to test against")
WIPE = Statement("test.wipe", "MATCH (n) DETACH DELETE n", write=True)


@pytest.mark.timing
async def test_an_unreachable_server_is_unavailable_not_waited_for(tmp_path: Path) -> None:
    # Idle it fails at once (connection refused); the ceiling only stops a retry loop.
    with pytest.raises(GraphUnavailable, match="unreachable"):
        await finishes(
            open_graph_store("bolt://127.0.0.1:9", data_dir=tmp_path, user="neo4j", password="x"),
            ceiling=120,
            what="opening an unreachable Neo4j",
        )


@pytest.fixture
async def neo4j() -> AsyncIterator[Neo4jStore]:
    assert NEO4J_URI is not None
    store = await open_graph_store(
        NEO4J_URI,
        data_dir=Path("."),
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD"),
        database=os.environ.get("NEO4J_DATABASE"),
    )
    assert isinstance(store, Neo4jStore)
    if await store.run(COUNT_NODES) and os.environ.get("NEO4J_TEST_WIPE") != "1":
        await store.close()
        pytest.skip("the Neo4j database is not empty; set NEO4J_TEST_WIPE=1 to let tests wipe it")
    await store.run(WIPE)
    yield store
    await store.run(WIPE)
    await store.close()


@live
async def test_live_migrate_is_idempotent(neo4j: Neo4jStore) -> None:
    await migrate(neo4j)
    assert await current_version(neo4j) == LATEST
    again = await migrate(neo4j)
    assert again.created == []


@live
async def test_live_upsert_and_unique_keys(neo4j: Neo4jStore) -> None:
    await migrate(neo4j)
    regions = [
        {"code": "330000", "name": "浙江省", "level": "province"},
        {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
    ]
    records = [validate("region", r) for r in regions]
    assert (await upsert(neo4j, "region", records)).counts == {Outcome.CREATED: 2}
    assert (await upsert(neo4j, "region", records)).counts == {Outcome.UNCHANGED: 2}
    with pytest.raises(GraphQueryError):
        await neo4j.run(Statement("test.dup", "CREATE (:Region {code: '330000'})", write=True))


@live
async def test_live_transaction_rolls_back_on_error(neo4j: Neo4jStore) -> None:
    create = Statement("test.create", "CREATE (:Bank {id: $id})", write=True)
    fail = Statement("test.fail", "RETURN 1 / $zero AS boom", write=True)
    with pytest.raises(GraphQueryError):
        await neo4j.run_in_transaction([(create, {"id": "b1"}), (fail, {"zero": 0})])
    rows = await neo4j.run(Statement("test.count", "MATCH (b:Bank) RETURN count(b) AS n"))
    assert rows == [{"n": 0}]
