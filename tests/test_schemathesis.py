"""Schemathesis against the running hub: generated queries and mutations for every root field,
sent over real HTTP to `hub serve` (uvicorn, embedded stores with the demo province) with an
admin key. Bounded and derandomised for CI. No answer may be a 500 or carry INTERNAL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.app import create_app
from hub.auth import create_key
from hub.roles import Role
from hub.seed import seed_demo
from hub.settings import load_settings
from tests.broker import free_port

SDL = (Path(__file__).resolve().parents[1] / "schema.graphql").read_text(encoding="utf-8")
# The hub's own scalars: valid literals and nonsense alike (the hub must refuse those cleanly).
schemathesis.graphql.scalar(
    "Date", st.sampled_from(["2025-06-30", "2025-02-30", "x", ""]).map(nodes.String)
)
schemathesis.graphql.scalar(
    "DateTime",
    st.sampled_from(["2025-06-30T00:00:00+08:00", "2025-06-30T00:00:00", "x"]).map(nodes.String),
)
schemathesis.graphql.scalar(
    "Period",
    st.one_of(
        st.sampled_from(["2025", "2025-Q3", "2025-06", "2025-06-H2", "2025-Q5", "2025-06-H3", "x"]),
        st.integers().map(str),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "JSON", st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int))
)
schema = schemathesis.graphql.from_file(SDL)


async def _prepare(data: Path) -> str:
    store = await FalkorDBStore.embedded(data / "graph")
    try:
        await migrate(store)
        await seed_demo(store, "demo")
        key, _ = await create_key(store, Role.ADMIN, name="schemathesis")
        return key
    finally:
        await store.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("schemathesis") / "data"
    key = asyncio.run(_prepare(data))
    port = free_port()
    settings_ = load_settings(
        {
            "HUB_DATA_DIR": str(data),
            "HUB_MQTT_INGEST": "false",
            "HUB_HTTP_PORT": str(port),
            # Compiled and resolver execution both answer, and must agree (hub.api.compiled).
            "HUB_API_EXECUTION": "compare",
        }
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings_), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # a ceiling, not a speed target
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/graphql", key
    server.should_exit = True
    thread.join(30)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_operations_never_break_the_hub(case: Any, hub: tuple[str, str]) -> None:
    url, key = hub
    response = case.call(url=url, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code != 500, response.text[:500]
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL" not in codes, response.text[:1000]
    assert all(codes), response.text[:1000]
