"""Power meters: interval energy, register readings and demand; daily kWh; baselines; CSV import.

Meters publish on ``hub/v1/power/<meter_id>`` with one of three metrics:

- ``energy_kwh``: energy in the interval that ends at ``ts`` (kWh, summed per day);
- ``register_kwh``: the cumulative register (kWh); the increase between readings counts, with
  resets (meter replaced or zeroed) and rollovers (a 5-digit register going 99,990 → 15) handled;
- ``demand_kw``: mean demand over the interval that ends at ``ts`` (kW), integrated over time.

Days are local days in the store's zone (Asia/Shanghai by default). A meter's daily kWh comes
from the best metric it reports that day (interval, then register, then demand); a project's is
the sum over its meters, and its baseline is the median of its active days.

Utility CSV export (UTF-8, BOM allowed, one reading per row; Chinese headers in brackets)::

    meter_id (表号), timestamp (抄表时间), quantity (类型), value (示数), unit (单位),
    multiplier (倍率, optional, default 1)

``timestamp`` is ISO-8601 with an offset, or ``YYYY-MM-DD HH:MM[:SS]`` in the utility's local
time; ``quantity`` is ``interval`` | ``register`` | ``demand``; ``value × multiplier`` is stored
(current-transformer ratio). Each row goes through the pipeline as ``power-csv:<file>:<line>``,
so a bad row becomes a dead letter naming its file and line and can be replayed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.spec import DecoderOptions, FeedSpec, FusionRole, StaleLevel
from ingest.imports import ImportReport, import_rows, read_csv
from ingest.model import MetricSpec, Problem, Reading, Reason, Rollup
from ingest.payloads import Decoded, Decoder, InvalidReading, ReadingDecoder, check_time
from ingest.pipeline import Pipeline
from ingest.rollups import daily, median, zone
from ingest.rollups import pick_daily as rollups_pick_daily
from ingest.store import DEFAULT_TZ, DailyRollup, TelemetryStore

KIND = "power"
CSV_SCHEME = "power-csv"
METRICS: dict[str, MetricSpec] = {
    "energy_kwh": MetricSpec("energy_kwh", "kWh", 0.0, 100_000.0, Rollup.SUM),
    "register_kwh": MetricSpec("register_kwh", "kWh", 0.0, 1e10, Rollup.COUNTER),
    "demand_kw": MetricSpec("demand_kw", "kW", 0.0, 100_000.0, Rollup.RATE, max_gap_s=3600.0),
}
# Which metric a meter's daily kWh is taken from when it reports more than one.
PREFERENCE = ("energy_kwh", "register_kwh", "demand_kw")
_QUANTITY = {"interval": "energy_kwh", "register": "register_kwh", "demand": "demand_kw"}
_HEADERS = {
    "表号": "meter_id",
    "抄表时间": "timestamp",
    "类型": "quantity",
    "示数": "value",
    "单位": "unit",
    "倍率": "multiplier",
}


def decoder(*, future_tolerance_s: float = 300.0, max_age_s: float | None = None) -> ReadingDecoder:
    """The MQTT payload decoder for ``hub/v1/power/<meter_id>``."""
    return ReadingDecoder(KIND, METRICS, future_tolerance_s=future_tolerance_s, max_age_s=max_age_s)


def meter_daily_kwh(readings: Sequence[Reading], tz: str = DEFAULT_TZ) -> dict[dt.date, float]:
    """One meter's daily kWh from its raw readings (any order), by the preferred metric."""
    by_metric: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in readings:
        by_metric[r.metric].append((r.ts_ms, r.value))
    per_metric = {m: daily(METRICS[m], sorted(points), zone(tz)) for m, points in by_metric.items()}
    out: dict[dt.date, float] = {}
    for metric in reversed(PREFERENCE):  # preferred metrics overwrite the others
        out.update(per_metric.get(metric, {}))
    return out


def pick_daily(rollups: Iterable[DailyRollup]) -> dict[tuple[str, dt.date], float]:
    """(meter, day) → kWh from stored rollups, taking each meter-day's preferred metric."""
    return rollups_pick_daily(rollups, PREFERENCE)


def baseline(days: Mapping[dt.date, float], *, active_kwh: float = 1.0) -> float | None:
    """A project's own baseline: the median daily kWh over its active days (≥ ``active_kwh``)."""
    return median([v for v in days.values() if v >= active_kwh])


