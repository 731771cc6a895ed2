from __future__ import annotations

from pathlib import Path

import pytest

from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect, FulltextIndex
from graph_schema.errors import GraphQueryError
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, MIGRATIONS, current_version, migrate, statements
from graph_schema.model import SPECS
from graph_schema.statements.entities import SET_SCHEMA_VERSION, upsert_nodes
from graph_schema.store import GraphStore
from tests.graphs import GRAPH_STORES, Neo4jDatabase

pytestmark = pytest.mark.anyio

# Neo4j's own list: the (label, property) pairs each index covers (a uniqueness constraint's
# backing index is one of them), leaving out the built-in label and type lookup indexes.
_NEO4J_INDEXES = Statement(
    "test.indexes",
    "SHOW INDEXES YIELD type, labelsOrTypes, properties WHERE type <> 'LOOKUP' "
    "RETURN type, labelsOrTypes AS labels, properties",
)


async def _indexed(store: GraphStore) -> dict[tuple[str, str], set[str]]:
    """Index kinds per (label, property), in the store's own terms."""
    if isinstance(store, FalkorDBStore):
        return await store._existing_indexes()
    found: dict[tuple[str, str], set[str]] = {}
    for row in await store.run(_NEO4J_INDEXES):
        for label in row["labels"]:
            for prop in row["properties"]:
                found.setdefault((label, prop), set()).add(row["type"])
    return found


async def test_migrate_records_the_version_and_is_idempotent(store: GraphStore) -> None:
    # The fixture already migrated once.
    assert await current_version(store) == LATEST
    again = await migrate(store)
    assert (again.from_version, again.to_version, again.created) == (LATEST, LATEST, [])


async def test_every_schema_element_exists_after_migrating(store: GraphStore) -> None:
    indexes = await _indexed(store)
    for migration in MIGRATIONS:
        for element in migration.elements_for(store.dialect):
            props = element.props if isinstance(element, FulltextIndex) else (element.prop,)
            for prop in props:
                assert (element.label, prop) in indexes, element
                if isinstance(element, FulltextIndex):
                    assert "FULLTEXT" in indexes[(element.label, prop)], element


async def test_unique_keys_are_enforced(store: GraphStore) -> None:
    await store.run(upsert_nodes(SPECS["bank"]), {"rows": [{"key": "b1", "props": {"name": "x"}}]})
    with pytest.raises(GraphQueryError, match="unique"):
        await store.run(Statement("test.dup", "CREATE (:Bank {id: 'b1'})", write=True))


def test_versions_run_without_gaps_or_repeats() -> None:
    # A store records the last version applied and skips every migration at or below it, so a
    # repeated number (two branches both taking 4) would silently skip one of them.
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_migrating_again_from_scratch_changes_nothing(store: GraphStore) -> None:
    # Every element checks for itself, so even a store whose version record was lost (or a
    # second hub racing the first) re-runs the migrations without creating anything twice.
    await store.run(
        SET_SCHEMA_VERSION, {"version": 0, "applied_at": "x", "dialect": store.dialect.value}
    )
    before = await _indexed(store)
    again = await migrate(store)
    assert (again.from_version, again.to_version, again.created) == (0, LATEST, [])
    assert await _indexed(store) == before


@pytest.mark.parametrize("kind", GRAPH_STORES)
async def test_a_store_behind_is_brought_up_on_start(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from hub.settings import load_settings
    from hub.store import open_store

    env = {"HUB_DATA_DIR": str(tmp_path)}
    if kind == "neo4j":
        neo4j: Neo4jDatabase = request.getfixturevalue("neo4j")
        async with neo4j.empty():
            pass  # migrated, then left to this test
        env |= neo4j.env()
    settings = load_settings(env)
    store = await open_store(settings)
    await store.run(
        SET_SCHEMA_VERSION, {"version": 5, "applied_at": "x", "dialect": store.dialect.value}
    )
    await store.close()
    store = await open_store(settings)  # what every `hub serve` and CLI command does first
    try:
        assert await current_version(store) == LATEST
    finally:
        await store.close()


def test_neo4j_migrations_are_idempotent_statements() -> None:
    # Neo4j's DDL is made idempotent by IF NOT EXISTS (a second run is a no-op, not an error);
    # tests/graph_schema/test_neo4j_dialect.py lints the same statements with Neo4j's parser.
    ddl = statements(Dialect.NEO4J)
    assert len(ddl) == sum(len(m.elements_for(Dialect.NEO4J)) for m in MIGRATIONS)
    for statement in ddl:
        assert statement.text.startswith("CREATE ") and " IF NOT EXISTS " in statement.text
    names = [s.name for s in ddl]
    assert len(names) == len(set(names))  # one name per element: IF NOT EXISTS keys on it
