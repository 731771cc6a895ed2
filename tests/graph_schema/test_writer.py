"""The idempotent upsert path shared by import, demo seeding and mutations, on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from graph_schema.cypher import Statement
from graph_schema.identifiers import make_uscc
from graph_schema.model import validate
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome, upsert

pytestmark = pytest.mark.anyio

REGIONS = [
    {"code": "330000", "name": "浙江省", "level": "province"},
    {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
    {"code": "330106", "name": "西湖区", "level": "county", "parent_code": "330100"},
    {"code": "330108", "name": "滨江区", "level": "county", "parent_code": "330100"},
]
LINKS = Statement(
    "test.links",
    "MATCH (e:Enterprise {uscc: $uscc})-[r]->(t) RETURN type(r) AS type, "
    "coalesce(t.code, t.id) AS target ORDER BY type, target",
)


def _enterprise(n: int, region: str = "330106", **extra: Any) -> dict[str, Any]:
    return {
        "uscc": make_uscc(region, f"MA00000{n:02d}"),
        "name": f"企业{n}",
        "region_code": region,
        **extra,
    }


async def _load(store: GraphStore, entity: str, rows: list[dict[str, Any]]) -> Any:
    return await upsert(store, entity, [validate(entity, r) for r in rows])


async def test_created_then_unchanged_then_updated(store: GraphStore) -> None:
    first = await _load(store, "region", REGIONS)
    assert first.counts == {Outcome.CREATED: 4}
    before = store.stats.by_statement["region.upsert"]
    second = await _load(store, "region", REGIONS)
    assert second.counts == {Outcome.UNCHANGED: 4}
    assert store.stats.by_statement["region.upsert"] == before  # nothing written
    renamed = [dict(REGIONS[2], name_en="Xihu")]
    third = await _load(store, "region", renamed)
    assert third.outcomes == [Outcome.UPDATED]


async def test_missing_references_reject_only_their_rows(store: GraphStore) -> None:
    await _load(store, "region", REGIONS)
    rows = [_enterprise(1), _enterprise(2, region="330109"), _enterprise(3)]
    result = await _load(store, "enterprise", rows)
    assert result.outcomes == [Outcome.CREATED, Outcome.REJECTED, Outcome.CREATED]
    (rejection,) = result.rejections
    assert rejection.index == 1
    assert "no region 330109" in str(rejection.problems[0])


async def test_links_follow_the_record_on_update(store: GraphStore) -> None:
    await _load(store, "region", REGIONS)
    ent = _enterprise(1)
    await _load(store, "enterprise", [ent])
    rows = await store.run(LINKS, {"uscc": ent["uscc"]})
    assert rows == [{"type": "LOCATED_IN", "target": "330106"}]
    moved = dict(ent, region_code="330108")
    assert (await _load(store, "enterprise", [moved])).outcomes == [Outcome.UPDATED]
    rows = await store.run(LINKS, {"uscc": ent["uscc"]})
    assert rows == [{"type": "LOCATED_IN", "target": "330108"}]


async def test_a_key_repeated_in_one_batch_applies_in_order(store: GraphStore) -> None:
    rows = [REGIONS[0], dict(REGIONS[0], name_en="Zhejiang"), REGIONS[0]]
    result = await _load(store, "region", rows)
    assert result.outcomes == [Outcome.CREATED, Outcome.UPDATED, Outcome.UPDATED]


async def test_a_batch_costs_a_fixed_number_of_round_trips(store: GraphStore) -> None:
    await _load(store, "region", REGIONS)
    small_before = store.stats.round_trips
    await _load(store, "enterprise", [_enterprise(n) for n in range(2)])
    small = store.stats.round_trips - small_before
    big_before = store.stats.round_trips
    await _load(store, "enterprise", [_enterprise(n) for n in range(10, 90)])
    assert store.stats.round_trips - big_before == small


async def test_supplies_edges_are_idempotent_and_check_both_ends(store: GraphStore) -> None:
    await _load(store, "chain", [{"id": "nev", "name": "新能源汽车"}])
    segments = [
        {"id": f"nev.{s}", "chain_id": "nev", "name": s, "tier": "upstream"}
        for s in ("cathode", "cells")
    ]
    await _load(store, "segment", segments)
    edges = [
        {"from_segment": "nev.cathode", "to_segment": "nev.cells"},
        {"from_segment": "nev.cathode", "to_segment": "nev.nothing"},
    ]
    first = await _load(store, "supply", edges)
    assert first.outcomes == [Outcome.CREATED, Outcome.REJECTED]
    second = await _load(store, "supply", edges[:1])
    assert second.outcomes == [Outcome.UNCHANGED]
