"""The ``hub`` command: serve, demo, seed, import, import-stats, import-land,
import-indicators, import-power, import-labor, export, migrate, counts, schema."""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graph_schema import GraphStore, HubError
from graph_schema.model import LOAD_ORDER
from graph_schema.writer import Outcome
from hub.logs import configure as configure_logging
from hub.roles import Role
from hub.settings import Settings, load_settings

# What a command needs beyond this list it imports itself, when it runs: the app (GraphQL
# schema, camera and satellite stacks), the telemetry stack and the importers cost seconds of
# start-up that `hub keys list` or `hub counts` should not pay.
if TYPE_CHECKING:
    from rich.progress import Progress

    from hub.app import DemoFeeds
    from hub.promotion.statistics import StatsReport

console = Console(stderr=True)
log = logging.getLogger("hub")


# The banner of `hub demo`: a first query and a subscription to paste into GraphiQL
# (tests/hub/test_demo_banner.py runs both against the demo data).
DEMO_QUERY = (
    "{ industryChains(first: 5) { nodes { name segments(first: 10) { nodes { name tier } } } } }"
)
DEMO_SUBSCRIPTION = "subscription { monitoringFeed { ... on FeedReading { sensorId value } } }"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="E-Ledger Hub")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API on the configured store")
    _workers_option(serve)
    sub.add_parser(
        "ingest",
        help="run an ingest worker: MQTT in (HUB_MQTT_SHARED_GROUP splits the load), "
        "telemetry out, /healthz /readyz /metrics on HUB_HTTP_PORT; no GraphQL",
    )
    doctor = sub.add_parser(
        "doctor", help="check the configured stores, the broker and the settings, in plain words"
    )
    doctor.add_argument(
        "--timeout", type=float, default=5.0, help="seconds each check may take (default 5)"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")

    demo = sub.add_parser("demo", help="seed demo data on first run, then serve")
    demo.add_argument("--scale", choices=["demo", "hubei"], default="demo")
    demo.add_argument(
        "--broker-port",
        type=int,
        default=None,
        help="port of the embedded MQTT broker (default: HUB_MQTT_URL's, 1883); "
        "ignored when HUB_MQTT_URL is set, since the demo then uses that broker",
    )
    _workers_option(demo)

    seed = sub.add_parser("seed", help="load generated demo data into the store")
    seed.add_argument("--scale", choices=["demo", "hubei"], default="demo")
    seed.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")

    imp = sub.add_parser("import", help="import CSV, JSON Lines and GeoJSON entity files")
    imp.add_argument("paths", nargs="+", type=Path, help="files or directories")
    imp.add_argument(
        "--rejects",
        type=Path,
        default=Path("rejects.jsonl"),
        help="where rejected rows and their reasons go",
    )

    stats = sub.add_parser(
        "import-stats", help="import chain statistics (CSV, JSON or JSON Lines), idempotently"
    )
    stats.add_argument("paths", nargs="+", type=Path, help="statistics files")
    stats.add_argument(
        "--rejects", type=Path, default=None, help="also write rejected rows as JSON Lines here"
    )

    lands = sub.add_parser(
        "import-land",
        help="land-node completions (CSV, JSON Lines) and red-line layers (GeoJSON)",
    )
    lands.add_argument("paths", nargs="+", type=Path, help="completion or layer files")
    lands.add_argument(
        "--kind",
        choices=["permanent_basic_farmland", "ecological_protection"],
        help="kind of the GeoJSON layers (their ids are the file names)",
    )
    lands.add_argument("--name", default=None, help="layer name (default: the file name)")

    power = sub.add_parser(
        "import-power", help="import a utility's historical meter CSV exports (telemetry)"
    )
    power.add_argument("paths", nargs="+", type=Path, help="CSV files")

    labor = sub.add_parser(
        "import-labor", help="import daily attendance exports from a directory or a URL"
    )
    source = labor.add_mutually_exclusive_group(required=True)
    source.add_argument("--dir", type=Path, help="import every *.csv and *.json in it")
    source.add_argument("--url", help="fetch URL?date=YYYY-MM-DD (CSV or JSON)")
    labor.add_argument("--date", type=_date, help="day to fetch with --url (default: yesterday)")
    labor.add_argument("--archive", type=Path, help="with --dir: move imported files here")

    indicators = sub.add_parser(
        "import-indicators",
        help="import indicator definitions, values or targets (CSV, JSON, JSON Lines)",
    )
    indicators.add_argument(
        "--kind",
        choices=["indicators", "values", "targets"],
        default="values",
        help="what the files hold (default: values)",
    )
    indicators.add_argument("paths", nargs="+", type=Path, help="indicator files")
    indicators.add_argument(
        "--rejects", type=Path, default=None, help="also write rejected rows as JSON Lines here"
    )

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r.value != "anonymous"]
    )
    create.add_argument("--bank", help="the bank a bank key is bound to (bank id)")
    create.add_argument("--name", help="who or what uses the key")
    life = create.add_mutually_exclusive_group()
    life.add_argument(
        "--expires-in",
        metavar="DURATION",
        help="the key expires this long from now: a number and h, d or w (e.g. 90d); "
        "refused with KEY_EXPIRED from then on (default: never expires)",
    )
    life.add_argument(
        "--expires",
        metavar="WHEN",
        help="the key expires at this date (2027-03-31: its start, UTC) or ISO date-time",
    )
    keys_sub.add_parser(
        "list", help="list keys with their expiry and state (never the keys themselves)"
    )
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")

    exp = sub.add_parser(
        "export",
        help="back up the whole graph (a snapshot) and the telemetry store into a new directory; "
        "with --entities, write entity files in the import formats instead",
    )
    exp.add_argument("directory", type=Path, help="a new or empty directory")
    exp.add_argument(
        "--entities", action="store_true", help="entity files (hub import formats), not a backup"
    )
    exp.add_argument(
        "--format", choices=["jsonl", "csv"], default="jsonl", help="with --entities: file format"
    )
    restore = sub.add_parser(
        "restore", help="restore a backup made by `hub export DIR` into empty stores"
    )
    restore.add_argument("directory", type=Path)
    restore.add_argument(
        "--with-keys",
        action="store_true",
        help="also restore the backup's API keys (by default they are left out: a backup "
        "must not be able to bring its own admin key; create new keys with `hub keys create`)",
    )

    sub.add_parser("migrate", help="apply graph schema migrations")
    sub.add_parser("counts", help="print node and relationship counts")
    sub.add_parser("schema", help="print the GraphQL schema (SDL) that clients generate from")
    return parser


