"""A parcel's satellite series and change state in GraphQL (``LandParcel.satellite``).

The series comes from the satellite connector's per-parcel cache; the change detector runs over
the parcel's whole history (its baseline needs it) and the window only selects what is shown.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from hub.api.alerts import parcel_link
from hub.api.context import Context
from hub.api.monitoring import MAX_WINDOW_DAYS
from ingest.errors import TelemetryUnavailable
from vision.change import ChangeState, detect

Ctx = Info[Context, None]


@strawberry.enum(description="A parcel's construction-change state (contract: change_state).")
class SatelliteChangeState(Enum):
    INSUFFICIENT_HISTORY = strawberry.enum_value(
        "insufficient_history",
        description="Less than a year of passes: no same-season comparison yet, so no verdict.",
    )
    TOO_SMALL = strawberry.enum_value(
        "too_small", description="Smaller than Sentinel-2 resolves (B11 is 20 m): not judged."
    )
    NO_CHANGE = strawberry.enum_value("no_change", description="No change against the baseline.")
    DETECTED = strawberry.enum_value(
        "detected",
        description="Clear passes show vegetation lost to bare or built surface against the "
        "same weeks of prior years; not yet for long enough.",
    )
    CONFIRMED = strawberry.enum_value(
        "confirmed",
        description="The loss has lasted across several clear passes: construction. Reverts to "
        "no_change when vegetation comes back in its season.",
    )


_STATES = {
    ChangeState.INSUFFICIENT_HISTORY: SatelliteChangeState.INSUFFICIENT_HISTORY,
    ChangeState.TOO_SMALL: SatelliteChangeState.TOO_SMALL,
    ChangeState.NONE: SatelliteChangeState.NO_CHANGE,
    ChangeState.DETECTED: SatelliteChangeState.DETECTED,
    ChangeState.CONFIRMED: SatelliteChangeState.CONFIRMED,
}


@strawberry.enum(description="Which satellite took a pass.")
class SatelliteSensor(Enum):
    SENTINEL_2 = strawberry.enum_value("sentinel-2", description="Sentinel-2 (10 m).")
    LANDSAT = strawberry.enum_value(
        "landsat", description="Landsat 8/9 Collection-2 Level-2 (30 m)."
    )


@strawberry.type(description="One optical pass over the parcel (Sentinel-2 or Landsat 8/9).")
class SatelliteObservation:
    day: dt.date = strawberry.field(description="Acquisition day (UTC).")
    sensor: SatelliteSensor = strawberry.field(
        description="SENTINEL_2 (10 m) or LANDSAT (Landsat 8/9 Collection-2 L2, 30 m); "
        "values are the sensor's own, before the detector's cross-sensor correction."
    )
    ndvi: float | None = strawberry.field(description="Mean NDVI of the clear pixels.")
    ndbi: float | None = strawberry.field(description="Mean NDBI of the clear pixels.")
    bsi: float | None = strawberry.field(description="Mean bare-soil index of the clear pixels.")
    valid_share: float = strawberry.field(description="Share of the parcel's pixels clear, 0..1.")
    clear: bool = strawberry.field(description="Clear enough to judge.")
    change_score: float = strawberry.field(description="≥ 0; 1 or more crosses the thresholds.")
    change_state: SatelliteChangeState = strawberry.field(description="State after this pass.")


@strawberry.type(description="A parcel's spectral series and construction-change state.")
class ParcelSatellite:
    parcel_id: str = strawberry.field(description="The parcel's number.")
    parcel = parcel_link("parcel_id")
    state: SatelliteChangeState = strawberry.field(description="State after the latest pass.")
    change_score: float = strawberry.field(description="Score of the latest clear pass.")
    first_detected: dt.date | None = strawberry.field(
        description="First pass of the run of flagged passes (null without one)."
    )
    confirmed: dt.date | None = strawberry.field(description="When the change was confirmed.")
    confidence: float = strawberry.field(
        description="0..1: grows with the evidence passes and their margin past the thresholds "
        "(a ranking aid, not a calibrated probability); 0 without a detection."
    )
    evidence: list[dt.date] = strawberry.field(
        description="The flagged clear passes of the current (or confirming) run."
    )
    recovered: dt.date | None = strawberry.field(
        description="When a confirmed change was last withdrawn because vegetation came back."
    )
    last_pass: dt.date | None = strawberry.field(description="Newest pass in the cache.")
    observations: list[SatelliteObservation] = strawberry.field(
        description="Passes in the window, oldest first."
    )


def _num(value: float) -> float | None:
    return None if value != value else value  # NaN when nothing was clear


def parcel_satellite(
    info: Ctx,
    parcel_id: str,
    area_m2: float,
    start: dt.date | None,
    end: dt.date | None,
) -> ParcelSatellite:
    telemetry = info.context.telemetry
    if telemetry is None or telemetry.satellite is None:
        raise TelemetryUnavailable("the satellite series cache is not open")
    if start is not None and end is not None:
        if start > end:
            raise InvalidInput("from must not be after to")
        if (end - start).days > MAX_WINDOW_DAYS * 5:
            raise InvalidInput(f"the window may span at most {MAX_WINDOW_DAYS * 5} days")
    view = telemetry.satellite
    series = view.cache.load(parcel_id)
    observations = series.observations()
    result = detect(observations, area_m2=area_m2, params=view.params)
    shown = [
        SatelliteObservation(
            day=o.day,
            sensor=SatelliteSensor(o.sensor),
            ndvi=_num(o.ndvi),
            ndbi=_num(o.ndbi),
            bsi=_num(o.bsi),
            valid_share=o.valid_share,
            clear=step.clear,
            change_score=step.score,
            change_state=_STATES[step.state],
        )
        for o, step in zip(observations, result.steps, strict=True)
        if (start is None or o.day >= start) and (end is None or o.day <= end)
    ]
    return ParcelSatellite(
        parcel_id=parcel_id,
        state=_STATES[result.state],
        change_score=result.score,
        first_detected=result.first_detected,
        confirmed=result.confirmed,
        confidence=result.confidence,
        evidence=list(result.evidence),
        recovered=result.recovered,
        last_pass=observations[-1].day if observations else None,
        observations=shown,
    )
