"""``hub serve --workers N``: one supervisor and N worker processes on one listening socket.

The supervisor (the process the command started) runs the hub's lifespan once: it starts the
embedded FalkorDB server (or connects to the configured one), migrates it, prepares the demo,
and runs every singleton: MQTT ingest, the watch (evidence, MPI, alerts, notifications), the
relay, the demo's broker and feeds, cameras, the satellite refresh and retention. It serves no
HTTP. Then it binds the socket and starts the workers, fresh interpreters (``spawn``: the
supervisor has threads and an event loop a fork would copy half-way) that inherit the socket.

A worker is an API replica (``create_app(worker=True)``): it attaches to the store the
supervisor holds, ingests nothing, keeps a watch that mirrors evidence and serves alerts, and
follows ``hub/v1/events/#`` (the relay) for the readings and alert changes the others publish,
so a subscription sees them whichever worker it is on. Why the supervisor holds the singletons
and not a worker elected by a lock: docs/architecture.md ("Every core").

A worker that dies is logged and replaced; SIGTERM or SIGINT stops the workers first, then the
singletons, then the store. ``/readyz`` of a worker answers ready only while the supervisor
says its singletons are up (a flag in shared memory) and the store answers. ``/metrics`` of any
worker is the hub's: each process writes its own figures to a run directory every
``_TICK`` seconds and the worker that is scraped sums them (``Totals``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import functools
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from hub.settings import Settings

if TYPE_CHECKING:
    from prometheus_client.core import Metric
    from starlette.applications import Starlette
    from starlette.types import Message, Receive, Scope, Send

    from hub.app import DemoFeeds
    from hub.metrics import Metrics
    from hub.telemetry import IngestFigures, Telemetry

log = logging.getLogger(__name__)

# How often the supervisor checks its workers and singletons, and every process writes its
# figures for /metrics (the other processes' part of a scrape is at most this old).
_TICK = 0.5
# A slot whose worker keeps dying is restarted at most this often.
_RESTART_EVERY_S = 1.0
_PR_SET_PDEATHSIG = 1
HEADER = b"hub-worker"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # no affinity API (macOS): every core


def worker_count(settings: Settings, requested: int | None = None) -> int:
    """``--workers``, else HUB_HTTP_WORKERS, else one per usable core."""
    return requested or settings.http.workers or usable_cores()


def supervisor_settings(settings: Settings, demo: DemoFeeds | None) -> Settings:
    # The supervisor follows the events too: alert changes a worker makes (acknowledge,
    # clear) reach its notifier as they reach a single hub's.
    mqtt = settings.mqtt.model_copy(update={"relay": True, **_protocol(settings, demo)})
    return settings.model_copy(update={"mqtt": mqtt})


def worker_settings(settings: Settings, demo: DemoFeeds | None) -> Settings:
    """A worker's settings: the API as configured, none of the singletons."""
    mqtt = settings.mqtt.model_copy(
        update={"ingest": False, "relay": True, **_protocol(settings, demo)}
    )
    telemetry = settings.telemetry.model_copy(update={"retention_days": None})
    if demo is not None and settings.telemetry.labor_salt is None:
        # Labor records sent through a worker's mutations hash as the demo's ingest does.
        salt = SecretStr(demo.labor_salt.decode())
        telemetry = telemetry.model_copy(update={"labor_salt": salt})
    return settings.model_copy(
        update={
            "mqtt": mqtt,
            "telemetry": telemetry,
            "camera": settings.camera.model_copy(update={"enabled": False}),
            "satellite": settings.satellite.model_copy(update={"enabled": False}),
        }
    )


