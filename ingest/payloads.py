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
import hashlib
import json
import logging
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ingest.model import MetricSpec, Observation, Problem, Reading, Reason

TOPIC_PREFIX = "hub/v1/"
Decoded = tuple[list[Observation], list[Problem]]
log = logging.getLogger(__name__)


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


def route(source: str, kinds: Collection[str]) -> Route | None:
    """``hub/v1/<kind>/<sensor_id>`` with a kind of ``kinds`` (the feeds' table,
    ``connectors.feeds``), or ``<scheme>:<anything>``; ``None`` when neither."""
    if source.startswith(TOPIC_PREFIX):
        parts = source.split("/")
        if len(parts) != 4 or parts[2] not in kinds or not parts[3]:
            return None
        return Route(parts[2], parts[3])
    scheme, sep, _ = source.partition(":")
    return Route(scheme, None) if sep and scheme else None


def topic_kinds(decoders: Mapping[str, Decoder]) -> frozenset[str]:
    """The topic kinds among ``decoders``' keys: those filed under their decoder's own kind.
    The others are import schemes (``power-csv``), which name no topic."""
    return frozenset(key for key, decoder in decoders.items() if decoder.kind == key)


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


# -- poison messages ---------------------------------------------------------------------------
#
# One message must never stop ingest: a payload nested 1,500 levels deep made ``json.loads``
# raise RecursionError, which nothing caught, so the ingest task died, the message stayed
# unacknowledged and the broker redelivered it to every restart. Payloads are screened for size
# and nesting before any parser sees them, and whatever a decoder raises becomes a dead letter.


@dataclass(frozen=True, slots=True)
class PayloadLimits:
    """What one message may be. ``max_bytes`` matches the broker's ``message_size_limit``."""

    max_bytes: int = 1 << 20
    max_depth: int = 16  # a batch of ThingsBoard readings needs 4
    max_items: int = 10_000  # readings (or problems) decoded from one message
    keep_bytes: int = 4096  # of a payload that is too large or unreadable, kept as dead letter


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


def nesting_depth(payload: bytes, stop_at: int) -> int:
    """How deep the JSON brackets of ``payload`` nest (strings skipped), without parsing it;
    counting stops once past ``stop_at``."""
    brackets = _STRING.sub(b"", payload).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for b in brackets:
        if b in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        else:
            depth -= 1
    return deepest


def screen(payload: bytes, limits: PayloadLimits) -> Problem | None:
    """Refuse a payload too large or too deep to parse safely; ``None`` when it may be parsed."""
    if len(payload) > limits.max_bytes:
        return Problem(
            Reason.TOO_LARGE, f"payload of {len(payload)} bytes exceeds {limits.max_bytes}"
        )
    # Cheap first: a payload cannot nest deeper than it has opening brackets.
    opening = payload.count(b"[") + payload.count(b"{")
    if opening > limits.max_depth and nesting_depth(payload, limits.max_depth) > limits.max_depth:
        return Problem(Reason.TOO_DEEP, f"JSON nested deeper than {limits.max_depth} levels")
    return None


def decode_guarded(
    decoder: Decoder,
    payload: bytes,
    sensor_id: str | None,
    now_ms: int,
    limits: PayloadLimits,
) -> Decoded:
    """``decoder`` on ``payload``, screened first; anything it raises is the message's problem
    (RecursionError, MemoryError, a bug in a decoder), never the caller's."""
    refused = screen(payload, limits)
    if refused is not None:
        return [], [refused]
    try:
        observations, problems = decoder(payload, sensor_id, now_ms)
    except Exception as exc:  # one message's failure, whatever its type
        log.warning("the %s decoder failed on a message", decoder.kind, exc_info=True)
        return [], [Problem(Reason.UNDECODABLE, f"undecodable: {type(exc).__name__}")]
    if len(observations) + len(problems) > limits.max_items:
        count = len(observations) + len(problems)
        return [], [
            Problem(Reason.TOO_LARGE, f"{count} readings exceed {limits.max_items} per message")
        ]
    return observations, problems


def dead_letter_payload(
    decoder: Decoder | None, payload: bytes, problems: list[Problem], limits: PayloadLimits
) -> tuple[bytes, Problem]:
    """What a dead letter keeps of ``payload`` and why, redacted by the decoder.

    A payload refused for its size or depth (or one the redactor cannot read) keeps only its
    first ``keep_bytes``, with its size and SHA-256 in the message, so one device cannot fill
    the disk with dead letters; any other keeps it whole, for replay."""
    problem = merge(problems)
    cut = len(payload) > limits.max_bytes or any(p.code in _SCREENED for p in problems)
    kept = payload[: limits.keep_bytes] if cut else payload
    if decoder is not None:
        try:
            kept = decoder.redact(kept)
        except Exception:  # a payload the redactor cannot read keeps nothing but its digest
            log.warning("the %s redactor failed on a message", decoder.kind, exc_info=True)
            kept = f"<unreadable {decoder.kind} payload of {len(payload)} bytes>".encode()
            cut = True
    if not cut:
        return kept, problem
    kept = kept[: limits.keep_bytes]
    digest = hashlib.sha256(payload).hexdigest()
    note = f" [payload {len(payload)} bytes, sha256 {digest}; first {len(kept)} bytes kept]"
    return kept, Problem(problem.code, problem.message + note)


_SCREENED = frozenset({Reason.TOO_LARGE, Reason.TOO_DEEP})
