"""The first slice of the GraphQL API, over HTTP, against the embedded store with demo data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import Project
from hub.app import create_app
from hub.demo import DemoData
from hub.settings import load_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(demo_store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings({}), store=demo_store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        yield http


async def _gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_regions_by_level(client: httpx.AsyncClient) -> None:
    body = await _gql(
        client, "query($l: RegionLevel) { regions(level: $l) { code name } }", l="CITY"
    )
    cities = body["data"]["regions"]
    assert len(cities) == 11
    assert {"code": "330100", "name": "杭州市"} in cities
    one = await _gql(client, '{ region(code: "331000") { name level childCodes } }')
    region = one["data"]["region"]
    assert region["level"] == "CITY"
    assert "331003" in region["childCodes"]  # 黄岩区


async def test_chains_with_segments_by_tier(client: httpx.AsyncClient) -> None:
    body = await _gql(
        client, "{ industryChains { id segments { id tier enterpriseCount supplies } } }"
    )
    chains = {c["id"]: c for c in body["data"]["industryChains"]}
    assert set(chains) >= {"nev", "ic", "bio", "materials"}
    nev = chains["nev"]["segments"]
    assert len(nev) >= 10
    tiers = [s["tier"] for s in nev]
    assert tiers == sorted(tiers, key=["UPSTREAM", "MIDSTREAM", "DOWNSTREAM"].index)
    assert sum(s["enterpriseCount"] for s in nev) > 0
    assert any(s["supplies"] for s in nev)


async def test_project_lookup_joins_owner_region_and_links(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    project = demo_data.records("project")[0]
    assert isinstance(project, Project)
    query = """query($c: String!) { project(code: $c) {
        code name ownerUscc ownerName regionCode segmentIds parcelIds sensorIds
        totalInvestment } }"""
    body = await _gql(client, query, c=project.key())
    got = body["data"]["project"]
    assert got["code"] == project.key()
    assert got["ownerUscc"] == project.owner_uscc
    assert got["regionCode"] == project.region_code
    assert got["segmentIds"] == sorted(project.segment_ids)
    assert got["totalInvestment"] == pytest.approx(project.total_investment)


async def test_unknown_project_is_not_found_with_a_code(client: httpx.AsyncClient) -> None:
    body = await _gql(client, '{ project(code: "2024-330106-04-01-ZZZZZZ") { code } }')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_bad_queries_are_bad_user_input(client: httpx.AsyncClient) -> None:
    # A document that fails validation is a 400 in application/graphql-response+json.
    response = await client.post("/graphql", json={"query": "{ nothingHere }"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_store_down_is_unavailable_not_a_trace(tmp_path: Any) -> None:
    store = await FalkorDBStore.embedded(tmp_path / "g", socket_timeout_s=1.0)
    app = create_app(load_settings({}), store=store)
    await store.close()  # stops the server; calls now fail
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        body = await _gql(http, "{ regions { code } }")
        ready = await http.get("/readyz")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "Traceback" not in str(body)
    assert ready.status_code == 503


async def test_internal_errors_are_masked(tmp_path: Any) -> None:
    # A real store fault: the graph's key holds a plain string, so every query fails inside
    # FalkorDB with a message the client must not see.
    store = await FalkorDBStore.embedded(tmp_path / "g")
    try:
        await store._connect().connection.set("hub", "not a graph")
        app = create_app(load_settings({}), store=store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://h") as http:
            body = await _gql(http, "{ regions { code } }")
    finally:
        await store.close()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["message"] == "Internal server error"
    assert "WRONGTYPE" not in json.dumps(body).upper()
