"""Monitoring end to end: the hub as ``hub serve`` runs it (its own embedded graph, SQLite
telemetry and MQTT subscriber), a real Mosquitto, real uvicorn, GraphQL over HTTP and the live
feed over a real WebSocket (graphql-transport-ws).

The graph is a hand-built corner of the province: project A in 西湖区 (330106, under 杭州
330100) with a meter and a gate, project B in 海曙区 (330203, under 宁波 330200) with a meter.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from paho.mqtt.client import Client

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.identifiers import make_uscc
from graph_schema.migrations import migrate
from graph_schema.model import validate
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.auth import create_key
from hub.bulk import import_records
from hub.roles import Role
from hub.settings import Settings, load_settings
from tests.broker import Mosquitto, free_port
from tests.graphs import GRAPH_STORES, Neo4jDatabase
from tests.ingest.helpers import eventually, publisher

pytestmark = pytest.mark.anyio

OWNER = make_uscc("330106", "000000001")
A = "2025-330106-36-01-MON001"
B = "2025-330203-36-01-MON002"
SALT = "monitoring-test-salt"


def _region(code: str, name: str, level: str, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": name, "level": level, "parent_code": parent}


def _project(code: str, region: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"监测项目{code[-3:]}",
        "owner_uscc": OWNER,
        "region_code": region,
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


def _sensor(sid: str, kind: str, project: str, **extra: Any) -> Any:
    return validate("sensor", {"id": sid, "kind": kind, "project_code": project, **extra})


async def _seed(graph_dir: Path) -> str:
    """The hand-built graph in an embedded FalkorDB, and an operator's API key for it."""
    graph = await FalkorDBStore.embedded(graph_dir)
    try:
        await migrate(graph)
        return await _fill(graph)
    finally:
        await graph.close()


