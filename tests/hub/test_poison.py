"""Poison messages through a real Mosquitto: each kind the attack session found goes to
``hub ingest`` (its app, in this process) and to ``hub serve`` (in-process ingest); ingest keeps
running, the readings published after them are all stored, and each poison message is one dead
letter with its code, acknowledged (never redelivered)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from paho.mqtt.client import Client

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from hub.ingest_app import create_ingest_app
from hub.settings import Settings, load_settings
from hub.telemetry import open_telemetry, telemetry_path
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import Batch, CommitResult
from tests.broker import Mosquitto, free_port
from tests.hub.metrics_text import sample
from tests.hub.test_monitoring import SALT, _seed, reading, serving
from tests.hub.test_scale_out import running
from tests.ingest.helpers import eventually, publisher

pytestmark = pytest.mark.anyio

TOPIC = "hub/v1/power/pwr-mon-a"


def _deep_array(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _deep_object(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def _poison(now: dt.datetime) -> list[tuple[str, bytes, str]]:
    """(what, payload, dead-letter code): every kind of message that stopped or stalled ingest."""
    ts = (now - dt.timedelta(hours=2)).isoformat()
    huge_int = b'{"ts": "%s", "metric": "energy_kwh", "value": 1%s, "unit": "kWh"}' % (
        ts.encode(),
        b"0" * 400,
    )
    ms = int((now - dt.timedelta(hours=3)).timestamp() * 1000)
    many = json.dumps([{"ts": ms - i, "values": {"energy_kwh": 1}} for i in range(10_001)])
    big = b'{"readings": [' + b'{"pad": "' + b"x" * (1 << 20) + b'"}]}'
    return [
        ("1,500 nested arrays (RecursionError)", _deep_array(1500), "TOO_DEEP"),
        ("1,500 nested objects", _deep_object(1500), "TOO_DEEP"),
        ("nested 17 levels in a string-heavy body", b'["]]]",' * 17 + b"1" + b"]" * 17, "TOO_DEEP"),
        ("an integer too large for a float (OverflowError)", huge_int, "UNDECODABLE"),
        ("10,001 readings in one message", many.encode(), "TOO_LARGE"),
        ("a payload over 1 MiB", big, "TOO_LARGE"),
        ("not UTF-8", b"\xff\xfe\x00garbage", "UNDECODABLE"),
        ("empty", b"", "UNDECODABLE"),
    ]


def _settings(data: Path, broker: Mosquitto, **more: str) -> Settings:
    return load_settings(
        {
            "HUB_DATA_DIR": str(data),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"poison-{uuid.uuid4().hex[:8]}",
            "HUB_TELEMETRY_LABOR_SALT": SALT,
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_CAMERA_ENABLED": "false",
            **more,
        }
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def device(broker: Mosquitto) -> Iterator[Client]:
    client = publisher(broker.port, client_id=f"dev-{uuid.uuid4().hex[:6]}")
    yield client
    client.loop_stop()
    client.disconnect()


async def _metric(http: httpx.AsyncClient, name: str, **labels: str) -> float:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return sample(response.text, name, **labels)


async def _until(http: httpx.AsyncClient, name: str, want: float, **labels: str) -> None:
    deadline = time.monotonic() + 60
    while (last := await _metric(http, name, **labels)) < want:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}{labels} stayed at {last}, wanted {want}")
        await asyncio.sleep(0.05)


async def _ready(http: httpx.AsyncClient) -> None:
    for _ in range(600):
        response = await http.get("/readyz")
        if response.status_code == 200 and response.json().get("broker_connected"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never ready: {response.text}")


async def _attack(address: str, device: Client) -> list[tuple[str, bytes, str]]:
    """Each poison message, each followed by a good reading; returns the poison sent."""
    now = dt.datetime.now(dt.UTC)
    poison = _poison(now)
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as http:
        await _ready(http)
        for i, (_, payload, _) in enumerate(poison):
            device.publish(TOPIC, payload, qos=1).wait_for_publish(30)
            ts = now - dt.timedelta(minutes=i + 1)
            device.publish(TOPIC, reading(ts, 1.0 + i), qos=1).wait_for_publish(30)
        await _until(http, "hub_ingest_stored_total", len(poison))
        await _until(http, "hub_ingest_dead_letters_total", len(poison))
        await _until(http, "hub_ingest_acknowledged_total", 2 * len(poison))
        assert (await http.get("/readyz")).status_code == 200
        for code in {c for _, _, c in poison}:
            want = sum(1 for _, _, c in poison if c == code)
            got = await _metric(http, "hub_ingest_dead_letters_total", reason=code)
            assert got == want, (code, got, want)
        assert await _metric(http, "hub_ingest_stored_total") == len(poison)
        # Nothing came back: every poison message was acknowledged, none redelivered.
        assert await _metric(http, "hub_ingest_received_total") == 2 * len(poison)
    return poison


async def _dead_letters(settings: Settings) -> list[tuple[str, int, str]]:
    store = await SQLiteTelemetryStore.open(telemetry_path(settings), feeds.metrics())
    try:
        letters = await store.dead_letters(limit=100)
        counts = await store.counts()
    finally:
        await store.close()
    assert counts.readings == len(letters)  # one good reading after each poison message
    return [(d.code.value, len(d.payload), d.message) for d in letters]


def _check_letters(
    letters: list[tuple[str, int, str]], poison: list[tuple[str, bytes, str]]
) -> None:
    assert sorted(code for code, _, _ in letters) == sorted(c for _, _, c in poison)
    for code, size, message in letters:
        assert size <= 4096, (code, size, message)  # a bounded prefix, never the whole payload
        if code in ("TOO_LARGE", "TOO_DEEP"):
            assert "sha256 " in message, message


async def test_hub_ingest_survives_every_poison_message(
    tmp_path: Path, broker: Mosquitto, device: Client
) -> None:
    await _seed(tmp_path / "w" / "graph")
    settings = _settings(tmp_path / "w", broker, HUB_MQTT_SHARED_GROUP="ingest")
    async with running(create_ingest_app(settings), settings.http.port) as address:
        poison = await _attack(address, device)
    _check_letters(await _dead_letters(settings), poison)


async def test_hub_serve_survives_every_poison_message(
    tmp_path: Path, broker: Mosquitto, device: Client
) -> None:
    await _seed(tmp_path / "s" / "graph")
    settings = _settings(tmp_path / "s", broker, HUB_AUTH_ANONYMOUS_ROLE="monitor")
    async with serving(settings) as address:
        poison = await _attack(address, device)
    _check_letters(await _dead_letters(settings), poison)


async def test_a_failed_ingest_task_is_restarted_and_not_ready_meanwhile(
    tmp_path: Path, broker: Mosquitto, device: Client
) -> None:
    """Whatever still kills the subscriber (here a commit failing with a non-store error, by
    fault injection) makes /readyz say not ready; the supervisor restarts it with back-off and
    the message it was holding, never acknowledged, is redelivered and stored."""
    await _seed(tmp_path / "w" / "graph")
    settings = _settings(tmp_path / "w", broker)
    graph = await FalkorDBStore.embedded(tmp_path / "w" / "graph")
    telemetry = await open_telemetry(settings, graph, ingest_mqtt=True)
    broken = True
    real_commit = telemetry.pipeline.commit

    async def commit(batch: Batch) -> CommitResult:
        if broken:
            raise RuntimeError("injected fault")
        return await real_commit(batch)

    telemetry.pipeline.commit = commit  # type: ignore[method-assign]
    try:
        await eventually(lambda: telemetry.connected, 30, "the subscriber to connect")
        ts = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        device.publish(TOPIC, reading(ts, 4.0), qos=1).wait_for_publish(30)
        await eventually(lambda: telemetry.ingest_restarts >= 2, 60, "restarts")
        await eventually(lambda: not telemetry.connected, 30, "not ready while it is down")
        assert "injected fault" in (telemetry.ingest_failure or "")
        broken = False
        await eventually(lambda: telemetry.pipeline.counters.stored == 1, 60, "the reading")
        await eventually(lambda: telemetry.connected, 30, "ready again")
    finally:
        await telemetry.close()
        await graph.close()
