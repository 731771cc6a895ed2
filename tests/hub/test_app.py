"""The first slice of the GraphQL API, over HTTP, against the embedded store with demo data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from graph_schema.model import validate
from hub.app import create_app
from hub.bulk import import_records
from hub.telemetry import Telemetry
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(
    demo_store: FalkorDBStore, demo_telemetry: Telemetry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store, telemetry=demo_telemetry)
    async with started(app) as http:
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


async def test_chain_with_segments_by_tier_and_enterprise_counts(
    client: httpx.AsyncClient,
) -> None:
    query = """{ industryChain(id: "nev") { name segments(first: 100, sort: [{field: POSITION}]) {
        nodes { segmentId tier enterprises { totalCount }
                supplies { nodes { segmentId } } } } } }"""
    body = await _gql(client, query)
    segments = body["data"]["industryChain"]["segments"]["nodes"]
    assert len(segments) >= 10
    assert {s["tier"] for s in segments} == {"UPSTREAM", "MIDSTREAM", "DOWNSTREAM"}
    assert sum(s["enterprises"]["totalCount"] for s in segments) > 0
    assert any(s["supplies"]["nodes"] for s in segments)


async def test_bad_queries_are_bad_user_input(client: httpx.AsyncClient) -> None:
    # A document that fails validation is a 400 in application/graphql-response+json.
    response = await client.post("/graphql", json={"query": "{ nothingHere }"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_store_down_is_unavailable_not_a_trace(tmp_path: Any) -> None:
    store = await FalkorDBStore.embedded(tmp_path / "g", socket_timeout_s=1.0)
    app = create_app(api_settings(ANONYMOUS_VIEWER, tmp_path), store=store)
    async with started(app) as http:
        await store.close()  # stops the server; calls now fail
        body = await _gql(http, "{ regions { totalCount } }")
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
        app = create_app(api_settings(ANONYMOUS_VIEWER, tmp_path), store=store)
        async with started(app) as http:
            body = await _gql(http, "{ regions { totalCount } }")
    finally:
        await store.close()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["message"] == "Internal server error"
    assert "WRONGTYPE" not in json.dumps(body).upper()


async def test_a_killed_graph_server_makes_the_hub_unavailable_then_recovers(
    tmp_path: Any,
) -> None:
    # The embedded server crashes twice in a row: the first crash is absorbed by a restart,
    # the second is reported (no crash loop); a couple of seconds later the hub is back, with
    # its data, without restarting the hub.
    import os
    import signal

    store = await FalkorDBStore.embedded(tmp_path / "g")
    try:
        await migrate(store)
        region = validate("region", {"code": "330000", "name": "浙江省", "level": "province"})
        await import_records(store, "region", [region])
        await asyncio.sleep(1.2)  # appendfsync everysec: the write is on disk
        app = create_app(api_settings(ANONYMOUS_VIEWER, tmp_path), store=store)
        server = store._server
        assert server is not None
        async with started(app) as http:
            assert (await http.get("/readyz")).status_code == 200
            for _ in range(2):
                assert server.pid is not None
                os.kill(server.pid, signal.SIGKILL)
                await asyncio.sleep(0.3)
                ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            body = await _gql(http, "{ regions { totalCount } }")
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAVAILABLE"]
            assert (
                body["errors"][0]["message"] == "The graph store is unavailable; try again shortly."
            )
            await asyncio.sleep(2.2)
            assert (await http.get("/readyz")).status_code == 200
            body = await _gql(http, "{ regions { totalCount } }")
            assert body == {"data": {"regions": {"totalCount": 1}}}
    finally:
        await store.close()