async def _fill(graph: GraphStore) -> str:
    """The hand-built graph, and an operator's API key for it."""
    regions = [
        _region("330000", "浙江省", "province", None),
        _region("330100", "杭州市", "city", "330000"),
        _region("330106", "西湖区", "county", "330100"),
        _region("330200", "宁波市", "city", "330000"),
        _region("330203", "海曙区", "county", "330200"),
    ]
    await import_records(graph, "region", [validate("region", r) for r in regions])
    firm = {"uscc": OWNER, "name": "杭州监测有限公司", "region_code": "330106"}
    await import_records(graph, "enterprise", [validate("enterprise", firm)])
    await import_records(
        graph, "project", [validate("project", _project(A, "330106")),
                           validate("project", _project(B, "330203"))],
    )  # fmt: skip
    sensors = [
        _sensor("pwr-mon-a", "power", A, unit="kWh"),
        _sensor("lab-mon-a", "labor", A, stale_after_s=86400),
        _sensor("pwr-mon-b", "power", B, stale_after_s=60),
    ]
    await import_records(graph, "sensor", sensors)
    key, _ = await create_key(graph, Role.OPERATOR, name="monitoring tests")
    return key


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """``hub serve`` in this process: real uvicorn (WebSocket via the websockets package)."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=settings.http.port,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), 60, "uvicorn to start")
        assert not task.done(), "the hub did not start"
        yield f"127.0.0.1:{settings.http.port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


OPERATOR: dict[str, str] = {}


@pytest.fixture(params=GRAPH_STORES)
async def hub(
    request: pytest.FixtureRequest, tmp_path: Path, broker: Mosquitto
) -> AsyncIterator[str]:
    """A hub served on the hand-built graph, on each graph store."""
    env = {
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_HTTP_PORT": str(free_port()),
        # Monitoring centres read without a key here; writes carry the operator's key.
        "HUB_AUTH_ANONYMOUS_ROLE": "monitor",
        "HUB_MQTT_URL": broker.url,
        "HUB_MQTT_CLIENT_ID": f"hub-test-{uuid.uuid4().hex[:8]}",
        "HUB_TELEMETRY_LABOR_SALT": SALT,
        "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
        "HUB_TELEMETRY_INACTIVITY_TIMEOUT_S": "14400",
    }
    if request.param == "neo4j":
        neo4j: Neo4jDatabase = request.getfixturevalue("neo4j")
        async with neo4j.empty() as graph:
            OPERATOR["Authorization"] = f"Bearer {await _fill(graph)}"
            async with serving(load_settings({**env, **neo4j.env()})) as address:
                yield address
        return
    OPERATOR["Authorization"] = f"Bearer {await _seed(tmp_path / 'data' / 'graph')}"
    async with serving(load_settings(env)) as address:
        yield address


@pytest.fixture
def mqtt(broker: Mosquitto) -> Iterator[Client]:
    client = publisher(broker.port, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    yield client
    client.loop_stop()
    client.disconnect()


async def gql(
    address: str, query: str, *, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=f"http://{address}", timeout=30, headers=headers
    ) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


STATUS = "{ ingestStatus { brokerConnected received stored duplicates conflicts deadLettered " \
    "liveSubscribers pendingDeadLetters } }"  # fmt: skip


async def status(address: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql(address, STATUS))["ingestStatus"]
    return found


async def until(address: str, check: Any, what: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        now = await status(address)
        if check(now):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {now}")
        await asyncio.sleep(0.05)


def reading(ts: dt.datetime, value: float) -> bytes:
    return json.dumps(
        {"ts": ts.isoformat(), "metric": "energy_kwh", "value": value, "unit": "kWh"}
    ).encode()


MONITORING = """
query ($code: String!, $from: DateTime!, $to: DateTime!) {
  project(code: $code) {
    monitoring(from: $from, to: $to, bucket: HOUR) {
      from to timezone
      series(metric: "energy_kwh") { sensorId metric start count sum max last }
      energy { days { day value } meters { sensorId days { value } } baselineKwh }
      headcount { day value }
      daily { sensorId kind metric day value samples }
      sensors { sensorId kind status lastReadingAt lastReceivedAt
                latest { metric value unit at } }
    }
  }
}"""


async def test_publish_commit_then_graphql_returns_series_rollups_and_status(
    hub: str, mqtt: Client
) -> None:
    await until(hub, lambda s: s["brokerConnected"], "the subscriber to connect")
    # Four 15-minute readings in the same Shanghai hour, two hours ago, then gate passes.
    base = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(
        minute=0, second=0, microsecond=0
    )
    if (base + dt.timedelta(hours=8)).hour == 0:
        # An interval reading stamped at local midnight closes the day before (its 15 minutes
        # end there): keep all four inside one local day, whenever the test runs.
        base -= dt.timedelta(hours=1)
    for i, kwh in enumerate([1.5, 2.5, 3.0, 4.0]):
        mqtt.publish("hub/v1/power/pwr-mon-a", reading(base + dt.timedelta(minutes=15 * i), kwh), 1)
    passes = [
        {"ts": (base + dt.timedelta(minutes=m)).isoformat(), "worker_id": w, "direction": d}
        for m, w, d in [(1, "badge-1", "in"), (2, "badge-2", "in"), (50, "badge-1", "out")]
    ]
    mqtt.publish("hub/v1/labor/lab-mon-a", json.dumps({"events": passes}).encode(), 1)
    await until(hub, lambda s: s["stored"] >= 7, "7 stored observations")

    window: dict[str, Any] = {
        "from": (base - dt.timedelta(hours=1)).isoformat(),
        "to": dt.datetime.now(dt.UTC).isoformat(),
    }
    data = await gql(hub, MONITORING, code=A, **window)
    m = data["project"]["monitoring"]
    assert m["timezone"] == "Asia/Shanghai"
    [point] = m["series"]
    assert point["sensorId"] == "pwr-mon-a"
    assert (point["count"], point["sum"], point["max"], point["last"]) == (4, 11.0, 4.0, 4.0)
    # The bucket starts at the local (UTC+8) hour of the readings.
    start = dt.datetime.fromisoformat(point["start"])
    assert start.utcoffset() == dt.timedelta(hours=8)
    assert start == base
    local_day = base.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert m["energy"]["days"] == [{"day": local_day, "value": 11.0}]
    assert m["energy"]["baselineKwh"] == 11.0
    assert m["headcount"] == [{"day": local_day, "value": 2.0}]
    daily = {(d["sensorId"], d["metric"]): d for d in m["daily"]}
    assert daily[("pwr-mon-a", "energy_kwh")]["value"] == 11.0
    assert daily[("pwr-mon-a", "energy_kwh")]["samples"] == 4
    sensors = {s["sensorId"]: s for s in m["sensors"]}
    assert set(sensors) == {"pwr-mon-a", "lab-mon-a"}
    meter, gate = sensors["pwr-mon-a"], sensors["lab-mon-a"]
    assert meter["status"] == "ONLINE"  # newest reading under 2h15m old; timeout 4 h
    assert meter["latest"] == [
        {"metric": "energy_kwh", "value": 4.0, "unit": "kWh",
         "at": (base + dt.timedelta(minutes=45)).isoformat()}
    ]  # fmt: skip
    assert gate["status"] == "ONLINE"
    assert gate["latest"][0]["metric"] == "attendance"
    assert gate["latest"][0]["value"] == 0.0  # the newest pass was badge-1 going out


async def test_stale_and_no_data_follow_each_sensors_timeout(hub: str, mqtt: Client) -> None:
    await until(hub, lambda s: s["brokerConnected"], "the subscriber to connect")
    # pwr-mon-b times out after 60 s: a reading 5 minutes old is stale on arrival.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    mqtt.publish("hub/v1/power/pwr-mon-b", reading(old, 1.0), 1)
    await until(hub, lambda s: s["stored"] >= 1, "the reading")
    query = "{ sensors { nodes { sensorId status staleAfterS lastReadingAt } } }"
    nodes = {n["sensorId"]: n for n in (await gql(hub, query))["sensors"]["nodes"]}
    assert nodes["pwr-mon-b"]["status"] == "STALE"
    assert nodes["pwr-mon-b"]["staleAfterS"] == 60
    assert nodes["pwr-mon-a"]["status"] == "NO_DATA"
    assert nodes["pwr-mon-a"]["lastReadingAt"] is None
    # A fresh reading brings it back.
    mqtt.publish("hub/v1/power/pwr-mon-b", reading(dt.datetime.now(dt.UTC), 1.0), 1)
    await until(hub, lambda s: s["stored"] >= 2, "the second reading")
    nodes = {n["sensorId"]: n for n in (await gql(hub, query))["sensors"]["nodes"]}
    assert nodes["pwr-mon-b"]["status"] == "ONLINE"


class Feed:
    """A graphql-transport-ws client on a real WebSocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, address: str, payload: dict[str, Any] | None = None) -> AsyncIterator[Feed]:
        async with websockets.connect(
            f"ws://{address}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ack["type"] == "connection_ack"
            yield cls(ws)

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        message = {"id": op_id, "type": "subscribe",
                   "payload": {"query": query, "variables": variables}}  # fmt: skip
        await self.ws.send(json.dumps(message))

    async def next(self, timeout: float = 60) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return message


FEED = """
subscription ($projects: [String!], $region: String, $kinds: [SensorKind!]) {
  monitoringFeed(projectIds: $projects, region: $region, kinds: $kinds) {
    __typename
    ... on FeedReading { kind sensorId projectCode metric at value unit }
    ... on FeedRollup { kind sensorId projectCode metric day value samples }
  }
}"""


@pytest.mark.timing
async def test_a_websocket_subscriber_gets_each_reading_live(hub: str, mqtt: Client) -> None:
    before = await until(hub, lambda s: s["brokerConnected"], "the subscriber to connect")
    async with Feed.open(hub) as feed:
        # Only readings of 杭州's projects: B (宁波) must not come through.
        await feed.subscribe("1", FEED, region="330100", kinds=["POWER"])
        await until(
            hub,
            lambda s: s["liveSubscribers"] == before["liveSubscribers"] + 1,
            "the subscription to be in place",
        )
        latencies = []
        for i in range(5):
            now = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=i)
            mqtt.publish("hub/v1/power/pwr-mon-b", reading(now, 9.0), 1)
            sent = time.monotonic()
            mqtt.publish("hub/v1/power/pwr-mon-a", reading(now, 2.0 + i), 1)
            while True:
                message = await feed.next()
                assert message["type"] == "next", message
                event = message["payload"]["data"]["monitoringFeed"]
                assert event["projectCode"] == A, "a 宁波 event passed the 杭州 filter"
                if event["__typename"] == "FeedReading":
                    break
            latencies.append(time.monotonic() - sent)
            assert event == {
                "__typename": "FeedReading",
                "kind": "POWER",
                "sensorId": "pwr-mon-a",
                "projectCode": A,
                "metric": "energy_kwh",
                "at": now.isoformat(),
                "value": 2.0 + i,
                "unit": "kWh",
            }
            # The day's rollup for the meter follows the reading.
            rollup = (await feed.next())["payload"]["data"]["monitoringFeed"]
            assert rollup["__typename"] == "FeedRollup"
            assert (rollup["sensorId"], rollup["metric"]) == ("pwr-mon-a", "energy_kwh")
        # Idle, each arrives well under a second; printed, not asserted (bench/ measures it).
        print("feed latencies (s):", [round(x, 3) for x in latencies])
        await feed.ws.send(json.dumps({"id": "1", "type": "complete"}))
    await until(
        hub,
        lambda s: s["liveSubscribers"] == before["liveSubscribers"],
        "the subscription to be closed",
    )


