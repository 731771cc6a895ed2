"""The feeds' table holds the hub together: what it declares is what ingest routes, GraphQL
shows, fusion weighs and the alert texts name; and the water meter's figures."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds, water
from connectors.spec import FusionRole
from hub.api.enums import SensorKind
from hub.api.schema import build_schema
from hub.settings import FusionSettings
from hub.texts import FEEDS as FEED_NAMES
from ingest.model import Reading, Reason, to_ms
from ingest.payloads import topic_kinds
from ingest.rollups import pick_daily
from ingest.store import DailyRollup

SH = ZoneInfo("Asia/Shanghai")
NOW = to_ms(dt.datetime(2025, 3, 2, 12, 0, tzinfo=SH))


def test_every_feed_is_a_topic_kind_and_a_graphql_sensor_kind() -> None:
    assert feeds.KINDS == ("power", "labor", "camera", "satellite", "water")
    assert topic_kinds(feeds.decoders(labor_salt=b"salt")) == set(feeds.KINDS)
    assert topic_kinds(feeds.decoders(labor_salt=None)) == set(feeds.KINDS)
    assert [k.value for k in SensorKind] == list(feeds.KINDS)
    assert set(FEED_NAMES) == set(feeds.KINDS)


def test_metric_names_are_unique_across_feeds() -> None:
    declared = sum(len(f.metrics) for f in feeds.FEEDS)
    assert len(feeds.metrics()) == declared
    assert {"volume_m3", "register_m3", "energy_kwh"} <= set(feeds.metrics())


def test_graphql_has_each_feeds_fields() -> None:
    sdl = str(build_schema())
    monitoring = sdl[sdl.index("type ProjectMonitoring") :]
    monitoring = monitoring[: monitoring.index("\n}")]
    for f in feeds.FEEDS:
        names = [*f.fields, *([f.total.field] if f.total else [])]
        for name in names:
            assert f"\n  {name}: " in monitoring, f"{f.kind}: ProjectMonitoring.{name} is missing"


def test_every_evidence_feed_has_a_fusion_weight_and_water_has_none() -> None:
    evidence = feeds.fusion_kinds(FusionRole.SITE, FusionRole.REMOTE)
    assert evidence == ("power", "labor", "camera", "satellite")
    assert all(f"weight_{kind}" in FusionSettings.model_fields for kind in evidence)
    assert feeds.BY_KIND["water"].fusion is FusionRole.NONE


def _decode(payload: object) -> tuple[list[Reading], list[Reason]]:
    decoder = feeds.decoders(labor_salt=None)[water.KIND]
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    observations, problems = decoder(raw, "wtr-1", NOW)
    return [o for o in observations if isinstance(o, Reading)], [p.code for p in problems]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", Reason.UNDECODABLE),
        ({"ts": "2025-03-02T08:00:00+08:00", "metric": "volume_m3", "value": 3, "unit": "L"},
         Reason.INVALID),
        ({"ts": "2025-03-02T08:00:00+08:00", "metric": "energy_kwh", "value": 3, "unit": "kWh"},
         Reason.INVALID),
        ({"ts": "2025-03-02T08:00:00", "metric": "volume_m3", "value": 3, "unit": "m3"},
         Reason.INVALID),
        ({"ts": "2025-03-02T08:00:00+08:00", "metric": "volume_m3", "value": -1, "unit": "m3"},
         Reason.OUT_OF_RANGE),
        ({"ts": "2025-03-02T18:00:00+08:00", "metric": "volume_m3", "value": 1, "unit": "m3"},
         Reason.FUTURE),
    ],
)  # fmt: skip
def test_a_malformed_water_message_gets_its_stable_code(payload: object, code: Reason) -> None:
    assert _decode(payload) == ([], [code])


def test_water_readings_decode_in_cubic_metres() -> None:
    one = {"ts": "2025-03-02T08:00:00+08:00", "metric": "volume_m3", "value": 3, "unit": "M3"}
    tb = {"ts": NOW - 60_000, "values": {"register_m3": 1234.5}}
    readings, codes = _decode([one, tb])
    assert codes == []
    assert [(r.metric, r.value, r.unit) for r in readings] == [
        ("volume_m3", 3.0, "m3"),
        ("register_m3", 1234.5, "m3"),
    ]


def test_a_meters_day_counts_its_interval_volume_before_its_register() -> None:
    d1, d2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    rows = [
        DailyRollup("w1", "P", "water", "volume_m3", d1, 8.0, 3),
        DailyRollup("w1", "P", "water", "register_m3", d1, 9.0, 2),
        DailyRollup("w1", "P", "water", "register_m3", d2, 4.0, 2),
        DailyRollup("w2", "P", "water", "register_m3", d1, 12.0, 2),
    ]
    assert pick_daily(rows, water.PREFERENCE) == {
        ("w1", d1): 8.0,
        ("w1", d2): 4.0,
        ("w2", d1): 12.0,
    }
