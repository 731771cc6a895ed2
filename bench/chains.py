"""Chain analytics over HTTP at hubei scale: the whole chain map of the province, and the
targets for one segment in one city (``python -m bench chains``).

The same machinery as ``bench.api``: generate and load the hubei-scale province into a fresh
embedded FalkorDB (``--graph neo4j|both``: and/or a Neo4j server the run starts), take every
variant's reference answer in-process with the benchmark's API key, then serve the data
directory with uvicorn (one worker per store) and drive each query from 1 and 8 concurrent
clients over loopback, the stores' windows interleaved, every response checked against its
reference answer.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from bench.api import (
    CLIENT_COUNTS,
    FULL,
    QUICK,
    SEED,
    Case,
    Failure,
    Run,
    Server,
    _answer,
    _drive,
    _log,
    _percentile,
    _run_figures,
    _serve,
    _verdict,
    auth_headers,
    bench_key,
    ratio_figures,
    same_answers,
)
from bench.graphs import open_graphs
from bench.quick import check, province, seed
from bench.registry import Figures, benchmark
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from hub.store import open_store

PROVINCE = "330000"
CHAINS = ("nev", "ic", "bio", "materials")
TARGET_PAIRS = 40  # (segment, city) pairs, sampled

MAP = """
query Map($key: String!) {
  industryChain(key: $key) {
    map(region: "330000") {
      totals { enterprises projects output }
      nodes {
        tier
        segment { segmentId name }
        figures {
          enterprises leaders taggedEnterprises output employment patents
          projects plannedInvestment completedInvestment
        }
      }
      edges { fromSegmentId toSegmentId }
    }
  }
}"""

TARGETS = """
query Targets($segment: String!, $region: String!) {
  segment(key: $segment) {
    targets(region: $region, first: 20) {
      totalCount
      nodes { rank score reasons regionCode enterprise { uscc name output outputGrowth } }
    }
  }
}"""

CHOKEPOINTS = """
query Chokepoints($key: String!, $region: String!) {
  industryChain(key: $key) {
    chokepoints(region: $region) {
      chokepoints { score segment { segmentId } reasons { rule value threshold } }
    }
  }
}"""


async def _reference(
    store: GraphStore,
    settings: Settings,
    case: Case,
    check: Callable[[str, Any, dict[str, Any]], None] | None = None,
    *,
    headers: Mapping[str, str],
) -> float:
    """Each variant's answer in-process (the reference), checked for substance (by ``check``,
    default the chain queries' own); p50 ms."""
    app = create_app(settings, store=store)
    times = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", timeout=60
    ) as client:
        for repeat in range(2):  # the first pass also warms FalkorDB's plan cache
            for i, body in enumerate(case.bodies):
                started = time.perf_counter()
                response = await client.post("/graphql", content=body, headers=headers)
                times.append(time.perf_counter() - started)
                data = _answer(response.status_code, response.content)
                if repeat == 0:
                    (check or _check)(case.name, data, case.variables[i])
                    case.expected.append(data)
                elif data != case.expected[i]:
                    raise Failure(f"({case.name}) answer changed for {case.variables[i]}")
    return _percentile(times[len(case.bodies) :], 0.5) * 1000


def _check(name: str, data: Any, variables: dict[str, Any]) -> None:
    if name == "map":
        found = data["industryChain"]["map"]
        if not found["nodes"] or found["totals"]["enterprises"] <= 0:
            raise Failure(f"(map) {variables} has no figures")
    elif name == "targets":
        if data["segment"]["targets"]["totalCount"] <= 0:
            raise Failure(f"(targets) {variables} found none")
    elif data["industryChain"] is None:
        raise Failure(f"(chokepoints) {variables} answered nothing")


