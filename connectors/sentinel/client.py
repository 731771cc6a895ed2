"""The Sentinel Hub client: per-parcel statistics and band rasters through ``sentinelhub``.

``SentinelClient.refresh`` asks the Statistical API for one parcel's daily NDVI, NDBI and BSI
over its clear pixels (the SCL classes below and ``dataMask`` are masked by the evalscript;
values harmonized across the 2022 processing baseline with ``harmonizeValues``), for days after
the last one in the parcel's on-disk cache, and
keeps failed intervals to ask again next time. A parcel watched for the first time is backfilled
``history_days`` (never less than ``MIN_HISTORY_DAYS``: the detector compares with the same weeks
of the prior year); every later refresh asks the last ``trailing_days`` again, since passes are
published late. ``SentinelClient.scene`` asks the Process API for one acquisition's bands as
harmonized DN (the service takes off the BOA offset) for index maps.

Masked SCL classes, after the L2A documentation: 0 no data, 1 saturated, 2 dark area / cast
shadow, 3 cloud shadow, 7 unclassified (in practice thin cloud and cloud edges), 8/9 cloud,
10 cirrus, 11 snow. An evalscript sees one pixel at a time, so the statistics cannot buffer
clouds; cloud edges left clear are caught by class 7 or, when labelled clear, by the
detector's persistence (one odd pass never confirms). ``vision.spectral.index_maps`` buffers
clouds by two pixels on the Process API path.

Retries on 5xx and connection errors (``max_attempts``, back-off from ``retry_sleep_s``), 429
with ``Retry-After`` (at most ``max_rate_limited`` in a row, then ``SATELLITE_RATE_LIMITED``)
and per-interval retries of failed statistics are the ``sentinelhub`` client's own; a 403 for an
exhausted quota is ``SATELLITE_QUOTA_EXHAUSTED``, not an authentication error; errors that
remain become ``SatelliteError`` with a stable code. Calls block: run them in a thread
(``asyncio.to_thread``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from pydantic import SecretStr
from shapely.geometry import shape

from graph_schema.errors import HubError
from vision.change import SpectralObservation

# sentinelhub takes about 0.6 s of CPU to import, and every process that opens telemetry imports
# this module through the feed registry (hub ingest, hub serve, each CLI command, each test
# subprocess); only a hub that talks to Sentinel Hub needs it, so the client imports it.
if TYPE_CHECKING:
    from sentinelhub.download.session import SentinelHubSession

_M_PER_DEG = math.radians(1.0) * 6_371_008.8
MIN_HISTORY_DAYS = 395  # a year and the ±15-day window of the detector, and some slack

STATISTICS_EVALSCRIPT = """//VERSION=3
function setup() {
  return {
    input: [{bands: ["B02", "B04", "B08", "B11", "SCL", "dataMask"]}],
    output: [
      {id: "indices", bands: 3, sampleType: "FLOAT32"},
      {id: "dataMask", bands: 1}
    ]
  };
}
// SCL: 0 no data, 1 saturated, 2 dark area / cast shadow, 3 cloud shadow, 7 unclassified
// (mostly thin cloud and cloud edges), 8/9 cloud medium/high, 10 cirrus, 11 snow.
const MASKED = [0, 1, 2, 3, 7, 8, 9, 10, 11];
function evaluatePixel(s) {
  const ndvi = index(s.B08, s.B04);
  const ndbi = index(s.B11, s.B08);
  const bsi = index(s.B11 + s.B04, s.B08 + s.B02);
  const clear = s.dataMask === 1 && MASKED.indexOf(s.SCL) < 0
    && isFinite(ndvi) && isFinite(ndbi) && isFinite(bsi);
  return {indices: [ndvi, ndbi, bsi], dataMask: [clear ? 1 : 0]};
}
"""

# Landsat 8/9 Collection-2 L2 (``landsat-ot-l2``): B02 blue, B04 red, B05 NIR, B06 SWIR 1 as
# surface reflectance (the service applies Collection 2's scale, DN x 0.0000275 - 0.2), and BQA,
# Collection 2's QA_PIXEL: bit 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud shadow.
LANDSAT_STATISTICS_EVALSCRIPT = """//VERSION=3
function setup() {
  return {
    input: [{bands: ["B02", "B04", "B05", "B06", "BQA", "dataMask"]}],
    output: [
      {id: "indices", bands: 3, sampleType: "FLOAT32"},
      {id: "dataMask", bands: 1}
    ]
  };
}
const MASKED_BITS = 31;  // fill, dilated cloud, cirrus, cloud, cloud shadow
function evaluatePixel(s) {
  const ndvi = index(s.B05, s.B04);
  const ndbi = index(s.B06, s.B05);
  const bsi = index(s.B06 + s.B04, s.B05 + s.B02);
  const clear = s.dataMask === 1 && (s.BQA & MASKED_BITS) === 0
    && isFinite(ndvi) && isFinite(ndbi) && isFinite(bsi);
  return {indices: [ndvi, ndbi, bsi], dataMask: [clear ? 1 : 0]};
}
"""
LANDSAT_RESOLUTION_M = 30.0
LANDSAT = "landsat"

BANDS_EVALSCRIPT = """//VERSION=3
function setup() {
  return {
    input: [{bands: ["B02", "B04", "B08", "B11", "SCL", "dataMask"], units: "DN"}],
    output: {id: "default", bands: 6, sampleType: "UINT16"}
  };
}
function evaluatePixel(s) {
  return [s.B02, s.B04, s.B08, s.B11, s.SCL, s.dataMask];
}
"""


class SatelliteError(HubError):
    """Sentinel Hub could not answer; ``code`` says why, the message what exactly."""

    code = "SATELLITE_UNAVAILABLE"


class SatelliteAuthError(SatelliteError):
    """The token endpoint refused the client id and secret."""

    code = "SATELLITE_UNAUTHENTICATED"


class SatelliteQuotaExhausted(SatelliteError):
    """HTTP 403 for an exhausted account quota (requests or processing units): the credentials
    are fine; wait for the quota to renew or raise it."""

    code = "SATELLITE_QUOTA_EXHAUSTED"


class SatelliteForbidden(SatelliteError):
    """HTTP 403 for anything else: the account may not use this collection or endpoint."""

    code = "SATELLITE_FORBIDDEN"


class SatelliteRateLimited(SatelliteError):
    """HTTP 429 still answered after ``max_rate_limited`` tries: the per-minute quota is spent."""

    code = "SATELLITE_RATE_LIMITED"


class SatelliteBadResponse(SatelliteError):
    """Sentinel Hub answered something this client cannot read."""

    code = "SATELLITE_BAD_RESPONSE"


@dataclass(frozen=True, slots=True)
class SentinelConfig:
    base_url: str
    token_url: str
    client_id: str
    client_secret: SecretStr
    cache_dir: Path
    collection_url: str | None = None
    resolution_m: float = 10.0
    history_days: int = 400
    trailing_days: int = 10
    max_rate_limited: int = 5
    max_attempts: int = 4
    retry_sleep_s: float = 5.0
    timeout_s: float = 120.0
    interval_retries: int = 2
    # Landsat 8/9 passes as well as Sentinel-2's (issue 23: about 45 more looks a year through
    # Zhejiang's clouds; the hub turns it on by default, HUB_SATELLITE_LANDSAT); ``landsat_url``
    # is the service that holds ``landsat-ot-l2`` (unset: ``collection_url`` or the base URL).
    landsat: bool = False
    landsat_url: str | None = None


@dataclass(slots=True)
class ParcelSeries:
    """A parcel's cached daily statistics: ``days`` maps ISO day → (ndvi, ndbi, bsi, share,
    valid pixels); ``spread`` maps ISO day → the indices' standard deviations over the same
    pixels (the Statistical API's ``stDev``: a site is patchier than a ploughed field; absent in
    caches written before it was kept); ``through`` is the exclusive end of what was asked;
    ``failed`` days are asked again on the next refresh."""

    parcel_id: str
    through: dt.date | None = None
    days: dict[str, tuple[float, float, float, float, int]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    spread: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    # The same for Landsat 8/9 passes (kept apart: another sensor, its own bias and pixels).
    landsat_through: dt.date | None = None
    landsat: dict[str, tuple[float, float, float, float, int]] = field(default_factory=dict)
    landsat_failed: set[str] = field(default_factory=set)
    landsat_spread: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def observations(self) -> list[SpectralObservation]:
        """Both sensors' passes in day order (Sentinel-2 first on a day both passed)."""
        unknown = (math.nan, math.nan, math.nan)
        out = [
            SpectralObservation(
                dt.date.fromisoformat(day), v[0], v[1], v[2], v[3], *self.spread.get(day, unknown)
            )
            for day, v in self.days.items()
        ]
        out += [
            SpectralObservation(
                dt.date.fromisoformat(day),
                v[0],
                v[1],
                v[2],
                v[3],
                *self.landsat_spread.get(day, unknown),
                sensor=LANDSAT,
            )
            for day, v in self.landsat.items()
        ]
        return sorted(out, key=lambda o: (o.day, o.sensor != "sentinel-2"))

    def rows(self) -> list[tuple[dt.date, float, float, float, float, int]]:
        """(day, ndvi, ndbi, bsi, share, valid px) per day passed: Sentinel-2's, and Landsat's
        on days Sentinel-2 did not pass."""
        merged = {**self.landsat, **self.days}
        return [(dt.date.fromisoformat(day), *v) for day, v in sorted(merged.items())]


