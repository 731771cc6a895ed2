from __future__ import annotations

import pytest

from graph_schema.cypher import Statement
from graph_schema.dialect import FulltextIndex
from graph_schema.errors import GraphQueryError
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, MIGRATIONS, current_version, migrate
from graph_schema.model import SPECS
from graph_schema.statements import upsert_nodes

pytestmark = pytest.mark.anyio


async def test_migrate_records_the_version_and_is_idempotent(store: FalkorDBStore) -> None:
    # The fixture already migrated once.
    assert await current_version(store) == LATEST
    again = await migrate(store)
    assert (again.from_version, again.to_version, again.created) == (LATEST, LATEST, [])


async def test_every_schema_element_exists_after_migrating(store: FalkorDBStore) -> None:
    indexes = await store._existing_indexes()
    for migration in MIGRATIONS:
        for element in migration.elements:
            props = element.props if isinstance(element, FulltextIndex) else (element.prop,)
            for prop in props:
                assert (element.label, prop) in indexes, element


async def test_unique_keys_are_enforced(store: FalkorDBStore) -> None:
    await store.run(upsert_nodes(SPECS["bank"]), {"rows": [{"key": "b1", "props": {"name": "x"}}]})
    with pytest.raises(GraphQueryError, match="unique"):
        await store.run(Statement("test.dup", "CREATE (:Bank {id: 'b1'})", write=True))


def test_versions_run_without_gaps_or_repeats() -> None:
    # A store records the last version applied and skips every migration at or below it, so a
    # repeated number (two branches both taking 4) would silently skip one of them.
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