@benchmark("chains", "Chain analytics over HTTP at hubei scale: province map, segment targets")
async def chains(quick: bool = False) -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-chains-") as tmp:
        async with open_graphs(Path(tmp), quick=quick) as graphs:
            _log("generating hubei scale")
            data = province(quick)
            figures["enterprises"] = len(data.enterprise)
            figures["projects"] = len(data.project)
            rng = random.Random(SEED)
            segments = [s.id for s in data.segment]
            cities = sorted(r.code for r in data.region if r.level == "city")
            every = [(s, c) for s in segments for c in cities]
            pairs = rng.sample(every, 2 if quick else TARGET_PAIRS)
            chain_keys = CHAINS[:1] if quick else CHAINS
            if quick:
                cities = cities[:2]
            variables = {
                "map": (MAP, [{"key": c} for c in chain_keys]),
                "targets": (TARGETS, [{"segment": s, "region": c} for s, c in pairs]),
                "chokepoints": (
                    CHOKEPOINTS,
                    [{"key": ch, "region": c} for ch in chain_keys for c in cities],
                ),
            }
            cases: dict[str, dict[str, Case]] = {}
            keys: dict[str, str] = {}
            for graph in graphs:
                p, settings = graph.prefix(graphs), graph.settings
                _log(f"loading hubei scale into {graph.name}")
                started = time.perf_counter()
                store = await open_store(settings)
                try:
                    await seed(store, data, quick=quick, batch_size=settings.graph.batch_size)
                    figures[f"{p}seconds to load"] = round(time.perf_counter() - started, 1)
                    keys[graph.name] = await bench_key(store)
                    headers = auth_headers(keys[graph.name])
                    own = {n: Case(n, q, v) for n, (q, v) in variables.items()}
                    cases[graph.name] = own
                    _log(f"{graph.name}: in-process reference answers (ASGITransport)")
                    for name, case in own.items():
                        case.prepare()
                        p50 = await _reference(store, settings, case, headers=headers)
                        figures[f"{p}{name} p50 ms (in-process, no HTTP)"] = round(p50, 2)
                finally:
                    await store.close()
            figures.update(same_answers(graphs, cases))

            runs: dict[str, Run] = {}
            async with contextlib.AsyncExitStack() as stack:
                servers: dict[str, Server] = {}
                for graph in graphs:
                    _log(f"starting uvicorn on {graph.name}")
                    servers[graph.name] = await stack.enter_async_context(
                        _serve(graph, batching=True, key=keys[graph.name])
                    )
                for name in variables:
                    for clients in CLIENT_COUNTS:
                        for graph in graphs:  # interleaved: each store's window in turn
                            _log(f"({name}) {clients} client(s), {graph.name}")
                            server = servers[graph.name]
                            run = await _drive(
                                server, cases[graph.name][name], clients, QUICK if quick else FULL
                            )
                            runs[f"{graph.name} {name} c{clients}"] = run
                            figures.update(
                                _run_figures(
                                    f"{graph.prefix(graphs)}{name} c{clients}",
                                    run,
                                    server.store_label,
                                )
                            )

    for graph in graphs:
        p = graph.prefix(graphs)
        map_p50 = float(figures[f"{p}map c1 p50 ms"])
        targets_p50 = float(figures[f"{p}targets c1 p50 ms"])
        figures[f"{p}target: province chain map p50 < 100 ms, 1 client"] = _verdict(
            map_p50 < 100, f"{map_p50} ms"
        )
        figures[f"{p}target: targets for one segment p50 < 200 ms, 1 client"] = _verdict(
            targets_p50 < 200, f"{targets_p50} ms"
        )
    if len(graphs) > 1:
        for name in variables:
            for clients in CLIENT_COUNTS:
                figures.update(ratio_figures(runs, name, clients))
    failures = sum(run.failures for run in runs.values())
    figures["failed responses (all runs, warm-up included)"] = failures
    first = next((run.first_failure for run in runs.values() if run.first_failure), "")
    if first:
        figures["first failure"] = first
    if quick:
        check(not failures, f"every response right: {first}")
    return figures
