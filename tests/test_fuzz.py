"""Bounded fuzzing (hypothesis, derandomised so CI is repeatable): payload decoders, the ingest
pipeline on a real SQLite store, record validators and the import readers. Whatever comes in,
each answers with data or a coded rejection and never raises anything else.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import feeds
from graph_schema.errors import InvalidInput, InvalidRecord
from graph_schema.model import LOAD_ORDER, validate
from hub.bulk.formats import FormatError, read_rows
from ingest.imports import read_csv
from ingest.model import Message, Reason, SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore

BUDGET = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DECODERS = feeds.decoders(labor_salt=b"fuzz-salt")
NOW_MS = 1_760_000_000_000

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)
# Readings that are nearly right, so the fuzzer reaches past the JSON parser.
reading_like = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(
            st.datetimes().map(lambda d: d.isoformat()),
            st.text(max_size=30),
            st.integers(),
        ),
        "metric": st.sampled_from(["energy_kwh", "register_kwh", "demand_kw", "x", ""]),
        "value": st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=5)),
        "unit": st.sampled_from(["kWh", "kW", "MWh", ""]),
        "worker_id": st.text(max_size=20),
        "direction": st.sampled_from(["in", "out", "进", "出", "sideways"]),
        "values": json_values,
        "readings": json_values,
        "events": json_values,
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    reading_like.map(lambda v: json.dumps(v).encode()),
    st.lists(reading_like, max_size=4).map(lambda v: json.dumps(v).encode()),
)


@BUDGET
@given(kind=st.sampled_from(sorted(DECODERS)), payload=payloads, sensor=st.text(max_size=20))
def test_decoders_turn_any_payload_into_observations_or_coded_problems(
    kind: str, payload: bytes, sensor: str
) -> None:
    decoder = DECODERS[kind]
    observations, problems = decoder(payload, sensor or None, NOW_MS)
    assert all(isinstance(p.code, Reason) and p.message for p in problems)
    assert observations or problems
    redacted = decoder.redact(payload)
    assert isinstance(redacted, bytes)


@pytest.fixture(scope="module")
def pipeline() -> Any:
    loop = asyncio.new_event_loop()
    directory = tempfile.mkdtemp(prefix="fuzz-")
    store = loop.run_until_complete(
        SQLiteTelemetryStore.open(Path(directory) / "t.db", feeds.metrics())
    )
    sensors = StaticSensors(
        {
            "pwr-1": SensorInfo("pwr-1", "power", "P1"),
            "lab-1": SensorInfo("lab-1", "labor", "P1"),
        }
    )
    yield loop, Pipeline(store, sensors, DECODERS)
    loop.run_until_complete(store.close())
    loop.close()


topics = st.one_of(
    st.sampled_from(["hub/v1/power/pwr-1", "hub/v1/labor/lab-1", "hub/v1/power/nope"]),
    st.text(max_size=40),
)


@BUDGET
@given(batch=st.lists(st.tuples(topics, payloads), min_size=1, max_size=8))
def test_the_pipeline_stores_or_dead_letters_every_message(
    pipeline: Any, batch: list[tuple[str, bytes]]
) -> None:
    loop, pipe = pipeline
    before = pipe.counters.received, pipe.counters.dead_lettered
    messages = [Message(topic, payload, NOW_MS) for topic, payload in batch]
    result = loop.run_until_complete(pipe.process(messages))
    assert pipe.counters.received == before[0] + len(batch)
    # Each message is used, dead-lettered (possibly both, when only part of it was valid).
    dead = pipe.counters.dead_lettered - before[1]
    assert 0 <= dead <= len(batch)
    assert len(result.stored) + len(result.attendance_stored) <= pipe.counters.readings


@BUDGET
@given(entity=st.sampled_from(LOAD_ORDER), data=st.dictionaries(st.text(max_size=20), json_values))
def test_validators_accept_or_reject_with_problems(entity: str, data: dict[str, Any]) -> None:
    try:
        validate(entity, data)
    except InvalidRecord as exc:
        problems = exc.problems
        assert problems and all(p.message for p in problems)


@BUDGET
@given(text=st.text(max_size=400))
def test_the_telemetry_csv_reader_takes_any_text(text: str) -> None:
    try:
        rows = read_csv(text, {"表号": "meter_id"})
    except InvalidInput as exc:
        rows, problem = [], str(exc)
        assert problem.startswith("line ")
    assert all(isinstance(line, int) and isinstance(row, dict) for line, row in rows)


@BUDGET
@given(
    text=st.text(max_size=400),
    suffix=st.sampled_from([".csv", ".jsonl", ".geojson"]),
)
def test_the_entity_file_readers_report_bad_rows_instead_of_failing(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = (
            Path(tmp) / f"parcels{suffix}"
            if suffix == ".geojson"
            else Path(tmp) / (f"regions{suffix}")
        )
        path.write_text(text, encoding="utf-8")
        try:
            rows = list(read_rows(path))
        except FormatError as exc:
            message = str(exc)
            assert message.startswith(path.name)
            return
        for row in rows:
            assert row.data is not None or row.error
