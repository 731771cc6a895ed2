"""Mutations over HTTP: per-item results and errors, links, deletes, roles, stable cursors.

These tests write, so they get their own demo-seeded store (module scope), never the shared
read-only one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.identifiers import make_uscc
from graph_schema.model import Project
from hub.app import create_app
from hub.demo import DemoData
from hub.roles import Role
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER, key_headers
from tests.hub.test_api_reads import gql, gql_errors

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def _client(store: FalkorDBStore, role: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a real API key of ``role`` (anonymous callers are viewers)."""
    headers = None if role == "viewer" else await key_headers(store, Role(role))
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=store)
    async with started(app, headers=headers) as client:
        yield client


@pytest.fixture
async def operator(writable: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(writable, "operator") as http:
        yield http


UPSERT_PROJECTS = """mutation($items: [ProjectInput!]!) { upsertProjects(items: $items) {
    created updated unchanged rejected
    items { index key outcome errors { code field message } node { ... on Project { code name } } }
} }"""


def _project_input(demo_data: DemoData, code: str, **changes: Any) -> dict[str, Any]:
    base = next(p for p in demo_data.records("project") if isinstance(p, Project))
    item: dict[str, Any] = {
        "code": code,
        "name": "测试新建项目",
        "ownerUscc": base.owner_uscc,
        "regionCode": base.region_code,
        "stage": "PREPARATION",
        "kind": "NEW",
        "level": "COUNTY",
        "totalInvestment": 12000.0,
        "segmentIds": base.segment_ids,
    }
    item.update(changes)
    return item


async def test_writes_need_the_operator_or_admin_role(writable: FalkorDBStore) -> None:
    async with _client(writable, "viewer") as viewer:
        errors = await gql_errors(viewer, UPSERT_PROJECTS, items=[])
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_upsert_reports_every_item_and_a_bad_one_never_hides_the_good(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    base = next(p for p in demo_data.records("project") if isinstance(p, Project))
    region = base.region_code
    good = _project_input(demo_data, f"2026-{region}-35-01-TSTA01")
    bad_owner = _project_input(
        demo_data, f"2026-{region}-35-01-TSTA02", ownerUscc="91330000000000000X"
    )
    too_much = _project_input(
        demo_data, f"2026-{region}-35-01-TSTA03", annualPlanInvestment=99999.0
    )
    unknown_owner = _project_input(
        demo_data, f"2026-{region}-35-01-TSTA04", ownerUscc=make_uscc("330100", "77777777X")
    )
    result = (
        await gql(operator, UPSERT_PROJECTS, items=[good, bad_owner, too_much, unknown_owner])
    )["upsertProjects"]
    assert (result["created"], result["rejected"]) == (1, 3)
    first, second, third, fourth = result["items"]
    assert first["outcome"] == "CREATED" and first["errors"] == []
    assert first["node"] == {"code": good["code"], "name": "测试新建项目"}
    assert second["outcome"] == "REJECTED" and second["node"] is None
    assert second["errors"][0]["code"] == "BAD_USER_INPUT"
    assert second["errors"][0]["field"] == "ownerUscc"
    assert third["errors"][0]["code"] == "BAD_USER_INPUT"
    assert third["errors"][0]["field"] == "annualPlanInvestment"
    assert "annualPlanInvestment exceeds totalInvestment" in third["errors"][0]["message"]
    assert fourth["errors"] == [
        {
            "code": "NOT_FOUND",
            "field": "ownerUscc",
            "message": f"no enterprise {unknown_owner['ownerUscc']}",
        }
    ]
    # Idempotent: the same item again writes nothing; a change is an update.
    again = (await gql(operator, UPSERT_PROJECTS, items=[good]))["upsertProjects"]
    assert again["items"][0]["outcome"] == "UNCHANGED"
    renamed = {**good, "name": "测试新建项目（二期）"}
    changed = (await gql(operator, UPSERT_PROJECTS, items=[renamed]))["upsertProjects"]
    assert changed["items"][0]["outcome"] == "UPDATED"
    stored = await gql(
        operator, "query($c: String!) { project(code: $c) { name } }", c=good["code"]
    )
    assert stored["project"]["name"] == "测试新建项目（二期）"


LINK = """mutation($items: [LinkInput!]!) { link(items: $items) {
    applied unchanged rejected items { index outcome errors { code field message } } } }"""
UNLINK = LINK.replace("link(items", "unlink(items")


async def test_link_and_unlink_one_pair_per_item(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    project = next(
        p
        for p in demo_data.records("project")
        if isinstance(p, Project) and len(p.segment_ids) == 1
    )
    other = "bio.hospitals" if not project.segment_ids[0].startswith("bio.") else "nev.vehicle"
    pair = {"type": "PROJECT_SEGMENT", "from": project.code, "to": other}
    missing = {"type": "PROJECT_SEGMENT", "from": project.code, "to": "nev.no-such-segment"}
    result = (await gql(operator, LINK, items=[pair, missing, pair]))["link"]
    assert [i["outcome"] for i in result["items"]] == ["LINKED", "REJECTED", "ALREADY_LINKED"]
    assert result["items"][1]["errors"][0]["code"] == "NOT_FOUND"
    assert (result["applied"], result["unchanged"], result["rejected"]) == (1, 1, 1)
    query = "query($c: String!) { project(code: $c) { segments { nodes { segmentId } } } }"
    segments = await gql(operator, query, c=project.code)
    ids = {s["segmentId"] for s in segments["project"]["segments"]["nodes"]}
    assert ids == {project.segment_ids[0], other}

    result = (await gql(operator, UNLINK, items=[pair, pair]))["unlink"]
    assert [i["outcome"] for i in result["items"]] == ["UNLINKED", "NOT_LINKED"]
    segments = await gql(operator, query, c=project.code)
    assert [s["segmentId"] for s in segments["project"]["segments"]["nodes"]] == project.segment_ids

    itself = {"type": "SEGMENT_SUPPLIES", "from": "nev.vehicle", "to": "nev.vehicle"}
    result = (await gql(operator, LINK, items=[itself]))["link"]
    assert result["items"][0]["errors"][0]["code"] == "BAD_USER_INPUT"


DELETE = """mutation($ids: [ID!]!) { deleteNodes(ids: $ids) {
    applied rejected items { index outcome errors { code message } } } }"""


async def test_delete_refuses_what_others_need_and_removes_the_rest(
    operator: httpx.AsyncClient,
) -> None:
    query = """{ sensors(first: 1) { nodes { id sensorId } }
        enterprises(first: 1, where: {tagsAny: [CHAIN_LEADER]}) {
            nodes { id projects { totalCount } } } }"""
    data = await gql(operator, query)
    sensor = data["sensors"]["nodes"][0]
    owner = next(e for e in data["enterprises"]["nodes"] if e["projects"]["totalCount"] > 0)
    result = (await gql(operator, DELETE, ids=[sensor["id"], owner["id"], "not-an-id"]))[
        "deleteNodes"
    ]
    outcomes = [i["outcome"] for i in result["items"]]
    assert outcomes == ["DELETED", "REJECTED", "REJECTED"]
    assert result["items"][1]["errors"][0]["code"] == "BAD_USER_INPUT"
    assert "project" in result["items"][1]["errors"][0]["message"]
    assert (await gql(operator, "query($id: ID!) { node(id: $id) { id } }", id=sensor["id"]))[
        "node"
    ] is None
    again = (await gql(operator, DELETE, ids=[sensor["id"]]))["deleteNodes"]
    assert again["items"][0]["errors"][0]["code"] == "NOT_FOUND"


async def test_cursors_stay_valid_while_rows_are_inserted_before_them(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """query($after: String) { projects(first: 5, after: $after, sort: [{field: CODE}]) {
        pageInfo { endCursor } nodes { code } } }"""
    first = (await gql(operator, query))["projects"]
    second = (await gql(operator, query, after=first["pageInfo"]["endCursor"]))["projects"]
    # A project whose code sorts before everything on the first page appears meanwhile.
    region = first["nodes"][0]["code"][5:11]
    early = _project_input(demo_data, f"2000-{region}-35-01-EARLY1")
    created = (await gql(operator, UPSERT_PROJECTS, items=[early]))["upsertProjects"]
    assert created["created"] == 1, created
    again = (await gql(operator, query, after=first["pageInfo"]["endCursor"]))["projects"]
    assert again["nodes"] == second["nodes"]
    top = (await gql(operator, query))["projects"]
    assert top["nodes"][0]["code"] == early["code"]


async def test_text_the_store_refuses_is_one_rejected_item_not_a_failed_batch(
    operator: httpx.AsyncClient, demo_data: DemoData
) -> None:
    """A NUL made FalkorDB refuse the batch's parameters: the whole upsertProjects was INTERNAL.
    Now that item is rejected with INVALID_TEXT and the others are stored."""
    base = next(p for p in demo_data.records("project") if isinstance(p, Project))
    region = base.region_code
    good = _project_input(demo_data, f"2026-{region}-35-01-TSTN01")
    nul = _project_input(demo_data, f"2026-{region}-35-01-TSTN02", name="项目\u0000名称")
    surrogate = _project_input(demo_data, f"2026-{region}-35-01-TSTN03", name="项目\ud800")
    linked = _project_input(
        demo_data, f"2026-{region}-35-01-TSTN04", segmentIds=[*base.segment_ids, "seg\x00"]
    )
    # As a client would send it: JSON escapes (a lone surrogate cannot be sent as UTF-8).
    body = json.dumps(
        {"query": UPSERT_PROJECTS, "variables": {"items": [good, nul, surrogate, linked]}}
    )
    response = await operator.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    result = response.json()["data"]["upsertProjects"]
    assert (result["created"], result["rejected"]) == (1, 3)
    assert result["items"][0]["outcome"] == "CREATED"
    for item, field in zip(result["items"][1:], ["name", "name", "segmentIds"], strict=True):
        assert item["outcome"] == "REJECTED"
        assert [(e["code"], e["field"]) for e in item["errors"]] == [("INVALID_TEXT", field)]
    found = await gql(operator, "query($c: String!) { project(code: $c) { name } }", c=good["code"])
    assert found["project"]["name"] == "测试新建项目"
