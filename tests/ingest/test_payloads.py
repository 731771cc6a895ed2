"""Reading payloads: single, batch and ThingsBoard shapes; offsets, units, ranges, clock skew."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from connectors import feeds, power
from ingest.model import Reading, Reason
from ingest.payloads import (
    PayloadLimits,
    Route,
    dead_letter_payload,
    decode_guarded,
    nesting_depth,
    route,
    topic_kinds,
)

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
    assert route("hub/v1/power/m1", feeds.KINDS) == Route("power", "m1")
    assert route("hub/v1/water/m1", feeds.KINDS) == Route("water", "m1")
    assert route("power-csv:file.csv:12", feeds.KINDS) == Route("power-csv", None)
    assert route("hub/v1/power/m1/extra", feeds.KINDS) is None
    assert route("hub/v1/gas/m1", feeds.KINDS) is None  # a kind the feeds' table lacks
    # The pipeline takes its topic kinds from its decoders: import schemes are not topics.
    kinds = topic_kinds(feeds.decoders(labor_salt=b"salt"))
    assert kinds == set(feeds.KINDS)
    assert route("hub/v1/power-csv/m1", kinds) is None


# -- poison messages: screened before parsing, bounded as dead letters ------------------------

LIMITS = PayloadLimits()


@pytest.mark.parametrize(
    ("payload", "depth"),
    [
        (b"{}", 1),
        (b'[{"a": [1, {"b": 2}]}]', 4),
        (b'["[[[[", "{{{{"]', 1),  # brackets inside strings do not nest
        (b'["a\\"[[[[[[", 1]', 1),  # nor behind an escaped quote
        (b"[" * 40 + b"]" * 40, 17),  # counting stops past the limit
    ],
)
def test_nesting_depth_is_measured_without_parsing(payload: bytes, depth: int) -> None:
    assert nesting_depth(payload, 16) == depth


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"[" * 1500 + b"]" * 1500, Reason.TOO_DEEP),  # json.loads raised RecursionError
        (b'{"a":' * 17 + b"1" + b"}" * 17, Reason.TOO_DEEP),
        (b"[" + b"0," * (1 << 19) + b"0]", Reason.TOO_LARGE),  # over 1 MiB
        (b'{"ts": "2025-03-01T03:00:00Z", "metric": "energy_kwh", "unit": "kWh", "value": 1'
         + b"0" * 400 + b"}", Reason.UNDECODABLE),  # OverflowError in math.isfinite
        (json.dumps([{"ts": NOW - i, "values": {"energy_kwh": 1}} for i in range(10_001)])
         .encode(), Reason.TOO_LARGE),
    ],
)  # fmt: skip
def test_a_poison_payload_is_one_problem_never_an_exception(payload: bytes, code: Reason) -> None:
    observations, problems = decode_guarded(decode, payload, "m1", NOW, LIMITS)
    assert observations == []
    assert [p.code for p in problems] == [code]


def test_a_decoder_that_raises_anything_gives_a_problem() -> None:
    class Broken:
        kind = "power"

        def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Any:
            raise MemoryError

        def redact(self, payload: bytes) -> bytes:
            raise RecursionError

    _, problems = decode_guarded(Broken(), b"{}", "m1", NOW, LIMITS)
    assert [(p.code, p.message) for p in problems] == [
        (Reason.UNDECODABLE, "undecodable: MemoryError")
    ]
    kept, problem = dead_letter_payload(Broken(), b"{}" * 10, problems, LIMITS)
    assert kept == b"<unreadable power payload of 20 bytes>"
    assert hashlib.sha256(b"{}" * 10).hexdigest() in problem.message


def test_dead_letters_keep_a_bounded_prefix_and_digest_of_refused_payloads() -> None:
    big = b'{"x": "' + b"y" * (2 << 20) + b'"}'
    _, problems = decode_guarded(decode, big, "m1", NOW, LIMITS)
    kept, problem = dead_letter_payload(decode, big, problems, LIMITS)
    assert kept == big[: LIMITS.keep_bytes]
    assert problem.code is Reason.TOO_LARGE
    assert f"sha256 {hashlib.sha256(big).hexdigest()}" in problem.message
    # A payload refused for its content is kept whole, for replay.
    batch = json.dumps([{"ts": NOW - i, "values": {"energy_kwh": -5}} for i in range(300)])
    _, problems = decode_guarded(decode, batch.encode(), "m1", NOW, LIMITS)
    kept, problem = dead_letter_payload(decode, batch.encode(), problems, LIMITS)
    assert len(kept) > LIMITS.keep_bytes
    assert kept == batch.encode()
    assert problem.code is Reason.OUT_OF_RANGE
