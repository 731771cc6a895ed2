"""``hub doctor`` against a running embedded set-up (all well) and against what is not there
(each problem named by its code, quickly)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph_schema.cypher import Statement
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, migrate
from graph_schema.statements import SET_SCHEMA_VERSION
from graph_schema.store import GraphStore
from hub.demo.live import embedded_broker
from hub.doctor import Finding, Status, _broker, diagnose
from hub.settings import load_settings
from hub.telemetry import open_telemetry
from tests.broker import Mosquitto, free_port
from tests.graphs import Neo4jDatabase
from tests.waiting import finishes

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
async def running(tmp_path: Path, broker: Mosquitto) -> AsyncIterator[dict[str, str]]:
    """What a running `hub serve` leaves: its embedded graph server holding the data dir
    (migrated), a telemetry file, a broker; and the environment that names them."""
    env = {
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_MQTT_URL": broker.url,
        "HUB_TELEMETRY_LABOR_SALT": "doctor-salt",
    }
    graph = await FalkorDBStore.embedded(tmp_path / "data" / "graph")
    await migrate(graph)
    telemetry = await open_telemetry(load_settings(env), graph, ingest_mqtt=False)
    await telemetry.close()
    yield env
    await graph.close()


async def test_a_running_embedded_setup_is_all_ok(running: dict[str, str]) -> None:
    findings = await diagnose(load_settings(running), timeout_s=5)
    assert [f for f in findings if f.status is not Status.OK] == []
    checks = {f.check for f in findings}
    assert {"settings", "data dir", "graph", "graph schema", "telemetry", "broker"} <= checks
    graph = next(f for f in findings if f.check == "graph")
    assert "served by a running hub" in graph.message  # it attached, it did not start one


async def test_the_command_exits_zero_and_prints_json(running: dict[str, str]) -> None:
    env = {**os.environ, **running, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "hub", "doctor", "--json"],
        env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    found = json.loads(done.stdout)
    assert {f["status"] for f in found} == {"ok"}


@pytest.mark.timing
async def test_unreachable_stores_and_broker_are_named_without_hanging(tmp_path: Path) -> None:
    closed = free_port()
    garbage = tmp_path / "telemetry.db"
    garbage.write_bytes(b"this is not a database" * 100)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = {
        "neo4j": {
            "HUB_GRAPH_URL": f"bolt://127.0.0.1:{closed}",
            "HUB_GRAPH_USER": "neo4j",
            "HUB_GRAPH_PASSWORD": "pw",
            "HUB_MQTT_URL": f"mqtt://127.0.0.1:{closed}",
            "HUB_TELEMETRY_URL": f"sqlite:///{garbage}",
            "HUB_DATA_DIR": str(blocker / "data"),
        },
        "bad hosts": {
            "HUB_GRAPH_URL": "falkordb://no-such-host.invalid:6379/hub",
            "HUB_MQTT_URL": "mqtt://no-such-host.invalid:1883",
            "HUB_DATA_DIR": str(tmp_path / "fresh"),
        },
    }

    async def run_all() -> dict[str, dict[str, Finding]]:
        return {
            name: {f.code: f for f in await diagnose(load_settings(env), timeout_s=2)}
            for name, env in cases.items()
        }

    # Each check has a 2 s timeout; the ceiling (idle: a few seconds in all) only stops a hang.
    found = await finishes(run_all(), ceiling=150, what="doctor on unreachable stores")
    neo4j, hosts = found["neo4j"], found["bad hosts"]
    assert neo4j["GRAPH_UNREACHABLE"].status is Status.FAIL
    assert "Neo4j" in neo4j["GRAPH_UNREACHABLE"].message
    assert neo4j["BROKER_UNREACHABLE"].status is Status.FAIL
    assert neo4j["TELEMETRY_UNREACHABLE"].status is Status.FAIL
    assert neo4j["DATA_DIR_NOT_WRITABLE"].status is Status.FAIL
    assert hosts["GRAPH_BAD_HOST"].status is Status.FAIL
    assert "no-such-host.invalid" in hosts["GRAPH_BAD_HOST"].message
    assert hosts["BROKER_BAD_HOST"].status is Status.FAIL
    assert hosts["TELEMETRY_NOT_CREATED"].status is Status.WARN
    assert hosts["LABOR_SALT_MISSING"].status is Status.WARN


async def test_a_schema_ahead_of_this_hub_fails(running: dict[str, str]) -> None:
    # Another (newer) hub migrated this store further than this one knows.
    graph = await FalkorDBStore.attached(Path(running["HUB_DATA_DIR"]) / "graph")
    await graph.run(SET_SCHEMA_VERSION, {"version": 999, "applied_at": "x", "dialect": "falkordb"})
    await graph.close()
    findings = {f.code: f for f in await diagnose(load_settings(running), timeout_s=5)}
    assert findings["GRAPH_SCHEMA_AHEAD"].failed
    assert "999" in findings["GRAPH_SCHEMA_AHEAD"].message


async def test_an_mqtt_311_broker_is_named_as_such_and_then_checked(tmp_path: Path) -> None:
    """The demo's embedded broker (amqtt) speaks 3.1.1 only: with the default
    HUB_MQTT_PROTOCOL=5 the doctor says so, and checks the rest as 3.1.1."""
    url = f"mqtt://127.0.0.1:{free_port()}"
    async with embedded_broker(url, shutdown_s=5):
        settings = load_settings({"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_MQTT_URL": url})
        findings = await _broker(settings, timeout_s=5)
    codes = [f.code for f in findings]
    assert codes[0] == "BROKER_MQTT311_ONLY", codes
    assert "HUB_MQTT_PROTOCOL=4" in findings[0].message
    assert findings[0].status is Status.WARN
    assert not [f for f in findings if f.status is Status.FAIL], findings
    assert any(f.status is Status.OK and "connected to" in f.message for f in findings)


# -- Neo4j: this process's test server (tests/graphs.py), migrated and emptied -------------

_PROBE = Statement("test.doctor_probe", "CREATE (:DoctorProbe {blob: $blob})", write=True)
# A RANGE index cannot hold a value this large: populating it fails, and SHOW INDEXES says
# FAILED with Neo4j's reason (as an index does when the disk fills or a value is refused).
_FAILING_INDEX = Statement(
    "test.doctor_failing_index", "CREATE INDEX doctor_probe FOR (n:DoctorProbe) ON (n.blob)",
    write=True,
)  # fmt: skip
_DROP_FULLTEXT = Statement("test.drop_fulltext", "DROP INDEX ft_project", write=True)
_INDEX_STATE = Statement(
    "test.index_state", "SHOW INDEXES YIELD name, state WHERE name = $name RETURN state"
)


@pytest.fixture
async def on_neo4j(
    neo4j: Neo4jDatabase, tmp_path: Path, broker: Mosquitto
) -> AsyncIterator[tuple[dict[str, str], GraphStore]]:
    """A migrated, empty Neo4j, a telemetry file and a broker; the environment naming them."""
    async with neo4j.empty() as graph:
        env = {
            **neo4j.env(),
            "HUB_DATA_DIR": str(tmp_path / "data"),
            "HUB_MQTT_URL": broker.url,
            "HUB_TELEMETRY_LABOR_SALT": "doctor-salt",
        }
        telemetry = await open_telemetry(load_settings(env), graph, ingest_mqtt=False)
        await telemetry.close()
        yield env, graph


async def test_a_migrated_neo4j_is_all_ok(on_neo4j: tuple[dict[str, str], GraphStore]) -> None:
    env, _ = on_neo4j
    findings = await diagnose(load_settings(env), timeout_s=10)
    assert [f for f in findings if f.status is not Status.OK] == []
    by_check = {f.check: f for f in findings}
    assert "Neo4j at bolt://127.0.0.1" in by_check["graph"].message
    assert "5.26" in by_check["graph server"].message
    assert "community" in by_check["graph server"].message
    assert by_check["graph schema"].message == f"version {LATEST}, current"
    assert "indexes online" in by_check["graph indexes"].message


async def test_the_command_is_clean_against_neo4j(
    on_neo4j: tuple[dict[str, str], GraphStore],
) -> None:
    env = {**os.environ, **on_neo4j[0], "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "hub", "doctor", "--json", "--timeout", "10"],
        env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    found = json.loads(done.stdout)
    assert {f["status"] for f in found} == {"ok"}
    assert {"graph server", "graph indexes"} <= {f["check"] for f in found}


async def test_a_wrong_neo4j_password_is_named(
    on_neo4j: tuple[dict[str, str], GraphStore],
) -> None:
    env = {**on_neo4j[0], "HUB_GRAPH_PASSWORD": "not-the-password"}
    findings = {f.code: f for f in await diagnose(load_settings(env), timeout_s=10)}
    failed = findings["GRAPH_AUTH_FAILED"]
    assert failed.failed and "HUB_GRAPH_PASSWORD" in failed.message
    assert "not-the-password" not in failed.message
    assert "graph schema" not in {f.check for f in findings.values()}


async def test_an_old_schema_on_neo4j_is_behind(
    on_neo4j: tuple[dict[str, str], GraphStore],
) -> None:
    env, graph = on_neo4j
    await graph.run(
        SET_SCHEMA_VERSION, {"version": LATEST - 2, "applied_at": "x", "dialect": "neo4j"}
    )
    findings = {f.code: f for f in await diagnose(load_settings(env), timeout_s=10)}
    behind = findings["GRAPH_SCHEMA_BEHIND"]
    assert behind.status is Status.WARN
    assert f"version {LATEST - 2}, this hub's is {LATEST}" in behind.message
    assert not [f for f in findings.values() if f.failed]


async def test_a_failed_index_on_neo4j_fails_with_its_reason(
    on_neo4j: tuple[dict[str, str], GraphStore],
) -> None:
    env, graph = on_neo4j
    await graph.run(_PROBE, {"blob": "x" * 40_000})
    await graph.run(_FAILING_INDEX)

    async def population_failed() -> None:
        while (await graph.run(_INDEX_STATE, {"name": "doctor_probe"}))[0]["state"] != "FAILED":
            await asyncio.sleep(0.1)

    await finishes(population_failed(), ceiling=120, what="the index population to fail")
    findings = {f.code: f for f in await diagnose(load_settings(env), timeout_s=10)}
    failed = findings["GRAPH_INDEX_FAILED"]
    assert failed.failed
    assert "doctor_probe is FAILED" in failed.message
    assert "too large to index" in failed.message


async def test_a_dropped_index_on_neo4j_is_missing(
    on_neo4j: tuple[dict[str, str], GraphStore],
) -> None:
    env, graph = on_neo4j
    await graph.run(_DROP_FULLTEXT)
    findings = {f.code: f for f in await diagnose(load_settings(env), timeout_s=10)}
    missing = findings["GRAPH_INDEX_MISSING"]
    assert missing.failed and "ft_project" in missing.message
