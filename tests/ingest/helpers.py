"""Shared by the ingest tests: a QoS 1 publisher, waiting for a condition, demo sensors."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from graph_schema.model import SPECS
from graph_schema.statements.entities import export_page
from graph_schema.store import GraphStore
from ingest.model import SensorInfo


def publisher(port: int, client_id: str = "test-publisher") -> Client:
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def collector(port: int, topic: str) -> tuple[Client, list[tuple[str, Any]]]:
    got: list[tuple[str, Any]] = []

    def on_message(client: Client, userdata: Any, msg: MQTTMessage) -> None:
        got.append((msg.topic, json.loads(msg.payload)))

    client = Client(CallbackAPIVersion.VERSION2, client_id="test-collector")
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=0)
    client.loop_start()
    return client, got


async def eventually(check: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


async def demo_sensors(graph: GraphStore, kind: str, n: int) -> list[SensorInfo]:
    # Demo sensor ids start with their kind's prefix, and pages run in id order.
    prefix = {"power": "pwr-", "labor": "lab-"}[kind]
    rows = await graph.run(export_page(SPECS["sensor"]), {"after": prefix, "limit": n})
    out = [
        SensorInfo(r["key"], r["props"]["kind"], r["project_code"][0])
        for r in rows
        if r["props"]["kind"] == kind
    ]
    return out[:n]
