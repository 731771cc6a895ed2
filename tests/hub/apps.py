"""The app as ``hub serve`` starts it, in process: its real lifespan, then an HTTP client.

``create_app`` takes the stores a test's fixtures hold (``store=``, ``telemetry=``) in place of
opening them from the settings; everything else in the lifespan runs as configured. Tests of
the API turn off, through the same settings an operator would, what they do not exercise:
the MQTT subscriber, the watch (fusion, MPI, alerts; it would write to the shared demo graph)
and the cameras. Telemetry, when not injected, is a fresh SQLite file under ``HUB_DATA_DIR``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import tempfile
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
    # Every API request runs compiled and resolver execution and fails on any difference
    # (hub.api.compiled): how the suite shows the two answer alike.
    "HUB_API_EXECUTION": "compare",
}


_shared: list[Path] = []


def _shared_data_dir() -> Path:
    # One per test process, removed at its exit: the telemetry file apps open when a test
    # gives them none (migrated once, then only opened), never the repository's ./data.
    if not _shared:
        path = Path(tempfile.mkdtemp(prefix="hub-api-tests-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _shared.append(path)
    return _shared[0]


def api_settings(env: Mapping[str, str] | None = None, data_dir: Path | None = None) -> Settings:
    """Settings for an API test: ``env`` over :data:`API_ONLY`, data under ``data_dir`` (by
    default a directory this test process shares)."""
    base = {**API_ONLY, "HUB_DATA_DIR": str(data_dir or _shared_data_dir())}
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
async def started(
    app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 123), **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` (calling from ``client``; ``options`` go to
    ``httpx.AsyncClient``) once its lifespan has started it."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub", **options) as http:
            yield http
