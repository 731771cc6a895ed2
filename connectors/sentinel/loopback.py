"""A Sentinel Hub on loopback: the token endpoint, ``/api/v1/statistics`` and ``/api/v1/process``
in the service's own request and response formats, answering from synthetic parcel histories
(``connectors.sentinel.scenes``). Tests and the demo point the real ``sentinelhub`` client here.

It does not run JavaScript: it answers the evalscripts of ``connectors.sentinel.client``
(indices with a ``dataMask`` output for statistics; DN bands, SCL and dataMask for process) by
computing what they compute. Statistics of ``landsat-ot-l2`` come from
``connectors.sentinel.landsat_scenes`` (Landsat 8/9 days, the parcel's 30 m pixels whatever
resolution was asked, ``BQA`` bits 0-4 masked).
Faults are queued per endpoint and taken one per request: ``"429"`` (with ``Retry-After`` in
milliseconds, as Sentinel Hub sends it), ``"403quota"`` (an exhausted quota), ``"500"``/``"503"``,
``"partial"`` (every other interval fails with ``EXECUTION_ERROR``, status ``PARTIAL``) and
``"failed"`` (every interval fails, status ``FAILED``); ``"ok"`` answers as usual (to fault the
request after it). Passes the generator marks missing are
never served; passes in ``late`` are served only from the day given. Every request body is kept
in ``requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from shapely import STRtree
from shapely.geometry import Point, shape

from connectors.sentinel.landsat_scenes import landsat_acquisitions, landsat_stats
from connectors.sentinel.scenes import (
    Stats,
    SyntheticParcel,
    acquisitions,
    interval_stats,
    missing,
    scene,
)
from vision.spectral import BASELINE_04_00, rasterise

TOKEN_PATH = "/auth/realms/main/protocol/openid-connect/token"  # noqa: S105 (a path)
_M_PER_DEG = math.radians(1.0) * 6_371_008.8
_COLLECTIONS = ("sentinel-2-l2a", "S2L2A", "landsat-ot-l2")
_LANDSAT = "landsat-ot-l2"


@dataclass(frozen=True, slots=True)
class Received:
    endpoint: str  # token | statistics | process
    body: dict[str, Any]
    status: int


class _Reply(Exception):
    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str]):
        self.status, self.body, self.content_type, self.headers = (
            status,
            body,
            content_type,
            headers,
        )


def _error(status: int, reason: str, message: str, code: str) -> _Reply:
    body = {"error": {"status": status, "reason": reason, "message": message, "code": code}}
    return _Reply(status, json.dumps(body).encode(), "application/json", {})


class LoopbackSentinelHub:
    """A threaded HTTP server on 127.0.0.1; ``with LoopbackSentinelHub(...) as sh: sh.base_url``."""

    def __init__(
        self,
        parcels: Sequence[SyntheticParcel] = (),
        *,
        client_id: str = "loopback-client",
        client_secret: str = "loopback-secret",  # noqa: S107 (the stand-in's own)
        today: dt.date | None = None,
        fallback: Callable[[dict[str, Any]], SyntheticParcel] | None = None,
        retry_after_ms: int = 200,
    ) -> None:
        self.parcels = list(parcels)
        self._shapes = STRtree([shape(p.geometry) for p in self.parcels])
        self.client_id = client_id
        self.client_secret = client_secret
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.fallback = fallback or _hashed_parcel
        self.retry_after_ms = retry_after_ms
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[Received] = []
        # Passes the archive publishes late: acquisition day → first day it is served.
        self.late: dict[dt.date, dt.date] = {}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> LoopbackSentinelHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    hub._handle(self.path, dict(self.headers.items()), raw)
                except _Reply as reply:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackSentinelHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the loopback Sentinel Hub is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    def fail(self, endpoint: str, *faults: str) -> None:
        """Queue faults for the next requests to ``endpoint`` (statistics, process, token)."""
        with self._lock:
            self.faults[endpoint].extend(faults)

    def bodies(self, endpoint: str) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.endpoint == endpoint]

    # --- requests -------------------------------------------------------------------------

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> None:
        endpoint = {TOKEN_PATH: "token", "/api/v1/statistics": "statistics"}.get(path)
        endpoint = endpoint or ("process" if path == "/api/v1/process" else None)
        if endpoint is None:
            raise _error(404, "Not Found", f"no endpoint {path}", "COMMON_NOT_FOUND")
        body: dict[str, Any]
        if endpoint == "token":
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                raise _error(400, "Bad Request", "body is not JSON", "COMMON_BAD_PAYLOAD") from None
        with self._lock:
            fault = self.faults[endpoint].popleft() if self.faults[endpoint] else None
        status = 200
        try:
            if fault == "429":
                raise _Reply(
                    429,
                    json.dumps({"status": 429, "reason": "Too Many Requests"}).encode(),
                    "application/json",
                    {"Retry-After": str(self.retry_after_ms)},
                )
            if fault == "403quota":
                raise _error(
                    403,
                    "Forbidden",
                    "You have exceeded your monthly quota of processing units.",
                    "RATE_LIMIT_EXCEEDED",
                )
            if fault in ("500", "502", "503"):
                raise _error(int(fault), "Server Error", "try again", "COMMON_EXCEPTION")
            if endpoint == "token":
                self._token(body)
            self._authorised(headers)
            if endpoint == "statistics":
                self._statistics(body, fault)
            self._process(body)
        except _Reply as reply:
            status = reply.status
            raise
        finally:
            with self._lock:
                self.requests.append(Received(endpoint, body, status))

    def _token(self, form: dict[str, str]) -> None:
        if form.get("grant_type") != "client_credentials":
            raise _Reply(400, b'{"error": "unsupported_grant_type"}', "application/json", {})
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            body = b'{"error": "unauthorized_client", "error_description": "Invalid client"}'
            raise _Reply(401, body, "application/json", {})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        raise _Reply(200, json.dumps(answer).encode(), "application/json", {})

    def _authorised(self, headers: dict[str, str]) -> None:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth.removeprefix("Bearer ")
        with self._lock:
            known = token in self._tokens
        if not known:
            raise _error(401, "Unauthorized", "bad or missing token", "COMMON_UNAUTHORIZED")

    def _collection(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            data = body["input"]["data"][0]
        except (KeyError, IndexError, TypeError):
            raise _error(400, "Bad Request", "input.data missing", "COMMON_BAD_PAYLOAD") from None
        if data.get("type") not in _COLLECTIONS:
            raise _error(
                400, "Bad Request", f"unknown collection {data.get('type')!r}", "COMMON_BAD_PAYLOAD"
            )
        return dict(data)

    def _parcel(self, geometry: dict[str, Any]) -> SyntheticParcel:
        probe = shape(geometry).representative_point()
        hits = self._shapes.query(probe, predicate="within")
        return self.parcels[int(min(hits))] if len(hits) else self.fallback(geometry)

    def _statistics(self, body: dict[str, Any], fault: str | None) -> None:
        data = self._collection(body)
        harmonized = bool(data.get("processing", {}).get("harmonizeValues", True))
        try:
            geometry = body["input"]["bounds"]["geometry"]
            agg = body["aggregation"]
            start = dt.datetime.fromisoformat(agg["timeRange"]["from"]).date()
            end_moment = dt.datetime.fromisoformat(agg["timeRange"]["to"])
            interval = agg["aggregationInterval"]["of"]
            resx, resy = float(agg["resx"]), float(agg["resy"])
            evalscript = agg["evalscript"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _error(
                400, "Bad Request", f"bad payload: {exc!r}", "COMMON_BAD_PAYLOAD"
            ) from None
        if "dataMask" not in evalscript:
            raise _error(
                400, "Bad Request", "the evalscript must output dataMask", "EXECUTION_ERROR"
            )
        if interval != "P1D":
            raise _error(
                400, "Bad Request", "the loopback aggregates P1D only", "COMMON_BAD_PAYLOAD"
            )
        end = end_moment.date() + (dt.timedelta(days=1) if end_moment.time() else dt.timedelta())
        parcel = self._parcel(geometry)
        if data.get("type") == _LANDSAT:
            if "BQA" not in evalscript:
                raise _error(400, "Bad Request", "landsat-ot-l2 has no SCL", "EXECUTION_ERROR")
            passes = [d for d, _ in landsat_acquisitions(start, end) if d <= self.today]
            passes = sorted({d for d in passes if self.late.get(d, d) <= self.today})
            rendered = [(d, landsat_stats(parcel, d)) for d in passes]
            shown = [(d, st) for d, st in rendered if st is not None]
            broken = {
                n
                for n in range(len(shown))
                if fault == "failed" or (fault == "partial" and n % 2 == 1)
            }
            raise _Reply(200, _answer(shown, broken), "application/json", {})
        min_x, min_y, max_x, max_y = shape(geometry).bounds
        width = max(1, math.ceil((max_x - min_x) / resx))
        height = max(1, math.ceil((max_y - min_y) / resy))
        bbox = (min_x, min_y, min_x + width * resx, min_y + height * resy)
        days = [d for d in acquisitions(start, end) if d <= self.today and not missing(parcel, d)]
        days = [d for d in days if self.late.get(d, d) <= self.today]
        broken = {
            n for n in range(len(days)) if fault == "failed" or (fault == "partial" and n % 2 == 1)
        }
        answer = _statistics_answer(parcel, geometry, days, broken, bbox, width, height, harmonized)
        raise _Reply(200, answer, "application/json", {})

    def _process(self, body: dict[str, Any]) -> None:
        data = self._collection(body)
        harmonized = bool(data.get("processing", {}).get("harmonizeValues", True))
        try:
            bbox_list = body["input"]["bounds"]["bbox"]
            time_range = body["input"]["data"][0]["dataFilter"]["timeRange"]
            start = dt.datetime.fromisoformat(time_range["from"]).date()
            end = dt.datetime.fromisoformat(time_range["to"]).date() + dt.timedelta(days=1)
            width, height = int(body["output"]["width"]), int(body["output"]["height"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise _error(
                400, "Bad Request", f"bad payload: {exc!r}", "COMMON_BAD_PAYLOAD"
            ) from None
        if not (0 < width <= 2500 and 0 < height <= 2500):
            raise _error(400, "Bad Request", "output size 1..2500 px", "COMMON_BAD_PAYLOAD")
        bbox = (float(bbox_list[0]), float(bbox_list[1]), float(bbox_list[2]), float(bbox_list[3]))
        centre = Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
        parcel = self._parcel(centre.buffer(1e-6).__geo_interface__)
        days = [d for d in acquisitions(start, end) if d <= self.today]
        image = np.zeros((height, width, 6), dtype=np.uint16)
        if days:
            sc = scene(parcel, days[-1], bbox, width, height)
            offset = 1000 if harmonized and days[-1] >= BASELINE_04_00 else 0
            for i, band in enumerate(("B02", "B04", "B08", "B11")):
                image[..., i] = np.maximum(sc.bands[band].astype(np.int32) - offset, 0)
            image[..., 4] = sc.scl
            image[..., 5] = sc.data_mask
        import tifffile  # here: a second to import, and statistics never need it

        buffer = io.BytesIO()
        tifffile.imwrite(buffer, image)
        raise _Reply(200, buffer.getvalue(), "image/tiff", {})


def _statistics_answer(
    parcel: SyntheticParcel,
    geometry: dict[str, Any],
    days: list[dt.date],
    broken: set[int],
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
    harmonized: bool,
) -> bytes:
    """The statistics answer's body for ``days`` of a parcel (``broken`` ones, by index, fail
    with ``EXECUTION_ERROR``)."""
    inside = rasterise(geometry, bbox, width, height)
    # Every day of the interval rendered at once (``interval_stats`` gives what
    # ``scene_stats`` of each day's ``scene`` would, bit for bit).
    rendered = iter(
        interval_stats(
            parcel,
            [d for n, d in enumerate(days) if n not in broken],
            bbox,
            width,
            height,
            inside,
            harmonized=harmonized,
        )
    )
    return _answer(
        [(d, None if n in broken else next(rendered)) for n, d in enumerate(days)], broken
    )


def _answer(days: Sequence[tuple[dt.date, Stats | None]], broken: set[int]) -> bytes:
    """The statistics answer's body: per day its stats (``broken`` ones, by index, fail with
    ``EXECUTION_ERROR``)."""
    items: list[dict[str, Any]] = []
    for n, (day, st) in enumerate(days):
        span = {"from": f"{day}T00:00:00Z", "to": f"{day + dt.timedelta(days=1)}T00:00:00Z"}
        if n in broken or st is None:
            error = {"type": "EXECUTION_ERROR", "message": "Failed to process the interval"}
            items.append({"interval": span, "error": error})
            continue
        bands = {
            f"B{i}": {"stats": _stats(st.values[name], st.samples, st.no_data)}
            for i, name in enumerate(("ndvi", "ndbi", "bsi"))
        }
        mask = {"B0": {"stats": _stats((0.0, 1.0, 1.0, 0.0), st.samples, st.no_data)}}
        items.append(
            {
                "interval": span,
                "outputs": {"indices": {"bands": bands}, "dataMask": {"bands": mask}},
            }
        )
    failed = len(broken)
    status = "OK" if not failed else ("FAILED" if failed == len(days) else "PARTIAL")
    return json.dumps({"data": items, "status": status}).encode()


def _stats(values: tuple[float, float, float, float], samples: int, no_data: int) -> dict[str, Any]:
    def num(v: float) -> float | str:
        return "NaN" if math.isnan(v) else v

    lo, hi, mean, sd = values
    return {
        "min": num(lo),
        "max": num(hi),
        "mean": num(mean),
        "stDev": num(sd),
        "sampleCount": samples,
        "noDataCount": no_data,
    }


def _hashed_parcel(geometry: dict[str, Any]) -> SyntheticParcel:
    """A parcel nobody registered: its kind and onset follow from its shape, stably."""
    key = json.dumps(geometry, sort_keys=True)
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    kind = ("built", "vegetated", "construction")[digest % 3]
    onset = (
        dt.date(2025, 1, 1) + dt.timedelta(days=digest % 600) if kind == "construction" else None
    )
    return SyntheticParcel(f"anon-{digest:x}", geometry, kind, onset, 0)


# --- in a process of its own ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoopbackAddress:
    """Where a loopback Sentinel Hub in another process answers, and its credentials."""

    base_url: str
    client_id: str
    client_secret: str

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH


def _serve(
    parcels: list[SyntheticParcel], today: dt.date, conn: multiprocessing.connection.Connection
) -> None:
    hub = LoopbackSentinelHub(parcels, today=today).start()
    conn.send(LoopbackAddress(hub.base_url, hub.client_id, hub.client_secret))
    with contextlib.suppress(EOFError, OSError):
        conn.recv()  # until the parent says stop, or is gone
    hub.stop()


@contextlib.asynccontextmanager
async def loopback_process(
    parcels: Sequence[SyntheticParcel], *, today: dt.date
) -> AsyncIterator[LoopbackAddress]:
    """A loopback Sentinel Hub in a spawned process. Rendering scenes is CPU work in Python; in
    a thread of the hub's own process it held the GIL against the event loop, and a demo
    refresh (hundreds of parcels, a year and a half of passes) delayed live readings on the
    wall by tens of seconds. Requests at once are answered at once, each in a thread (numpy
    lets them share the cores)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_serve, args=(list(parcels), today, child), name="sentinel-loopback", daemon=True
    )
    process.start()
    child.close()
    try:
        address: LoopbackAddress = await asyncio.to_thread(parent.recv)
        yield address
    finally:
        with contextlib.suppress(OSError):
            parent.send(None)
        parent.close()
        await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join)
