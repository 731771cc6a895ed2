"""The smaller leaks: deep JSON is a 400, no field suggestions in production, /readyz details
only for loopback or the metrics token, security headers on every response."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio
REMOTE = ("203.0.113.7", 40000)


def _client(
    store: FalkorDBStore, client: tuple[str, int] = ("127.0.0.1", 5), **env: str
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)
    return started(app, client=client)


@pytest.fixture
async def http(store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(store) as client:
        yield client


async def test_request_json_nested_5000_deep_is_a_400(http: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename }", "variables": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["errors"][0]["message"]


async def test_no_field_suggestions_in_production(store: FalkorDBStore) -> None:
    query = {"query": '{ region(code: "330000") { nam } }'}
    async with _client(store) as dev:
        said = (await dev.post("/graphql", json=query)).json()["errors"][0]["message"]
        assert "Did you mean" in said
    async with _client(store, HUB_ENVIRONMENT="production") as prod:
        said = (await prod.post("/graphql", json=query)).json()["errors"][0]["message"]
    assert "Did you mean" not in said and "name" not in said.replace("'nam'", "")
    assert "Cannot query field 'nam'" in said


async def test_readyz_details_only_for_loopback_or_the_token(store: FalkorDBStore) -> None:
    async with _client(store) as local:
        body = (await local.get("/readyz")).json()
    assert body["status"] == "ready" and "graph" in body
    async with _client(store, client=REMOTE, HUB_METRICS_TOKEN="scrape-me") as remote:
        plain = await remote.get("/readyz")
        assert plain.status_code == 200 and plain.json() == {"status": "ready"}
        tokened = await remote.get("/readyz", headers={"Authorization": "Bearer scrape-me"})
        assert "graph" in tokened.json()
        wrong = await remote.get("/readyz", headers={"Authorization": "Bearer guess"})
        assert wrong.json() == {"status": "ready"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/graphql"),
     ("GET", "/nothing-here"), ("GET", "/graphql"), ("GET", "/graphiql/start.js")],
)  # fmt: skip
async def test_security_headers_on_every_response(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await http.request(method, path, json={"query": "{ __typename }"})
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    # One policy everywhere, GraphiQL's page included (its assets are served locally).
    assert "'unsafe-inline'" not in csp and "https:" not in csp
