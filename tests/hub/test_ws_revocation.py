"""A revoked or expired key loses its open WebSockets: closed with 4403 within HUB_AUTH_CACHE_S
(the attack session's socket kept delivering 961 events for 40-70 s after HTTP refused its
key)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
import websockets

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.auth import create_key, revoke_key
from hub.roles import Role
from hub.settings import load_settings
from hub.telemetry import open_telemetry
from tests.broker import free_port
from tests.hub.test_monitoring import FEED, A, Feed, _seed
from tests.hub.test_scale_out import running

pytestmark = pytest.mark.anyio


async def _drain(feed: Feed) -> None:
    while True:  # nothing is published: the next thing is the close
        await feed.next(timeout=30)


async def test_a_revoked_or_expired_key_loses_its_open_subscription_within_the_cache_period(
    tmp_path: Path,
) -> None:
    key = await _seed(tmp_path / "data" / "graph")
    key_id = key.split("_")[1]
    settings = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path / "data"),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_AUTH_CACHE_S": "1",
            "HUB_MQTT_CLIENT_ID": f"ws-{uuid.uuid4().hex[:8]}",
            "HUB_CAMERA_ENABLED": "false",
            # The lifespan starts what the settings say; this test needs no watch.
            "HUB_ALERTS_ENABLED": "false",
        }
    )
    graph = await FalkorDBStore.embedded(tmp_path / "data" / "graph")
    telemetry = await open_telemetry(settings, graph, ingest_mqtt=False)
    now = [dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)]  # the hub's clock, for expiry
    expires_at = now[0] + dt.timedelta(days=30)
    expiring, _ = await create_key(
        graph, Role.OPERATOR, expires_at=expires_at, clock=lambda: now[0]
    )
    try:
        app = create_app(settings, store=graph, telemetry=telemetry, clock=lambda: now[0])
        async with running(app, settings.http.port) as address:
            async with Feed.open(address, {"Authorization": f"Bearer {key}"}) as feed:
                await feed.subscribe("1", FEED, projects=[A])
                await revoke_key(graph, key_id)
                revoked = time.monotonic()
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await _drain(feed)
                took = time.monotonic() - revoked
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
            print(f"closed {took:.2f} s after the revocation (cache period 1 s)")
            # A new socket with that key is refused outright.
            with pytest.raises((websockets.ConnectionClosed, AssertionError)):
                async with Feed.open(address, {"Authorization": f"Bearer {key}"}) as again:
                    await again.next(timeout=10)
            # An expiring key's socket lives until its expiry, then goes the same way.
            async with Feed.open(address, {"Authorization": f"Bearer {expiring}"}) as feed:
                await feed.subscribe("1", FEED, projects=[A])
                now[0] = expires_at
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await _drain(feed)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
            assert closed.value.rcvd.reason == "API key expired"
            with pytest.raises(websockets.ConnectionClosed) as refused:
                async with Feed.open(address, {"Authorization": f"Bearer {expiring}"}) as again:
                    await again.next(timeout=10)
            assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403
    finally:
        await telemetry.close()
        await graph.close()
