"""A demo-scale province loaded once per session into a real embedded FalkorDB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.demo import DemoData, Scale, generate
from hub.settings import load_settings
from hub.telemetry import Telemetry, open_telemetry


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return generate(Scale.DEMO)


@pytest.fixture(scope="session")
async def demo_store(
    demo_template: FalkorDBStore,
) -> AsyncIterator[FalkorDBStore]:
    """Shared and read-only: tests that write use the empty ``store`` fixture instead. A copy
    of the demo province on this process's embedded FalkorDB, made once per session."""
    async with demo_template.snapshot() as graph:
        yield graph


@pytest.fixture(scope="session")
async def demo_telemetry(
    demo_store: FalkorDBStore, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Telemetry]:
    """An empty real telemetry store beside the demo graph, without an MQTT subscriber: every
    sensor answers NO_DATA."""
    settings = load_settings({"HUB_DATA_DIR": str(tmp_path_factory.mktemp("telemetry"))})
    telemetry = await open_telemetry(settings, demo_store, ingest_mqtt=False)
    yield telemetry
    await telemetry.close()
