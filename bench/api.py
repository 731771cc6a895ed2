"""The GraphQL API over real HTTP against what a user would pick instead: the hub, served as it
ships, and PostGraphile 4 on PostgreSQL (``bench.peer_postgraphile``) over the same generated
province, in one run (``python -m bench api``; ``--graph neo4j|both`` adds or swaps the store of
the hub; ``--quick`` for the demo province and a few requests).

1. generate the hubei-scale province (11,287 projects, 50,000 enterprises), load it with the
   hub's own loader into a fresh store, and create the benchmark's API key the way ``hub keys
   create`` does (a viewer: a client, not a bypass);
2. load the same records into a throwaway PostgreSQL cluster and serve it with PostGraphile
   (one node process); serve the hub's data directory with ``hub serve`` (``serve_hub``: the
   CLI's own command with its default settings, whatever worker count it has by default);
3. ask every variant of the five reads of every side: (a) ``page``, 50 projects of one city by
   total investment with owner, region and segments; (b) ``code``, a project by code; (c)
   ``owner``, an enterprise with 20 of its projects; (d) ``stages``, counts and sums of
   investment by stage in a city; (e) ``deep``, the page after row 5,000 by code, from a keyset
   cursor (each side's own cursor, walked or asked for). The answers, normalised for the naming
   differences (``normal``), must be equal on every side before anything is timed;
4. drive each read from 1 and then 8 concurrent clients (each an ``httpx.AsyncClient`` with
   one keep-alive connection), the sides' windows interleaved (hub, peer; then peer, hub), a
   warm-up then a timed window; every response is checked against its side's reference answer.

Figures: p50, p95, requests/s and server CPU per request for each side, read, and client count,
with hub ÷ peer ratios, and the mean response size of the city page on each side. Server CPU is
read from ``/proc/<pid>/stat`` before and after each window: for the hub, the ``hub serve``
process and every descendant (its workers), the store apart (the embedded FalkorDB or the Neo4j
JVM); for the peer, the node process and the postmaster with every backend.

The rest of this module is the machinery the other HTTP benchmarks share (``chains``,
``sensing``, ``neo4j_graphql``): ``Case``, ``_drive``, ``_run_figures`` and ``_serve``, uvicorn
over ``server_app`` with the store's round-trip counter at ``/_bench/stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bench.graphs import Graph, hub_env, label, open_graphs
from bench.quick import province, seed
from bench.registry import Figures, benchmark
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.auth import create_key
from hub.demo.generator import DemoData
from hub.lifecycle import freeze_startup_heap
from hub.roles import Role
from hub.settings import Settings, load_settings
from hub.store import open_store

# --- what is measured -------------------------------------------------------------------------

WARMUP_S = 2.0
TIMED_S = 10.0
CLIENT_COUNTS = (1, 8)
SEED = 2026


@dataclass(frozen=True, slots=True)
class Window:
    """How long each measured window is: a warm-up, then the timed part; ``requests`` caps the
    timed part's requests (a quick run's few), None for none."""

    warmup_s: float = WARMUP_S
    timed_s: float = TIMED_S
    requests: int | None = None


FULL = Window()
# A quick run: no warm-up, a handful of requests per window (each checked), whatever they take.
QUICK = Window(warmup_s=0.0, timed_s=60.0, requests=6)


# identity: httpx asks for br/gzip by default, which the hub honours (HUB_HTTP_COMPRESS_MIN_BYTES)
# and PostGraphile does not, so the hub alone would spend CPU compressing; both sides answer plain.
_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json",
    "accept-encoding": "identity",
}
# The role of the benchmark's key: a read-only client that may read every field measured here.
BENCH_ROLE = Role.VIEWER
STATS_PATH = "/_bench/stats"
BATCHING_ENV = "BENCH_API_BATCHING"
_ROOT = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")


async def bench_key(store: GraphStore) -> str:
    """A new API key for the benchmark's client, made as ``hub keys create`` makes one."""
    key, _ = await create_key(store, BENCH_ROLE, name="bench")
    return key


def auth_headers(key: str) -> dict[str, str]:
    """The request headers of a client holding ``key``."""
    return _HEADERS | {"authorization": f"Bearer {key}"}


