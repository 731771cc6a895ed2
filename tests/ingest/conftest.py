"""Ingest fixtures: a real Mosquitto, a real SQLite telemetry store and the demo graph's sensors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.seed import seed_demo
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.broker import Mosquitto

SALT = b"test-salt-not-secret"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
async def telemetry(tmp_path: Path) -> AsyncIterator[SQLiteTelemetryStore]:
    store = await SQLiteTelemetryStore.open(tmp_path / "telemetry.db", feeds.metrics())
    yield store
    await store.close()


@pytest.fixture(scope="session")
async def sensor_graph(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FalkorDBStore]:
    """The demo province in a real embedded FalkorDB; tests may only add sensors with new ids."""
    graph = await FalkorDBStore.embedded(Path(tmp_path_factory.mktemp("ingest")) / "graph")
    await migrate(graph)
    await seed_demo(graph, "demo")
    yield graph
    await graph.close()
