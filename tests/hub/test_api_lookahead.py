"""Look-ahead (hub.api.lookahead): fetching related fields ahead must change how many
statements run and how long they take, never an answer or an error.

Every test runs the same operation twice against the embedded demo store: with the look-ahead
(the hub as it runs) and without it (``batching=False``: every related field through its own
resolver and store call), and compares the whole responses.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.statements import reads
from hub.api.access import ROOT_FIELDS
from hub.api.context import Context
from hub.api.schema import build_schema, error_code
from hub.roles import Role
from hub.telemetry import Telemetry

pytestmark = pytest.mark.anyio

SCHEMA = build_schema()
TOP_LISTS = {
    "Region": "regions",
    "IndustryChain": "industryChains",
    "ChainSegment": "segments",
    "Product": "products",
    "Enterprise": "enterprises",
    "LandParcel": "parcels",
    "Project": "projects",
    "Bank": "banks",
    "Sensor": "sensors",
}


async def _run(
    store: FalkorDBStore,
    query: str,
    *,
    batching: bool,
    role: Role = Role.VIEWER,
    variables: dict[str, Any] | None = None,
    telemetry: Telemetry | None = None,
) -> tuple[dict[str, Any], Context, int]:
    """The response (data and errors sorted by path), the context, and the round trips."""
    ctx = Context(store=store, role=role, batching=batching, telemetry=telemetry)
    before = store.stats.round_trips
    result = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
    errors = sorted(
        (
            {"path": e.path, "message": e.message, "code": error_code(e)}
            for e in result.errors or ()
        ),
        key=lambda e: [str(p) for p in e["path"] or ()],
    )
    return {"data": result.data, "errors": errors}, ctx, store.stats.round_trips - before


def _selection(type_name: str, depth: int) -> str:
    """Every scalar field of ``type_name`` and, ``depth`` levels down, every related field
    with every scalar field of what it reaches (lists: first 3, with counts and cursors)."""
    type_ = SCHEMA._schema.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    parts = []
    for name, field in type_.fields.items():
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif (type_name, name) in SCHEMA.surface.relation_fields and depth > 0:
            assert isinstance(named, GraphQLObjectType)
            if "nodes" in named.fields:
                item = get_named_type(named.fields["nodes"].type).name
                inner = _selection(item, depth - 1)
                parts.append(
                    f"{name}(first: 3) {{ totalCount pageInfo {{ hasNextPage endCursor }} "
                    f"edges {{ cursor }} nodes {{ {inner} }} }}"
                )
            else:
                parts.append(f"{name} {{ {_selection(named.name, depth - 1)} }}")
    return " ".join(parts)


@pytest.mark.parametrize("type_name", sorted(TOP_LISTS))
async def test_every_field_two_levels_down_answers_the_same_fetched_ahead(
    demo_store: FalkorDBStore, demo_telemetry: Telemetry, type_name: str
) -> None:
    query = f"{{ {TOP_LISTS[type_name]}(first: 4) {{ nodes {{ {_selection(type_name, 2)} }} }} }}"
    ahead, ctx, trips = await _run(demo_store, query, batching=True, telemetry=demo_telemetry)
    naive, _, naive_trips = await _run(demo_store, query, batching=False, telemetry=demo_telemetry)
    assert ahead["errors"] == [] and ahead["data"][TOP_LISTS[type_name]]["nodes"]
    assert ahead == naive
    # Sensors sit behind a permission, so they and what lies under them are never fetched
    # ahead; every other related field is, one statement per field and level.
    behind = {name for name in ctx.loaders.statements if not name.startswith("api.project.sensors")}
    assert behind <= {"api.sensor.project"}
    assert naive_trips > 3 * trips


NESTED = """
fragment Owner on Enterprise { uscc name region { code } }
query($skipParcels: Boolean!, $after: String, $stage: [ProjectStage!]) {
  projects(
    first: 6, where: { stage: $stage }, sort: [{ field: TOTAL_INVESTMENT, direction: DESC }]
  ) {
    totalCount
    edges {
      cursor
      node {
        code
        boss: owner { ...Owner }
        owner { name projects(first: 2, after: $after) { totalCount nodes { code } } }
        parcels @skip(if: $skipParcels) { nodes { parcelId } }
        ... on Project { region { name parent { name } } }
      }
    }
    nodes {
      name
      top: segments(first: 1, sort: [{ field: NAME, direction: DESC }]) {
        nodes { name chain { name } }
        pageInfo { hasNextPage startCursor }
      }
      all: segments { totalCount }
      ... on Node { id }
    }
  }
}"""


async def test_aliases_fragments_directives_and_arguments_answer_the_same(
    demo_store: FalkorDBStore,
) -> None:
    for skip in (True, False):
        variables = {"skipParcels": skip, "after": None, "stage": ["CONSTRUCTION"]}
        ahead, ctx, trips = await _run(demo_store, NESTED, batching=True, variables=variables)
        naive, _, naive_trips = await _run(demo_store, NESTED, batching=False, variables=variables)
        assert ahead["errors"] == []
        assert ahead == naive
        # Nothing went through the per-field loaders: everything was fetched ahead.
        assert ctx.loaders.statements == frozenset()
        nodes = ahead["data"]["projects"]["edges"]
        assert len(nodes) == 6
        assert all(("parcels" in e["node"]) is not skip for e in nodes)
        # Projects: the page and totalCount. Their fields: owner (boss and owner, one
        # statement), region, parcels (unless skipped), the top segment, all segments'
        # counts. Below: the owners' regions and projects, the regions' parents, the top
        # segments' chains.
        assert trips == 2 + (4 if skip else 5) + 4
        assert naive_trips > trips


async def test_what_is_not_fetched_ahead_still_answers_and_fails_at_its_own_path(
    demo_store: FalkorDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A field behind a permission: refused per project, the rest answered. (The bank role is
    # confined to its financing entry points; lifted here to reach a nested permission.)
    monkeypatch.delitem(ROOT_FIELDS, Role.BANK)
    query = "{ projects(first: 3) { nodes { code owner { name } sensors { totalCount } } } }"
    ahead, _, _ = await _run(demo_store, query, batching=True, role=Role.BANK)
    naive, _, _ = await _run(demo_store, query, batching=False, role=Role.BANK)
    assert ahead == naive
    assert [(e["code"], e["path"]) for e in ahead["errors"]] == [
        ("FORBIDDEN", ["projects", "nodes", i, "sensors"]) for i in range(3)
    ]
    nodes = ahead["data"]["projects"]["nodes"]
    assert all(n["owner"]["name"] and n["sensors"] is None for n in nodes)
    # Arguments the look-ahead cannot plan with: the resolver reports them at their path.
    query = '{ projects(first: 3) { nodes { code segments(after: "nope") { totalCount } } } }'
    ahead, _, _ = await _run(demo_store, query, batching=True)
    naive, _, _ = await _run(demo_store, query, batching=False)
    assert ahead == naive
    assert [(e["code"], e["path"]) for e in ahead["errors"]] == [
        ("BAD_USER_INPUT", ["projects", "nodes", 0, "segments"])
    ]


async def test_projections_fetch_what_objects_are_built_from(demo_store: FalkorDBStore) -> None:
    for entity, needed in SCHEMA.surface.built_from.items():
        key = reads.NODE_SETS[entity].key
        assert set(needed) <= reads.properties_of(entity)
        rows = await demo_store.run(
            reads.page(entity, (), reads.default_order(entity), False, demo_store.dialect),
            {"limit": 1},
        )
        props = rows[0]["props"]
        built = SCHEMA.surface.node_of(entity, {p: props.get(p) for p in {key, *needed}})
        assert built.node_key() == props[key]
