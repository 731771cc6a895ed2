"""Investment sensing over HTTP: the barometer, its two-year history and the forecast for every
region of the demo province, and the quarterly race (``python -m bench sensing``).

The same machinery as ``bench.api``: generate and load the demo province (whose indicator
series, 2018-01 to 2026-10 for the province and its 11 cities, are the same at either scale)
into a fresh embedded FalkorDB, take every variant's reference answer in-process, then serve
the data directory with uvicorn (one worker) and drive each query from 1 and 8 concurrent
clients over loopback, every response checked against its reference answer.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.api import (
    CLIENT_COUNTS,
    FULL,
    QUICK,
    Case,
    Failure,
    _drive,
    _log,
    _run_figures,
    _serve,
    _verdict,
    auth_headers,
    bench_key,
)
from bench.chains import _reference
from bench.graphs import FALKORDB, open_graphs
from bench.quick import check, province, seed
from bench.registry import Figures, benchmark
from hub.store import open_store

BAROMETER = """
query Barometer($region: String!) {
  barometer(region: $region, period: "2026-10") {
    composite heat coverage
    indicators { indicator { id } period value history percentile heatPercentile heat }
  }
}"""

HISTORY = """
query History($region: String!) {
  barometerHistory(region: $region, from: "2024-11", to: "2026-10") { period composite heat }
}"""

FORECAST = """
query Forecast($region: String!) {
  investmentForecast(region: $region) {
    period value low high penalty
    terms { indicator { id } lag coefficient }
    backtest { mae rmse points } naive { mae rmse points }
  }
}"""

RACE = """
query Race($period: Period!) {
  regionalRace(period: $period) {
    entries { region { code name } composite rank leader scores { indicator { id } score } }
  }
}"""

QUARTERS = ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")


def _check(name: str, data: Any, variables: dict[str, Any]) -> None:
    if name == "barometer":
        if data["barometer"]["composite"] is None:
            raise Failure(f"(barometer) {variables} has no composite")
    elif name == "history":
        if len(data["barometerHistory"]) != 24:
            raise Failure(f"(history) {variables} is not 24 months")
    elif name == "forecast":
        found = data["investmentForecast"]
        if not found["terms"] or found["backtest"]["points"] <= 0:
            raise Failure(f"(forecast) {variables} has no model")
    elif not any(e["rank"] == 1 for e in data["regionalRace"]["entries"]):
        raise Failure(f"(race) {variables} ranked nobody")


@benchmark("sensing", "Barometer, history, forecast and race over HTTP on the demo province")
async def sensing(quick: bool = False) -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-sensing-") as tmp:
        # FalkorDB only: the sensing reads are analytics in Python over a few graph reads.
        async with open_graphs(Path(tmp), (FALKORDB,)) as (graph,):
            settings = graph.settings
            _log("generating and loading the demo province")
            started = time.perf_counter()
            store = await open_store(settings)
            try:
                data = province(True, statistics=True)  # the demo province in either mode
                await seed(store, data, quick=quick, batch_size=settings.graph.batch_size)
                figures["indicator values"] = len(data.indicator_value)
                figures["seconds to generate and load"] = round(time.perf_counter() - started, 1)
                key = await bench_key(store)
                regions = sorted({v.region_code for v in data.indicator_value})
                quarters = QUARTERS[-2:] if quick else QUARTERS
                per_region = [{"region": r} for r in regions[: 1 if quick else None]]
                cases = {
                    "barometer": Case("barometer", BAROMETER, per_region),
                    "history": Case("history", HISTORY, per_region),
                    "forecast": Case("forecast", FORECAST, per_region),
                    "race": Case("race", RACE, [{"period": q} for q in quarters]),
                }
                _log("in-process reference answers (ASGITransport)")
                for name, case in cases.items():
                    case.prepare()
                    p50 = await _reference(
                        store, settings, case, check=_check, headers=auth_headers(key)
                    )
                    figures[f"{name} p50 ms (in-process, no HTTP)"] = round(p50, 2)
            finally:
                await store.close()

            _log("starting uvicorn")
            async with _serve(graph, batching=True, key=key) as server:
                for name, case in cases.items():
                    for clients in CLIENT_COUNTS:
                        _log(f"({name}) {clients} client(s)")
                        run = await _drive(server, case, clients, QUICK if quick else FULL)
                        figures.update(_run_figures(f"{name} c{clients}", run))

    if quick:
        failures = sum(int(v) for k, v in figures.items() if k.endswith("failures (incl. warm-up)"))
        check(not failures, f"every response right, {failures} wrong")
    for name, limit in (("barometer", 100), ("forecast", 500), ("race", 100)):
        p50 = float(figures[f"{name} c1 p50 ms"])
        figures[f"target: {name} p50 < {limit} ms, 1 client"] = _verdict(p50 < limit, f"{p50} ms")
    return figures
