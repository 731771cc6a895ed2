"""The app as ``hub serve`` starts it, in process: its real lifespan, then an HTTP client.

``create_app`` takes the stores a test's fixtures hold (``store=``, ``telemetry=``) in place of
opening them from the settings; everything else in the lifespan runs as configured. Tests of
the API turn off, through the same settings an operator would, what they do not exercise:
the MQTT subscriber, the watch (fusion, MPI, alerts; it would write to the shared demo graph)
and the cameras. Telemetry, when not injected, is a fresh SQLite file under ``HUB_DATA_DIR``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from hub.settings import Settings, load_settings

API_ONLY = {
    "HUB_MQTT_INGEST": "false",
    "HUB_ALERTS_ENABLED": "false",
    "HUB_CAMERA_ENABLED": "false",
}


def api_settings(env: Mapping[str, str] | None = None, data_dir: Path | None = None) -> Settings:
    """Settings for an API test: ``env`` over :data:`API_ONLY`, data under ``data_dir``."""
    base: dict[str, str] = dict(API_ONLY)
    if data_dir is not None:
        base["HUB_DATA_DIR"] = str(data_dir)
    return load_settings({**base, **(env or {})})


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run ``app``'s ASGI lifespan: start-up before the block, shutdown after it, as a server
    does; a start-up that fails raises here."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))

    async def answer(expected: str) -> None:
        reply = asyncio.ensure_future(outbox.get())
        done, _ = await asyncio.wait({reply, task}, return_when=asyncio.FIRST_COMPLETED)
        if reply not in done:
            reply.cancel()
            task.result()  # the app's own exception, if it raised one
            raise RuntimeError(f"the app ended its lifespan before {expected}")
        message = reply.result()
        if message["type"] != expected:
            raise RuntimeError(f"lifespan: {message['type']}: {message.get('message', '')}")

    await inbox.put({"type": "lifespan.startup"})
    await answer("lifespan.startup.complete")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await answer("lifespan.shutdown.complete")
        await task


@contextlib.asynccontextmanager
async def started(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` once its lifespan has started it."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
            yield http