# --- the server side --------------------------------------------------------------------------


def server_app() -> _BenchApp:
    """The ASGI app uvicorn serves (``uvicorn --factory bench.api:server_app``): the hub's app on
    a store opened as ``hub serve`` opens it (``HUB_*`` variables), batched unless
    ``BENCH_API_BATCHING=0``, plus ``/_bench/stats``, the store's round-trip counter."""
    settings = load_settings({k: v for k, v in os.environ.items() if k.startswith("HUB_")})
    return _BenchApp(settings, batching=os.environ.get(BATCHING_ENV, "1") != "0")


class _BenchApp:
    def __init__(self, settings: Settings, *, batching: bool) -> None:
        self._settings = settings
        self._batching = batching
        self._store: GraphStore | None = None
        self._app: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self._store is not None and self._app is not None
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            stats = self._store.stats
            body = {"round_trips": stats.round_trips, "errors": stats.errors}
            await JSONResponse(body)(scope, receive, send)
            return
        await self._app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # open_store migrates and waits for the indexes, as create_app's own lifespan.
                self._store = await open_store(self._settings)
                self._app = create_app(self._settings, store=self._store, batching=self._batching)
                freeze_startup_heap()  # as create_app's own lifespan does
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._store is not None:
                    await self._store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


# --- cases, answers and checks ----------------------------------------------------------------


@dataclass(slots=True)
class Case:
    """One query and the variables it rotates through, with the answer each must get."""

    name: str
    query: str
    variables: list[dict[str, Any]]
    expected: list[Any] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def prepare(self) -> None:
        self.bodies = [
            json.dumps({"query": self.query, "variables": v}).encode() for v in self.variables
        ]


class Failure(Exception):
    pass


def _answer(status: int, content: bytes) -> Any:
    """The ``data`` of a good response; ``Failure`` for a bad status, errors or no data."""
    if status != 200:
        raise Failure(f"HTTP {status}: {content[:200]!r}")
    body = json.loads(content)
    if body.get("errors"):
        raise Failure(f"errors: {json.dumps(body['errors'], ensure_ascii=False)[:300]}")
    if body.get("data") is None:
        raise Failure("no data")
    return body["data"]


# --- over HTTP ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Cpu:
    """Clock ticks used so far: the hub (uvicorn), its store (the embedded FalkorDB or the Neo4j
    JVM), this client, and the machine."""

    hub: int
    store: int
    client: int
    busy: int

    @classmethod
    def read(cls, hub_pid: int, store_pid: int) -> Cpu:
        """``hub_pid`` and its descendants (every worker) less the store's, and ``store_pid``
        with its descendants (a postmaster's backends); processes that ended since the last
        read are not counted."""
        children = _children()
        store = _tree(store_pid, children)
        hub = _tree(hub_pid, children) - store
        return cls(
            sum(_ticks(p) for p in hub),
            sum(_ticks(p) for p in store),
            _ticks(os.getpid()),
            _busy_ticks(),
        )

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.hub - other.hub,
            self.store - other.store,
            self.client - other.client,
            self.busy - other.busy,
        )


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _tree(root: int, children: Mapping[int, list[int]]) -> set[int]:
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


def _ticks(pid: int) -> int:
    """utime + stime of every thread of ``pid`` (0 once it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _busy_ticks() -> int:
    """Non-idle ticks of the whole machine, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values) - values[3] - values[4]  # less idle and iowait


@dataclass(slots=True)
class Run:
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    first_failure: str
    cpu: Cpu
    round_trips: int


