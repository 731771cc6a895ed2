"""The real ``sentinelhub`` client against the loopback Sentinel Hub: statistics (incremental
with a trailing re-ask window, PARTIAL/FAILED intervals, 429 with Retry-After and its bound,
5xx, 403 quota), the Process API and errors with codes."""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from connectors.satellite import Parcel, parcel_maps
from connectors.sentinel.client import (
    SatelliteAuthError,
    SatelliteError,
    SatelliteQuotaExhausted,
    SatelliteRateLimited,
    SentinelClient,
    SentinelConfig,
)
from connectors.sentinel.landsat_scenes import landsat_acquisitions, landsat_observations
from connectors.sentinel.loopback import LoopbackSentinelHub
from connectors.sentinel.scenes import (
    SyntheticParcel,
    acquisitions,
    missing,
    observations,
    synthetic_parcels,
)
from vision.spectral import rasterise

START = dt.date(2021, 7, 1)
END = START + dt.timedelta(days=365)
PARCELS = synthetic_parcels(12, seed=3, start=START, end=END)
TODAY = dt.date(2022, 5, 1)


@pytest.fixture
def sh() -> Iterator[LoopbackSentinelHub]:
    with LoopbackSentinelHub(PARCELS, today=TODAY, retry_after_ms=300) as server:
        yield server


def _client(
    sh: LoopbackSentinelHub, cache: Path, secret: str = "loopback-secret", *, landsat: bool = False
) -> SentinelClient:
    return SentinelClient(
        SentinelConfig(
            sh.base_url,
            sh.token_url,
            "loopback-client",
            SecretStr(secret),
            cache,
            history_days=400,
            max_attempts=3,
            max_rate_limited=3,
            retry_sleep_s=0.05,
            landsat=landsat,
        )
    )


def _parcel(kind: str) -> SyntheticParcel:
    return next(p for p in PARCELS if p.kind == kind)


def _passes(p: SyntheticParcel, start: dt.date, end: dt.date) -> list[dt.date]:
    """The passes the archive has for ``p`` in [start, end): some are missing, as in life."""
    return [d for d in acquisitions(start, end) if not missing(p, d)]