def _workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes serving HTTP on one socket (default: HUB_HTTP_WORKERS, else one per "
        "usable core); ingest, the watch and the demo feeds run once, in the supervisor",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        # Before settings: the SDL depends only on the code, so `hub schema > schema.graphql`
        # works anywhere, without a store or a valid environment.
        return _schema()
    try:
        settings = load_settings()
    except HubError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    configure_logging(settings.log_level.value, settings.log_format.value)
    handlers: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "serve": _serve,
        "ingest": _ingest,
        "doctor": _doctor,
        "demo": _demo,
        "seed": lambda s, a: _with_store(s, lambda store: _seed(store, a.scale, a.seed, s)),
        "import": lambda s, a: _with_store(s, lambda store: _import(store, a, s)),
        "import-stats": lambda s, a: _with_store(s, lambda store: _import_stats(store, a, s)),
        "import-land": lambda s, a: _with_store(s, lambda store: _import_land(store, a)),
        "import-indicators": lambda s, a: _with_store(
            s, lambda store: _import_indicators(store, a, s)
        ),
        "export": _export_command,
        "restore": _restore,
        # Beside a running hub too: a key is revoked without downtime (the hub stops trusting
        # it within HUB_AUTH_CACHE_S, and closes its open WebSockets).
        "keys": lambda s, a: _with_store(s, lambda store: _keys(store, a), attach=True),
        "import-power": lambda s, a: _with_store(
            s, lambda store: _import_telemetry(store, a, s, b"")
        ),
        "import-labor": _import_labor,
        "migrate": lambda s, a: _with_store(s, _noop),
        "counts": lambda s, a: _with_store(s, _counts),
    }
    try:
        return handlers[args.command](settings, args)
    except HubError as exc:
        console.print(f"[red]error ({exc.code}):[/red] {exc}")
        return 1
    except (OSError, ValueError, csv.Error) as exc:
        # A file that cannot be read (missing, not UTF-8, not CSV or JSON, a symlinked
        # --rejects): one clear line, not a traceback; the traceback stays in the debug log.
        logging.getLogger(__name__).debug("%s failed", args.command, exc_info=True)
        console.print(f"[red]error (BAD_INPUT):[/red] {escape(str(exc))}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130


def _schema() -> int:
    from hub.api.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def _with_store[T](
    settings: Settings, work: Callable[[GraphStore], Awaitable[T]], *, attach: bool = False
) -> T:
    """``work`` on the configured store; ``attach``: through the embedded server of a hub
    already running on the data directory, if one is (else opened as usual)."""
    from hub.store import open_store

    async def run() -> T:
        store = await open_store(settings, attach=attach)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


async def _noop(store: GraphStore) -> int:
    from graph_schema.migrations import current_version

    # open_store has migrated: every start does, so `hub migrate` only reports.
    version = await current_version(store)
    console.print(f"graph schema version {version} (current) on {store.describe()}")
    return 0


async def _counts(store: GraphStore) -> int:
    from hub.bulk import graph_counts

    nodes, rels = await graph_counts(store)
    table = Table("kind", "name", "count")
    for label, n in sorted(nodes.items()):
        table.add_row("node", label, str(n))
    for rel, n in sorted(rels.items()):
        table.add_row("relationship", rel, str(n))
    Console().print(table)
    return 0


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summary_table(counts: dict[str, Any]) -> Table:
    table = Table("entity", *(o.value for o in Outcome), title="import summary")
    for entity in LOAD_ORDER:
        if entity in counts:
            table.add_row(entity, *(str(counts[entity][o]) for o in Outcome))
    return table


async def _seed(store: GraphStore, scale: str, seed: int, settings: Settings) -> int:
    from hub.seed import seed_demo

    with _progress() as progress:
        counts = await seed_demo(
            store, scale, seed=seed, batch_size=settings.graph.batch_size, progress=progress
        )
    console.print(_summary_table(counts))
    return 0


async def _import(store: GraphStore, args: argparse.Namespace, settings: Settings) -> int:
    from hub.backup import MANIFEST, BackupRefused
    from hub.bulk import import_files, order_files
    from hub.bulk.formats import read_rows

    for path in args.paths:
        if path.is_dir() and (path / MANIFEST).exists():
            raise BackupRefused(f"{path} is a backup made by `hub export`: `hub restore {path}`")

    files = order_files(args.paths)
    with _progress() as progress:
        tasks = {}
        for entity, path in files:
            total = sum(1 for _ in read_rows(path))
            tasks[path] = progress.add_task(f"{entity}", total=total)
        by_entity: dict[str, list[Any]] = {}
        for entity, path in files:
            by_entity.setdefault(entity, []).append(tasks[path])

        def advance(entity: str, n: int) -> None:
            for task in by_entity[entity]:
                if not progress.tasks[task].finished:
                    progress.advance(task, n)
                    return

        summary = await import_files(
            store,
            [p for _, p in files],
            rejects_path=args.rejects,
            batch_size=settings.graph.batch_size,
            progress=advance,
        )
    console.print(_summary_table(summary.counts))
    totals = ", ".join(f"{o.value} {summary.total(o)}" for o in Outcome)
    console.print(f"total: {totals}")
    if summary.rejects_path is not None:
        console.print(f"rejected rows and reasons: {summary.rejects_path}")
    return EXIT_REJECTED_ROWS if summary.total(Outcome.REJECTED) else 0


async def _import_stats(store: GraphStore, args: argparse.Namespace, settings: Settings) -> int:
    from hub.promotion.statistics import import_statistics

    report = await import_statistics(store, args.paths, batch_size=settings.graph.batch_size)
    return _row_report(report, args.rejects, "chain statistics")


async def _import_indicators(
    store: GraphStore, args: argparse.Namespace, settings: Settings
) -> int:
    from hub.promotion.indicators import import_files

    report = await import_files(store, args.kind, args.paths, batch_size=settings.graph.batch_size)
    return _row_report(report, args.rejects, f"indicator {args.kind}")


def _row_report(report: StatsReport, rejects: Path | None, what: str) -> int:
    """Each bad row as ``file:line: CODE field: reason``, optionally also as JSON Lines."""
    import json

    for bad in report.bad:
        console.print(str(bad), markup=False, highlight=False, soft_wrap=True)
    if rejects is not None and report.bad:
        from hub.bulk.transfer import open_rejects

        with open_rejects(rejects) as handle:
            for bad in report.bad:
                entry = {
                    "file": str(bad.path),
                    "line": bad.line,
                    "code": bad.code,
                    "field": bad.field,
                    "message": bad.message,
                }
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    totals = ", ".join(f"{o.value} {report.counts[o]}" for o in Outcome)
    console.print(f"{what}: {totals}")
    return EXIT_REJECTED_ROWS if report.bad else 0


async def _import_land(store: GraphStore, args: argparse.Namespace) -> int:
    from hub.clock import system_clock
    from hub.projects.land_import import import_land_files

    report = await import_land_files(
        store, args.paths, system_clock(), kind=args.kind, name=args.name
    )
    for bad in report.bad:
        console.print(str(bad), markup=False, highlight=False, soft_wrap=True)
    layers = ", ".join(report.layers) or "none"
    console.print(f"land nodes updated {report.completed}, layers imported: {layers}")
    return EXIT_REJECTED_ROWS if report.bad else 0


def _date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


# Exit status when every file was read but some rows were rejected (dead-lettered).
EXIT_REJECTED_ROWS = 3


def _import_labor(settings: Settings, args: argparse.Namespace) -> int:
    # Refused before the graph store is opened: nothing to import without the salt.
    if settings.telemetry.labor_salt is None:
        console.print("[red]set HUB_TELEMETRY_LABOR_SALT: worker ids are hashed with it[/red]")
        return 2
    salt = settings.telemetry.labor_salt.get_secret_value().encode()
    return _with_store(settings, lambda store: _import_telemetry(store, args, settings, salt))


async def _import_telemetry(
    store: GraphStore, args: argparse.Namespace, settings: Settings, salt: bytes
) -> int:
    """Power CSVs and labor exports (worker ids hashed with ``salt``) through the same
    pipeline as MQTT: validated against the graph's sensors, idempotent, bad rows
    dead-lettered with file and line."""
    import datetime as dt

    import httpx

    from connectors import labor, power
    from hub.telemetry import open_telemetry
    from ingest.imports import ImportReport

    telemetry = await open_telemetry(settings, store, ingest_mqtt=False)
    reports: dict[str, ImportReport] = {}
    try:
        pipeline = telemetry.pipeline
        if args.command == "import-power":
            for path in args.paths:
                reports[str(path)] = await power.import_csv(
                    pipeline, path, tz=settings.telemetry.timezone
                )
        elif args.dir is not None:
            reports = await labor.import_directory(pipeline, args.dir, salt, archive=args.archive)
        else:
            day = args.date or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
            async with httpx.AsyncClient(timeout=60) as client:
                reports[args.url] = await labor.pull_http(pipeline, client, args.url, day, salt)
    finally:
        await telemetry.close()
    table = Table("source", "rows", "stored", "duplicates", "rejected", title="telemetry import")
    for name, report in reports.items():
        table.add_row(
            name, str(report.rows), str(report.stored), str(report.duplicates),
            str(len(report.rejected)),
        )  # fmt: skip
    console.print(table)
    rejected = [r for report in reports.values() for r in report.rejected]
    for source, code, message in rejected[:50]:
        console.print(f"{source}: {code} {message}", markup=False, highlight=False)
    if len(rejected) > 50:
        console.print(f"... and {len(rejected) - 50} more: see deadLetters in GraphQL")
    return EXIT_REJECTED_ROWS if rejected else 0


async def _keys(store: GraphStore, args: argparse.Namespace) -> int:
    from hub.auth import create_key, expiry, list_keys, revoke_key

    now = dt.datetime.now(dt.UTC)
    if args.keys_command == "create":
        expires_at = expiry(expires_in=args.expires_in, expires=args.expires, now=now)
        key, info = await create_key(
            store,
            Role(args.role),
            name=args.name,
            bank_id=args.bank,
            expires_at=expires_at,
            clock=lambda: now,
        )
        until = f", expires {info.expires_at}" if info.expires_at else ", does not expire"
        console.print(
            f"created key {info.id} ({info.role.value}{until}); it is shown only this once:"
        )
        # The key alone on stdout, so scripts can capture it.
        sys.stdout.write(key + "\n")
        return 0
    if args.keys_command == "revoke":
        at = await revoke_key(store, args.key_id)
        console.print(f"key {args.key_id} revoked at {at}")
        return 0

    def minute(iso: str) -> str:
        return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")

    table = Table(
        "id", "name", "role", "bank", "created (UTC)", "expires (UTC)", "state", title="API keys"
    )
    for k in await list_keys(store):
        state = k.state(now)
        if k.revoked_at is not None:
            state = f"revoked {minute(k.revoked_at)}"
        table.add_row(
            k.id,
            k.name or "",
            k.role.value,
            k.bank_id or "",
            minute(k.created_at),
            minute(k.expires_at) if k.expires_at else "never",
            state,
        )
    out = Console()
    if not out.is_terminal:  # piped or captured: one line per key, not wrapped at 80 columns
        out = Console(width=160)
    out.print(table)
    return 0


# Exit status of an export whose graph moved while it was read (Neo4j: no snapshot reads).
EXIT_NOT_CONSISTENT = 3


def _export_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.entities:
        return _with_store(settings, lambda store: _export(store, args, settings))
    return asyncio.run(_backup(settings, args.directory))


async def _backup(settings: Settings, directory: Path) -> int:
    from hub import backup
    from hub.store import open_store

    backup.prepare(directory)
    store = await open_store(settings, attach=True)
    try:
        telemetry = await backup.open_telemetry_store(settings)
        try:
            content = await backup.export_backup(
                store,
                telemetry,
                directory,
                page_size=settings.graph.batch_size,
                signing_key=settings.backup.key,
            )
        finally:
            await telemetry.close()
    finally:
        await store.close()
    graph = content["graph"]
    table = Table("part", "kind", "count", title=f"backup in {directory}")
    for label, n in graph["nodes"].items():
        table.add_row("graph", label, str(n))
    for rel, n in graph["relationships"].items():
        table.add_row("graph", rel, str(n))
    for name, n in content["telemetry"]["tables"].items():
        table.add_row("telemetry", name, str(n))
    console.print(table)
    console.print(f"graph: {graph['consistency']}")
    if not graph["consistent"]:
        console.print("[red]the graph changed while it was read: not a consistent backup[/red]")
        return EXIT_NOT_CONSISTENT
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from hub import backup

    content = backup.read_manifest(args.directory)  # before any store is opened
    backup.verify_signature(args.directory, settings.backup.key)

    async def work(store: GraphStore) -> int:
        telemetry = await backup.open_telemetry_store(settings)
        try:
            nodes, rels, tables = await backup.restore_backup(
                store,
                telemetry,
                args.directory,
                batch_size=settings.graph.batch_size,
                signing_key=settings.backup.key,
                with_keys=args.with_keys,
            )
        finally:
            await telemetry.close()
        console.print(
            f"restored the backup of {content['created_at']} (graph schema version "
            f"{content['graph']['schema_version']}): {sum(nodes.values())} nodes, "
            f"{sum(rels.values())} relationships, {sum(tables.values())} telemetry rows"
        )
        return 0

    return _with_store(settings, work)


async def _export(store: GraphStore, args: argparse.Namespace, settings: Settings) -> int:
    from hub.bulk import export_files

    counts = await export_files(
        store, args.directory, fmt=f".{args.format}", page_size=settings.graph.batch_size
    )
    table = Table("entity", "records", title=f"exported to {args.directory}")
    for entity, n in counts.items():
        table.add_row(entity, str(n))
    console.print(table)
    return 0


def _serve(
    settings: Settings,
    args: argparse.Namespace,
    *,
    banner: str | None = None,
    demo: DemoFeeds | None = None,
) -> int:
    from hub.workers import worker_count

    requested = getattr(args, "workers", None)
    if requested is not None and requested < 1:
        raise ValueError(f"--workers must be at least 1, not {requested}")
    workers = worker_count(settings, requested)
    url = f"http://{settings.http.host}:{settings.http.port}/graphql"
    if workers > 1:
        from hub import workers as pool

        console.print(f"[bold green]GraphQL endpoint: {url} ({workers} workers)[/bold green]")
        if banner:
            console.print(banner)
        return pool.serve(settings, workers, demo=demo)
    from hub.app import create_app

    app = create_app(settings, demo=demo)
    console.print(f"[bold green]GraphQL endpoint: {url}[/bold green]")
    if banner:
        console.print(banner)
    _run_uvicorn(app, settings)
    return 0


def _run_uvicorn(app: Any, settings: Settings) -> None:
    import signal

    import uvicorn

    # uvicorn stops gracefully on SIGTERM, then raises the signal again with the handler it
    # found: with this one a completed graceful stop exits 0 (an orchestrator's or an
    # operator's stop is not a failure) instead of dying by the signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=settings.http.host,
        port=settings.http.port,
        log_level=settings.log_level.value.lower(),
        # Our logging as configured (text or JSON); hub.logs.RequestContext writes the access
        # lines, with the request id, instead of uvicorn.
        log_config=None,
        access_log=False,
        lifespan="on",
        # Open connections (a keep-alive client, a subscription) get this long to finish;
        # uvicorn's default is to wait for them forever.
        timeout_graceful_shutdown=settings.http.shutdown_timeout_s,
    )


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from hub.ingest_app import create_ingest_app

    mqtt = settings.mqtt
    group = f" in shared group {mqtt.shared_group}" if mqtt.shared_group else ""
    console.print(f"ingest worker: {mqtt.url} as {mqtt.client_id}{group}")
    _run_uvicorn(create_ingest_app(settings), settings)
    return 0


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from hub.doctor import diagnose, render

    findings = asyncio.run(diagnose(settings, timeout_s=args.timeout))
    if args.json:
        import json

        sys.stdout.write(json.dumps([f.as_dict() for f in findings], indent=2) + "\n")
    else:
        Console().print(render(findings))
    return 1 if any(f.failed for f in findings) else 0