@dataclass(slots=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    store_pid: int
    headers: dict[str, str]
    store_label: str = "FalkorDB"
    path: str = "/graphql"
    counts_round_trips: bool = True  # the hub's /_bench/stats; a peer has none


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def _serve(graph: Graph, *, batching: bool, key: str) -> AsyncIterator[Server]:
    """uvicorn with one worker on a free loopback port over ``graph``, until /readyz answers;
    stopped with SIGINT (uvicorn's graceful shutdown closes the store) on the way out. Its
    clients send ``key``."""
    port = free_port()
    data_dir = graph.data_dir
    env = hub_env(graph) | {BATCHING_ENV: "1" if batching else "0"}
    command = [
        sys.executable, "-m", "uvicorn", "bench.api:server_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning", "--lifespan", "on",
    ]  # fmt: skip
    log_path = data_dir / f"uvicorn-{'batched' if batching else 'naive'}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, process, log_path)
        yield Server(url, process, graph.store_pid(), auth_headers(key), label(graph.name))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def _wait_ready(url: str, process: subprocess.Popen[Any], log_path: Path) -> None:
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"uvicorn exited with {process.returncode}: {tail}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the hub did not become ready within 180 s; see {log_path}")


async def _server_round_trips(client: httpx.AsyncClient) -> int:
    return int((await client.get(STATS_PATH)).json()["round_trips"])


