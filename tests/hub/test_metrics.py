"""/metrics, request ids and JSON logs against the real app and the embedded demo graph."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.logs import JsonFormatter, configure
from hub.metrics import Metrics
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER
from tests.hub.metrics_text import sample

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(demo_store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)
    async with started(app) as http:  # the client is 127.0.0.1: loopback may scrape
        yield http


async def _scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_graphql_counters_and_latency_move_with_requests(client: httpx.AsyncClient) -> None:
    before = await _scrape(client)
    named = "query RegionCount { regions { totalCount } }"
    for _ in range(3):
        ok = await client.post("/graphql", json={"query": named})
        assert ok.status_code == 200 and "errors" not in ok.json()
    await client.post("/graphql", json={"query": "{ regions { totalCount } }"})
    bad = await client.post("/graphql", json={"query": "query Broken { nothingHere }"})
    assert bad.status_code == 400
    after = await _scrape(client)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    ops = "hub_graphql_operations_total"
    assert moved(ops, operation="RegionCount", type="query", outcome="ok") == 3
    assert moved(ops, operation="anonymous", type="query", outcome="ok") == 1
    assert moved(ops, operation="Broken", type="query", outcome="error") == 1
    latency = "hub_graphql_operation_duration_seconds_count"
    assert moved(latency, operation="RegionCount", type="query") == 3
    assert moved("hub_graphql_operation_duration_seconds_sum", operation="RegionCount") > 0
    # Each answered query read the graph; the store calls are timed by kind.
    assert moved("hub_store_operation_duration_seconds_count", store="graph", operation="read") >= 4
    http = "hub_http_requests_total"
    assert moved(http, route="/graphql", method="POST", status="200") == 4
    assert moved(http, route="/graphql", method="POST", status="400") == 1
    assert moved(http, route="/metrics", method="GET", status="200") == 1  # the first scrape
    # Nothing of the requests themselves: no query text, no region names.
    assert "totalCount" not in after and "regions" not in after


async def test_operation_names_are_bounded(demo_store: FalkorDBStore) -> None:
    settings = api_settings({**ANONYMOUS_VIEWER, "HUB_METRICS_MAX_OPERATIONS": "2"})
    app = create_app(settings, store=demo_store)
    async with started(app) as http:
        for i in range(5):
            await http.post(
                "/graphql", json={"query": f"query Op{i} {{ regions {{ totalCount }} }}"}
            )
        text = await _scrape(http)
    ops = "hub_graphql_operations_total"
    assert sample(text, ops, operation="Op0") == 1 and sample(text, ops, operation="Op1") == 1
    assert sample(text, ops, operation="Op4") == 0
    assert sample(text, ops, operation="other") == 3


async def test_metrics_refuse_strangers_and_accept_the_token(demo_store: FalkorDBStore) -> None:
    settings = api_settings(
        {**ANONYMOUS_VIEWER, "HUB_METRICS_TOKEN": "scrape-me", "HUB_METRICS_ALLOW_FROM": ""}
    )
    app = create_app(settings, store=demo_store)
    async with started(app, client=("203.0.113.9", 5000)) as http:
        assert (await http.get("/metrics")).status_code == 403
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200
        assert "hub_http_requests_total" in right.text
    # A network in HUB_METRICS_ALLOW_FROM needs no token.
    settings = api_settings({**ANONYMOUS_VIEWER, "HUB_METRICS_ALLOW_FROM": "203.0.113.0/24"})
    app = create_app(settings, store=demo_store)
    async with started(app, client=("203.0.113.9", 5000)) as http:
        assert (await http.get("/metrics")).status_code == 200


async def test_graph_store_errors_are_counted_by_code(tmp_path: Any) -> None:
    store = await FalkorDBStore.embedded(tmp_path / "g", socket_timeout_s=1.0)
    app = create_app(api_settings(ANONYMOUS_VIEWER, tmp_path), store=store)
    async with started(app) as http:
        await store.close()  # the server stops: reads fail as UNAVAILABLE
        await http.post("/graphql", json={"query": "{ regions { totalCount } }"})
        text = await _scrape(http)
    assert sample(text, "hub_store_errors_total", store="graph", code="UNAVAILABLE") >= 1


async def test_request_id_is_returned_and_on_every_log_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.access")
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    # A header that could forge log fields is replaced, not echoed.
    forged = await client.get("/healthz", headers={"X-Request-ID": 'x" "level": "ERROR'})
    assert forged.headers["x-request-id"] != 'x" "level": "ERROR'
    lines = [r for r in caplog.records if r.name == "hub.access"]
    assert [getattr(r, "request_id", None) for r in lines][:1] == ["abc-123"]
    record = lines[0]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "abc-123"
    assert entry["logger"] == "hub.access" and entry["status"] == 200


def test_json_log_lines_carry_the_request_id_from_the_context() -> None:
    from hub.logs import request_id

    configure("INFO", "json")
    handler = logging.getLogger().handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    token = request_id.set("req-7")
    try:
        logging.getLogger("hub.test").warning("store slow: %d ms", 12)
    finally:
        request_id.reset(token)
    logging.getLogger("hub.test").error("after", exc_info=ValueError("boom"))
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "req-7" and first["message"] == "store slow: 12 ms"
    assert first["level"] == "WARNING" and first["ts"].endswith("+00:00")
    assert "request_id" not in second and "ValueError: boom" in second["exc"]
    configure("WARNING", "text")


def test_a_fresh_metrics_registry_has_the_documented_families() -> None:
    text = Metrics().exposition().decode()
    for family in (
        "hub_http_requests",
        "hub_graphql_operations",
        "hub_store_operation_duration_seconds",
        "hub_ingest_batch_messages",
        "hub_dead_letters_pending",
        "process_cpu_seconds",
    ):
        assert f"# TYPE {family}" in text, family
