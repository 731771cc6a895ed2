"""The Neo4j adapter against this process's real Neo4j 5 server (tests/neo4j.py): what only
Neo4j has. The port's contract, on both stores, is in test_store_contract.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from graph_schema.connect import open_graph_store
from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect, FulltextIndex, RangeIndex, UniqueKey
from graph_schema.errors import GraphQueryError, GraphUnavailable
from graph_schema.migrations import MIGRATIONS
from graph_schema.neo4j_store import Neo4jStore
from graph_schema.store import GraphStore
from tests.graphs import Neo4jDatabase
from tests.waiting import finishes

pytestmark = pytest.mark.anyio

COUNT_BANKS = Statement("test.count", "MATCH (b:Bank) RETURN count(b) AS n")

_NEO4J_ELEMENTS = [e for m in MIGRATIONS for e in m.elements_for(Dialect.NEO4J)]


@pytest.mark.timing
async def test_an_unreachable_server_is_unavailable_not_waited_for(tmp_path: Path) -> None:
    # Idle it fails at once (connection refused); the ceiling only stops a retry loop.
    with pytest.raises(GraphUnavailable, match="unreachable"):
        await finishes(
            open_graph_store("bolt://127.0.0.1:9", data_dir=tmp_path, user="neo4j", password="x"),
            ceiling=120,
            what="opening an unreachable Neo4j",
        )


async def test_a_bolt_url_with_user_and_password_opens_the_store(
    neo4j: Neo4jDatabase, tmp_path: Path
) -> None:
    for scheme in ("bolt", "neo4j"):
        url = neo4j.server.uri.replace("bolt://", f"{scheme}://")
        store = await open_graph_store(
            url, data_dir=tmp_path, user=neo4j.server.user, password=neo4j.server.password
        )
        try:
            assert isinstance(store, Neo4jStore)
            assert neo4j.server.password not in store.describe()
            await store.run(COUNT_BANKS)
        finally:
            await store.close()


async def test_a_wrong_password_is_unavailable_with_the_reason(
    neo4j: Neo4jDatabase, tmp_path: Path
) -> None:
    with pytest.raises(GraphUnavailable, match=r"(?i)unauthorized|authentication"):
        await open_graph_store(
            neo4j.server.uri, data_dir=tmp_path, user="neo4j", password="not-the-password"
        )


async def test_a_failed_transaction_leaves_nothing_behind(neo4j_store: GraphStore) -> None:
    # Unlike FalkorDB's MULTI/EXEC (store.py), a Neo4j transaction rolls back as a whole.
    create = Statement("test.create", "CREATE (:Bank {id: $id})", write=True)
    fail = Statement("test.fail", "RETURN 1 / $zero AS boom", write=True)
    with pytest.raises(GraphQueryError, match="transaction"):
        await neo4j_store.run_in_transaction([(create, {"id": "b1"}), (fail, {"zero": 0})])
    assert await neo4j_store.run(COUNT_BANKS) == [{"n": 0}]


async def test_every_unique_key_is_a_uniqueness_constraint(neo4j_store: GraphStore) -> None:
    rows = await neo4j_store.run(
        Statement(
            "test.constraints",
            "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
            "RETURN name, type, labelsOrTypes AS labels, properties",
        )
    )
    found = {row["name"]: row for row in rows}
    keys = [e for e in _NEO4J_ELEMENTS if isinstance(e, UniqueKey)]
    for key in keys:
        row = found[key.name]
        assert (row["type"], row["labels"], row["properties"]) == (
            "UNIQUENESS",
            [key.label],
            [key.prop],
        )
    ranges = [e for e in _NEO4J_ELEMENTS if isinstance(e, RangeIndex)]
    indexes = await neo4j_store.run(
        Statement("test.indexes", "SHOW INDEXES YIELD name, type, state RETURN name, type, state")
    )
    by_name = {row["name"]: row for row in indexes}
    for index in ranges:
        assert (by_name[index.name]["type"], by_name[index.name]["state"]) == ("RANGE", "ONLINE")


async def test_full_text_indexes_use_the_cjk_analyzer(neo4j_store: GraphStore) -> None:
    analyzers = await neo4j_store.run(
        Statement(
            "test.analyzers",
            "CALL db.index.fulltext.listAvailableAnalyzers() YIELD analyzer RETURN analyzer",
        )
    )
    assert "cjk" in {row["analyzer"] for row in analyzers}
    rows = await neo4j_store.run(
        Statement(
            "test.fulltext",
            "SHOW INDEXES YIELD name, type, options WHERE type = 'FULLTEXT' "
            "RETURN name, options.indexConfig AS config",
        )
    )
    wanted = {e.name for e in _NEO4J_ELEMENTS if isinstance(e, FulltextIndex)}
    assert {row["name"] for row in rows} == wanted
    assert {row["config"]["fulltext.analyzer"] for row in rows} == {"cjk"}


async def test_indexes_are_online_after_migrating(neo4j_store: GraphStore) -> None:
    assert await neo4j_store.wait_until_indexed(timeout_s=120) == 0


async def test_statements_on_labels_not_yet_written_log_no_warnings(
    neo4j_store: GraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    # The server notes "label does not exist" on such reads, and the driver logged each note
    # as a WARNING: on a young graph nearly every read. The adapter turns the notes off.
    caplog.set_level(logging.INFO, logger="neo4j")
    unknown = Statement("test.unknown", "MATCH (n:NoSuchLabel {no_such_key: 1}) RETURN n")
    assert await neo4j_store.run(unknown) == []
    assert await neo4j_store.run_in_transaction([(unknown, {})]) == [[]]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("neo4j")] == []


async def test_a_transaction_has_the_query_timeout(neo4j: Neo4jDatabase) -> None:
    # A statement far longer than the timeout (a billion rows counted: the server checks
    # timeouts every 2 s, so a short one could finish first) is ended by the timeout, alone or
    # in a transaction. Before, a transaction had none: this one ran 100 s to its end.
    slow = Statement(
        "test.slow", "UNWIND range(1, 1000000000) AS x WITH x WHERE x < 0 RETURN count(*) AS n"
    )
    store = Neo4jStore(
        neo4j.server.uri,
        user=neo4j.server.user,
        password=neo4j.server.password,
        query_timeout_s=0.5,
    )
    try:
        with pytest.raises(GraphQueryError, match=r"(?i)timed? ?out|terminated"):
            await finishes(store.run(slow), ceiling=120, what="a statement past its timeout")
        with pytest.raises(GraphQueryError, match=r"(?i)timed? ?out|terminated"):
            await finishes(
                store.run_in_transaction([(slow, {})]),
                ceiling=120,
                what="a transaction past its timeout",
            )
    finally:
        await store.close()
