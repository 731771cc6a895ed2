"""The ``GraphStore`` port's contract (graph_schema/store.py), on every graph store: each test
runs once on the embedded FalkorDB and once on a real Neo4j (``[falkordb]``, ``[neo4j]``)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from graph_schema.cypher import Statement
from graph_schema.dialect import FulltextIndex
from graph_schema.errors import GraphQueryError, InvalidInput, UnstorableText
from graph_schema.migrations import migrate
from graph_schema.model import SPECS
from graph_schema.statements import upsert_nodes
from graph_schema.store import GraphStore

pytestmark = pytest.mark.anyio

WRITE = Statement(
    "test.write",
    "UNWIND $rows AS row MERGE (n:Thing {id: row.id}) SET n.name = row.name RETURN count(n) AS n",
    write=True,
)
COUNT = Statement("test.count", "MATCH (n:Thing) RETURN count(n) AS n")
NAME = Statement("test.name", "MATCH (n:Thing {id: $id}) RETURN n.name AS name")
ECHO = Statement("test.echo", "UNWIND $v AS v RETURN v")


async def test_parameters_carry_any_string_safely(store: GraphStore) -> None:
    nasty = "x\"}) DETACH DELETE n //\\' \n ${id} 中文"
    await store.run(WRITE, {"rows": [{"id": "a", "name": nasty}, {"id": "b", "name": "b"}]})
    assert (await store.run(NAME, {"id": "a"}))[0]["name"] == nasty
    assert (await store.run(COUNT))[0]["n"] == 2


async def test_missing_parameters_fail_before_sending(store: GraphStore) -> None:
    before = store.stats.round_trips
    with pytest.raises(ValueError, match=r"missing parameters \['id'\]"):
        await store.run(NAME, {})
    assert store.stats.round_trips == before


async def test_store_errors_are_translated(store: GraphStore) -> None:
    with pytest.raises(GraphQueryError, match=r"test\.bad"):
        await store.run(Statement("test.bad", "MATCH (n RETURN n"))
    assert store.stats.errors == 1


async def test_transaction_runs_all_statements_and_returns_each_result(store: GraphStore) -> None:
    results = await store.run_in_transaction(
        [(WRITE, {"rows": [{"id": "t1", "name": "one"}]}), (COUNT, {})]
    )
    assert results == [[{"n": 1}], [{"n": 1}]]
    assert store.stats.by_statement["transaction"] == 1


async def test_text_no_store_can_hold_is_refused_before_sending(store: GraphStore) -> None:
    # A backslash typed before "u0000" is six ordinary characters, and comes back as sent.
    assert await store.run(ECHO, {"v": ["a\\u0000b", 'q"\\\n']}) == [
        {"v": "a\\u0000b"},
        {"v": 'q"\\\n'},
    ]
    before = store.stats.round_trips
    with pytest.raises(UnstorableText, match="NUL"):
        await store.run(ECHO, {"v": ["ok", "a\x00b"]})
    with pytest.raises(UnstorableText, match="surrogate"):
        await store.run(ECHO, {"v": ["\ud800"]})
    assert store.stats.round_trips == before


async def test_values_come_back_with_their_types(store: GraphStore) -> None:
    values = [0, -(2**63), 2**63 - 1, 1.5, -0.25, 1e300, True, False, None, "", "中文", [1, "a"]]
    rows = await store.run(ECHO, {"v": values})
    out = [row["v"] for row in rows]
    assert out == values
    assert [type(v) for v in out] == [type(v) for v in values]
    maps = await store.run(Statement("test.map", "RETURN {a: $a, b: [$a]} AS m"), {"a": 7})
    assert maps == [{"m": {"a": 7, "b": [7]}}]


async def test_an_integer_no_store_can_hold_is_bad_input(store: GraphStore) -> None:
    # Both stores hold 64-bit integers: a larger one is the caller's error, refused before
    # it is sent, whether alone, in a list or in a map.
    before = store.stats.round_trips
    for value in (2**63, -(2**63) - 1, [1, 10**20], {"big": 10**20}):
        with pytest.raises(InvalidInput, match="64 bits"):
            await store.run(ECHO, {"v": [value]})
    assert store.stats.round_trips == before


async def test_nulls_sort_last_ascending_and_first_descending(store: GraphStore) -> None:
    # Neo4j orders null after every value; statements that sort on an optional property
    # coalesce it (graph_schema/reads.py Nulls.DATE) so neither store's rule leaks into pages.
    await store.run(
        Statement(
            "test.nulls",
            "UNWIND $rows AS row CREATE (:Thing {id: row.id, rank: row.rank})",
            write=True,
        ),
        {"rows": [{"id": "a", "rank": 2}, {"id": "b", "rank": None}, {"id": "c", "rank": 1}]},
    )
    up = Statement("test.up", "MATCH (n:Thing) RETURN n.id AS id ORDER BY n.rank")
    down = Statement("test.down", "MATCH (n:Thing) RETURN n.id AS id ORDER BY n.rank DESC")
    assert [r["id"] for r in await store.run(up)] == ["c", "a", "b"]
    assert [r["id"] for r in await store.run(down)] == ["b", "a", "c"]


async def test_a_unique_key_refuses_a_second_node(store: GraphStore) -> None:
    await store.run(upsert_nodes(SPECS["bank"]), {"rows": [{"key": "b1", "props": {"name": "x"}}]})
    with pytest.raises(GraphQueryError, match="unique"):
        await store.run(Statement("test.dup", "CREATE (:Bank {id: 'b1'})", write=True))


async def test_concurrent_upserts_of_the_same_keys_make_each_node_once(store: GraphStore) -> None:
    # Twenty writers MERGE the same fifty keys at once, each in a transaction of two
    # statements: the store serializes them (Neo4j locks the unique index entries and may
    # pick a deadlock victim, which the adapter's managed transaction retries), so every call
    # succeeds and each key is one node.
    spec = SPECS["bank"]
    link = Statement(
        "test.link",
        "UNWIND $keys AS a MATCH (x:Bank {id: a}) UNWIND $keys AS b MATCH (y:Bank {id: b}) "
        "WITH x, y WHERE x.id < y.id MERGE (x)-[:KNOWS]->(y) RETURN count(*) AS n",
        write=True,
    )

    async def writer(w: int) -> None:
        keys = [f"b{(w * 7 + k) % 50}" for k in range(50)]  # the same keys, in other orders
        rows = [{"key": key, "props": {"name": f"w{w}"}} for key in keys]
        await store.run_in_transaction(
            [(upsert_nodes(spec), {"rows": rows}), (link, {"keys": keys[:8]})]
        )

    await asyncio.gather(*(writer(w) for w in range(20)))
    banks = Statement(
        "test.banks", "MATCH (b:Bank) RETURN count(b) AS n, count(DISTINCT b.id) AS k"
    )
    assert await store.run(banks) == [{"n": 50, "k": 50}]


async def test_element_ids_find_their_node_again(store: GraphStore) -> None:
    node = store.rules.element_id_of("n")
    made = await store.run(
        Statement("test.make", f"CREATE (n:Thing {{id: 'e'}}) RETURN {node} AS id", write=True)
    )
    found = await store.run(
        Statement("test.find", f"MATCH (n) WHERE {node} = $id RETURN n.id AS key"),
        {"id": made[0]["id"]},
    )
    assert found == [{"key": "e"}]


async def test_migrate_on_a_migrated_store_creates_nothing(store: GraphStore) -> None:
    assert (await migrate(store)).created == []


async def test_a_value_the_stores_treat_differently_is_refused_before_sending(
    store: GraphStore,
) -> None:
    # Neo4j stored a date as a temporal value; FalkorDB's header spelled it unquoted and the
    # statement failed to parse (a GraphQueryError). Dates travel as ISO-8601 text
    # (model.to_properties), and a program that forgets is told so, the same on both.
    before = store.stats.round_trips
    for value in (dt.date(2026, 1, 31), dt.datetime(2026, 1, 31, tzinfo=dt.UTC), b"x", {1}):
        with pytest.raises(TypeError, match="not portable"):
            await store.run(ECHO, {"v": [value]})
        with pytest.raises(TypeError, match="not portable"):
            await store.run(ECHO, {"v": [{"at": value}]})
    assert store.stats.round_trips == before
    assert await store.run(ECHO, {"v": ["2026-01-31"]}) == [{"v": "2026-01-31"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("新能源", ["宁波新能源汽车零部件公司", "杭州新能源科技有限公司"]),
        ("物流", ["温州港口物流有限公司"]),
        ("杭州 科技", ["杭州新能源科技有限公司"]),  # every term must match
        # Query syntax in the text is taken literally: OR does not widen the search to either
        # word (Neo4j's cjk analyzer drops "or" as an English stop word, RediSearch looks
        # for it; neither store matches a name with both words).
        ('科技") OR (物流', []),
    ],
)
async def test_full_text_search_finds_chinese_names_by_their_words(
    store: GraphStore, text: str, expected: list[str]
) -> None:
    names = [
        "杭州新能源科技有限公司",
        "温州港口物流有限公司",
        "宁波新能源汽车零部件公司",
        "绍兴纺织印染厂",
    ]
    create = Statement(
        "test.enterprises",
        "UNWIND $names AS name CREATE (:Enterprise {uscc: name, name: name})",
        write=True,
    )
    await store.run(create, {"names": names})
    await store.wait_until_indexed(timeout_s=120)
    search = Statement(
        "test.search",
        store.rules.fulltext_query(
            FulltextIndex("Enterprise", ("name",)), "RETURN node.name AS name ORDER BY name"
        ),
    )
    rows = await store.run(search, {"search": store.rules.fulltext_text(text)})
    assert [row["name"] for row in rows] == sorted(expected)
