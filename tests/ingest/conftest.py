"""Ingest fixtures: a real Mosquitto, real telemetry stores (SQLite, and PostgreSQL on a
throwaway cluster) and the demo graph's sensors.

``telemetry_store`` runs a test once per adapter. The PostgreSQL server is started once per
session from the Debian binaries, or is the one ``HUB_TEST_POSTGRES_URL`` names (a database
its user may create schemas in). Each PostgreSQL store of a test lives in a schema of its own,
named by ``search_path`` in its URL (much cheaper than a database per test). Without binaries
and without that URL the PostgreSQL cases fail, saying so; ``HUB_TEST_SKIP_POSTGRES=1`` skips
them instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from hub.seed import seed_demo
from ingest.postgres_store import PostgresTelemetryStore
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import TelemetryStore
from tests.broker import Mosquitto
from tests.postgres import PostgresServer

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
async def sensor_graph(
    demo_template: FalkorDBStore,
) -> AsyncIterator[FalkorDBStore]:
    """The demo province in a graph of its own on this process's embedded FalkorDB; tests may
    only add sensors with new ids."""
    async with demo_template.snapshot() as graph:
        yield graph


@pytest.fixture(scope="session")
async def worker_graph(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A seeded embedded graph, closed (saved) so each ``hub ingest`` subprocess can start
    from a copy of it (tests/ingest/workers.py), and six of its power meters."""
    from tests.ingest.helpers import demo_sensors

    path = Path(tmp_path_factory.mktemp("workers")) / "graph"
    graph = await FalkorDBStore.embedded(path)
    try:
        await migrate(graph)
        await seed_demo(graph, "demo")
        sensors = [s.id for s in await demo_sensors(graph, "power", 6)]
    finally:
        await graph.close()
    return path, sensors


@pytest.fixture(scope="session")
async def meter_graph(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A graph of one project and four power meters, closed (saved) so ``hub ingest``
    subprocesses can start from copies of it: far cheaper to seed and to load than the demo
    province ``worker_graph`` holds, for tests that need only the sensor registry."""
    from graph_schema.identifiers import make_uscc
    from graph_schema.model import validate
    from hub.bulk import import_records

    owner = make_uscc("330106", "000000001")
    project = "2024-330102-04-01-00001X"
    sensors = [f"pwr-nl{i}" for i in range(4)]
    path = Path(tmp_path_factory.mktemp("meters")) / "graph"
    graph = await FalkorDBStore.embedded(path)
    try:
        await migrate(graph)
        records: dict[str, list[dict[str, Any]]] = {
            "region": [{"code": "330000", "name": "浙江省", "level": "province"}],
            "enterprise": [{"uscc": owner, "name": "无损测试有限公司", "region_code": "330000"}],
            "project": [
                {
                    "code": project,
                    "name": "无损测试项目",
                    "owner_uscc": owner,
                    "region_code": "330000",
                    "stage": "construction",
                    "kind": "new",
                    "level": "provincial",
                    "total_investment": 1000,
                    "annual_plan_investment": 100,
                    "completed_investment": 10,
                    "year_completed_investment": 10,
                    "planned_start": "2025-03-01",
                    "actual_start": "2025-03-10",
                }
            ],
            "sensor": [
                {"id": s, "kind": "power", "project_code": project, "unit": "kWh"} for s in sensors
            ],
        }
        for entity, rows in records.items():
            await import_records(graph, entity, [validate(entity, r) for r in rows])
    finally:
        await graph.close()
    return path, sensors


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a database on a running PostgreSQL server, for this session."""
    if os.environ.get("HUB_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("HUB_TEST_SKIP_POSTGRES=1")
    external = os.environ.get("HUB_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    try:
        server = PostgresServer()
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"cannot start a PostgreSQL server for the tests: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


_names = itertools.count()


def with_schema(url: str, schema: str) -> str:
    """``url`` (a postgresql:// URL) with ``search_path`` set to ``schema``."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Stores:
    """Opens telemetry stores of one adapter; the same ``name`` is the same database again."""

    def __init__(self, kind: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.postgres_url = postgres_url
        self.opened: list[TelemetryStore] = []
        self.schemas: dict[str, str] = {}

    def url(self, name: str = "main") -> str:
        """Where the store called ``name`` lives (a new schema on first use for PostgreSQL)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / f'{name}.db'}"
        assert self.postgres_url is not None
        if name not in self.schemas:
            schema = f"hub_test_{os.getpid()}_{next(_names)}"
            with psycopg.connect(self.postgres_url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            self.schemas[name] = schema
        return with_schema(self.postgres_url, self.schemas[name])

    async def open(self, name: str = "main") -> TelemetryStore:
        store: TelemetryStore
        if self.kind == "sqlite":
            store = await SQLiteTelemetryStore.open(self.tmp_path / f"{name}.db", feeds.metrics())
        else:
            store = await PostgresTelemetryStore.open(self.url(name), feeds.metrics())
        self.opened.append(store)
        return store

    async def close(self) -> None:
        for store in self.opened:
            await store.close()
        if self.schemas:
            assert self.postgres_url is not None
            with psycopg.connect(self.postgres_url, autocommit=True) as conn:
                for schema in self.schemas.values():
                    conn.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                    )


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    factory = Stores(request.param, tmp_path, url)
    yield factory
    await factory.close()


@pytest.fixture
async def telemetry_store(stores: Stores) -> TelemetryStore:
    """An empty store, once per adapter."""
    return await stores.open()


@pytest.fixture
async def postgres_stores(tmp_path: Path, postgres_url: str) -> AsyncIterator[Stores]:
    factory = Stores("postgres", tmp_path, postgres_url)
    yield factory
    await factory.close()
