"""The hub on Neo4j against the Neo4j GraphQL Library on the same database
(``python -m bench neo4j_graphql``).

The peer is ``bench/peers/neo4j-graphql``: ``@neo4j/graphql`` with Apollo Server in one node
process, over type definitions for the hub's labels, properties and relationship types. One run:

1. start a Neo4j server (``bench.graphs``), generate the hubei-scale province and load it with
   the hub's own loader (``seed_demo``), and create the benchmark's API key the way
   ``hub keys create`` does;
2. serve it with the hub (uvicorn, one worker, as ``bench.api``) and with the peer (``node
   server.mjs``, after ``npm ci`` when its ``node_modules`` is missing), both on the same Neo4j;
3. ask every variant of the four reads of both, and check that the answers are the same (the
   same codes, names, owners, regions, segments, counts and sums) before anything is timed;
4. drive each read from 1 and 8 clients in interleaved windows (hub, peer; then peer, hub for
   the next client count), with ``bench.api``'s load generator: p50, p95, requests/s and server
   CPU per request (the hub's uvicorn or the peer's node process, plus the Neo4j JVM, from
   ``/proc/<pid>/stat`` before and after each window), and the hub ÷ peer ratios.

The four reads: a filtered page (one city, under construction), sorted by total investment, of
50 projects with owner, region and segments; a project by code; an enterprise with its first 20
projects (by code); project counts and total investment by stage in one city. The hub answers
them with its own features on (role checks, keyset cursors, the cost limit); the peer as the
library generates them, with no authorization.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.api import (
    CLIENT_COUNTS,
    FULL,
    QUICK,
    READS,
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
    bench_key,
    free_port,
)
from bench.graphs import NEO4J, Graph, open_graphs
from bench.quick import check, province
from bench.registry import Figures, benchmark
from hub.seed import seed_demo
from hub.store import open_store

PEER_DIR = Path(__file__).resolve().parent / "peers" / "neo4j-graphql"
CITIES = 8  # cities sampled for the page and the totals
CODES = 400  # projects looked up by code
OWNERS = 200  # enterprises (each owning at least one project) asked with their projects
STAGES = ("planning", "preparation", "construction", "completed", "suspended")
HUB = {
    "page": """
query Page($city: String!) {
  projects(where: {region: $city, stage: [CONSTRUCTION]},
           sort: [{field: TOTAL_INVESTMENT, direction: DESC}], first: 50) {
    nodes {
      code name stage totalInvestment
      owner { uscc name }
      region { code name }
      segments { nodes { segmentId name } }
    }
  }
}""",
    # The other reads are bench api's own (bench/api.py READS), asked of the same hub.
    **{read: READS[read] for read in ("code", "owner", "stages")},
}

# The page's and the totals' city: the projects located in it or in one of its counties.
_IN_CITY = "region: {some: {OR: [{code: {eq: $city}}, {parent: {some: {code: {eq: $city}}}}]}}"
PEER = {
    "page": """
query Page($city: String!) {
  projects(where: {stage: {eq: "construction"}, IN_CITY},
           sort: [{totalInvestment: DESC}, {code: ASC}], limit: 50) {
    code name stage totalInvestment
    owner { uscc name }
    region { code name }
    segments { id name }
  }
}""".replace("IN_CITY", _IN_CITY),
    "code": """
query Code($code: String!) {
  projects(where: {code: {eq: $code}}) {
    code name stage totalInvestment
    owner { uscc name }
    region { code name }
  }
}""",
    "owner": """