def _protocol(settings: Settings, demo: DemoFeeds | None) -> dict[str, Any]:
    # The demo's embedded amqtt broker speaks MQTT 3.1.1 only (hub.app forces it for ingest).
    return {"protocol": 4} if demo is not None and demo.embedded_broker else {}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a worker process is given (pickled by ``spawn``)."""

    settings: Settings
    index: int
    run_dir: Path
    parent: int


def serve(settings: Settings, workers: int, *, demo: DemoFeeds | None = None) -> int:
    """Run the supervisor until SIGTERM or SIGINT; 0 after a clean stop."""
    run_dir = Path(tempfile.mkdtemp(prefix="hub-workers-"))
    try:
        asyncio.run(_supervise(settings, workers, demo, run_dir))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


async def _supervise(settings: Settings, count: int, demo: DemoFeeds | None, run_dir: Path) -> None:
    from hub.app import create_app

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    app = create_app(supervisor_settings(settings, demo), demo=demo)
    metrics: Metrics = app.state.metrics
    totals = Totals(run_dir / "metrics", "supervisor")
    context = multiprocessing.get_context("spawn")
    ready = context.Value(ctypes.c_int, 0)
    # The singletons (and the store) first: a worker starts on a migrated, seeded store.
    async with app.router.lifespan_context(app):
        if stop.is_set():
            return
        sock = _listen(settings.http.host, settings.http.port)
        plan = _Plan(worker_settings(settings, demo), 0, run_dir, os.getpid())
        pool = _Pool(context, plan, count, sock, ready)
        log.info(
            "serving http://%s:%s with %d workers (supervisor pid %d)",
            settings.http.host, settings.http.port, count, os.getpid(),
        )  # fmt: skip
        try:
            pool.start()
            while not stop.is_set():
                ready.value = 1 if _singletons_up(metrics) else 0
                pool.replace_dead()
                if settings.metrics.enabled:
                    # No refresh(): the workers read the pending dead letters at scrape time.
                    totals.write(metrics.own_exposition())
                _write_ingest(run_dir, metrics.telemetry)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), _TICK)
        finally:
            ready.value = 0
            log.info("stopping %d workers", count)
            await asyncio.to_thread(pool.stop, settings.http.shutdown_timeout_s + 5.0)
            sock.close()
    # Leaving the lifespan stopped the singletons, then the store (the embedded server last).


def _write_ingest(run_dir: Path, telemetry: Telemetry | None) -> None:
    # The supervisor's ingest figures, for the workers' ingestStatus (read_ingest).
    if telemetry is None or telemetry.ingest is None:
        return
    figures = {
        "counters": dataclasses.asdict(telemetry.pipeline.counters),
        "connected": telemetry.connected,
        "error": telemetry.ingest.error,
    }
    part = run_dir / "ingest.part"
    part.write_text(json.dumps(figures), encoding="utf-8")
    part.replace(run_dir / "ingest.json")


def read_ingest(run_dir: Path) -> IngestFigures | None:
    """The supervisor's ingest as it last wrote it; None before it has (or without ingest)."""
    from hub.telemetry import IngestFigures
    from ingest.model import Counters

    try:
        figures = json.loads((run_dir / "ingest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return IngestFigures(
        counters=Counters(**figures["counters"]),
        connected=bool(figures["connected"]),
        error=figures["error"],
    )


def _singletons_up(metrics: Metrics) -> bool:
    telemetry = metrics.telemetry
    return telemetry is None or telemetry.ingest is None or telemetry.ingest_running


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on an accepted connection only when the
    # socket says TCP (its proto), and without it Nagle and delayed ACKs held each small
    # answer about 45 ms (p50 52 ms against 3.6 ms for one worker).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Pool:
    """The worker processes, one per slot; a slot whose process exits gets a new one."""

    def __init__(
        self,
        context: multiprocessing.context.SpawnContext,
        plan: _Plan,
        count: int,
        sock: socket.socket,
        ready: Synchronized[int],
    ) -> None:
        self._context = context
        self._plan = plan
        self._sock = sock
        self._ready = ready
        self._slots: list[SpawnProcess | None] = [None] * count
        self._started = [0.0] * count
        self.replaced = 0

    def start(self) -> None:
        for index in range(len(self._slots)):
            self._spawn(index)

    def _spawn(self, index: int) -> None:
        plan = _Plan(self._plan.settings, index, self._plan.run_dir, self._plan.parent)
        process = self._context.Process(
            target=_worker_main,
            args=(plan, self._sock, self._ready),
            name=f"hub-worker-{index}",
        )
        process.start()
        self._slots[index] = process
        self._started[index] = time.monotonic()
        log.info("worker %d started (pid %s)", index, process.pid)

    def replace_dead(self) -> None:
        for index, process in enumerate(self._slots):
            if process is None or process.exitcode is None:
                continue
            if time.monotonic() - self._started[index] < _RESTART_EVERY_S:
                continue  # dying at once: the next tick starts it, not a tight loop
            log.error(
                "worker %d (pid %s) exited with code %s; starting another",
                index, process.pid, process.exitcode,
            )  # fmt: skip
            process.close()
            # Its figures left with it (a counter reset, as any restarted process).
            Totals(self._plan.run_dir / "metrics", f"worker-{index}").forget()
            self.replaced += 1
            self._spawn(index)

    def stop(self, timeout_s: float) -> None:
        """SIGTERM to every worker (each finishes its requests, up to the graceful timeout),
        then SIGKILL to one still running at ``timeout_s``."""
        running = [p for p in self._slots if p is not None and p.exitcode is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout_s
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.error("worker pid %s did not stop in %.0f s: killed", process.pid, timeout_s)
                process.kill()
                process.join()
            log.info("worker pid %s stopped (code %s)", process.pid, process.exitcode)


def _die_with_parent(parent: int) -> None:
    # A supervisor killed with SIGKILL cannot stop its workers: the kernel does (SIGTERM).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _worker_main(plan: _Plan, sock: socket.socket, ready: Synchronized[int]) -> None:
    _die_with_parent(plan.parent)
    settings = plan.settings
    from hub.logs import configure

    configure(settings.log_level.value, settings.log_format.value)
    import uvicorn

    from hub.app import create_app

    app = create_app(settings, worker=True)
    metrics: Metrics = app.state.metrics
    totals = Totals(plan.run_dir / "metrics", f"worker-{plan.index}")
    if settings.metrics.enabled:
        metrics.aggregate = totals
    config = uvicorn.Config(
        Tagged(app, plan.index, ready, settings, functools.partial(read_ingest, plan.run_dir)),
        log_level=settings.log_level.value.lower(),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=settings.http.shutdown_timeout_s,
    )
    server = uvicorn.Server(config)
    # uvicorn stops gracefully, then raises the signal again: this handler makes that exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)

    async def main() -> None:
        async def write_figures() -> None:
            while True:
                totals.write(metrics.own_exposition())
                await asyncio.sleep(_TICK)

        task = asyncio.create_task(write_figures()) if settings.metrics.enabled else None
        try:
            await server.serve(sockets=[sock])
        finally:
            if task is not None:
                task.cancel()
            totals.forget()

    asyncio.run(main())


class Tagged:
    """A worker's app: every response names the worker (``Hub-Worker: <slot>``), and /readyz
    answers 503 while the supervisor's singletons are not up."""

    def __init__(
        self,
        app: Starlette,
        index: int,
        ready: Synchronized[int],
        settings: Settings,
        ingest: Callable[[], IngestFigures | None],
    ) -> None:
        self.app = app
        self.tag = str(index).encode()
        self.ready = ready
        self.settings = settings
        self.ingest = ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._started(send))
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = [*message.get("headers", []), (HEADER, self.tag)]
                message = {**message, "headers": headers}
            await send(message)

        if scope["type"] == "http" and scope["path"] == "/readyz" and not self.ready.value:
            from starlette.requests import Request
            from starlette.responses import JSONResponse

            from hub.lifecycle import readyz_for

            body = {"status": "unavailable", "singletons": "not running; see the supervisor's log"}
            full = JSONResponse(body, status_code=503)
            await readyz_for(Request(scope), self.settings, full)(scope, receive, tagged)
            return
        await self.app(scope, receive, tagged)

    def _started(self, send: Send) -> Send:
        async def started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                # Telemetry is open now, and no request has been accepted yet: ingestStatus
                # reports the supervisor's ingest from the first request on.
                telemetry = self.app.state.metrics.telemetry
                if telemetry is not None:
                    telemetry.ingest_elsewhere = self.ingest
            await send(message)

        return started


class Totals:
    """One process's figures in a file of the run directory, and the hub's: every process's
    samples summed (a counter, a histogram bucket, a gauge of things such as subscribers or
    CPU seconds), or their maximum where a sum means nothing (timestamps, a figure every
    process reads from the same store)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.path = directory / f"{name}.prom"

    def write(self, text: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        part = self.path.with_suffix(".part")
        part.write_bytes(text)
        part.replace(self.path)  # a reader sees the old file or the new one, never half

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __call__(self, own: bytes) -> bytes:
        self.write(own)
        texts = []
        for path in sorted(self.directory.glob("*.prom")):
            with contextlib.suppress(FileNotFoundError):
                texts.append(path.read_text(encoding="utf-8"))
        return merge(texts)


# Figures every process reads from the same place, or facts: the largest, not the sum.
_LARGEST = frozenset(
    {
        "hub_dead_letters_pending",
        "hub_broker_messages_stored",
        "hub_broker_sessions_disconnected",
        "process_max_fds",
        "process_start_time_seconds",
        "python_info",
    }
)


def _largest(sample: str) -> bool:
    return sample in _LARGEST or sample.endswith(("_created", "_timestamp_seconds"))


def merge(texts: Iterable[str]) -> bytes:
    """Prometheus text expositions combined into one (see ``Totals``)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import Metric
    from prometheus_client.parser import text_string_to_metric_families

    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            kept = families.setdefault(
                family.name, Metric(family.name, family.documentation, family.type)
            )
            if kept.type != family.type:
                continue
            samples = values.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                old = samples.get(key)
                if old is None:
                    samples[key] = sample.value
                elif _largest(sample.name):
                    samples[key] = max(old, sample.value)
                else:
                    samples[key] = old + sample.value
    for name, family in families.items():
        for (sample_name, labels), value in values.get(name, {}).items():
            family.add_sample(sample_name, dict(labels), value)

    class _Merged:
        def collect(self) -> Iterator[Metric]:
            return iter(families.values())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged())
    return generate_latest(registry)


__all__ = ["HEADER", "Tagged", "Totals", "merge", "serve", "usable_cores", "worker_count"]