def demo_salt(settings: Settings) -> bytes:
    """The labor salt: HUB_TELEMETRY_LABOR_SALT, else one the demo made and keeps in its data
    dir (readable by its owner only), so hashes stay comparable across restarts."""
    import secrets

    if settings.telemetry.labor_salt is not None:
        return settings.telemetry.labor_salt.get_secret_value().encode()
    path = settings.data_dir / "labor.salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="ascii")
    return path.read_text(encoding="ascii").strip().encode()


async def demo_keys(store: GraphStore, data_dir: Path) -> dict[str, str]:
    """One key per role for the demo, made on first start and kept in the data dir (readable
    by its owner only) so every start can print them. Demo keys only: real keys are shown once
    and never written anywhere."""
    import json

    from graph_schema.model import SPECS
    from graph_schema.statements.entities import export_page
    from hub.auth import create_key

    path = data_dir / "demo-keys.json"
    if path.exists():
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return kept
    banks = await store.run(export_page(SPECS["bank"]), {"after": "", "limit": 1})
    made: dict[str, str] = {}
    for role in Role:
        if role is Role.ANONYMOUS or (role is Role.BANK and not banks):
            continue
        bank = banks[0]["key"] if role is Role.BANK else None
        made[role.value], _ = await create_key(store, role, name="demo", bank_id=bank)
    path.touch(mode=0o600)
    path.write_text(json.dumps(made, indent=2), encoding="utf-8")
    return made


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from hub.app import DemoFeeds
    from hub.seed import is_seeded

    async def prepare(store: GraphStore) -> None:
        # In the serving process, on the store it serves (hub.app.DemoFeeds.prepare).
        if await is_seeded(store):
            console.print("demo data already present; not reseeding")
        else:
            await _seed(store, args.scale, 2026, settings)
        keys = await demo_keys(store, settings.data_dir)
        table = Table("role", "API key (Authorization: Bearer ...)", title="demo API keys")
        for role, key in keys.items():
            table.add_row(role, key)
        console.print(table)

    if "anonymous_role" not in settings.auth.model_fields_set:
        # The demo reads without a key (GraphiQL works at once); writes need one of the keys.
        auth = settings.auth.model_copy(update={"anonymous_role": Role.VIEWER})
        settings = settings.model_copy(update={"auth": auth})
    http = settings.http
    if not {"cors_origins", "cors_origin_regex"} & http.model_fields_set:
        # A front-end's dev server on this machine (any port) may call the demo from a browser.
        from hub.cors import LOOPBACK_ORIGINS

        http = http.model_copy(update={"cors_origin_regex": LOOPBACK_ORIGINS})
        settings = settings.model_copy(update={"http": http})
    broker = "url" not in settings.mqtt.model_fields_set
    if broker and args.broker_port is not None:
        url = f"mqtt://127.0.0.1:{args.broker_port}"
        settings = settings.model_copy(
            update={"mqtt": settings.mqtt.model_copy(update={"url": url})}
        )
    feeds = DemoFeeds(labor_salt=demo_salt(settings), embedded_broker=broker, prepare=prepare)
    where = "an embedded amqtt broker" if broker else settings.mqtt.url
    return _serve(
        settings,
        args,
        demo=feeds,
        banner=f"try: {DEMO_QUERY}\n"
        f"site feeds: simulated meters and gates publish to {where}; "
        f"subscribe with: {DEMO_SUBSCRIPTION}",
    )


if __name__ == "__main__":
    sys.exit(main())