query Owner($uscc: String!) {
  enterprises(where: {uscc: {eq: $uscc}}) {
    uscc name
    projects(limit: 20, sort: [{code: ASC}]) { code name stage totalInvestment }
  }
}""",
    "stages": "query Stages($city: String!) {\n"
    + "".join(
        f'  {s}: projectsConnection(where: {{stage: {{eq: "{s}"}}, {_IN_CITY}}}) '
        "{ aggregate { count { nodes } node { totalInvestment { sum } } } }\n"
        for s in STAGES
    )
    + "}",
}
_PEER_HEADERS = {"content-type": "application/json", "accept": "application/json"}


# --- the same answer, told two ways -----------------------------------------------------------


def _money(value: float | None) -> float:
    return round(value or 0.0, 2)


def _project(p: dict[str, Any], *, hub: bool) -> tuple[Any, ...]:
    """A project's fields as both sides can give them (the peer's to-one relationships are
    lists of one)."""

    def one(value: Any) -> Any:
        return value if hub else (value or [None])[0]

    row: tuple[Any, ...] = (
        p["code"],
        p["name"],
        str(p["stage"]).lower(),
        _money(p["totalInvestment"]),
    )
    if "owner" in p:
        owner, region = one(p["owner"]), one(p["region"])
        row += (
            owner and (owner["uscc"], owner["name"]),
            region and (region["code"], region["name"]),
        )
    if "segments" in p:
        segments = p["segments"]["nodes"] if hub else p["segments"]
        row += (sorted((s["segmentId"] if hub else s["id"], s["name"]) for s in segments),)
    return row


def _normal(name: str, data: Any, *, hub: bool) -> Any:
    """What both must agree on, from either side's ``data``."""
    if name == "page":
        rows = data["projects"]["nodes"] if hub else data["projects"]
        return [_project(p, hub=hub) for p in rows]
    if name == "code":
        found = data["project"] if hub else (data["projects"] or [None])[0]
        return found and _project(found, hub=hub)
    if name == "owner":
        e = data["enterprise"] if hub else (data["enterprises"] or [None])[0]
        if e is None:
            return None
        projects = e["projects"]["nodes"] if hub else e["projects"]
        return (e["uscc"], e["name"], [_project(p, hub=hub) for p in projects])
    if hub:
        groups = data["projects"]["groups"]
        totals = {
            str(g["key"]).lower(): (
                g["aggregate"]["count"],
                _money(g["aggregate"]["totalInvestment"]["sum"]),
            )
            for g in groups
        }
    else:
        totals = {
            s: (
                a["aggregate"]["count"]["nodes"],
                _money(a["aggregate"]["node"]["totalInvestment"]["sum"]),
            )
            for s, a in data.items()
        }
    return {s: t for s, t in sorted(totals.items()) if t[0] > 0}


def _substantial(name: str, normal: Any) -> bool:
    """A reference answer worth timing: not empty."""
    if name == "stages":
        return bool(normal) and sum(c for c, _ in normal.values()) > 0
    if name == "owner":
        return normal is not None and bool(normal[2])
    return bool(normal)


# --- the peer process ---------------------------------------------------------------------------


def _npm_ci() -> None:
    if (PEER_DIR / "node_modules" / "@neo4j" / "graphql").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the peer needs Node 20 and npm on PATH")
    _log("npm ci in bench/peers/neo4j-graphql")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)