@dataclass(frozen=True, slots=True)
class Refresh:
    parcel_id: str
    asked: tuple[dt.date, dt.date] | None  # the time range requested, None when up to date
    new_days: tuple[dt.date, ...]  # either sensor's
    failed_days: tuple[dt.date, ...]
    series: ParcelSeries
    units: float = 0.0  # processing units the requests cost, estimated
    requests: int = 1  # statistics requests sent (one per optical source asked)
    landsat_error: SatelliteError | None = None  # Landsat's request failed; Sentinel-2's stands


class SeriesCache:
    """One JSON file per parcel under ``root``; written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, parcel_id: str) -> Path:
        safe = hashlib.blake2b(parcel_id.encode(), digest_size=8).hexdigest()
        return self.root / f"{safe}.json"

    def load(self, parcel_id: str) -> ParcelSeries:
        path = self._path(parcel_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ParcelSeries(parcel_id)
        except (OSError, ValueError):
            return ParcelSeries(parcel_id)  # a damaged cache is refetched, not fatal
        through = data.get("through")
        landsat_through = data.get("landsat_through")
        return ParcelSeries(
            parcel_id,
            dt.date.fromisoformat(through) if through else None,
            _values(data.get("days", {})),
            set(data.get("failed", [])),
            _spread(data.get("spread", {})),
            dt.date.fromisoformat(landsat_through) if landsat_through else None,
            _values(data.get("landsat", {})),
            set(data.get("landsat_failed", [])),
            _spread(data.get("landsat_spread", {})),
        )

    def save(self, series: ParcelSeries) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(series.parcel_id)
        data = {
            "parcel_id": series.parcel_id,
            "through": series.through.isoformat() if series.through else None,
            "days": dict(sorted(series.days.items())),
            "failed": sorted(series.failed),
            "spread": dict(sorted(series.spread.items())),
            "landsat_through": (
                series.landsat_through.isoformat() if series.landsat_through else None
            ),
            "landsat": dict(sorted(series.landsat.items())),
            "landsat_failed": sorted(series.landsat_failed),
            "landsat_spread": dict(sorted(series.landsat_spread.items())),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)


def _values(raw: dict[str, Any]) -> dict[str, tuple[float, float, float, float, int]]:
    return {k: (v[0], v[1], v[2], v[3], int(v[4])) for k, v in raw.items()}


def _spread(raw: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    return {k: (float(v[0]), float(v[1]), float(v[2])) for k, v in raw.items()}


@dataclass(frozen=True, slots=True)
class SceneBands:
    """One acquisition's bands over a bounding box, rows north to south."""

    day: dt.date
    bbox: tuple[float, float, float, float]
    bands: dict[str, npt.NDArray[np.uint16]]
    scl: npt.NDArray[np.uint16]
    data_mask: npt.NDArray[np.uint16]


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class SentinelClient:
    """Statistics and band rasters for parcels, from Sentinel Hub or the Copernicus Data Space."""

    def __init__(self, config: SentinelConfig) -> None:
        self.config = config
        self.cache = SeriesCache(config.cache_dir)
        if _is_loopback(config.token_url) and urlsplit(config.token_url).scheme == "http":
            # oauthlib refuses plain HTTP; the loopback stand-in has no certificate.
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        from sentinelhub.config import SHConfig
        from sentinelhub.data_collections import DataCollection

        self._sh = SHConfig(
            use_defaults=True,
            sh_client_id=config.client_id,
            sh_client_secret=config.client_secret.get_secret_value(),
            sh_base_url=config.base_url,
            sh_token_url=config.token_url,
            max_download_attempts=config.max_attempts,
            download_sleep_time=config.retry_sleep_s,
            download_timeout_seconds=config.timeout_s,
            max_retries=config.max_rate_limited,
        )
        self._token: SentinelHubSession | None = None
        self._token_lock = threading.Lock()  # refreshes of several parcels run in threads
        service = config.collection_url or config.base_url
        # Without its own service URL the collection's requests would go to the default service.
        name = "s2l2a_" + hashlib.blake2b(service.encode(), digest_size=4).hexdigest()
        self._collection = DataCollection.SENTINEL2_L2A.define_from(name, service_url=service)
        landsat_service = config.landsat_url or service
        name = "lot2_" + hashlib.blake2b(landsat_service.encode(), digest_size=4).hexdigest()
        self._landsat = DataCollection.LANDSAT_OT_L2.define_from(name, service_url=landsat_service)

    @property
    def requests_per_refresh(self) -> int:
        """Statistics requests one parcel's refresh sends: one per optical source."""
        return 2 if self.config.landsat else 1

    def _session(self) -> SentinelHubSession:
        # Our own session, not sentinelhub's process-wide cache (keyed by client id and base
        # URL only): two configurations never share a token.
        from sentinelhub.download.session import SentinelHubSession

        with self._token_lock:
            if self._token is None:
                self._token = SentinelHubSession(config=self._sh)
            return self._token

    def __repr__(self) -> str:
        return f"SentinelClient({self.config.base_url!r}, client_id={self.config.client_id!r})"

    # --- statistics ----------------------------------------------------------------------

    def refresh(
        self, parcel_id: str, geometry: Mapping[str, Any], today: dt.date | None = None
    ) -> Refresh:
        """Bring one parcel's cached series up to ``today`` (inclusive); one request at most."""
        today = today or dt.datetime.now(dt.UTC).date()
        series = self.cache.load(parcel_id)
        end = today + dt.timedelta(days=1)
        start = self._start(series.through, series.failed, today)
        landsat = self._start(series.landsat_through, series.landsat_failed, today)
        if not self.config.landsat:
            landsat = None
        if start is None and landsat is None:
            return Refresh(parcel_id, None, (), (), series, requests=0)
        new: set[str] = set()
        failed: set[str] = set()
        units = 0.0
        requests = 0
        asked = [s for s in (start, landsat) if s is not None]
        if start is not None:
            payload = self._statistics(dict(geometry), start, end)
            new |= _merge(series.days, series.spread, series.failed, payload, start, end, failed)
            series.through = end
            units += self.units(dict(geometry), (end - start).days)
            requests += 1
        landsat_error: SatelliteError | None = None
        if landsat is not None:
            requests += 1
            units += self.units(dict(geometry), (end - landsat).days, landsat=True)
            try:
                payload = self._statistics(dict(geometry), landsat, end, landsat=True)
            except SatelliteError as exc:
                # Sentinel-2's answer stands; Landsat's cursor stays, so the next refresh asks
                # its days again (a service without landsat-ot-l2 says so on every refresh).
                landsat_error = exc
            else:
                new |= _merge(
                    series.landsat, series.landsat_spread, series.landsat_failed, payload,
                    landsat, end, failed,
                )  # fmt: skip
                series.landsat_through = end
        self.cache.save(series)
        return Refresh(
            parcel_id,
            (min(asked), end),
            tuple(dt.date.fromisoformat(d) for d in sorted(new)),
            tuple(dt.date.fromisoformat(d) for d in sorted(failed)),
            series,
            round(units, 4),
            requests,
            landsat_error,
        )

    def _start(self, through: dt.date | None, failed: set[str], today: dt.date) -> dt.date | None:
        """The first day to ask one source for, or None when it is up to date."""
        end = today + dt.timedelta(days=1)
        if through is None:
            # First watch: a year and the comparison window at least, which the detector needs.
            start = today - dt.timedelta(days=max(self.config.history_days, MIN_HISTORY_DAYS))
        elif through >= end and not failed:
            return None
        else:
            # Passes are published hours to days after acquisition: ask the trailing days
            # again on every refresh, or a pass ingested late would be lost for ever.
            start = min(through, end - dt.timedelta(days=self.config.trailing_days))
        if failed:
            start = min(start, min(dt.date.fromisoformat(d) for d in failed))
        return start

    def units(self, geometry: dict[str, Any], days: int, *, landsat: bool = False) -> float:
        """Processing units of a daily statistics request, after Sentinel Hub's rules: 512×512
        pixels and 3 input bands make one unit (5 bands here: B02, B04, B08, B11, SCL, or
        Landsat's B02, B04, B05, B06, BQA at 30 m; dataMask is free), at least 0.01 per
        request, and each daily interval counts as a request. An estimate for the budget; the
        account's dashboard is the truth."""
        width, height = self._pixels(geometry, LANDSAT_RESOLUTION_M if landsat else None)
        per_interval = max(0.01, width * height / 512**2 * 5 / 3)
        return round(per_interval * max(1, days), 4)

    def _pixels(self, geometry: dict[str, Any], res_m: float | None = None) -> tuple[int, int]:
        min_x, min_y, max_x, max_y = shape(geometry).bounds
        resx, resy = self._resolution(geometry, res_m)
        return max(1, math.ceil((max_x - min_x) / resx)), max(1, math.ceil((max_y - min_y) / resy))

    def _resolution(
        self, geometry: dict[str, Any], res_m: float | None = None
    ) -> tuple[float, float]:
        lat = _centre_lat(geometry)
        res = res_m or self.config.resolution_m
        return res / (_M_PER_DEG * math.cos(math.radians(lat))), res / _M_PER_DEG

    def _statistics(
        self, geometry: dict[str, Any], start: dt.date, end: dt.date, *, landsat: bool = False
    ) -> Any:
        from sentinelhub.api.statistical import SentinelHubStatistical
        from sentinelhub.constants import CRS
        from sentinelhub.download.sentinelhub_statistical_client import (
            SentinelHubStatisticalDownloadClient,
        )
        from sentinelhub.geometry import Geometry

        if landsat:  # Collection 2 L2 is one product line: nothing to harmonize
            data = SentinelHubStatistical.input_data(self._landsat)
        else:
            data = SentinelHubStatistical.input_data(
                self._collection, other_args={"processing": {"harmonizeValues": True}}
            )
        request = SentinelHubStatistical(
            aggregation=SentinelHubStatistical.aggregation(
                evalscript=LANDSAT_STATISTICS_EVALSCRIPT if landsat else STATISTICS_EVALSCRIPT,
                time_interval=(_midnight(start), _midnight(end)),
                aggregation_interval="P1D",
                resolution=self._resolution(geometry, LANDSAT_RESOLUTION_M if landsat else None),
            ),
            input_data=[data],
            geometry=Geometry(geometry, crs=CRS.WGS84),
            config=self._sh,
        )

        def run() -> Any:
            client = SentinelHubStatisticalDownloadClient(
                config=self._sh,
                session=self._session(),
                n_interval_retries=self.config.interval_retries,
            )
            return client.download(request.download_list, max_threads=1)[0]

        return self._download(run)

    # --- rasters -------------------------------------------------------------------------

    def scene(
        self, bbox: tuple[float, float, float, float], width: int, height: int, day: dt.date
    ) -> SceneBands:
        """One day's DN bands, SCL and dataMask over ``bbox`` (WGS 84) at ``width``×``height``;
        the service harmonizes the values (no BOA offset, whatever the processing baseline)."""
        from sentinelhub.api.process import SentinelHubRequest
        from sentinelhub.constants import CRS, MimeType
        from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient
        from sentinelhub.geometry import BBox

        request = SentinelHubRequest(
            evalscript=BANDS_EVALSCRIPT,
            input_data=[
                SentinelHubRequest.input_data(
                    self._collection,
                    time_interval=(day, day),
                    other_args={"processing": {"harmonizeValues": True}},
                )
            ],
            responses=[SentinelHubRequest.output_response("default", MimeType.TIFF)],
            bbox=BBox(bbox, crs=CRS.WGS84),
            size=(width, height),
            config=self._sh,
        )

        def run() -> Any:
            client = SentinelHubDownloadClient(config=self._sh, session=self._session())
            return client.download(request.download_list, max_threads=1)[0]

        data = self._download(run)
        image = np.asarray(data)
        if image.shape != (height, width, 6):
            raise SatelliteBadResponse(
                f"process answered an image of shape {image.shape}, not {(height, width, 6)}"
            )
        bands = {
            b: image[..., i].astype(np.uint16) for i, b in enumerate(("B02", "B04", "B08", "B11"))
        }
        return SceneBands(
            day, bbox, bands, image[..., 4].astype(np.uint16), image[..., 5].astype(np.uint16)
        )

    # --- errors --------------------------------------------------------------------------

    def _download(self, call: Any) -> Any:
        from sentinelhub.exceptions import (
            DownloadFailedException,
            OutOfRequestsException,
            SHRateLimitWarning,
        )

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SHRateLimitWarning)
                return call()
        except OAuth2Error as exc:
            raise SatelliteAuthError(
                f"token refused by {self.config.token_url}: {exc.error}"
            ) from None
        except OutOfRequestsException:
            raise SatelliteRateLimited(
                f"HTTP 429 {self.config.max_rate_limited} times in a row: per-minute quota spent"
            ) from None
        except DownloadFailedException as exc:
            response = getattr(exc.request_exception, "response", None)
            status = getattr(response, "status_code", None)
            if status == 401:
                raise SatelliteAuthError(f"Sentinel Hub refused the token ({status})") from None
            if status == 403:
                text = (getattr(response, "text", "") or "")[:500]
                if any(w in text.lower() for w in ("quota", "processing unit", "limit")):
                    raise SatelliteQuotaExhausted(f"Sentinel Hub quota exhausted: {text}") from None
                raise SatelliteForbidden(f"Sentinel Hub forbade the request: {text}") from None
            raise SatelliteError(f"Sentinel Hub download failed: {_first_line(exc)}") from None
        except requests.RequestException as exc:
            raise SatelliteError(f"Sentinel Hub unreachable: {_first_line(exc)}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise SatelliteBadResponse(f"unreadable answer: {exc!r}") from None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _centre_lat(geometry: Mapping[str, Any]) -> float:
    _, min_y, _, max_y = shape(geometry).bounds
    return float(min_y + max_y) / 2


def _merge(
    days: dict[str, tuple[float, float, float, float, int]],
    spread: dict[str, tuple[float, float, float]],
    failed: set[str],
    payload: Any,
    start: dt.date,
    end: dt.date,
    failed_now: set[str],
) -> set[str]:
    """Take one source's statistics answer for [start, end) into its cached days; return the
    days new or changed, and add the intervals that failed to ``failed_now``."""
    answered, failed_days, spreads = _parse_statistics(payload)
    spread.update(spreads)
    new = {d: v for d, v in answered.items() if days.get(d) != v}
    failed -= {d for d in failed if start.isoformat() <= d < end.isoformat()}
    days.update(new)
    failed |= failed_days
    failed_now |= failed_days
    return set(new)


def _parse_statistics(
    payload: Any,
) -> tuple[
    dict[str, tuple[float, float, float, float, int]],
    set[str],
    dict[str, tuple[float, float, float]],
]:
    """Days with values, days whose interval failed, and the days' standard deviations (NaN
    where the answer has none), from a statistics response."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise SatelliteBadResponse("statistics answer has no data list")
    new: dict[str, tuple[float, float, float, float, int]] = {}
    spread: dict[str, tuple[float, float, float]] = {}
    failed: set[str] = set()
    for item in payload["data"]:
        try:
            day = str(item["interval"]["from"])[:10]
            dt.date.fromisoformat(day)
            if "error" in item:
                failed.add(day)
                continue
            bands = item["outputs"]["indices"]["bands"]
            stats = [bands[f"B{i}"]["stats"] for i in range(3)]
            samples = int(stats[0]["sampleCount"])
            valid = samples - int(stats[0]["noDataCount"])
            means = [float(s["mean"]) for s in stats]  # "NaN" when nothing was clear
            sds = [float(s.get("stDev", "NaN")) for s in stats]
        except (KeyError, TypeError, ValueError) as exc:
            raise SatelliteBadResponse(f"statistics interval unreadable: {exc!r}") from None
        share = valid / samples if samples else 0.0
        new[day] = (means[0], means[1], means[2], share, valid)
        spread[day] = (sds[0], sds[1], sds[2])
    return new, failed, spread
