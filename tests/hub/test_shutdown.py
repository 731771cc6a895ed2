"""Stopping always ends: a part that will not stop is named and left behind, and the demo's
embedded broker does not wait for connections that never became MQTT sessions."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.app import _bounded
from hub.demo.live import embedded_broker
from tests.broker import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_step_that_swallows_its_cancellation_is_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # a library that "handles" cancellation by carrying on

    started = time.perf_counter()
    with caplog.at_level(logging.INFO, logger="hub.app"):
        await _bounded("stubborn part", stubborn(), 0.5)
    elapsed = time.perf_counter() - started
    release.set()
    assert 0.5 <= elapsed < 2.0
    assert "shutdown: stubborn part did not stop within" in caplog.text


async def test_a_step_that_stops_is_timed_and_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def quick() -> None:
        await asyncio.sleep(0.01)

    async def broken() -> None:
        raise RuntimeError("disk gone")

    with caplog.at_level(logging.INFO, logger="hub.app"):
        await _bounded("quick part", quick(), 5)
        await _bounded("broken part", broken(), 5)
    assert "shutdown: quick part stopped in" in caplog.text
    assert "shutdown: broken part failed" in caplog.text
    assert "disk gone" in caplog.text


async def test_embedded_broker_stops_with_a_connection_that_never_sent_connect() -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    context = embedded_broker(url, shutdown_s=20)
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
        started = time.perf_counter()
        # Without the fix this waits forever (Server.wait_closed waits for every connection).
        await asyncio.wait_for(context.__aexit__(None, None, None), 30)
        elapsed = time.perf_counter() - started
    assert elapsed < 5, f"the broker took {elapsed:.1f} s to stop"
    # The straggler was cut off and the port is free again.
    raw.settimeout(2)
    assert raw.recv(1) == b""
    raw.close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
