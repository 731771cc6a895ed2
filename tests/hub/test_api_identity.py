"""One identity (issue 27 item 4): every Node type round-trips through ``node(id:)`` and through
its root lookup by global id; business keys stay available as separately named arguments; link
and unlink take global ids; ``nodes(ids:)`` answers in part when some ids are bad."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.model import Project
from graph_schema.statements import reads
from graph_schema.store import GraphStore
from hub.api.access import ROOT_FIELDS
from hub.api.inputs import TYPE_OF_ENTITY
from hub.api.paging import encode_global_id
from hub.api.schema import SURFACE
from hub.app import create_app
from hub.demo import DemoData
from hub.roles import Role
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER, key_headers
from tests.hub.test_api_reads import gql, gql_errors

pytestmark = pytest.mark.anyio

# entity -> (list field, root lookup, its business-key argument, the type's key field)
LOOKUPS = {
    "region": ("regions", "region", "code", "code"),
    "chain": ("industryChains", "industryChain", "key", "chainId"),
    "segment": ("segments", "segment", "key", "segmentId"),
    "product": ("products", "product", "key", "productId"),
    "enterprise": ("enterprises", "enterprise", "uscc", "uscc"),
    "parcel": ("parcels", "parcel", "key", "parcelId"),
    "project": ("projects", "project", "code", "code"),
    "bank": ("banks", "bank", "key", "bankId"),
    "sensor": ("sensors", "sensor", "key", "sensorId"),
}


@pytest.fixture
async def client(demo_store: GraphStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)
    async with started(app) as http:
        yield http


@pytest.mark.parametrize("entity", sorted(LOOKUPS))
async def test_every_node_type_round_trips_by_global_id_and_by_key(
    client: httpx.AsyncClient, entity: str
) -> None:
    listed, root, key_arg, key_field = LOOKUPS[entity]
    page = await gql(
        client, f"{{ {listed}(first: 3) {{ nodes {{ __typename id {key_field} }} }} }}"
    )
    nodes = page[listed]["nodes"]
    assert nodes, entity
    for node in nodes:
        global_id, key = node["id"], node[key_field]
        assert global_id == encode_global_id(node["__typename"], key)
        found = await gql(
            client,
            f"""query($id: ID!, $key: String!, $bare: ID!) {{
                node(id: $id) {{ __typename id }}
                byId: {root}(id: $id) {{ id {key_field} }}
                byKey: {root}({key_arg}: $key) {{ id }}
                bareKeyInId: {root}(id: $bare) {{ id }}
            }}""",
            id=global_id,
            key=key,
            bare=key,
        )
        assert found["node"] == {"__typename": node["__typename"], "id": global_id}
        assert found["byId"] == {"id": global_id, key_field: key}
        assert found["byKey"] == {"id": global_id}
        # For one release the id argument still takes the bare business key (CHANGELOG).
        assert found["bareKeyInId"] == {"id": global_id}


@pytest.mark.parametrize("entity", sorted(LOOKUPS))
async def test_every_lookups_id_is_typed_id_and_a_string_variable_goes_to_the_key(
    client: httpx.AsyncClient, entity: str
) -> None:
    # What client generators declare for an object's id is `ID!`; a String variable for `id:`
    # is refused by validation, so that a business key goes to the key argument.
    listed, root, _, key_field = LOOKUPS[entity]
    page = await gql(client, f"{{ {listed}(first: 1) {{ nodes {{ id {key_field} }} }} }}")
    node = page[listed]["nodes"][0]
    errors = await gql_errors(
        client, f"query($id: String!) {{ {root}(id: $id) {{ id }} }}", id=node[key_field]
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        "Variable '$id' of type 'String!' used in position expecting type 'ID'"
        in (errors[0]["message"])
    )
    literal = await gql(client, f'{{ {root}(id: "{node["id"]}") {{ id }} }}')
    assert literal == {root: {"id": node["id"]}}


async def test_a_lookup_refuses_another_types_id_and_wants_exactly_one_argument(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    project = next(p for p in demo_data.records("project") if isinstance(p, Project))
    foreign = encode_global_id("Project", project.code)
    cases = [
        ("query($id: ID!) { segment(id: $id) { id } }", {"id": foreign}),
        ("{ segment { id } }", {}),
        (
            "query($c: String!, $id: ID!) { project(code: $c, id: $id) { id } }",
            {"c": project.code, "id": encode_global_id("Project", project.code)},
        ),
    ]
    for query, variables in cases:
        errors = await gql_errors(client, query, **variables)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (query, errors)
    errors = await gql_errors(client, cases[0][0], **cases[0][1])
    assert "is the id of a Project, not of a ChainSegment" in errors[0]["message"]
    missing = await gql(
        client,
        "query($id: ID!) { project(id: $id) { id } }",
        id=encode_global_id("Project", "x"),
    )
    assert missing == {"project": None}


async def test_nodes_answers_in_part_when_some_ids_are_bad(client: httpx.AsyncClient) -> None:
    page = await gql(
        client, "{ projects(first: 2) { nodes { id } } regions(first: 1) { nodes { id } } }"
    )
    first, second = (n["id"] for n in page["projects"]["nodes"])
    region = page["regions"]["nodes"][0]["id"]
    gone = encode_global_id("Project", "2099-000000-00-00-000000")
    ids = [first, "not an id!", region, encode_global_id("NoSuchType", "x"), gone, second]
    response = await client.post(
        "/graphql",
        json={
            "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            "variables": {"ids": ids},
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["data"]["nodes"] == [
        {"id": first},
        None,
        {"id": region},
        None,
        None,
        {"id": second},
    ]
    errors = sorted(body["errors"], key=lambda e: e["path"])
    assert [e["path"] for e in errors] == [["nodes", 1], ["nodes", 3]]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}


async def test_nodes_nulls_only_what_the_role_may_not_read(
    demo_store: GraphStore, demo_data: DemoData, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await key_headers(demo_store, Role.BANK, bank=demo_data.bank[0].id)
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)
    async with started(app) as viewer:
        page = await gql(
            viewer, "{ sensors(first: 1) { nodes { id } } projects(first: 1) { nodes { id } } }"
        )
    sensor, project = page["sensors"]["nodes"][0]["id"], page["projects"]["nodes"][0]["id"]
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)
    # Unconfined (the bank role may use only the financing entry points), so that the per-type
    # permission is what answers.
    monkeypatch.delitem(ROOT_FIELDS, Role.BANK)
    async with started(app, headers=headers) as bank:
        response = await bank.post(
            "/graphql",
            json={
                "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                "variables": {"ids": [project, sensor]},
            },
        )
    body = response.json()
    assert body["data"]["nodes"] == [{"id": project}, None]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["nodes", 1], "FORBIDDEN")
    ]


# --- link and unlink take global ids --------------------------------------------------------


@contextlib.asynccontextmanager
async def _operator(store: GraphStore) -> AsyncIterator[httpx.AsyncClient]:
    headers = await key_headers(store, Role.OPERATOR)
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=store)
    async with started(app, headers=headers) as client:
        yield client


LINK = """mutation($items: [LinkInput!]!) { link(items: $items) {
    applied items { outcome errors { code field message } } } }"""
UNLINK = """mutation($items: [LinkInput!]!) { unlink(items: $items) {
    applied items { outcome errors { code field message } } } }"""
# The ends as a client generator declares an object's id: ID variables.
BY_IDS = """mutation($from: ID!, $to: ID!) {
    linked: link(items: [{type: PROJECT_SEGMENT, from: $from, to: $to}]) { items { outcome } }
    unlinked: unlink(items: [{type: PROJECT_SEGMENT, from: $from, to: $to}]) {
        items { outcome } } }"""


# On the FalkorDB copy only: turning ids into keys is the API's, before any statement, and the
# link statements themselves run on both stores in test_api_mutations (a writable Neo4j demo
# costs about 20 s of seeding per module).
async def test_link_and_unlink_take_global_ids(
    falkordb_writable: GraphStore, demo_data: DemoData
) -> None:
    writable = falkordb_writable
    project = next(
        p
        for p in demo_data.records("project")
        if isinstance(p, Project) and len(p.segment_ids) == 1
    )
    other = "bio.hospitals" if not project.segment_ids[0].startswith("bio.") else "nev.vehicle"
    pair: dict[str, Any] = {
        "type": "PROJECT_SEGMENT",
        "from": encode_global_id("Project", project.code),
        "to": encode_global_id("ChainSegment", other),
    }
    wrong = {**pair, "to": encode_global_id("Region", "330100")}
    query = "query($c: String!) { project(code: $c) { segments { nodes { segmentId } } } }"
    async with _operator(writable) as operator:
        result = (await gql(operator, LINK, items=[pair, wrong]))["link"]
        assert [i["outcome"] for i in result["items"]] == ["LINKED", "REJECTED"]
        assert result["items"][1]["errors"] == [
            {
                "code": "BAD_USER_INPUT",
                "field": "to",
                "message": f"{wrong['to']!r} is the id of a Region, not of a ChainSegment",
            }
        ]
        found = await gql(operator, query, c=project.code)
        assert {s["segmentId"] for s in found["project"]["segments"]["nodes"]} == {
            project.segment_ids[0],
            other,
        }
        # The bare keys still work, for one release.
        bare = {"type": "PROJECT_SEGMENT", "from": project.code, "to": other}
        result = (await gql(operator, UNLINK, items=[bare]))["unlink"]
        assert [i["outcome"] for i in result["items"]] == ["UNLINKED"]
        found = await gql(operator, query, c=project.code)
        assert [
            s["segmentId"] for s in found["project"]["segments"]["nodes"]
        ] == project.segment_ids
        # The objects' own ids, read back, in ID variables: linked, then (in field order)
        # unlinked again.
        ids = await gql(
            operator,
            "query($c: String!, $s: String!) { project(code: $c) { id } segment(key: $s) { id } }",
            c=project.code,
            s=other,
        )
        both = await gql(
            operator, BY_IDS, **{"from": ids["project"]["id"]}, to=ids["segment"]["id"]
        )
        assert both == {
            "linked": {"items": [{"outcome": "LINKED"}]},
            "unlinked": {"items": [{"outcome": "UNLINKED"}]},
        }
        found = await gql(operator, query, c=project.code)
        assert [
            s["segmentId"] for s in found["project"]["segments"]["nodes"]
        ] == project.segment_ids


def test_filters_know_the_type_of_every_anchor() -> None:
    types = {entity: cls.__name__ for entity, cls in SURFACE.node_types.items()}
    anchors = {f.anchor for ns in reads.NODE_SETS.values() for f in ns.filters.values() if f.anchor}
    assert {a: TYPE_OF_ENTITY[a] for a in anchors} == {a: types[a] for a in anchors}


async def test_where_filters_naming_an_object_take_its_global_id(
    client: httpx.AsyncClient,
) -> None:
    query = """query($w: ProjectWhere) { projects(where: $w) { totalCount } }"""
    region = encode_global_id("Region", "330100")
    by_key = (await gql(client, query, w={"region": "330100"}))["projects"]["totalCount"]
    by_id = (await gql(client, query, w={"region": region}))["projects"]["totalCount"]
    inside = (await gql(client, query, w={"OR": [{"region": region}]}))["projects"]["totalCount"]
    assert by_key == by_id == inside > 0
    errors = await gql_errors(client, query, w={"NOT": {"owner": region}})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "where.NOT.owner" in errors[0]["message"]