@dataclass(frozen=True, slots=True)
class ProjectEnergy:
    project_code: str
    days: dict[dt.date, float]
    meters: dict[str, dict[dt.date, float]]
    baseline: float | None


async def project_energy(
    store: TelemetryStore,
    project_code: str,
    start: dt.date,
    end: dt.date,
    *,
    active_kwh: float = 1.0,
) -> ProjectEnergy:
    """Daily kWh per meter and for the project over [start, end], with the project's baseline."""
    rollups = await store.daily(start=start, end=end, project_code=project_code)
    meters: dict[str, dict[dt.date, float]] = defaultdict(dict)
    days: dict[dt.date, float] = defaultdict(float)
    for (meter, day), kwh in sorted(pick_daily(r for r in rollups if r.kind == KIND).items()):
        meters[meter][day] = kwh
        days[day] += kwh
    return ProjectEnergy(
        project_code, dict(days), dict(meters), baseline(days, active_kwh=active_kwh)
    )


class CsvRowDecoder:
    """Decodes one utility CSV row (as JSON) into a reading; used on import and on replay."""

    kind = KIND

    def __init__(
        self, *, future_tolerance_s: float = 300.0, max_age_s: float | None = None
    ) -> None:
        self.future_ms = int(future_tolerance_s * 1000)
        # Rows older than raw retention are refused (EXPIRED): once purged, a re-import could
        # not be recognised as a duplicate and would count its energy twice in the rollups.
        self.max_age_ms = int(max_age_s * 1000) if max_age_s else None

    def redact(self, payload: bytes) -> bytes:
        return payload

    def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Decoded:
        try:
            row = json.loads(payload)
            return [self._reading(row, now_ms)], []
        except InvalidReading as exc:
            return [], [exc.problem]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return [], [Problem(Reason.UNDECODABLE, f"bad CSV row: {exc!r}")]

    def _reading(self, row: dict[str, Any], now_ms: int) -> Reading:
        meter = (row.get("meter_id") or "").strip()
        if not meter:
            raise InvalidReading(Reason.INVALID, "meter_id is empty")
        metric = _QUANTITY.get((row.get("quantity") or "").strip().lower())
        if metric is None:
            raise InvalidReading(
                Reason.INVALID, f"quantity {row.get('quantity')!r} is not interval|register|demand"
            )
        spec = METRICS[metric]
        unit = (row.get("unit") or "").strip()
        if unit.lower() != spec.unit.lower():
            raise InvalidReading(Reason.INVALID, f"{metric} unit must be {spec.unit}, got {unit!r}")
        try:
            value = float(row["value"]) * float(row.get("multiplier") or 1)
        except ValueError:
            raise InvalidReading(
                Reason.INVALID, f"value {row['value']!r} is not a number"
            ) from None
        ts = _timestamp(row.get("timestamp") or "", zone(row.get("tz") or DEFAULT_TZ))
        check_time(ts, now_ms, self.future_ms, self.max_age_ms)
        if not spec.minimum <= value <= spec.maximum:
            raise InvalidReading(
                Reason.OUT_OF_RANGE, f"{metric} {value} outside [{spec.minimum}, {spec.maximum}]"
            )
        return Reading(meter, ts, metric, value, spec.unit)


def _timestamp(text: str, tz: dt.tzinfo) -> int:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidReading(Reason.INVALID, f"timestamp {text!r} is not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return round(moment.timestamp() * 1000)


async def import_csv(
    pipeline: Pipeline, path: Path, *, tz: str = DEFAULT_TZ, chunk: int = 5000
) -> ImportReport:
    """Import a utility's historical CSV export; bad rows become dead letters and are reported."""
    rows = read_csv(path.read_text(encoding="utf-8"), _HEADERS)
    for _, row in rows:
        row.setdefault("tz", tz)
    return await import_rows(pipeline, CSV_SCHEME, path.name, rows, chunk=chunk)


def _decoders(o: DecoderOptions) -> dict[str, Decoder]:
    return {
        KIND: decoder(future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s),
        CSV_SCHEME: CsvRowDecoder(future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s),
    }


FEED = FeedSpec(
    KIND,
    "Electricity meter (kWh).",
    "电力",
    "kWh",
    METRICS,
    _decoders,
    FusionRole.SITE,
    StaleLevel.MINOR,
    fields=("energy",),
)