async def _drive(server: Server, case: Case, clients: int, window: Window = FULL) -> Run:
    """``clients`` concurrent clients, each with one keep-alive connection, send ``case``'s
    variants in one shared rotation: a warm-up, then a timed window. Responses are checked
    after each phase, so checking costs no time inside the window."""
    rotation = list(range(len(case.bodies)))
    random.Random(SEED).shuffle(rotation)
    order = itertools.cycle(rotation)
    sessions = [
        httpx.AsyncClient(
            base_url=server.url,
            timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for _ in range(clients)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for session in sessions:
            await stack.enter_async_context(session)
        stats = sessions[0]

        async def phase(
            seconds: float, budget: int | None = None
        ) -> tuple[list[float], list[tuple[int, int, bytes]]]:
            latencies: list[float] = []
            answers: list[tuple[int, int, bytes]] = []
            deadline = time.perf_counter() + seconds
            left = [budget if budget is not None else -1]

            async def one_client(session: httpx.AsyncClient) -> None:
                while time.perf_counter() < deadline and left[0] != 0:
                    left[0] -= 1
                    i = next(order)
                    started = time.perf_counter()
                    try:
                        response = await session.post(
                            server.path, content=case.bodies[i], headers=server.headers
                        )
                    except httpx.HTTPError as exc:
                        answers.append((i, 0, f"{type(exc).__name__}: {exc}".encode()))
                        continue
                    latencies.append(time.perf_counter() - started)
                    answers.append((i, response.status_code, response.content))

            await asyncio.gather(*(one_client(s) for s in sessions))
            return latencies, answers

        _, warmup = await phase(window.warmup_s) if window.warmup_s else ([], [])
        counted = server.counts_round_trips
        trips_before = await _server_round_trips(stats) if counted else 0
        cpu_before = Cpu.read(server.process.pid, server.store_pid)
        started = time.perf_counter()
        latencies, answers = await phase(window.timed_s, window.requests)
        seconds = time.perf_counter() - started
        cpu = Cpu.read(server.process.pid, server.store_pid) - cpu_before
        trips = (await _server_round_trips(stats) if counted else 0) - trips_before
    failures, first = 0, ""
    for i, status, content in warmup + answers:
        try:
            if status == 0:
                raise Failure(content.decode())
            if _answer(status, content) != case.expected[i]:
                raise Failure(f"wrong answer for {case.variables[i]}")
        except (Failure, ValueError, KeyError) as exc:
            failures += 1
            first = first or f"({case.name}, {clients} clients) {exc}"
    return Run(len(answers), seconds, latencies, failures, first, cpu, trips)


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


def _run_figures(
    prefix: str, run: Run, store_label: str = "FalkorDB", app_label: str = "hub"
) -> Figures:
    per_request = 1000 / _TICK / max(run.requests, 1)  # ticks → ms per request
    machine = run.seconds * _TICK * len(os.sched_getaffinity(0))
    others = run.cpu.busy - run.cpu.hub - run.cpu.store - run.cpu.client
    return {
        f"{prefix} p50 ms": round(_percentile(run.latencies, 0.5) * 1000, 2),
        f"{prefix} p95 ms": round(_percentile(run.latencies, 0.95) * 1000, 2),
        f"{prefix} requests/s": round(run.requests / run.seconds, 1),
        f"{prefix} requests": run.requests,
        f"{prefix} failures (incl. warm-up)": run.failures,
        f"{prefix} server round trips/request": round(run.round_trips / max(run.requests, 1), 2),
        f"{prefix} {app_label} CPU ms/request": round(run.cpu.hub * per_request, 2),
        f"{prefix} {store_label} CPU ms/request": round(run.cpu.store * per_request, 2),
        f"{prefix} server CPU ms/request ({app_label} + store)": round(
            (run.cpu.hub + run.cpu.store) * per_request, 2
        ),
        f"{prefix} client CPU ms/request": round(run.cpu.client * per_request, 2),
        f"{prefix} other processes, % of machine": round(100 * max(others, 0) / machine, 1),
    }


def _log(message: str) -> None:
    print(f"[bench api] {message}", file=sys.stderr, flush=True)


def _verdict(ok: bool, detail: str) -> str:
    return f"{'met' if ok else 'NOT met'} ({detail})"


def ratio_figures(runs: Mapping[str, Run], name: str, clients: int) -> Figures:
    """Neo4j ÷ FalkorDB for one query and client count: p50, p95, requests/s, server CPU."""
    neo4j, falkordb = runs[f"neo4j {name} c{clients}"], runs[f"falkordb {name} c{clients}"]

    def cpu(run: Run) -> float:
        return (run.cpu.hub + run.cpu.store) / max(run.requests, 1)

    pairs = {
        "p50": (_percentile(neo4j.latencies, 0.5), _percentile(falkordb.latencies, 0.5)),
        "p95": (_percentile(neo4j.latencies, 0.95), _percentile(falkordb.latencies, 0.95)),
        "requests/s": (neo4j.requests / neo4j.seconds, falkordb.requests / falkordb.seconds),
        "server CPU/request": (cpu(neo4j), cpu(falkordb)),
    }
    return {
        f"neo4j ÷ falkordb: {name} c{clients} {what}": round(a / b, 2) if b else math.nan
        for what, (a, b) in pairs.items()
    }


def same_answers(graphs: Sequence[Graph], cases: Mapping[str, Mapping[str, Case]]) -> Figures:
    """Whether every store gave the first store's answers, per query (a figure, not a stop: the
    timed windows hold each store to its own reference answers)."""
    figures: Figures = {}
    first = graphs[0].name
    for graph in graphs[1:]:
        for name, case in cases[graph.name].items():
            reference = cases[first][name]
            differ = [
                v
                for v, a, b in zip(case.variables, case.expected, reference.expected, strict=True)
                if a != b
            ]
            figures[f"{graph.name} answers equal {first}'s: {name}"] = (
                "yes"
                if not differ
                else f"NO, {len(differ)} of {len(case.variables)} differ, e.g. {differ[0]}"
            )
    return figures


# --- the hub as it ships ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve_hub(graph: Graph, *, key: str, workers: int | None = None) -> AsyncIterator[Server]:
    """``hub serve`` (the CLI's own entry point, ``python -m hub serve``) with its default
    settings over ``graph``'s data directory, on a free loopback port, until /readyz answers;
    stopped with SIGTERM on the way out. The only settings given are the store's, the port and
    the rate limits of one trusted batch client (``bench.graphs.LOAD_GENERATOR``), all as
    ``HUB_*`` variables, so whatever ``hub serve`` does by default (its worker count included)
    is what is measured; ``workers`` (``HUB_HTTP_WORKERS``) only for a quick run, whose one
    worker costs less to start. Its clients send ``key``."""
    port = free_port()
    env = hub_env(graph) | {"HUB_HTTP_HOST": "127.0.0.1", "HUB_HTTP_PORT": str(port)}
    if workers is not None:
        env["HUB_HTTP_WORKERS"] = str(workers)
    log_path = graph.data_dir / "hub-serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve"],
            cwd=_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, process, log_path)
        yield Server(
            url,
            process,
            graph.store_pid(),
            auth_headers(key),
            label(graph.name),
            counts_round_trips=False,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


# --- the five reads -----------------------------------------------------------------------------

READS: dict[str, str] = {
    # (a) a page of 50 projects in one city, sorted by investment, with owner, region, segments
    "page": """
query Page($city: String!) {
  projects(where: {region: $city}, sort: [{field: TOTAL_INVESTMENT, direction: DESC}], first: 50) {
    nodes {
      code name stage totalInvestment
      owner { uscc name }
      region { code name }
      segments { nodes { segmentId name } }
    }
  }
}""",
    # (b) a project by code
    "code": """
query Code($code: String!) {
  project(code: $code) {
    code name stage totalInvestment
    owner { uscc name }
    region { code name }
  }
}""",
    # (c) an enterprise with 20 projects
    "owner": """
query Owner($uscc: String!) {
  enterprise(uscc: $uscc) {
    uscc name
    projects(first: 20, sort: [{field: CODE}]) { nodes { code name stage totalInvestment } }
  }
}""",
    # (d) counts and sums by stage in a city
    "stages": """
query Stages($city: String!) {
  projects(where: {region: $city}) {
    groups(by: STAGE) { key aggregate { count totalInvestment { sum } } }
  }
}""",
    # (e) the page after row 5,000 (by code), from a keyset cursor
    "deep": """
query Deep($after: String) {
  projects(first: 50, after: $after, sort: [{field: CODE}]) {
    nodes { code name stage totalInvestment owner { uscc name } region { code name } }
  }
}""",
}
_CURSOR = """
query Cursor($after: String) {
  projects(first: 50, after: $after, sort: [{field: CODE}]) {
    pageInfo { endCursor hasNextPage }
  }
}"""
CITIES = 8  # cities of (a) and (d)
CODES = 400  # projects of (b)
OWNERS = 200  # enterprises of (c), each owning a project
DEEP_ROW = 5000  # (e) asks for the page after this row


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _project(p: Mapping[str, Any], *, hub: bool) -> tuple[Any, ...]:
    """A project's fields as both sides give them (the peer's segments are link rows)."""
    row: tuple[Any, ...] = (
        p["code"],
        p["name"],
        str(p["stage"]).lower(),
        _money(p["totalInvestment"]),
    )
    if "owner" in p:
        owner, region = p["owner"], p["region"]
        row += (
            owner and (owner["uscc"], owner["name"]),
            region and (region["code"], region["name"]),
        )
    if "segments" in p:
        segments = [s if hub else s["segment"] for s in p["segments"]["nodes"]]
        row += (sorted((s["segmentId"], s["name"]) for s in segments),)
    return row


def normal(name: str, data: Any, *, hub: bool) -> Any:
    """What the hub and the peer must agree on, from either side's ``data``."""
    if name in ("page", "deep"):
        return [_project(p, hub=hub) for p in data["projects"]["nodes"]]
    if name == "code":
        return data["project"] and _project(data["project"], hub=hub)
    if name == "owner":
        e = data["enterprise"]
        if e is None:
            return None
        return (e["uscc"], e["name"], [_project(p, hub=hub) for p in e["projects"]["nodes"]])
    if hub:
        totals = {
            str(g["key"]).lower(): (
                g["aggregate"]["count"],
                _money(g["aggregate"]["totalInvestment"]["sum"]),
            )
            for g in data["projects"]["groups"]
        }
    else:
        totals = {
            str(g["keys"][0]).lower(): (
                int(g["distinctCount"]["code"]),
                _money(g["sum"]["totalInvestment"]),
            )
            for g in data["projects"]["groupedAggregates"]
        }
    return {s: t for s, t in sorted(totals.items()) if t[0] > 0}


def _substantial(name: str, answer: Any) -> bool:
    """A reference answer worth timing: not empty (an enterprise with projects)."""
    if name == "owner":
        return answer is not None and bool(answer[2])
    return bool(answer)


def _variables(data: DemoData, quick: bool) -> dict[str, list[dict[str, Any]]]:
    """The variants of (a)-(d), the same for every side; (e)'s cursor is each side's own."""
    rng = random.Random(SEED)
    cities = sorted(r.code for r in data.region if str(r.level) == "city")
    codes = sorted(p.code for p in data.project)
    owners = sorted({p.owner_uscc for p in data.project})
    n_cities, n_codes, n_owners = (2, 3, 3) if quick else (CITIES, CODES, OWNERS)
    picked = rng.sample(cities, min(n_cities, len(cities)))
    return {
        "page": [{"city": c} for c in picked],
        "code": [{"code": c} for c in rng.sample(codes, min(n_codes, len(codes)))],
        "owner": [{"uscc": u} for u in rng.sample(owners, min(n_owners, len(owners)))],
        "stages": [{"city": c} for c in picked],
    }


async def _hub_cursor(server: Server, row: int) -> str:
    """The hub's cursor after ``row`` projects by code, walking pages of 50."""
    after: str | None = None
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        for _ in range(row // 50):
            body = {"query": _CURSOR, "variables": {"after": after}}
            response = await client.post(server.path, json=body, headers=server.headers)
            info = _answer(response.status_code, response.content)["projects"]["pageInfo"]
            if not info["hasNextPage"]:
                raise Failure(f"(deep) fewer than {row} projects")
            after = info["endCursor"]
    assert after is not None
    return after


async def _references(server: Server, case: Case, name: str, *, hub: bool) -> list[Any]:
    """Every variant asked once; the raw answers become ``case.expected``, and the normalised
    ones are returned, for the comparison between sides."""
    out: list[Any] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        for body in case.bodies:
            response = await client.post(server.path, content=body, headers=server.headers)
            data = _answer(response.status_code, response.content)
            case.expected.append(data)
            out.append(normal(name, data, hub=hub))
    return out


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else math.nan


def _cpu_per_request(run: Run) -> float:
    return (run.cpu.hub + run.cpu.store) / max(run.requests, 1)


@benchmark(
    "api",
    "the hub (hub serve, defaults) against PostGraphile 4 on PostgreSQL, same province, five "
    "reads, 1 and 8 clients, interleaved windows",
)
async def api(quick: bool = False) -> Figures:
    from bench.peer_postgraphile import PEER_READS, peer_cursor, postgraphile_peer

    figures: Figures = {}
    # BENCH_API_SCALE=demo and BENCH_API_WINDOW_S: a smaller full run (a busy machine's check
    # that it works); the published figures are hubei scale with the default windows.
    small = quick or os.environ.get("BENCH_API_SCALE", "hubei") == "demo"
    window = (
        QUICK if quick else Window(timed_s=float(os.environ.get("BENCH_API_WINDOW_S", TIMED_S)))
    )
    deep_row = 500 if small else DEEP_ROW
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        async with open_graphs(Path(tmp), quick=quick) as graphs:
            _log("generating the province" + (" (demo scale)" if small else " (hubei scale)"))
            data = province(small)
            figures["projects"] = len(data.project)
            figures["enterprises"] = len(data.enterprise)
            keys: dict[str, str] = {}
            for graph in graphs:
                _log(f"loading it into {graph.name} with the hub's loader")
                started = time.perf_counter()
                store = await open_store(graph.settings)
                try:
                    await seed(store, data, quick=quick, batch_size=graph.settings.graph.batch_size)
                    keys[graph.name] = await bench_key(store)
                finally:
                    await store.close()
                figures[f"{graph.name}: seconds to load"] = round(time.perf_counter() - started, 1)
            variables = _variables(data, quick)
            async with contextlib.AsyncExitStack() as stack:
                _log("PostgreSQL + PostGraphile: loading and starting the peer")
                started = time.perf_counter()
                peer = await stack.enter_async_context(postgraphile_peer(data, Path(tmp)))
                figures["peer: seconds to load and start"] = round(time.perf_counter() - started, 1)
                sides: dict[str, tuple[Server, bool]] = {}
                for graph in graphs:
                    _log(f"starting hub serve on {graph.name}")
                    started = time.perf_counter()
                    sides[f"hub-{graph.name}"] = (
                        await stack.enter_async_context(
                            serve_hub(graph, key=keys[graph.name], workers=1 if quick else None)
                        ),
                        True,
                    )
                    figures[f"hub-{graph.name}: seconds until /readyz"] = round(
                        time.perf_counter() - started, 1
                    )
                sides["peer"] = (peer, False)

                _log("reference answers from every side, compared")
                cases: dict[str, dict[str, Case]] = {}
                for side, (server, hub) in sides.items():
                    own = dict(variables)
                    if hub:
                        own["deep"] = [{"after": await _hub_cursor(server, deep_row)}]
                    else:
                        own["deep"] = [{"after": await peer_cursor(server, deep_row)}]
                    queries = READS if hub else PEER_READS
                    cases[side] = {n: Case(n, queries[n], v) for n, v in own.items()}
                    for case in cases[side].values():
                        case.prepare()
                answers: dict[str, dict[str, list[Any]]] = {}
                for side, (server, hub) in sides.items():
                    answers[side] = {
                        n: await _references(server, c, n, hub=hub) for n, c in cases[side].items()
                    }
                first = next(iter(sides))
                for name in READS:
                    mine = answers[first][name]
                    if not all(_substantial(name, a) for a in mine):
                        raise Failure(f"({name}) some of {first}'s reference answers are empty")
                    for side in sides:
                        theirs = answers[side][name]
                        differ = [
                            (v, a, b)
                            for v, a, b in zip(
                                cases[side][name].variables, mine, theirs, strict=True
                            )
                            if a != b
                        ]
                        if differ:
                            v, a, b = differ[0]
                            raise Failure(
                                f"({name}) {len(differ)} of {len(mine)} answers of {side} differ "
                                f"from {first}'s; for {v}:\n  {first}: {str(a)[:600]}\n"
                                f"  {side}: {str(b)[:600]}"
                            )
                    figures[f"{name}: answers checked equal on every side"] = len(mine)
                sizes: dict[str, float] = {}
                for side, (server, _) in sides.items():
                    sizes[side] = await _body_size(server, cases[side]["page"])
                    figures[f"{side}: page response bytes (mean)"] = round(sizes[side])

                runs: dict[str, Run] = {}
                order = list(sides)
                for name in READS:
                    for clients in CLIENT_COUNTS:
                        for side in order:  # interleaved: each side's window in turn
                            _log(f"({name}) {clients} client(s), {side}")
                            server, _ = sides[side]
                            run = await _drive(server, cases[side][name], clients, window)
                            runs[f"{side} {name} c{clients}"] = run
                            app = "hub" if side != "peer" else "node"
                            figures.update(
                                _run_figures(
                                    f"{side} {name} c{clients}", run, server.store_label, app
                                )
                            )
                        order.reverse()  # the other side first in the next pair

    for side in sides:
        if side == "peer":
            continue
        figures[f"{side} ÷ peer: page response bytes"] = _ratio(sizes[side], sizes["peer"])
        for name in READS:
            for clients in CLIENT_COUNTS:
                ours, peers = runs[f"{side} {name} c{clients}"], runs[f"peer {name} c{clients}"]
                pairs = {
                    "p50": (_percentile(ours.latencies, 0.5), _percentile(peers.latencies, 0.5)),
                    "p95": (_percentile(ours.latencies, 0.95), _percentile(peers.latencies, 0.95)),
                    "requests/s": (ours.requests / ours.seconds, peers.requests / peers.seconds),
                    "server CPU/request": (_cpu_per_request(ours), _cpu_per_request(peers)),
                }
                for what, (a, b) in pairs.items():
                    figures[f"{side} ÷ peer: {name} c{clients} {what}"] = _ratio(a, b)
    failures = sum(run.failures for run in runs.values())
    figures["failed responses (all runs, warm-up included)"] = failures
    first_failure = next((run.first_failure for run in runs.values() if run.first_failure), "")
    if first_failure:
        figures["first failure"] = first_failure
    if quick and failures:
        raise Failure(first_failure)
    return figures


async def _body_size(server: Server, case: Case) -> float:
    """The mean size in bytes of the response bodies of ``case``'s variants, as sent."""
    sizes = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        for body in case.bodies:
            response = await client.post(server.path, content=body, headers=server.headers)
            sizes.append(len(response.content))
    return sum(sizes) / len(sizes)
