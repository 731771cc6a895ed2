"""Indicator series in a real embedded FalkorDB: import with bad rows, the sensing figures over
GraphQL on hand-made data (every expected number is worked out beside it), the forecast
through the graph on synthetic data with a known lag structure, and the demo province."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from strawberry.types import ExecutionResult

from graph_schema.errors import InvalidInput
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import SPECS, validate
from graph_schema.writer import Outcome
from hub import cli
from hub.api import indicators as api_indicators
from hub.api.context import Context
from hub.api.schema import build_schema
from hub.app import create_app
from hub.bulk import import_records
from hub.promotion import indicators as ind
from hub.roles import Role
from hub.settings import SensingSettings
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER, key_headers
from tests.hub.test_api_reads import gql, gql_errors

pytestmark = pytest.mark.anyio

REGIONS = [
    {"code": "330000", "name": "浙江省", "level": "province"},
    {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
    {"code": "330200", "name": "宁波市", "level": "city", "parent_code": "330000"},
    {"code": "330300", "name": "温州市", "level": "city", "parent_code": "330000"},
]
INDICATORS = """id,name,unit,frequency,polarity,barometer_weight,race_weight
loans,本外币贷款余额增速,%,monthly,positive,2,
stock,商品住宅去化周期,月,monthly,negative,1,0.2
fai_growth,固定资产投资增速,%,monthly,positive,,0.5
start,新开工率,%,monthly,positive,,0.3
fai_amount,固定资产投资完成额,亿元,monthly,positive,,
gdp_growth,地区生产总值增速,%,quarterly,,,
"""
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
# Hangzhou's 2025 barometer series. December: loans 6 has 5 values below and one other 6
# among 12 → (5 + 1/2) / 11 = 50 → normal; stock 21 is the highest → 100, inverted → 0, cold.
# Composite (2 × 50 + 1 × 0) / 3 = 33.33 → cool.
LOANS = [4, 8, 6, 2, 10, 9, 3, 7, 5, 1, 11, 6]
STOCK = list(range(10, 21))  # January to November; December (21) is in RACE
# Race at 2025-Q4 (December's values): fai 10, 6, 6; start 90, 100, 100; stock 21, 29, 29.
# Min-max: fai 100, 0, 0; start 0, 100, 100; stock (lower is better) 100, 0, 0.
# Hangzhou .5 × 100 + .3 × 0 + .2 × 100 = 70; Ningbo and Wenzhou .3 × 100 = 30: ranks 1, 2, 2.
RACE = {"330100": (10, 90, 21), "330200": (6, 100, 29), "330300": (6, 100, 29)}
# Investment and GDP growth of seven quarters in Hangzhou: b = 8.5 / 28 (tests/hub/sensing).
QUARTERS = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]
QUARTER_ENDS = ["2024-03", "2024-06", "2024-09", "2024-12", "2025-03", "2025-06", "2025-09"]
INVEST = [10.0, 12.0, 8.0, 6.0, 9.0, 11.0, 7.0]
GDP = [7.1, 7.5, 6.5, 5.8, 6.6, 7.4, 6.0]


def _value(indicator: str, region: str, period: str, value: float) -> dict[str, Any]:
    return {"indicator_id": indicator, "region_code": region, "period": period, "value": value}


def _values() -> list[dict[str, Any]]:
    rows = [_value("loans", "330100", p, v) for p, v in zip(MONTHS, LOANS, strict=True)]
    rows += [_value("stock", "330100", p, v) for p, v in zip(MONTHS[:-1], STOCK, strict=True)]
    for region, (fai, start, stock) in RACE.items():
        rows += [
            _value("fai_growth", region, "2025-12", fai),
            _value("start", region, "2025-12", start),
        ]
        rows.append(_value("stock", region, "2025-12", stock))
    rows += [
        _value("fai_growth", "330100", m, v) for m, v in zip(QUARTER_ENDS, INVEST, strict=True)
    ]
    rows += [_value("gdp_growth", "330100", q, v) for q, v in zip(QUARTERS, GDP, strict=True)]
    rows += [
        _value("fai_amount", "330100", m, v) for m, v in zip(MONTHS[:3], (80, 70, 100), strict=True)
    ]
    return rows


TARGETS = [
    # latest 2025 value 10 against 8 → 1.25 → green
    {"indicator_id": "fai_growth", "region_code": "330100", "year": 2025, "target": 8},
    # 250 of 1,200 by 31 March → (250/1200) / (90/365) = 0.845 → yellow
    {
        "indicator_id": "fai_amount",
        "region_code": "330100",
        "year": 2025,
        "target": 1200,
        "basis": "total",
    },
    # months of housing stock, lower is better: 21 against 18 → 18/21 = 0.857 → yellow
    {"indicator_id": "stock", "region_code": "330100", "year": 2025, "target": 18},
    {"indicator_id": "fai_growth", "region_code": "330200", "year": 2025, "target": 7.5},
]


@pytest.fixture
async def graph(store: FalkorDBStore, tmp_path: Path) -> FalkorDBStore:
    await import_records(store, "region", [validate("region", r) for r in REGIONS])
    path = tmp_path / "indicators.csv"
    path.write_text(INDICATORS, encoding="utf-8")
    report = await ind.import_files(store, "indicators", [path])
    assert (report.counts[Outcome.CREATED], report.bad) == (6, [])
    values = [validate("indicator_value", r) for r in _values()]
    assert (await import_records(store, "indicator_value", values))[Outcome.CREATED] == len(values)
    targets = [validate("indicator_target", t) for t in TARGETS]
    await import_records(store, "indicator_target", targets)
    return store


def _client(
    store: FalkorDBStore, headers: dict[str, str] | None = None, **env: str
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)
    return started(app, headers=headers)


@pytest.fixture
async def client(graph: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(graph) as http:
        yield http


# --- import -----------------------------------------------------------------------------------

VALUES_CSV = """indicator_id,region_code,period,value
loans,330200,2025-01,1.5
loans,330200,2025-Q1,3
nope,330200,2025-01,1
loans,330900,2025-01,1
loans,330200,2025-13,1
loans,330200,2025-02,abc
loans,330200,2025-01,5
gdp_growth,330200,2025-Q1,5.2
gdp_growth,330200,2025-03,5.2
loans,330200,2025-02,2.5,extra
"""
# line → (code, field); the header is line 1
VALUES_BAD = {
    3: ("BAD_USER_INPUT", "period"),  # a quarter for a monthly indicator
    4: ("NOT_FOUND", "indicator_id"),
    5: ("NOT_FOUND", "region_code"),
    6: ("BAD_USER_INPUT", "period"),
    7: ("BAD_USER_INPUT", "value"),
    8: ("BAD_USER_INPUT", ""),  # the same indicator, region and period as line 2
    10: ("BAD_USER_INPUT", "period"),  # a month for a quarterly indicator
    11: ("BAD_USER_INPUT", ""),  # more cells than columns
}


async def test_value_files_land_their_good_rows_and_report_each_bad_one(
    graph: FalkorDBStore, tmp_path: Path
) -> None:
    path = tmp_path / "values.csv"
    path.write_text(VALUES_CSV, encoding="utf-8")
    report = await ind.import_files(graph, "values", [path])
    assert report.counts[Outcome.CREATED] == 2
    assert {b.line: (b.code, b.field) for b in report.bad} == VALUES_BAD
    assert "2025-Q1 is quarterly; indicator loans is monthly" in str(
        next(b for b in report.bad if b.line == 3)
    )
    again = await ind.import_files(graph, "values", [path])
    assert (again.counts[Outcome.UNCHANGED], again.counts[Outcome.CREATED]) == (2, 0)
    path.write_text(VALUES_CSV.replace("2025-01,1.5", "2025-01,1.6"), encoding="utf-8")
    fixed = await ind.import_files(graph, "values", [path])
    assert (fixed.counts[Outcome.UPDATED], fixed.counts[Outcome.UNCHANGED]) == (1, 1)
    series = (await ind.values(graph, ["330200"], ["loans", "gdp_growth"]))["330200"]
    assert [(o.period.label, o.value) for o in series["loans"]] == [("2025-01", 1.6)]
    assert [(o.period.label, o.value) for o in series["gdp_growth"]] == [("2025-Q1", 5.2)]


async def test_json_targets_and_unreadable_files(graph: FalkorDBStore, tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    path.write_text(
        "[\n"
        '  {"indicator_id": "loans", "region_code": "330200", "year": 2026, "target": 9},\n'
        '  {"indicator_id": "loans", "region_code": "330200", "year": 2026, "target": 9,\n'
        '   "basis": "sometimes"}\n'
        "]\n",
        encoding="utf-8",
    )
    report = await ind.import_files(graph, "targets", [path])
    assert report.counts[Outcome.CREATED] == 1
    assert [(b.line, b.code, b.field) for b in report.bad] == [(3, "BAD_USER_INPUT", "basis")]
    with pytest.raises(InvalidInput):
        await ind.import_files(graph, "nonsense", [path])
    bad = tmp_path / "values.csv"
    bad.write_text("indicator_id,region_code,period,colour\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown columns"):
        await ind.import_files(graph, "values", [bad])


def test_the_cli_imports_indicator_files_and_lists_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)
    regions = tmp_path / "regions.jsonl"
    regions.write_text("".join(json.dumps(r) + "\n" for r in REGIONS), encoding="utf-8")
    assert cli.main(["import", str(regions)]) == 0
    # A rejected row: the rest is imported, the exit status says some rows were not (3).
    (tmp_path / "broken").mkdir()
    broken = tmp_path / "broken" / "regions.jsonl"
    broken.write_text('{"code": "not-a-region-code", "name": "x"}\n', encoding="utf-8")
    assert cli.main(["import", str(broken)]) == 3
    assert "rejected 1" in capsys.readouterr().err
    definitions = tmp_path / "indicators.csv"
    definitions.write_text(INDICATORS, encoding="utf-8")
    assert cli.main(["import-indicators", "--kind", "indicators", str(definitions)]) == 0
    assert "indicator indicators: created 6" in capsys.readouterr().err
    path = tmp_path / "values.csv"
    path.write_text(VALUES_CSV, encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    assert cli.main(["import-indicators", str(path), "--rejects", str(rejects)]) == 3
    err = capsys.readouterr().err
    assert f"{path}:4: NOT_FOUND indicator_id: no indicator nope" in err
    assert "created 2" in err and "rejected 8" in err
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert {(e["line"], e["code"], e["field"]) for e in entries} == {
        (line, code, field) for line, (code, field) in VALUES_BAD.items()
    }


# --- barometer --------------------------------------------------------------------------------

BAROMETER = """query($region: String!, $period: Period!, $weights: [IndicatorWeightInput!]) {
  barometer(region: $region, period: $period, weights: $weights) {
    region { code } period to composite heat coverage
    indicators { indicator { indicatorId unit polarity } weight period value history percentile
                 heatPercentile heat }
  }
}"""


async def test_the_barometer_over_graphql(client: httpx.AsyncClient) -> None:
    data = (await gql(client, BAROMETER, region="330100", period="2025-12"))["barometer"]
    assert data["region"] == {"code": "330100"}
    assert (data["period"], data["to"], data["heat"]) == ("2025-12", "2025-12-31", "COOL")
    assert data["composite"] == pytest.approx(100 / 3)
    assert data["coverage"] == 1.0
    loans, stock = data["indicators"]
    assert loans == {
        "indicator": {"indicatorId": "loans", "unit": "%", "polarity": "POSITIVE"},
        "weight": 2.0,
        "period": "2025-12",
        "value": 6.0,
        "history": 12,
        "percentile": 50.0,
        "heatPercentile": 50.0,
        "heat": "NORMAL",
    }
    assert (stock["percentile"], stock["heatPercentile"], stock["heat"]) == (100.0, 0.0, "COLD")
    # November: 11 values each, below the default minimum history of 12 → no percentiles.
    early = (await gql(client, BAROMETER, region="330100", period="2025-11"))["barometer"]
    assert (early["composite"], early["heat"], early["coverage"]) == (None, None, 0.0)
    assert [i["value"] for i in early["indicators"]] == [11.0, 20.0]
    # Weights from the query: loans alone → its 50.
    only = await gql(
        client,
        BAROMETER,
        region="330100",
        period="2025",
        weights=[{"indicator": "loans", "weight": 1}],
    )
    assert only["barometer"]["composite"] == 50.0
    history = await gql(
        client,
        '{ barometerHistory(region: "330100", from: "2025-10", to: "2025-12") '
        "{ period composite } }",
    )
    assert [(b["period"], b["composite"]) for b in history["barometerHistory"]] == [
        ("2025-10", None),
        ("2025-11", None),
        ("2025-12", pytest.approx(100 / 3)),
    ]
    for bad, code in (
        ({"region": "339900"}, "NOT_FOUND"),
        ({"period": "2025-13"}, "BAD_USER_INPUT"),
        ({"weights": [{"indicator": "nope", "weight": 1}]}, "NOT_FOUND"),
        ({"weights": [{"indicator": "loans", "weight": -1}]}, "BAD_USER_INPUT"),
        ({"weights": [{"weight": 1}]}, "BAD_USER_INPUT"),  # which indicator?
        (
            {"weights": [{"indicator": "loans", "indicatorId": "loans", "weight": 1}]},
            "BAD_USER_INPUT",
        ),
    ):
        args = {"region": "330100", "period": "2025-12", **bad}
        errors = await gql_errors(client, BAROMETER, **args)
        assert [e["extensions"]["code"] for e in errors] == [code]


async def test_sensing_settings_reach_the_resolvers(graph: FalkorDBStore) -> None:
    # The API reads HUB_SENSING_* from the request context; a shorter minimum history gives
    # November a percentile: loans 11 is the highest of 11 → 100; stock 20 the highest → 0.
    schema = build_schema()
    context = Context(
        store=graph, role=Role.VIEWER, sensing=SensingSettings(min_history=3, heat_hot_from=90)
    )
    result: ExecutionResult = await schema.execute(
        BAROMETER, variable_values={"region": "330100", "period": "2025-11"}, context_value=context
    )
    assert result.errors is None and result.data is not None
    found = result.data["barometer"]
    assert found["composite"] == pytest.approx(200 / 3)
    assert found["heat"] == "WARM"  # 66.7 is warm (60 to 90 with these bands)


async def test_sensing_settings_reach_the_api_from_the_environment(graph: FalkorDBStore) -> None:
    # The same through the app: HUB_SENSING_* → settings → request context → resolvers.
    env = {"HUB_SENSING_MIN_HISTORY": "3", "HUB_SENSING_HEAT_HOT_FROM": "90"}
    async with _client(graph, None, **env) as client:
        data = await gql(client, BAROMETER, region="330100", period="2025-11")
    assert data["barometer"]["composite"] == pytest.approx(200 / 3)
    assert data["barometer"]["heat"] == "WARM"


async def test_values_of_another_frequency_are_left_out_of_the_figures(
    graph: FalkorDBStore,
) -> None:
    # The operator re-declares loans as quarterly: its monthly values stay stored but no
    # longer count, so the barometer has only stock (100 → heat 0).
    changed = validate(
        "indicator",
        {
            "id": "loans",
            "name": "贷款",
            "unit": "%",
            "frequency": "quarterly",
            "barometer_weight": 2,
        },
    )
    await import_records(graph, "indicator", [changed])
    found = await ind.barometer(graph, "330100", "2025-12", SensingSettings())
    loans = next(h for h in found.reading.indicators if h.indicator == "loans")
    assert (loans.value, loans.history) == (None, 0)
    assert found.reading.composite == 0.0
    stored = await ind.values(graph, ["330100"], ["loans"])
    assert len(stored["330100"]["loans"]) == 12


# --- target derivation, tracking, race --------------------------------------------------------


async def test_target_derivation_matches_the_hand_computed_elasticity(
    client: httpx.AsyncClient,
) -> None:
    query = """{ investmentTarget(region: "330100", gdpGrowthTarget: 7.0) {
        region { code } requiredInvestmentGrowth low high confidence elasticity intercept
        observations history { period investmentGrowth gdpGrowth } } }"""
    data = (await gql(client, query))["investmentTarget"]
    b = 8.5 / 28
    a = 6.7 - 9 * b
    assert data["elasticity"] == pytest.approx(b)
    assert data["intercept"] == pytest.approx(a)
    assert data["requiredInvestmentGrowth"] == pytest.approx((7.0 - a) / b)
    assert data["low"] < data["requiredInvestmentGrowth"] < data["high"]
    assert (data["observations"], data["confidence"]) == (7, 0.9)
    # Each quarter pairs with the investment growth of its last month.
    assert data["history"][0] == {"period": "2024-Q1", "investmentGrowth": 10.0, "gdpGrowth": 7.1}
    errors = await gql_errors(client, query.replace("330100", "330200"))
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "need at least 3" in errors[0]["message"]


async def test_indicator_tracking_lights(client: httpx.AsyncClient) -> None:
    query = """query($asOf: Date) { indicatorTracking(year: 2025, region: "330100", asOf: $asOf) {
        indicator { indicatorId } target basis actual reported through attainment
        scheduleShare ratio met warning } }"""
    rows = {
        r["indicator"]["indicatorId"]: r for r in (await gql(client, query))["indicatorTracking"]
    }
    assert set(rows) == {"fai_amount", "fai_growth", "stock"}
    total = rows["fai_amount"]
    assert (total["basis"], total["actual"], total["through"]) == ("TOTAL", 250.0, "2025-03-31")
    assert total["scheduleShare"] == pytest.approx(90 / 365)
    assert total["ratio"] == pytest.approx((250 / 1200) / (90 / 365))
    assert (total["met"], total["warning"]) == (False, "YELLOW")
    assert (rows["fai_growth"]["actual"], rows["fai_growth"]["warning"]) == (10.0, "GREEN")
    assert rows["fai_growth"]["ratio"] == pytest.approx(1.25)
    assert rows["stock"]["attainment"] == pytest.approx(18 / 21)
    assert rows["stock"]["warning"] == "YELLOW"
    feb = {
        r["indicator"]["indicatorId"]: r
        for r in (await gql(client, query, asOf="2025-02-28"))["indicatorTracking"]
    }
    assert (feb["fai_amount"]["actual"], feb["fai_amount"]["warning"]) == (150.0, "RED")
    everyone = await gql(client, "{ indicatorTracking(year: 2025) { region { code } } }")
    assert [r["region"]["code"] for r in everyone["indicatorTracking"]] == ["330100"] * 3 + [
        "330200"
    ]


RACE_QUERY = """query($period: Period!, $weights: [IndicatorWeightInput!],
                     $normalisation: RaceNormalisation, $leaders: Int, $within: String) {
  regionalRace(period: $period, weights: $weights, normalisation: $normalisation,
               leaders: $leaders, within: $within) {
    period from to normalisation
    entries { region { code } composite rank leader
              scores { indicator { indicatorId } weight value score } }
    leaders { region { code } }
  }
}"""


def _ranked(race: dict[str, Any]) -> list[tuple[str, float | None, int | None]]:
    return [
        (
            e["region"]["code"],
            None if e["composite"] is None else round(e["composite"], 9),
            e["rank"],
        )
        for e in race["entries"]
    ]


async def test_race_rankings_match_hand_computed_composites_with_ties(
    client: httpx.AsyncClient,
) -> None:
    race = (await gql(client, RACE_QUERY, period="2025-Q4"))["regionalRace"]
    assert (race["from"], race["to"], race["normalisation"]) == (
        "2025-10-01",
        "2025-12-31",
        "MIN_MAX",
    )
    assert _ranked(race) == [("330100", 70.0, 1), ("330200", 30.0, 2), ("330300", 30.0, 2)]
    # Three leading places by default: every region here; one place: Hangzhou alone.
    assert len(race["leaders"]) == 3
    first = (await gql(client, RACE_QUERY, period="2025-Q4", leaders=1))["regionalRace"]
    assert first["leaders"] == [{"region": {"code": "330100"}}]
    hangzhou = race["entries"][0]["scores"]
    assert hangzhou == [
        {"indicator": {"indicatorId": "fai_growth"}, "weight": 0.5, "value": 10.0, "score": 100.0},
        {"indicator": {"indicatorId": "start"}, "weight": 0.3, "value": 90.0, "score": 0.0},
        {"indicator": {"indicatorId": "stock"}, "weight": 0.2, "value": 21.0, "score": 100.0},
    ]
    # z-scores of fai alone: mean 22/3, deviations 8/3, −4/3, −4/3, population sd 4√2/3
    # → Hangzhou +√2, the others −1/√2 each.
    z = await gql(
        client,
        RACE_QUERY,
        period="2025-Q4",
        normalisation="Z_SCORE",
        weights=[{"indicatorId": "fai_growth", "weight": 1}],
    )
    assert _ranked(z["regionalRace"]) == [
        ("330100", round(2**0.5, 9), 1),
        ("330200", round(-(2**0.5) / 2, 9), 2),
        ("330300", round(-(2**0.5) / 2, 9), 2),
    ]
    # A quarter nobody reported: no composites, no ranks, no leaders.
    empty = (await gql(client, RACE_QUERY, period="2023-Q3"))["regionalRace"]
    assert [e["rank"] for e in empty["entries"]] == [None, None, None]
    assert empty["leaders"] == []
    within = (await gql(client, RACE_QUERY, period="2025-Q4", within="330000"))["regionalRace"]
    assert _ranked(within) == _ranked(race)
    history = await gql(
        client,
        '{ raceHistory(from: "2025-Q3", to: "2025-Q4") { period entries { rank } } }',
    )
    assert [r["period"] for r in history["raceHistory"]] == ["2025-Q3", "2025-Q4"]
    for bad, code in (
        ({"period": "2025-Q5"}, "BAD_USER_INPUT"),
        ({"leaders": 0}, "BAD_USER_INPUT"),
        ({"within": "339900"}, "NOT_FOUND"),
        ({"weights": [{"indicator": "start", "weight": 0}]}, "BAD_USER_INPUT"),
    ):
        errors = await gql_errors(client, RACE_QUERY, **{"period": "2025-Q4", **bad})
        assert [e["extensions"]["code"] for e in errors] == [code]


# --- mutations --------------------------------------------------------------------------------

UPSERT_VALUES = """mutation($items: [IndicatorValueInput!]!) {
  upsertIndicatorValues(items: $items) {
    created updated unchanged rejected
    items { index key outcome errors { code field } node { id } }
  }
}"""


async def test_operators_upsert_values_and_periods_must_fit_the_frequency(
    graph: FalkorDBStore,
) -> None:
    items = [
        {"indicatorId": "loans", "regionCode": "330300", "period": "2025-01", "value": 3.5},
        {"indicatorId": "loans", "regionCode": "330300", "period": "2025", "value": 3.5},
        {"indicatorId": "loans", "regionCode": "339900", "period": "2025-02", "value": 3.5},
        {"indicatorId": "loans", "regionCode": "330300", "period": "2025-06-H1", "value": 3.5},
        {"indicatorId": "gdp_growth", "regionCode": "330300", "period": "2025-Q2", "value": 5},
    ]
    operator_key = await key_headers(graph, Role.OPERATOR)
    async with _client(graph, operator_key) as operator:
        result = (await gql(operator, UPSERT_VALUES, items=items))["upsertIndicatorValues"]
        assert (result["created"], result["rejected"]) == (2, 3)
        assert [(i["index"], i["outcome"]) for i in result["items"]] == [
            (0, "CREATED"),
            (1, "REJECTED"),
            (2, "REJECTED"),
            (3, "REJECTED"),
            (4, "CREATED"),
        ]
        assert result["items"][0]["key"] == "loans/330300/2025-01"
        assert result["items"][0]["node"] is None  # values are not API nodes
        assert [e["code"] for i in result["items"][1:4] for e in i["errors"]] == [
            "BAD_USER_INPUT",
            "NOT_FOUND",
            "BAD_USER_INPUT",
        ]
        again = (await gql(operator, UPSERT_VALUES, items=items[:1]))["upsertIndicatorValues"]
        assert again["unchanged"] == 1
        created = await gql(
            operator,
            """mutation { upsertIndicators(items: [{id: "pmi", name: "制造业PMI", unit: "点",
                frequency: MONTHLY, barometerWeight: 1}]) { created }
              upsertIndicatorTargets(items: [{indicatorId: "pmi", regionCode: "330100",
                year: 2026, target: 50, basis: LEVEL}]) { created items { key } } }""",
        )
        assert created["upsertIndicators"]["created"] == 1
        assert created["upsertIndicatorTargets"]["items"] == [{"key": "pmi/330100/2026"}]
        # The indicator's and the region's global ids name them as their keys do.
        ids = await gql(operator, '{ indicators { id indicatorId } region(code: "330100") { id } }')
        pmi = next(i["id"] for i in ids["indicators"] if i["indicatorId"] == "pmi")
        by_id = await gql(
            operator,
            """mutation($pmi: String!, $region: String!) {
              upsertIndicators(items: [{id: $pmi, name: "制造业PMI", unit: "点",
                frequency: MONTHLY, barometerWeight: 1}]) { unchanged }
              upsertIndicatorTargets(items: [{indicatorId: $pmi, regionCode: $region,
                year: 2026, target: 50, basis: LEVEL}]) { unchanged items { key } } }""",
            pmi=pmi,
            region=ids["region"]["id"],
        )
        assert by_id["upsertIndicators"]["unchanged"] == 1
        assert by_id["upsertIndicatorTargets"] == {
            "unchanged": 1,
            "items": [{"key": "pmi/330100/2026"}],
        }
    async with _client(graph) as viewer:
        errors = await gql_errors(viewer, UPSERT_VALUES, items=items[:1])
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        listed = await gql(viewer, "{ indicators { indicatorId frequency barometerWeight } }")
        assert {"indicatorId": "pmi", "frequency": "MONTHLY", "barometerWeight": 1.0} in listed[
            "indicators"
        ]
        series = await gql(
            viewer,
            '{ indicatorSeries(indicator: "loans", region: "330100", from: "2025-11") '
            "{ period from to value } }",
        )
        assert series["indicatorSeries"] == [
            {"period": "2025-11", "from": "2025-11-01", "to": "2025-11-30", "value": 11.0},
            {"period": "2025-12", "from": "2025-12-01", "to": "2025-12-31", "value": 6.0},
        ]


# --- forecast ---------------------------------------------------------------------------------


async def test_the_forecast_finds_the_lags_of_series_stored_in_the_graph(
    store: FalkorDBStore,
) -> None:
    # y[t] = 5 + 2·a[t−3] − 1.5·b[t−1] + 0.8·c[t−5] + noise(0.3); d is unrelated.
    await import_records(store, "region", [validate("region", r) for r in REGIONS[:2]])
    names = ["a", "b", "c", "d", "y"]
    definitions = [
        {"id": n, "name": n, "unit": "%", "frequency": "monthly", "barometer_weight": 1}
        for n in names[:-1]
    ] + [{"id": "y", "name": "投资增速", "unit": "%", "frequency": "monthly"}]
    await import_records(store, "indicator", [validate("indicator", d) for d in definitions])
    rng = np.random.default_rng(7)
    months = [f"{2016 + k // 12}-{k % 12 + 1:02d}" for k in range(96)]
    x = {n: rng.normal(0, 1, len(months)) for n in "abcd"}
    rows = [_value(n, "330100", m, float(x[n][k])) for n in "abcd" for k, m in enumerate(months)]
    for k in range(5, len(months) - 1):  # y stops a month early: that month is forecast
        y = 5 + 2 * x["a"][k - 3] - 1.5 * x["b"][k - 1] + 0.8 * x["c"][k - 5]
        rows.append(_value("y", "330100", months[k], float(y + rng.normal(0, 0.3))))
    await import_records(store, "indicator_value", [validate("indicator_value", r) for r in rows])
    settings = SensingSettings(investment_indicator="y")
    found = await ind.investment_forecast(store, "330100", settings)
    assert (found.period.label, found.through.label) == ("2023-12", "2023-11")
    assert {k: found.result.lags[k] for k in "abc"} == {"a": 3, "b": 1, "c": 5}
    assert found.result.coefficients["a"] == pytest.approx(2.0, abs=0.15)
    # Rows are the months after the first six with a y (2016-07 to 2023-11: 89), 24 train.
    assert (found.result.observations, found.result.backtest.points) == (89, 65)
    assert 0.2 < found.result.backtest.rmse < 0.5
    expected = 5 + 2 * x["a"][95 - 3] - 1.5 * x["b"][95 - 1] + 0.8 * x["c"][95 - 5]
    assert found.result.value == pytest.approx(expected, abs=1.2)
    with pytest.raises(InvalidInput, match="no values of y by then"):
        await ind.investment_forecast(store, "330000", settings)


# --- the demo province ------------------------------------------------------------------------


async def test_the_demo_shows_a_barometer_a_forecast_and_a_race(
    demo_store: FalkorDBStore,
) -> None:
    async with _client(demo_store) as http:
        query = """{ barometer(region: "330100", period: "2026-10") { composite heat coverage
                       indicators { indicator { indicatorId } heat } }
                     investmentForecast(region: "330100") { period trainedThrough value
                       regionCode region { code } excluded { indicatorId reason }
                       terms { indicator { indicatorId } lag } backtest { mae rmse points }
                       naive { rmse points } }
                     regionalRace(period: "2026-Q3") { entries { region { code } rank }
                       leaders { region { name } } }
                     investmentTarget(region: "330000", gdpGrowthTarget: 6) {
                       requiredInvestmentGrowth elasticity low high } }"""
        data = await gql(http, query)
    barometer = data["barometer"]
    assert len(barometer["indicators"]) == 10 and barometer["coverage"] == 1.0
    assert barometer["heat"] in {"COLD", "COOL", "NORMAL", "WARM", "HOT"}
    forecast = data["investmentForecast"]
    assert (forecast["period"], forecast["trainedThrough"]) == ("2026-11", "2026-10")
    # 2018-01 to 2026-10 is 106 months; rows start after the first 6; 24 train.
    assert forecast["backtest"]["points"] == 106 - 6 - 24 == forecast["naive"]["points"]
    assert forecast["backtest"]["rmse"] < forecast["naive"]["rmse"] / 2
    # The demo's loan balance leads investment by 4 months; the model finds it.
    lags = {t["indicator"]["indicatorId"]: t["lag"] for t in forecast["terms"]}
    assert lags["loan_balance_growth"] == 4
    assert forecast["region"] == {"code": forecast["regionCode"]} == {"code": "330100"}
    assert all(e["indicatorId"] and e["reason"] for e in forecast["excluded"])
    race = data["regionalRace"]
    assert len(race["entries"]) == 11
    assert sorted(e["rank"] for e in race["entries"])[0] == 1
    assert len(race["leaders"]) >= 3
    # The demo builds GDP growth as 2.5 + 0.45 × investment growth plus noise.
    assert data["investmentTarget"]["elasticity"] == pytest.approx(0.45, abs=0.03)
    # As at the end of 2021: the barometer had cooled through the year and the model, fitted on
    # data up to December only, sees the 2022 slowdown coming.
    async with _client(demo_store) as http:
        then = await gql(
            http,
            """{ investmentForecast(region: "330000", through: "2021-12") {
                   period trainedThrough value backtest { points } }
                 early: barometer(region: "330000", period: "2021-01") { composite }
                 late: barometer(region: "330000", period: "2021-12") { composite }
                 indicatorSeries(indicator: "fai_growth", region: "330000",
                                 from: "2021-12", to: "2022-01") { value } }""",
        )
    december, january = (p["value"] for p in then["indicatorSeries"])
    forecast = then["investmentForecast"]
    assert (forecast["period"], forecast["trainedThrough"]) == ("2022-01", "2021-12")
    assert forecast["backtest"]["points"] == 48 - 6 - 24  # 2018-01 to 2021-12
    assert forecast["value"] < december - 1.5
    assert forecast["value"] == pytest.approx(january, abs=1.0)
    assert then["early"]["composite"] > 60 > 40 > then["late"]["composite"]


@pytest.mark.parametrize("entity", sorted(api_indicators.INPUTS))
def test_indicator_inputs_carry_the_record_fields(entity: str) -> None:
    fields = {f.name for f in dataclasses.fields(api_indicators.INPUTS[entity])}
    assert fields == set(SPECS[entity].record.model_fields)


# --- identity and periods -----------------------------------------------------------------------


async def test_indicators_round_trip_through_node_and_take_global_ids(
    client: httpx.AsyncClient,
) -> None:
    listed = (await gql(client, "{ indicators { id indicatorId unit } }"))["indicators"]
    assert {i["indicatorId"] for i in listed} >= {"loans", "gdp_growth"}
    node = """query($id: ID!) { node(id: $id) { __typename id
      ... on Indicator { indicatorId unit } } }"""
    for indicator in listed:
        found = (await gql(client, node, id=indicator["id"]))["node"]
        assert found == {"__typename": "Indicator", **indicator}
    loans = next(i["id"] for i in listed if i["indicatorId"] == "loans")
    region = (await gql(client, '{ region(code: "330100") { id } }'))["region"]["id"]
    series = """query($i: String!, $r: String!, $from: Period) {
      indicatorSeries(indicator: $i, region: $r, from: $from) { period value } }"""
    by_id = await gql(client, series, i=loans, r=region, **{"from": "2025-11"})
    by_key = await gql(client, series, i="loans", r="330100", **{"from": "2025-11"})
    assert by_id == by_key and len(by_id["indicatorSeries"]) == 2
    # A malformed period is refused before anything runs; a half-month, which the series
    # cannot take, by the field; both BAD_USER_INPUT.
    for bad in ("2025-11-x", "2025-11-H1"):
        errors = await gql_errors(client, series, i="loans", r="330100", **{"from": bad})
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], bad
