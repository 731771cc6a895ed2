"""A hub served on a loopback port in this process (real uvicorn, HTTP and WebSocket), on a
graph the test holds, for the npm clients to talk to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from graph_schema.store import GraphStore
from hub.app import create_app
from tests.broker import free_port
from tests.hub.apps import api_settings
from tests.ingest.helpers import eventually


@contextlib.asynccontextmanager
async def served(
    store: GraphStore, data_dir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[str]:
    """``hub serve`` on ``store``, anonymous callers reading as viewers (as in ``hub demo``);
    yields the GraphQL URL. ``env`` adds settings over tests.hub.apps.API_ONLY."""
    port = free_port()
    settings = api_settings(
        {"HUB_HTTP_PORT": str(port), "HUB_AUTH_ANONYMOUS_ROLE": "viewer", **(env or {})},
        data_dir,
    )
    config = uvicorn.Config(
        create_app(settings, store=store),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), 120, "uvicorn to start")
        assert not task.done(), "the hub did not start"
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


async def gql(url: str, query: str, *, key: str | None = None, **variables: Any) -> dict[str, Any]:
    """A plain POST (no client library): the data, failing on any error."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=120, headers=headers) as client:
        response = await client.post(url, json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data
