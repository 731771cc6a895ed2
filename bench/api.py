"""The GraphQL API over real HTTP at hubei scale: batched resolvers against the naive baseline.

One run (``python -m bench api``; ``--graph neo4j|both`` for Neo4j, see ``bench.graphs``):

1. generate the hubei-scale province, load it into a fresh embedded FalkorDB in a temporary
   directory (and, with ``--graph both``, into a Neo4j server the run starts), create an API
   key through the hub's own key path (``hub.auth.create_key``, what ``hub keys create``
   does: the benchmark is a client with a viewer key, not a bypass), and, with the store
   still open in this process, run every request variant once
   through ``httpx.ASGITransport`` against ``create_app(..., store=store)``: batched, for the
   reference answers and exact store round trips per request; naive (``batching=False``), for its
   round trips and to check it gives the same answers. Then close the store.
2. serve the same data directory with uvicorn in a subprocess (one worker, no access log) through
   ``server_app`` below, first with batching on, then off: the embedded store locks its
   directory, so the two servers run one after the other. With two stores, a server per store
   runs at once and their windows alternate (FalkorDB, then Neo4j, for each query and client
   count), so the Neo4j ÷ FalkorDB ratios compare like with like on a shared machine.
3. drive each query over TCP loopback from 1 and then 8 concurrent clients (each an
   ``httpx.AsyncClient`` holding one keep-alive connection): a warm-up, then a timed window.
   Every response is checked afterwards against the reference answer; anything else counts as a
   failure.

Server CPU is read from ``/proc/<pid>/stat`` for the uvicorn process and for its store: the
embedded FalkorDB (redis-server) child, or the Neo4j JVM; the server's own store counter is read
from ``/_bench/stats`` between windows, a cross-check of the in-process round-trip counts.
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
from bench.registry import Figures, benchmark
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.auth import create_key
from hub.demo import Scale, generate
from hub.lifecycle import freeze_startup_heap
from hub.roles import Role
from hub.seed import seed_demo
from hub.settings import Settings, load_settings
from hub.store import open_store

# --- what is measured -------------------------------------------------------------------------

WARMUP_S = 2.0
TIMED_S = 10.0
CLIENT_COUNTS = (1, 8)
PAGE_SIZE = 50
A_PAGES = 40  # distinct pages of (a), sampled across the whole project list
B_IDS = 400  # distinct projects looked up by (b)
CHAINS = ("nev", "ic", "bio", "materials")
SEED = 2026

QUERY_A = """
query Page($after: String) {
  projects(first: 50, after: $after) {
    nodes {
      code name stage totalInvestment
      owner { uscc name }
      region { code name }
      segments { nodes { segmentId name } }
      parcels { nodes { parcelId areaM2 } }
    }
  }
}"""

QUERY_B = """
query Lookup($id: ID!) {
  node(id: $id) {
    id
    ... on Project { code name stage totalInvestment owner { name } }
  }
}"""

QUERY_C = """
query Chain($key: String!) {
  industryChain(key: $key) {
    name
    segments(first: 100) { nodes { segmentId name tier enterprises { totalCount } } }
  }
}"""

_WALK = """
query Walk($after: String) {
  projects(first: 50, after: $after) {
    pageInfo { endCursor hasNextPage }
    edges { node { id } }
  }
}"""

_HEADERS = {"content-type": "application/json", "accept": "application/graphql-response+json"}
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


def _check_shape(case: str, data: Any, variables: Mapping[str, Any]) -> None:
    """The reference answers themselves must look right before responses are held to them."""
    if case == "a":
        nodes = data["projects"]["nodes"]
        if not 0 < len(nodes) <= PAGE_SIZE:
            raise Failure(f"(a) page of {len(nodes)} projects")
        for p in nodes:
            if not (p["code"] and p["owner"]["uscc"] and p["region"]["code"]):
                raise Failure(f"(a) project without code, owner or region: {p}")
            if not isinstance(p["segments"]["nodes"], list) or not isinstance(
                p["parcels"]["nodes"], list
            ):
                raise Failure(f"(a) project without segment or parcel lists: {p}")
    elif case == "b":
        node = data["node"]
        if node is None or not node["code"] or not node["owner"]["name"]:
            raise Failure(f"(b) lookup of {variables['id']} found {node}")
    else:
        chain = data["industryChain"]
        segments = chain["segments"]["nodes"] if chain else []
        if not segments or any(s["enterprises"]["totalCount"] < 0 for s in segments):
            raise Failure(f"(c) chain {variables['key']} answered {chain}")


# --- in-process: reference answers and round trips --------------------------------------------


@dataclass(slots=True)
class InProcess:
    round_trips: float
    p50_ms: float


async def _in_process(
    store: GraphStore,
    settings: Settings,
    case: Case,
    *,
    batching: bool,
    headers: Mapping[str, str],
) -> InProcess:
    """Each variant once through ASGITransport: round trips per request (the store's counter
    before and after), and the answers, which become (batched) or must equal (naive) the
    reference."""
    app = create_app(settings, store=store, batching=batching)
    transport = httpx.ASGITransport(app=app)
    trips: list[int] = []
    times: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        for i, body in enumerate(case.bodies):
            before = store.stats.round_trips
            started = time.perf_counter()
            response = await client.post("/graphql", content=body, headers=headers)
            times.append(time.perf_counter() - started)
            trips.append(store.stats.round_trips - before)
            data = _answer(response.status_code, response.content)
            if i < len(case.expected):
                if data != case.expected[i]:
                    raise Failure(f"({case.name}) answer differs for {case.variables[i]}")
            else:
                _check_shape(case.name, data, case.variables[i])
                case.expected.append(data)
    return InProcess(sum(trips) / len(trips), _percentile(times, 0.5) * 1000)


async def _walk(
    store: GraphStore, settings: Settings, headers: Mapping[str, str]
) -> tuple[list[str | None], list[str]]:
    """Every page cursor of ``projects(first: 50)`` and every project's global id."""
    app = create_app(settings, store=store)
    cursors: list[str | None] = [None]
    ids: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        after: str | None = None
        while True:
            body = {"query": _WALK, "variables": {"after": after}}
            response = await client.post("/graphql", json=body, headers=headers)
            page = _answer(response.status_code, response.content)["projects"]
            ids += [edge["node"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return cursors, ids
            after = page["pageInfo"]["endCursor"]
            cursors.append(after)


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
        return cls(_ticks(hub_pid), _ticks(store_pid), _ticks(os.getpid()), _busy_ticks())

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.hub - other.hub,
            self.store - other.store,
            self.client - other.client,
            self.busy - other.busy,
        )


def _ticks(pid: int) -> int:
    """utime + stime of every thread of ``pid``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
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


async def _drive(server: Server, case: Case, clients: int) -> Run:
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

        async def phase(seconds: float) -> tuple[list[float], list[tuple[int, int, bytes]]]:
            latencies: list[float] = []
            answers: list[tuple[int, int, bytes]] = []
            deadline = time.perf_counter() + seconds

            async def one_client(session: httpx.AsyncClient) -> None:
                while time.perf_counter() < deadline:
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

        _, warmup = await phase(WARMUP_S)
        counted = server.counts_round_trips
        trips_before = await _server_round_trips(stats) if counted else 0
        cpu_before = Cpu.read(server.process.pid, server.store_pid)
        started = time.perf_counter()
        latencies, answers = await phase(TIMED_S)
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


def _run_figures(prefix: str, run: Run, store_label: str = "FalkorDB") -> Figures:
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
        f"{prefix} hub CPU ms/request": round(run.cpu.hub * per_request, 2),
        f"{prefix} {store_label} CPU ms/request": round(run.cpu.store * per_request, 2),
        f"{prefix} server CPU ms/request (hub + store)": round(
            (run.cpu.hub + run.cpu.store) * per_request, 2
        ),
        f"{prefix} client CPU ms/request": round(run.cpu.client * per_request, 2),
        f"{prefix} other processes, % of machine": round(100 * max(others, 0) / machine, 1),
    }


def _log(message: str) -> None:
    print(f"[bench api] {message}", file=sys.stderr, flush=True)


def _verdict(ok: bool, detail: str) -> str:
    return f"{'met' if ok else 'NOT met'} ({detail})"


def _cases(cursors: list[str | None], ids: list[str]) -> dict[str, Case]:
    rng = random.Random(SEED)
    pages = sorted(rng.sample(range(len(cursors)), min(A_PAGES, len(cursors))))
    return {
        "a": Case("a", QUERY_A, [{"after": cursors[i]} for i in pages]),
        "b": Case("b", QUERY_B, [{"id": i} for i in rng.sample(ids, min(B_IDS, len(ids)))]),
        "c": Case("c", QUERY_C, [{"key": chain} for chain in CHAINS]),
    }


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


@benchmark("api", "GraphQL over HTTP at hubei scale: page, lookup, chain; batched vs naive")
async def api() -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        async with open_graphs(Path(tmp)) as graphs:
            _log("generating hubei scale")
            started = time.perf_counter()
            data = generate(Scale.HUBEI)
            figures["projects"] = len(data.project)
            figures["enterprises"] = len(data.enterprise)
            figures["seconds to generate"] = round(time.perf_counter() - started, 1)
            cases: dict[str, dict[str, Case]] = {}
            keys: dict[str, str] = {}
            template: dict[str, Case] = {}
            for graph in graphs:
                p, settings = graph.prefix(graphs), graph.settings
                _log(f"loading hubei scale into {graph.name}")
                started = time.perf_counter()
                store = await open_store(settings)
                try:
                    await seed_demo(store, "hubei", batch_size=settings.graph.batch_size, data=data)
                    figures[f"{p}seconds to load"] = round(time.perf_counter() - started, 1)
                    keys[graph.name] = await bench_key(store)
                    headers = auth_headers(keys[graph.name])
                    if not template:
                        template = _cases(*await _walk(store, settings, headers))
                    own = {n: Case(n, c.query, c.variables) for n, c in template.items()}
                    cases[graph.name] = own
                    _log(f"{graph.name}: in-process answers and round trips (ASGITransport)")
                    for case in own.values():
                        case.prepare()
                        # The reference answers; this first pass also warms the store (both
                        # cache query plans), so the timed in-process passes below do not pay
                        # for planning.
                        await _in_process(store, settings, case, batching=True, headers=headers)
                    for name, case in own.items():
                        for batching in (True, False):
                            mode = "batched" if batching else "naive"
                            counted = await _in_process(
                                store, settings, case, batching=batching, headers=headers
                            )
                            figures[f"{p}{name} {mode} round trips/request (in-process)"] = round(
                                counted.round_trips, 2
                            )
                            figures[f"{p}{name} {mode} p50 ms (in-process, no HTTP)"] = round(
                                counted.p50_ms, 2
                            )
                finally:
                    await store.close()
            figures.update(same_answers(graphs, cases))

            runs: dict[str, Run] = {}
            for batching, names in ((True, ("a", "b", "c")), (False, ("a",))):
                mode = "batched" if batching else "naive"
                async with contextlib.AsyncExitStack() as stack:
                    servers: dict[str, Server] = {}
                    for graph in graphs:
                        _log(f"starting uvicorn ({mode}) on {graph.name}")
                        ready = time.perf_counter()
                        servers[graph.name] = await stack.enter_async_context(
                            _serve(graph, batching=batching, key=keys[graph.name])
                        )
                        figures[f"{graph.prefix(graphs)}seconds until /readyz ({mode})"] = round(
                            time.perf_counter() - ready, 1
                        )
                    for name in names:
                        for clients in CLIENT_COUNTS:
                            for graph in graphs:  # interleaved: each store's window in turn
                                p = graph.prefix(graphs)
                                _log(f"({name}) {mode}, {clients} client(s), {graph.name}")
                                server = servers[graph.name]
                                run = await _drive(server, cases[graph.name][name], clients)
                                runs[f"{graph.name} {name} {mode} c{clients}"] = run
                                figures.update(
                                    _run_figures(
                                        f"{p}{name} {mode} c{clients}", run, server.store_label
                                    )
                                )

    for graph in graphs:
        figures.update(_targets(graph.prefix(graphs), graph.name, figures, runs))
    if len(graphs) > 1:
        batched = {k.replace(" batched", ""): r for k, r in runs.items() if " batched " in k}
        for name in ("a", "b", "c"):
            for clients in CLIENT_COUNTS:
                figures.update(ratio_figures(batched, name, clients))
    failures = sum(run.failures for run in runs.values())
    figures["failed responses (all runs, warm-up included)"] = failures
    first = next((run.first_failure for run in runs.values() if run.first_failure), "")
    if first:
        figures["first failure"] = first
    return figures


def _targets(p: str, graph: str, figures: Figures, runs: Mapping[str, Run]) -> Figures:
    """The issue-3 targets of one store's runs."""
    out: Figures = {}
    trips_ratio = float(figures[f"{p}a naive round trips/request (in-process)"]) / float(
        figures[f"{p}a batched round trips/request (in-process)"]
    )
    out[f"{p}a round trips, naive ÷ batched"] = round(trips_ratio, 1)
    for clients in CLIENT_COUNTS:
        naive = _percentile(runs[f"{graph} a naive c{clients}"].latencies, 0.5)
        batched = _percentile(runs[f"{graph} a batched c{clients}"].latencies, 0.5)
        out[f"{p}a p50 c{clients}, naive ÷ batched"] = round(naive / batched, 2)
    out[f"{p}target: a ≥5× fewer round trips than naive"] = _verdict(
        trips_ratio >= 5, f"{trips_ratio:.1f}×"
    )
    for clients in CLIENT_COUNTS:
        ratio = float(out[f"{p}a p50 c{clients}, naive ÷ batched"])
        out[f"{p}target: a ≥3× lower p50 than naive, {clients} client(s)"] = _verdict(
            ratio >= 3, f"{ratio:.2f}×"
        )
    a_p50 = float(figures[f"{p}a batched c1 p50 ms"])
    b_p50 = float(figures[f"{p}b batched c1 p50 ms"])
    out[f"{p}target: a p50 < 30 ms, 1 client"] = _verdict(a_p50 < 30, f"{a_p50} ms")
    out[f"{p}target: b p50 < 5 ms, 1 client"] = _verdict(b_p50 < 5, f"{b_p50} ms")
    return out