async def test_a_bad_subscription_gets_a_coded_error_and_the_socket_stays_usable(
    hub: str, mqtt: Client
) -> None:
    from hub.api.paging import encode_global_id

    async with Feed.open(hub) as feed:
        region_id = encode_global_id("Region", "330100")
        await feed.subscribe("bad", FEED, projects=[region_id])
        message = await feed.next()
        assert message["id"] == "bad"
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "not of a Project" in errors[0]["message"]
        # The same socket still serves a good subscription.
        await until(hub, lambda s: s["brokerConnected"], "the subscriber to connect")
        await feed.subscribe("good", FEED, projects=[B])
        await asyncio.sleep(0.3)
        mqtt.publish("hub/v1/power/pwr-mon-b", reading(dt.datetime.now(dt.UTC), 3.0), 1)
        while (message := await feed.next())["id"] != "good":
            pass
        assert message["payload"]["data"]["monitoringFeed"]["projectCode"] == B


DEAD = """{ deadLetters(first: 10) { nodes { letterId source code message payload attempts }
            hasNextPage endCursor } }"""
CONFLICTS = """{ readingConflicts { nodes { sensorId metric storedValue sentValue } } }"""
REPLAY = """mutation ($code: DeadLetterCode) { replayDeadLetters(code: $code) {
            replayed stillFailing { letterId code } stored duplicates } }"""