@contextlib.asynccontextmanager
async def _serve_peer(graph: Graph) -> AsyncIterator[Server]:
    await asyncio.to_thread(_npm_ci)
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the peer needs Node 20 on PATH")
    port = free_port()
    env = os.environ | {
        "NEO4J_URI": graph.env["HUB_GRAPH_URL"],
        "NEO4J_USER": graph.env["HUB_GRAPH_USER"],
        "NEO4J_PASSWORD": graph.env["HUB_GRAPH_PASSWORD"],
        "PORT": str(port),
        "NODE_ENV": "production",
    }
    log_path = graph.data_dir / "peer.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, "server.mjs"], cwd=PEER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_peer(url, process, log_path)
        assert graph.jvm_pid is not None
        yield Server(
            url,
            process,
            graph.jvm_pid,
            dict(_PEER_HEADERS),
            "Neo4j JVM",
            path="/",
            counts_round_trips=False,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def _wait_peer(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the peer exited with {process.returncode}: {tail}")
        if "peer ready" in log_path.read_text(errors="replace"):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the peer did not start within 120 s; see {log_path}")


# --- the run ------------------------------------------------------------------------------------


async def _references(server: Server, case: Case, name: str, *, hub: bool) -> list[Any]:
    """Every variant asked once (twice: the first pass warms plans and the JIT); the raw
    answers become ``case.expected``; the normalized ones are returned."""
    normal: list[Any] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        for repeat in range(2):
            for i, body in enumerate(case.bodies):
                response = await client.post(server.path, content=body, headers=server.headers)
                data = _answer(response.status_code, response.content)
                if repeat == 0:
                    case.expected.append(data)
                    normal.append(_normal(name, data, hub=hub))
                elif data != case.expected[i]:
                    raise Failure(f"({name}) {'hub' if hub else 'peer'} answer changed")
    return normal


def _variables(data: Any, quick: bool = False) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(SEED)
    cities = sorted(r.code for r in data.region if r.level == "city")
    codes = sorted(p.code for p in data.project)
    owners = sorted({p.owner_uscc for p in data.project})
    n_cities, n_codes, n_owners = (2, 3, 3) if quick else (CITIES, CODES, OWNERS)
    picked_cities = rng.sample(cities, min(n_cities, len(cities)))
    return {
        "page": [{"city": c} for c in picked_cities],
        "code": [{"code": c} for c in rng.sample(codes, min(n_codes, len(codes)))],
        "owner": [{"uscc": u} for u in rng.sample(owners, min(n_owners, len(owners)))],
        "stages": [{"city": c} for c in picked_cities],
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else math.nan


@benchmark(
    "neo4j_graphql",
    "the hub on Neo4j against @neo4j/graphql on the same database: four reads, 1 and 8 clients",
)
async def neo4j_graphql(quick: bool = False) -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        async with open_graphs(Path(tmp), (NEO4J,), quick=quick) as (graph,):
            _log("generating hubei scale")
            data = province(quick)
            figures["projects"] = len(data.project)
            figures["enterprises"] = len(data.enterprise)
            _log("loading it into Neo4j with the hub's loader")
            started = time.perf_counter()
            store = await open_store(graph.settings)
            try:
                await seed_demo(
                    store, "hubei", batch_size=graph.settings.graph.batch_size, data=data
                )
                key = await bench_key(store)
            finally:
                await store.close()
            figures["seconds to load into Neo4j"] = round(time.perf_counter() - started, 1)
            variables = _variables(data, quick)
            hub_cases = {n: Case(n, HUB[n], v) for n, v in variables.items()}
            peer_cases = {n: Case(n, PEER[n], v) for n, v in variables.items()}
            for case in (*hub_cases.values(), *peer_cases.values()):
                case.prepare()

            async with (
                _serve(graph, batching=True, key=key) as hub,
                _serve_peer(graph) as peer,
            ):
                _log("reference answers from both, compared")
                for name in variables:
                    mine = await _references(hub, hub_cases[name], name, hub=True)
                    theirs = await _references(peer, peer_cases[name], name, hub=False)
                    differ = [
                        (v, a, b)
                        for v, a, b in zip(variables[name], mine, theirs, strict=True)
                        if a != b
                    ]
                    if differ:
                        v, a, b = differ[0]
                        raise Failure(
                            f"({name}) {len(differ)} of {len(mine)} answers differ; for {v}:\n"
                            f"  hub:  {str(a)[:600]}\n  peer: {str(b)[:600]}"
                        )
                    if not all(_substantial(name, a) for a in mine):
                        raise Failure(f"({name}) some reference answers are empty")
                    figures[f"{name}: answers checked equal"] = len(mine)

                runs: dict[str, Run] = {}
                order: list[tuple[str, Server, dict[str, Case]]] = [
                    ("hub", hub, hub_cases),
                    ("peer", peer, peer_cases),
                ]
                for name in variables:
                    for clients in CLIENT_COUNTS:
                        for side, server, cases in order:
                            _log(f"({name}) {clients} client(s), {side}")
                            run = await _drive(
                                server, cases[name], clients, QUICK if quick else FULL
                            )
                            runs[f"{side} {name} c{clients}"] = run
                            figures.update(
                                _run_figures(f"{side} {name} c{clients}", run, "Neo4j JVM")
                            )
                        order.reverse()  # the other side goes first in the next pair

    for name in variables:
        for clients in CLIENT_COUNTS:
            hub_run, peer_run = runs[f"hub {name} c{clients}"], runs[f"peer {name} c{clients}"]
            cpu: Callable[[Run], float] = lambda r: (r.cpu.hub + r.cpu.store) / max(r.requests, 1)  # noqa: E731
            pairs = {
                "p50": (_percentile(hub_run.latencies, 0.5), _percentile(peer_run.latencies, 0.5)),
                "p95": (
                    _percentile(hub_run.latencies, 0.95),
                    _percentile(peer_run.latencies, 0.95),
                ),
                "requests/s": (
                    hub_run.requests / hub_run.seconds,
                    peer_run.requests / peer_run.seconds,
                ),
                "server CPU/request": (cpu(hub_run), cpu(peer_run)),
            }
            for what, (a, b) in pairs.items():
                figures[f"hub ÷ peer: {name} c{clients} {what}"] = _ratio(a, b)
            for q in ("p50", "p95"):
                a, b = pairs[q]
                figures[f"goal: hub {q} ≤ peer's, {name} c{clients}"] = (
                    f"{'met' if a <= b else 'NOT met'} ({a * 1000:.2f} vs {b * 1000:.2f} ms)"
                )
    failures = sum(run.failures for run in runs.values())
    figures["failed responses (all runs, warm-up included)"] = failures
    first = next((run.first_failure for run in runs.values() if run.first_failure), "")
    if first:
        figures["first failure"] = first
    if quick:
        check(not failures, f"every response right: {first}")
    return figures
