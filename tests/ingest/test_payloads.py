"""Reading payloads: single, batch and ThingsBoard shapes; offsets, units, ranges, clock skew."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors import power
from ingest.model import Reading, Reason
from ingest.payloads import Route, route

NOW = 1_740_800_000_000  # 2025-03-01T03:33:20Z
decode = power.decoder(future_tolerance_s=300, max_age_s=30 * 86400)


def run(payload: Any) -> tuple[list[Any], list[Reason]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    readings, problems = decode(raw, "m1", NOW)
    return readings, [p.code for p in problems]


def test_the_three_shapes_decode_to_the_same_reading() -> None:
    one = {"ts": "2025-03-01T11:00:00+08:00", "metric": "energy_kwh", "value": 2, "unit": "kWh"}
    expected = [Reading("m1", 1_740_798_000_000, "energy_kwh", 2.0, "kWh")]
    assert run(one) == (expected, [])
    assert run({"readings": [one]}) == (expected, [])
    assert run([one]) == (expected, [])
    assert run({"ts": 1_740_798_000_000, "values": {"energy_kwh": 2}}) == (expected, [])


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\xff\xfe", Reason.UNDECODABLE),
        (b"[]", Reason.UNDECODABLE),
        ({"ts": "2025-03-01T11:00:00", "metric": "energy_kwh", "value": 1, "unit": "kWh"},
         Reason.INVALID),  # no offset: ambiguous
        ({"ts": "2025-03-01T03:00:00Z", "metric": "energy_kwh", "value": 1, "unit": "Wh"},
         Reason.INVALID),
        ({"ts": "2025-03-01T03:00:00Z", "metric": "voltage", "value": 1, "unit": "V"},
         Reason.INVALID),
        ({"ts": "2025-03-01T03:00:00Z", "metric": "energy_kwh", "value": "1", "unit": "kWh"},
         Reason.INVALID),
        ({"ts": "2025-03-01T03:00:00Z", "metric": "demand_kw", "value": -1, "unit": "kW"},
         Reason.OUT_OF_RANGE),
        ({"ts": "2025-03-01T04:00:00Z", "metric": "energy_kwh", "value": 1, "unit": "kWh"},
         Reason.FUTURE),  # 27 min ahead of NOW; 5 min are tolerated
        ({"ts": "2024-12-01T00:00:00Z", "metric": "energy_kwh", "value": 1, "unit": "kWh"},
         Reason.EXPIRED),
        ({"ts": 1_740_798_000_000, "values": {"energy_kwh": float("nan")}}, Reason.INVALID),
    ],
)  # fmt: skip
def test_bad_readings_are_named(payload: Any, code: Reason) -> None:
    assert run(payload) == ([], [code])


def test_a_batch_keeps_its_good_readings() -> None:
    good = {"ts": "2025-03-01T11:00:00+08:00", "metric": "energy_kwh", "value": 2, "unit": "kWh"}
    readings, codes = run([good, {**good, "value": 1e9}])
    assert len(readings) == 1 and codes == [Reason.OUT_OF_RANGE]


def test_routes() -> None:
    assert route("hub/v1/power/m1") == Route("power", "m1")
    assert route("power-csv:file.csv:12") == Route("power-csv", None)
    assert route("hub/v1/power/m1/extra") is None
    assert route("hub/v1/water/m1") is None
