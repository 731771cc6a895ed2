"""Stopping always ends: a part that will not stop is named and left behind, and the demo's
embedded broker does not wait for connections that never became MQTT sessions."""

from __future__ import annotations

import asyncio
import logging
import socket

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.demo.live import embedded_broker
from hub.lifecycle import bounded as _bounded
from tests.broker import free_port
from tests.waiting import finishes

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.timing
async def test_a_step_that_swallows_its_cancellation_is_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    cancelled, finished = [], []

    async def stubborn() -> None:
        try:
            while not release.is_set():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    cancelled.append(1)
                    continue  # a library that "handles" cancellation by carrying on
        finally:
            finished.append(1)

    with caplog.at_level(logging.INFO, logger="hub.lifecycle"):
        # The step never ends by itself: _bounded returning at all is the point (the ceiling
        # only keeps a regression from hanging the suite).
        await finishes(_bounded("stubborn part", stubborn(), 0.5), ceiling=60, what="bounded")
    for _ in range(3):
        await asyncio.sleep(0)  # let the cancellation reach it
    assert cancelled == [1] and finished == []  # cancelled, swallowed it, left behind
    release.set()
    assert "shutdown: stubborn part did not stop within" in caplog.text


async def test_a_step_that_stops_is_timed_and_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def quick() -> None:
        await asyncio.sleep(0.01)

    async def broken() -> None:
        raise RuntimeError("disk gone")

    with caplog.at_level(logging.INFO, logger="hub.lifecycle"):
        await _bounded("quick part", quick(), 5)
        await _bounded("broken part", broken(), 5)
    assert "shutdown: quick part stopped in" in caplog.text
    assert "shutdown: broken part failed" in caplog.text
    assert "disk gone" in caplog.text


@pytest.mark.timing
async def test_embedded_broker_stops_with_a_connection_that_never_sent_connect() -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    # A stop that waited out its grace period would take 10 min: far past the ceiling below.
    context = embedded_broker(url, shutdown_s=600)
    await context.__aenter__()
    try:
        # A real client works, then leaves.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        await asyncio.to_thread(client.connect, "127.0.0.1", port)
        assert client.publish("t/x", b"1", qos=0).rc == mqtt.MQTT_ERR_SUCCESS
        client.disconnect()
        # A TCP connection that never sends CONNECT: no session, so amqtt never ends it.
        raw = socket.create_connection(("127.0.0.1", port))
        await asyncio.sleep(0.3)
    finally:
        # Without the fix this waits forever (Server.wait_closed waits for every connection).
        # Idle it stops at once; the ceiling is far above that and far below the grace period.
        await finishes(context.__aexit__(None, None, None), ceiling=120, what="broker stop")
    # The straggler was cut off and the port is free again.
    raw.settimeout(2)
    assert raw.recv(1) == b""
    raw.close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