def test_first_refresh_fetches_history_and_the_second_only_new_dates(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("vegetated")
    client = _client(sh, tmp_path)
    first = client.refresh(p.id, p.geometry, today=TODAY)
    assert first.asked == (TODAY - dt.timedelta(days=400), TODAY + dt.timedelta(days=1))
    assert list(first.new_days) == _passes(p, *first.asked)
    assert len(first.new_days) < len(acquisitions(*first.asked))
    assert (sh.requests[0].endpoint, sh.requests[0].status) == ("token", 200)
    (stats,) = sh.bodies("statistics")
    assert stats["aggregation"]["aggregationInterval"] == {"of": "P1D"}
    assert stats["input"]["data"][0]["processing"] == {"harmonizeValues": True}
    assert "dataMask" in stats["aggregation"]["evalscript"]
    # The within-parcel standard deviations (``stDev``) come with the means and survive the
    # cache on disk: they are what tells a patchy site from a uniformly ploughed field.
    cached = {o.day: o for o in _client(sh, tmp_path).cache.load(p.id).observations()}
    direct = {o.day: o for o in observations(p, list(first.new_days))}
    assert cached.keys() == direct.keys()
    clear = [d for d, o in direct.items() if math.isfinite(o.ndvi)]
    assert clear
    for day in clear:
        got, want = cached[day], direct[day]
        assert (got.ndvi_sd, got.ndbi_sd, got.bsi_sd) == pytest.approx(
            (want.ndvi_sd, want.ndbi_sd, want.bsi_sd), abs=1e-4
        )
        assert got.ndvi_sd > 0.0

    # Nothing new yet: no request at all. Then the archive grows by 20 days.
    again = _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    assert again.asked is None
    assert len(sh.bodies("statistics")) == 1
    sh.today = TODAY + dt.timedelta(days=20)
    later = _client(sh, tmp_path).refresh(p.id, p.geometry, today=sh.today)
    body = sh.bodies("statistics")[-1]
    assert body["aggregation"]["timeRange"] == {
        "from": f"{TODAY + dt.timedelta(days=1)}T00:00:00Z",
        "to": f"{sh.today + dt.timedelta(days=1)}T00:00:00Z",
    }
    assert list(later.new_days) == _passes(p, TODAY + dt.timedelta(days=1), sh.today)
    assert len(later.series.days) == len(first.new_days) + len(later.new_days)


def test_429_with_retry_after_and_5xx_are_retried(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    p = _parcel("built")
    sh.fail("statistics", "429", "503", "500")
    began = time.monotonic()
    result = _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    waited = time.monotonic() - began
    assert [r.status for r in sh.requests if r.endpoint == "statistics"] == [429, 503, 500, 200]
    assert waited >= 0.3  # Retry-After: 300 ms
    assert len(result.new_days) == len(_passes(p, *result.asked or (TODAY, TODAY)))


def test_a_burst_of_429s_stops_after_the_bound(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    p = _parcel("built")
    sh.fail("statistics", *["429"] * 10)
    with pytest.raises(SatelliteRateLimited) as limited:
        _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    assert limited.value.code == "SATELLITE_RATE_LIMITED"
    assert [r.status for r in sh.requests if r.endpoint == "statistics"] == [429] * 3
    assert len(sh.faults["statistics"]) == 7  # the rest were never asked for


def test_an_exhausted_quota_has_its_own_code(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    p = _parcel("built")
    sh.fail("statistics", "403quota")
    with pytest.raises(SatelliteQuotaExhausted) as spent:
        _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    assert spent.value.code == "SATELLITE_QUOTA_EXHAUSTED"
    assert not isinstance(spent.value, SatelliteAuthError)
    assert [r.status for r in sh.requests if r.endpoint == "statistics"] == [403]


def test_a_pass_published_late_is_fetched_on_the_next_refresh(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("vegetated")
    client = _client(sh, tmp_path)
    client.refresh(p.id, p.geometry, today=TODAY)
    sh.today = TODAY + dt.timedelta(days=10)
    newest = _passes(p, TODAY + dt.timedelta(days=1), sh.today + dt.timedelta(days=1))
    late = newest[-1]
    sh.late[late] = late + dt.timedelta(days=4)  # acquired, not yet in the archive
    first = client.refresh(p.id, p.geometry, today=sh.today)
    assert late not in first.new_days and late.isoformat() not in first.series.days
    sh.today = late + dt.timedelta(days=5)
    second = client.refresh(p.id, p.geometry, today=sh.today)
    assert second.asked is not None and second.asked[0] <= late
    assert late in second.new_days
    # Days asked again that had not changed are not "new".
    assert all(d > newest[-2] for d in second.new_days)


def test_partial_intervals_are_retried_one_by_one(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    p = _parcel("construction")
    sh.fail("statistics", "partial")
    result = _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    bodies = sh.bodies("statistics")
    assert len(bodies) > 1  # the whole range, then each failed interval on its own
    one_day = bodies[1]["aggregation"]["timeRange"]
    assert dt.datetime.fromisoformat(one_day["to"]) - dt.datetime.fromisoformat(
        one_day["from"]
    ) == dt.timedelta(days=1)
    assert result.failed_days == ()
    assert list(result.new_days) == _passes(p, *result.asked or (TODAY, TODAY))


def test_failed_intervals_are_kept_and_asked_again(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    p = _parcel("vegetated")
    client = _client(sh, tmp_path)
    client.refresh(p.id, p.geometry, today=TODAY)
    sh.today = TODAY + dt.timedelta(days=15)
    sh.fail("statistics", *["failed"] * 20)
    broken = client.refresh(p.id, p.geometry, today=sh.today)
    expected = _passes(p, TODAY + dt.timedelta(days=1), sh.today + dt.timedelta(days=1))
    assert list(broken.failed_days) == expected and broken.new_days == ()
    sh.faults["statistics"].clear()
    sh.today = TODAY + dt.timedelta(days=20)
    healed = client.refresh(p.id, p.geometry, today=sh.today)
    assert healed.asked is not None and healed.asked[0] == expected[0]
    assert set(expected) <= set(healed.new_days)
    assert healed.series.failed == set()


def test_persistent_5xx_and_bad_credentials_raise_coded_errors(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("built")
    sh.fail("statistics", "500", "500", "500")
    with pytest.raises(SatelliteError) as failed:
        _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    assert failed.value.code == "SATELLITE_UNAVAILABLE"
    with pytest.raises(SatelliteAuthError) as refused:
        _client(sh, tmp_path / "other", secret="wrong").refresh(p.id, p.geometry, today=TODAY)
    assert refused.value.code == "SATELLITE_UNAUTHENTICATED"
    assert "wrong" not in str(refused.value)


def test_process_bands_make_before_and_after_index_maps(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("construction")
    assert p.onset is not None
    client = _client(sh, tmp_path)
    bbox, width, height = p.grid()
    parcel = rasterise(p.geometry, bbox, width, height)
    series = client.refresh(p.id, p.geometry, today=TODAY).series.observations()
    clear = [o.day for o in series if o.valid_share > 0.95]
    before = max(d for d in clear if d < p.onset)
    after = min(d for d in clear if d > p.onset + dt.timedelta(days=10))
    target = Parcel(p.id, p.geometry, 0.0)
    maps = {day: parcel_maps(client, target, day) for day in (before, after)}
    assert sh.bodies("process")[0]["input"]["data"][0]["processing"] == {"harmonizeValues": True}
    assert maps[before].valid_share > 0.9 and maps[after].valid_share > 0.9
    assert maps[before].inside < int(parcel.sum())  # edge pixels eroded
    ndvi_before, _, bsi_before = maps[before].mean()
    ndvi_after, _, bsi_after = maps[after].mean()
    assert ndvi_before - ndvi_after > 0.15 and bsi_after > bsi_before
    # The statistics path and the raster path agree on the parcel's NDVI within noise.
    stats = {o.day: o for o in series}
    assert abs(stats[before].ndvi - ndvi_before) < 0.03
    assert np.isnan(maps[after].ndvi[~maps[after].valid]).all()


@pytest.mark.sentinelhub
def test_real_copernicus_data_space_statistics(tmp_path: Path) -> None:
    client_id = os.environ.get("HUB_SATELLITE_CLIENT_ID")
    secret = os.environ.get("HUB_SATELLITE_CLIENT_SECRET")
    if not (client_id and secret):
        pytest.skip("HUB_SATELLITE_CLIENT_ID and HUB_SATELLITE_CLIENT_SECRET are not set")
    from hub.settings import SatelliteSettings

    s = SatelliteSettings()
    client = SentinelClient(
        SentinelConfig(s.base_url, s.token_url, client_id, SecretStr(secret), tmp_path,
                       history_days=30)
    )  # fmt: skip
    field = PARCELS[0].geometry
    result = client.refresh("real-check", field, today=dt.date.today())
    assert result.asked is not None


def test_landsat_is_asked_in_its_own_collection_and_merged_by_day(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("vegetated")
    # A cache written with Sentinel-2 alone; Landsat turned on later backfills its own history.
    _client(sh, tmp_path).refresh(p.id, p.geometry, today=TODAY)
    assert len(sh.bodies("statistics")) == 1
    client = _client(sh, tmp_path, landsat=True)
    assert client.requests_per_refresh == 2
    got = client.refresh(p.id, p.geometry, today=TODAY)
    assert got.requests == 1  # Sentinel-2 was up to date
    (body,) = sh.bodies("statistics")[1:]
    data = body["input"]["data"][0]
    assert data["type"] == "landsat-ot-l2"
    assert "processing" not in data  # nothing to harmonize in Collection 2
    script = body["aggregation"]["evalscript"]
    assert "BQA" in script and "B05" in script and "SCL" not in script
    assert 25 < float(body["aggregation"]["resy"]) * 111_195 < 35  # 30 m pixels
    start = TODAY - dt.timedelta(days=400)
    want = landsat_observations(p, landsat_acquisitions(start, TODAY + dt.timedelta(days=1)))
    assert set(got.new_days) == {o.day for o in want}
    series = _client(sh, tmp_path).cache.load(p.id).observations()
    ls = {o.day: o for o in series if o.sensor == "landsat"}
    assert ls.keys() == {o.day for o in want} and len(ls) > 30
    for o in want:
        if math.isfinite(o.ndvi):
            assert (ls[o.day].ndvi, ls[o.day].ndbi_sd) == pytest.approx(
                (o.ndvi, o.ndbi_sd), abs=1e-4
            )
    assert [o.day for o in series] == sorted(o.day for o in series)
    assert sum(o.sensor == "sentinel-2" for o in series) > 50
    # The next refresh asks both sources for the trailing days, two requests.
    sh.today = TODAY + dt.timedelta(days=20)
    later = client.refresh(p.id, p.geometry, today=sh.today)
    assert later.requests == 2
    types = [b["input"]["data"][0]["type"] for b in sh.bodies("statistics")[2:]]
    assert types == ["sentinel-2-l2a", "landsat-ot-l2"]
    # Turned off again: Sentinel-2 alone, the Landsat passes kept in the cache are still read.
    off = _client(sh, tmp_path)
    sh.today = TODAY + dt.timedelta(days=30)
    assert off.refresh(p.id, p.geometry, today=sh.today).requests == 1
    assert any(o.sensor == "landsat" for o in off.cache.load(p.id).observations())


def test_a_failed_landsat_request_leaves_sentinel_2_standing_and_is_asked_again(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    p = _parcel("construction")
    client = _client(sh, tmp_path, landsat=True)
    sh.fail("statistics", "ok", "403quota")  # Sentinel-2's request passes, Landsat's is refused
    got = client.refresh(p.id, p.geometry, today=TODAY)
    assert got.requests == 2
    assert got.landsat_error is not None and got.landsat_error.code == "SATELLITE_QUOTA_EXHAUSTED"
    cached = client.cache.load(p.id)
    assert cached.days and not cached.landsat and cached.landsat_through is None
    again = client.refresh(p.id, p.geometry, today=TODAY)
    assert again.landsat_error is None and again.requests == 1  # Landsat alone
    assert client.cache.load(p.id).landsat
