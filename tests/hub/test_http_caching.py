"""HTTP caching and compression of /graphql answers on the real app: strong ETags and
revalidation for GET, no-store for the rest; br or gzip for large answers when the client
accepts it, with its own ETag, never for event streams."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import brotli
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from graph_schema.falkordb_store import FalkorDBStore
from hub.app import create_app
from hub.compression import Compression, negotiate
from hub.console import CONSOLE_DIR
from hub.monitoring.watch import Watch
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from tests.hub import sites
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

SMALL = "{ industryChains { totalCount } }"
# The example of a large answer: every project's activity verdict (924 on the demo).
ACTIVITIES = """{ projectActivities { projectCode projectName regionCode stage status idleDays
  day { day status score confidence powerResumed provisional } } }"""


@contextlib.asynccontextmanager
async def _client(
    store: FalkorDBStore, watch: Watch | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=store, watch=watch)
    async with started(app) as http:
        yield http


@pytest.fixture
async def watch(falkordb_demo: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Watch]:
    # The activity verdicts of the demo's projects, from an empty telemetry store.
    telemetry = await sites.open_telemetry(tmp_path / "telemetry.db")
    yield Watch(
        falkordb_demo,
        telemetry,
        fusion_rules=FusionSettings(),
        mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(),
        inactivity_timeout_s=1800,
    )
    await telemetry.close()


async def _raw_get(
    http: httpx.AsyncClient, query: str, headers: Mapping[str, str]
) -> tuple[httpx.Response, bytes]:
    """A GET whose body is read as sent (httpx would otherwise decode gzip)."""
    request = http.build_request("GET", "/graphql", params={"query": query}, headers=headers)
    response = await http.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, raw


# --- ETag and Cache-Control ----------------------------------------------------------------


async def test_get_answers_carry_a_strong_etag_and_revalidate(
    falkordb_demo: FalkorDBStore,
) -> None:
    async with _client(falkordb_demo) as http:
        first = await http.get("/graphql", params={"query": SMALL})
        etag = first.headers["etag"]
        again = await http.get("/graphql", params={"query": SMALL}, headers={"If-None-Match": etag})
        weak = await http.get(
            "/graphql", params={"query": SMALL}, headers={"If-None-Match": f'"x", W/{etag}'}
        )
        other = await http.get(
            "/graphql",
            params={"query": "{ regions { totalCount } }"},
            headers={"If-None-Match": etag},
        )
    assert first.status_code == 200
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "private, no-cache"
    assert {"Authorization", "Accept", "Accept-Language"} <= {
        v.strip() for v in first.headers["vary"].split(",")
    }
    for unchanged in (again, weak):
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert unchanged.headers["cache-control"] == "private, no-cache"
    assert other.status_code == 200  # another answer, another tag
    assert other.headers["etag"] != etag


async def test_post_and_errors_are_not_stored(falkordb_demo: FalkorDBStore) -> None:
    async with _client(falkordb_demo) as http:
        post = await http.post("/graphql", json={"query": SMALL})
        invalid = await http.get("/graphql", params={"query": "{ nothingHere }"})
        field_error = await http.get(
            "/graphql", params={"query": "{ projects(first: 100000) { totalCount } }"}
        )
        mutation = await http.get("/graphql", params={"query": "mutation { x }"})
    assert post.status_code == 200
    for response in (post, invalid, field_error, mutation):
        assert response.headers["cache-control"] == "no-store", response.text
        assert "etag" not in response.headers


# --- compression ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "coding", "decompress"),
    [("gzip", "gzip", gzip.decompress), ("gzip, deflate, br", "br", brotli.decompress)],
)
async def test_large_answers_are_compressed_when_accepted(
    falkordb_demo: FalkorDBStore,
    watch: Watch,
    accept_encoding: str,
    coding: str,
    decompress: Callable[[bytes], bytes],
) -> None:
    async with _client(falkordb_demo, watch) as http:
        plain, plain_raw = await _raw_get(http, ACTIVITIES, {"Accept-Encoding": "identity"})
        packed, packed_raw = await _raw_get(http, ACTIVITIES, {"Accept-Encoding": accept_encoding})
        # The compressed representation has its own tag, and revalidates with it.
        tag = packed.headers["etag"]
        same, _ = await _raw_get(
            http, ACTIVITIES, {"Accept-Encoding": accept_encoding, "If-None-Match": tag}
        )
        small, small_raw = await _raw_get(http, SMALL, {"Accept-Encoding": accept_encoding})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == coding
    assert int(packed.headers["content-length"]) == len(packed_raw)
    assert decompress(packed_raw) == plain_raw
    assert len(json.loads(plain_raw)["data"]["projectActivities"]) > 500
    assert tag == plain.headers["etag"][:-1] + f'-{coding}"'
    assert same.status_code == 304 and same.headers["etag"] == tag
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["vary"]
    assert "content-encoding" not in small.headers  # under HUB_HTTP_COMPRESS_MIN_BYTES
    assert len(small_raw) < 1024
    ratio = len(plain_raw) / len(packed_raw)
    print(f"projectActivities: {len(plain_raw)} bytes, {coding} {len(packed_raw)} ({ratio:.1f}x)")
    assert ratio > 4


async def test_console_assets_are_gzipped_as_they_stream(falkordb_demo: FalkorDBStore) -> None:
    scripts = sorted((CONSOLE_DIR / "assets").glob("*.js"))
    if not scripts:
        pytest.skip("the console is not built (scripts/build-web)")
    async with _client(falkordb_demo) as http:
        response = await http.get(f"/assets/{scripts[0].name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == scripts[0].read_bytes()  # httpx decoded it


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("x-gzip", "gzip"),
        ("*", "br"),
        ("br;q=0, *", "gzip"),
        ("deflate, *;q=0", None),
        ("gzip;q=0, br;q=0, *", None),
        ("identity", None),
        ("", None),
    ],
)
def test_accept_encoding(header: str, coding: str | None) -> None:
    chosen = negotiate(header)
    assert (chosen.name if chosen else None) == coding


async def test_event_streams_are_never_compressed() -> None:
    async def events(request: object) -> StreamingResponse:
        async def stream() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"data: {'x' * 2000} {i}\n\n".encode()

        return StreamingResponse(stream(), media_type="text/event-stream")

    app = Compression(Starlette(routes=[Route("/events", events)]), minimum_size=10)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        response = await http.get("/events", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.text.count("data: ") == 3