async def test_bad_messages_become_dead_letters_and_replay_stores_them_once(
    hub: str, mqtt: Client
) -> None:
    await until(hub, lambda s: s["brokerConnected"], "the subscriber to connect")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    mqtt.publish("hub/v1/power/pwr-mon-a", b"{not json", 1)
    mqtt.publish("hub/v1/power/pwr-mon-new", reading(now, 5.0), 1)  # not registered yet
    mqtt.publish("hub/v1/power/pwr-mon-a", reading(now, -3.0), 1)  # negative energy
    for i in range(20):  # valid traffic goes on around them
        mqtt.publish("hub/v1/power/pwr-mon-a", reading(now - dt.timedelta(minutes=i), 1.0), 1)
    await until(hub, lambda s: s["stored"] >= 20 and s["deadLettered"] >= 3, "all 23 messages")
    # The same meter, minute and metric again with another value: a conflict, not a duplicate.
    mqtt.publish("hub/v1/power/pwr-mon-a", reading(now - dt.timedelta(minutes=3), 7.0), 1)
    await until(hub, lambda s: s["conflicts"] >= 1, "the conflicting re-send")
    status = (await gql(hub, "{ ingestStatus { duplicates conflicts } }"))["ingestStatus"]
    assert status == {"duplicates": 0, "conflicts": 1}
    conflicts = (await gql(hub, CONFLICTS))["readingConflicts"]["nodes"]
    assert conflicts == [
        {"sensorId": "pwr-mon-a", "metric": "energy_kwh", "storedValue": 1.0, "sentValue": 7.0}
    ]

    letters = (await gql(hub, DEAD))["deadLetters"]["nodes"]
    by_code = {d["code"]: d for d in letters}
    assert set(by_code) == {"UNDECODABLE", "UNKNOWN_SENSOR", "OUT_OF_RANGE"}
    assert by_code["UNKNOWN_SENSOR"]["source"] == "hub/v1/power/pwr-mon-new"
    assert json.loads(by_code["UNKNOWN_SENSOR"]["payload"])["value"] == 5.0
    assert by_code["UNDECODABLE"]["payload"] == "{not json"

    # Still unknown: replay leaves it pending.
    outcome = (await gql(hub, REPLAY, headers=OPERATOR, code="UNKNOWN_SENSOR"))["replayDeadLetters"]
    assert outcome["replayed"] == [] and outcome["stored"] == 0
    assert [f["code"] for f in outcome["stillFailing"]] == ["UNKNOWN_SENSOR"]

    # Register the sensor over GraphQL, replay: stored exactly once, then nothing more.
    upsert = """mutation ($code: String!) { upsertSensors(items: [{id: "pwr-mon-new",
                kind: POWER, projectCode: $code, unit: "kWh"}]) { items { outcome } } }"""
    created = (await gql(hub, upsert, headers=OPERATOR, code=A))["upsertSensors"]["items"]
    assert created == [{"outcome": "CREATED"}]
    outcome = (await gql(hub, REPLAY, headers=OPERATOR, code="UNKNOWN_SENSOR"))["replayDeadLetters"]
    assert outcome["stored"] == 1 and outcome["duplicates"] == 0
    assert outcome["replayed"] == [by_code["UNKNOWN_SENSOR"]["letterId"]]
    again = (await gql(hub, REPLAY, headers=OPERATOR, code="UNKNOWN_SENSOR"))["replayDeadLetters"]
    assert again == {"replayed": [], "stillFailing": [], "stored": 0, "duplicates": 0}

    query = """{ sensor(id: "pwr-mon-new") { status latest { value } } }"""
    sensor = (await gql(hub, query))["sensor"]
    assert sensor == {"status": "ONLINE", "latest": [{"value": 5.0}]}
    pending = {d["code"] for d in (await gql(hub, DEAD))["deadLetters"]["nodes"]}
    assert pending == {"UNDECODABLE", "OUT_OF_RANGE"}


async def test_websocket_keys_come_in_connection_init(hub: str, mqtt: Client) -> None:
    # A valid key in the payload (browsers cannot set headers on the upgrade) is accepted ...
    async with Feed.open(hub, {"Authorization": OPERATOR["Authorization"]}) as feed:
        await feed.subscribe("k", FEED, projects=[A])
        await asyncio.sleep(0.3)
        mqtt.publish("hub/v1/power/pwr-mon-a", reading(dt.datetime.now(dt.UTC), 1.0), 1)
        assert (await feed.next())["payload"]["data"]["monitoringFeed"]["projectCode"] == A
    # ... a wrong one closes the socket with 4403 before any operation can run.
    async with websockets.connect(
        f"ws://{hub}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as ws:
        bad = {"Authorization": "Bearer elh_000000000000_" + "A" * 43}
        await ws.send(json.dumps({"type": "connection_init", "payload": bad}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
