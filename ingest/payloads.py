"""Decoding and validating reading payloads, and routing a source to its decoder.

A reading payload is one of:

- a single reading ``{"ts": "2025-03-01T08:15:00+08:00", "metric": "energy_kwh", "value": 12.5,
  "unit": "kWh"}``;
- a batch: ``{"readings": [reading, ...]}`` or a JSON array of readings;
- ThingsBoard's shape ``{"ts": 1740788100000, "values": {"energy_kwh": 12.5}}`` (epoch ms, units
  implied by the metric), alone or in an array.

Timestamps are ISO-8601 with an offset (a time without one is ambiguous and rejected); units must
be the metric's. Valid readings of a message are used even when others in it are not; the message
then also goes to the dead letters, and replaying it later stores only what is still missing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ingest.model import MetricSpec, Observation, Problem, Reading, Reason

TOPIC_PREFIX = "hub/v1/"
KINDS = frozenset({"power", "labor", "camera", "satellite"})
Decoded = tuple[list[Observation], list[Problem]]


class Decoder(Protocol):
    """Turns one payload into observations and problems; never raises on bad input."""

    kind: str

    def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Decoded: ...

    def redact(self, payload: bytes) -> bytes:
        """What of a rejected payload may be kept as a dead letter (labor drops personal data)."""
        ...


@dataclass(frozen=True, slots=True)
class Route:
    decoder: str  # a topic kind, or an import scheme such as "power-csv"
    sensor_id: str | None


def route(source: str) -> Route | None:
    """``hub/v1/<kind>/<sensor_id>`` or ``<scheme>:<anything>``; ``None`` when neither."""
    if source.startswith(TOPIC_PREFIX):
        parts = source.split("/")
        if len(parts) != 4 or parts[2] not in KINDS or not parts[3]:
            return None
        return Route(parts[2], parts[3])
    scheme, sep, _ = source.partition(":")
    return Route(scheme, None) if sep and scheme else None


class InvalidReading(ValueError):
    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(code, message)


def parse_time(value: Any) -> int:
    """ISO-8601 with an offset, to epoch ms."""
    if not isinstance(value, str):
        raise InvalidReading(Reason.INVALID, f"ts {value!r} is not an ISO-8601 string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidReading(Reason.INVALID, f"ts {value!r} is not ISO-8601") from None
    if moment.tzinfo is None:
        raise InvalidReading(Reason.INVALID, f"ts {value!r} has no UTC offset")
    return round(moment.timestamp() * 1000)


def merge(problems: list[Problem]) -> Problem:
    """One dead-letter reason for a message: the first code, every message (capped)."""
    text = "; ".join(p.message for p in problems[:5])
    if len(problems) > 5:
        text += f"; and {len(problems) - 5} more"
    return Problem(problems[0].code, text)


class ReadingDecoder:
    """Decodes and validates reading payloads for one kind of sensor."""

    def __init__(
        self,
        kind: str,
        metrics: Mapping[str, MetricSpec],
        *,
        default_metric: str | None = None,
        future_tolerance_s: float = 300.0,
        max_age_s: float | None = None,
    ) -> None:
        self.kind = kind
        self.metrics = dict(metrics)
        self.default_metric = default_metric
        self.future_ms = int(future_tolerance_s * 1000)
        self.max_age_ms = None if max_age_s is None else int(max_age_s * 1000)
        self._units = {name: spec.unit.lower() for name, spec in self.metrics.items()}

    def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Decoded:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError) as exc:
            return [], [Problem(Reason.UNDECODABLE, f"not JSON: {exc}")]
        if isinstance(data, dict) and "readings" in data:
            items = data["readings"]
        else:
            items = data if isinstance(data, list) else [data]
        if not isinstance(items, list) or not items:
            return [], [Problem(Reason.UNDECODABLE, "expected a reading or a non-empty batch")]
        out: list[Observation] = []
        problems: list[Problem] = []
        for item in items:
            try:
                self._item(item, sensor_id, now_ms, out)
            except InvalidReading as exc:
                problems.append(exc.problem)
        return out, problems

    def redact(self, payload: bytes) -> bytes:
        return payload

    def _item(self, item: Any, sensor_id: str | None, now_ms: int, out: list[Observation]) -> None:
        if not isinstance(item, dict):
            raise InvalidReading(Reason.UNDECODABLE, f"a reading must be an object, not {item!r}")
        sensor = item.get("sensor_id", sensor_id)
        if not isinstance(sensor, str) or not sensor:
            raise InvalidReading(Reason.INVALID, "no sensor_id")
        if sensor_id is not None and sensor != sensor_id:
            raise InvalidReading(Reason.INVALID, f"sensor_id {sensor!r} differs from the topic's")
        if "values" in item:  # ThingsBoard: {"ts": ms, "values": {metric: value}}
            ts = item.get("ts")
            if not isinstance(ts, int) or isinstance(ts, bool):
                raise InvalidReading(Reason.INVALID, f"ts {ts!r} is not epoch milliseconds")
            values = item["values"]
            if not isinstance(values, dict) or not values:
                raise InvalidReading(Reason.INVALID, "values must be a non-empty object")
            for metric, value in values.items():
                spec = self._spec(metric)
                out.append(self._reading(sensor, ts, spec, value, spec.unit, now_ms))
            return
        metric = item.get("metric", self.default_metric)
        spec = self._spec(metric)
        unit = item.get("unit")
        if not isinstance(unit, str) or unit.lower() != self._units[spec.name]:
            raise InvalidReading(
                Reason.INVALID, f"{spec.name} unit must be {spec.unit}, got {unit!r}"
            )
        ts = parse_time(item.get("ts"))
        out.append(self._reading(sensor, ts, spec, item.get("value"), spec.unit, now_ms))

    def _spec(self, metric: Any) -> MetricSpec:
        spec = self.metrics.get(metric) if isinstance(metric, str) else None
        if spec is None:
            known = ", ".join(sorted(self.metrics))
            raise InvalidReading(Reason.INVALID, f"metric {metric!r} is not one of {known}")
        return spec

    def _reading(
        self, sensor: str, ts: int, spec: MetricSpec, value: Any, unit: str, now_ms: int
    ) -> Reading:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidReading(Reason.INVALID, f"{spec.name} value {value!r} is not a number")
        check_time(ts, now_ms, self.future_ms, self.max_age_ms)
        if not spec.minimum <= value <= spec.maximum:
            raise InvalidReading(
                Reason.OUT_OF_RANGE,
                f"{spec.name} {value} {spec.unit} outside [{spec.minimum}, {spec.maximum}]",
            )
        return Reading(sensor, ts, spec.name, float(value), unit)


def check_time(ts: int, now_ms: int, future_ms: int, max_age_ms: int | None) -> None:
    if ts > now_ms + future_ms:
        ahead = (ts - now_ms) / 1000
        raise InvalidReading(Reason.FUTURE, f"timestamp is {ahead:.0f} s in the future")
    if max_age_ms is not None and ts < now_ms - max_age_ms:
        raise InvalidReading(Reason.EXPIRED, "timestamp is older than raw-reading retention")
