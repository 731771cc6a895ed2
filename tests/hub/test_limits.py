"""Request limits: tokens, aliases, depth, body size, time; introspection off in production.
Each limit answers with a stable code and a message that names the limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio


async def _post(
    store: FalkorDBStore, body: Any, *, raw: bytes | None = None, **env: str
) -> httpx.Response:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)
    async with started(app) as client:
        if raw is not None:
            return await client.post(
                "/graphql", content=raw, headers={"Content-Type": "application/json"}
            )
        return await client.post("/graphql", json=body)


def _error(response: httpx.Response) -> tuple[str, str]:
    (error,) = response.json()["errors"]
    return error["extensions"]["code"], error["message"]


async def test_token_alias_and_depth_limits(demo_store: FalkorDBStore) -> None:
    many = "{ " + " ".join(f"a{i}: regions(first: 1) {{ totalCount }}" for i in range(30)) + " }"
    tokens = await _post(demo_store, {"query": many}, HUB_HTTP_MAX_TOKENS="100")
    assert tokens.status_code == 400
    code, message = _error(tokens)
    assert code == "BAD_USER_INPUT" and "token" in message.lower()
    aliases = await _post(demo_store, {"query": many}, HUB_HTTP_MAX_ALIASES="10")
    code, message = _error(aliases)
    assert code == "BAD_USER_INPUT" and "30 aliases found. Allowed: 10" in message
    within = await _post(demo_store, {"query": many}, HUB_HTTP_MAX_ALIASES="30")
    assert within.status_code == 200 and len(within.json()["data"]) == 30
    deep = "{ regions(first: 1) { nodes { parent { parent { parent { parent { code } } } } } } }"
    depth = await _post(demo_store, {"query": deep}, HUB_HTTP_MAX_DEPTH="4")
    code, message = _error(depth)
    assert code == "BAD_USER_INPUT" and "depth" in message.lower()


async def test_an_oversized_body_is_refused_before_it_is_parsed(
    demo_store: FalkorDBStore,
) -> None:
    padding = " " * 5000
    big = ('{"query": "{ regions { totalCount } }' + padding + '"}').encode()
    refused = await _post(demo_store, None, raw=big, HUB_HTTP_MAX_BODY_BYTES="4096")
    assert refused.status_code == 413
    code, message = _error(refused)
    assert code == "BAD_USER_INPUT" and "4096 bytes" in message
    fine = await _post(demo_store, None, raw=big, HUB_HTTP_MAX_BODY_BYTES="8192")
    assert fine.status_code == 200


async def test_a_request_over_its_time_is_cut_with_timeout(demo_store: FalkorDBStore) -> None:
    query = {"query": "{ projects(first: 100) { totalCount nodes { owner { name } } } }"}
    slow = await _post(demo_store, query, HUB_HTTP_TIMEOUT_S="0.0001")
    assert slow.status_code == 504
    code, message = _error(slow)
    assert code == "TIMEOUT" and "0.0001 s" in message
    assert (await _post(demo_store, query)).status_code == 200


async def test_introspection_is_off_in_production(demo_store: FalkorDBStore) -> None:
    query = {"query": "{ __schema { queryType { name } } }"}
    dev = await _post(demo_store, query)
    assert dev.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    prod = await _post(demo_store, query, HUB_ENVIRONMENT="production")
    errors = prod.json()["errors"]
    assert prod.status_code == 400 and "data" not in prod.json()
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    assert any("introspection" in e["message"].lower() for e in errors)
    # Ordinary queries still work, including __typename.
    plain = await _post(demo_store, {"query": "{ __typename regions { totalCount } }"},
                        HUB_ENVIRONMENT="production")  # fmt: skip
    assert plain.json()["data"]["__typename"] == "Query"
