"""``GraphStore`` on FalkorDB: the embedded server (falkordblite) or a FalkorDB server over TCP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as redis_asyncio
import redis.exceptions as redis_errors
from falkordb.asyncio import FalkorDB
from falkordb.asyncio.query_result import QueryResult
from falkordb.exceptions import SchemaVersionMismatchException
from falkordb.helpers import stringify_param_value

from graph_schema import falkordb_reply
from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect, FulltextIndex, RangeIndex, SchemaElement, UniqueKey
from graph_schema.errors import GraphQueryError, GraphUnavailable, InvalidInput
from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.store import GraphStore, Params, Row, Step, check_params

_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    ConnectionError,
    OSError,
)
log = logging.getLogger(__name__)

_EMPTY_GRAPH = "empty key"
_RO_QUERY = "GRAPH.RO_QUERY"  # falkordb.asyncio.graph.RO_QUERY_CMD
# How long a snapshot waits for Redis's background save to finish (one forked child at a time).
_FORK_WAIT_S = 300.0
# A crashed embedded server is restarted at most this often, so a crash loop cannot spin.
_RESTART_INTERVAL_S = 2.0
# FalkorDB (module 4.22.1, falkordblite 0.11.0) now and then loses a GRAPH.COPY: the client
# stays blocked for ever, with no forked child at work and no copy being written, while the
# next GRAPH.COPY succeeds at once (seen once in a CI run: a 1-node graph, blocked 8 minutes).
# A copy with neither for this long is abandoned and asked again, at most _COPY_ATTEMPTS times.
_COPY_STALL_S = 30.0
_COPY_POLL_S = 1.0
_COPY_ATTEMPTS = 3


class FalkorDBStore(GraphStore):
    """FalkorDB through ``falkordb.asyncio``.

    Transactions are Redis ``MULTI``/``EXEC`` blocks: the statements run back to back with no
    other client in between, and each statement is atomic. Redis has no rollback, so if a later
    statement in the block fails at run time the earlier ones stay applied; the hub's write paths
    are idempotent (MERGE) so a retry converges.
    """

    dialect = Dialect.FALKORDB

    def __init__(
        self,
        *,
        graph: str = "hub",
        server: EmbeddedServer | None = None,
        socket_path: Path | None = None,
        host: str = "localhost",
        port: int = 6379,
        password: str | None = None,
        username: str | None = None,
        query_timeout_ms: int = 30_000,
        socket_timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_connections: int = 16,
    ) -> None:
        super().__init__()
        self._graph_name = graph
        self._server = server
        # A running hub's embedded server, used as a client (doctor, export while serving).
        self._socket_path = server.socket_path if server is not None else socket_path
        self._host, self._port = host, port
        self._password, self._username = password, username
        self._query_timeout_ms = query_timeout_ms
        self._socket_timeout_s = socket_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._max_connections = max_connections
        self._db: FalkorDB | None = None
        self._last_restart = 0.0
        self._restart_lock = asyncio.Lock()
        self._closed = False
        self._borrowed = False  # a snapshot view uses its parent's connections

    @classmethod
    async def embedded(cls, data_dir: Path, **kwargs: Any) -> FalkorDBStore:
        server = EmbeddedServer(data_dir)
        await asyncio.to_thread(server.start)
        store = cls(server=server, **kwargs)
        try:
            await store.ping()
        except BaseException:
            # Nobody will own it: stop the server, or it outlives the hub holding the files.
            await asyncio.to_thread(server.stop)
            raise
        return store

    @classmethod
    async def attached(cls, data_dir: Path, **kwargs: Any) -> FalkorDBStore:
        """A client of the embedded server a running hub owns in ``data_dir``: it neither
        starts nor stops the server, and fails when that hub stops."""
        store = cls(socket_path=data_dir.resolve() / "falkordb.sock", **kwargs)
        await store.ping()
        return store

    def describe(self) -> str:
        if self._server is not None:
            return f"embedded FalkorDB at {self._server.data_dir} (graph {self._graph_name})"
        if self._socket_path is not None:
            return (
                f"embedded FalkorDB at {self._socket_path.parent} (graph {self._graph_name}), "
                "served by a running hub"
            )
        return f"FalkorDB at {self._host}:{self._port} (graph {self._graph_name})"

    def _connect(self) -> FalkorDB:
        # Our own client instead of FalkorDB(...): that constructor probes for cluster mode
        # with a *synchronous* socket (blocking the event loop, and outside our error
        # translation), and its pool fails fast with "Too many connections" when concurrent
        # requests outnumber it. A blocking pool makes the surplus wait for a free connection.
        if self._db is None:
            common: dict[str, Any] = {
                "max_connections": self._max_connections,
                "timeout": self._socket_timeout_s,  # wait this long for a free connection
                "socket_timeout": self._socket_timeout_s,
                "socket_connect_timeout": self._connect_timeout_s,
                "decode_responses": True,
            }
            if self._socket_path is not None:
                pool = redis_asyncio.BlockingConnectionPool(
                    connection_class=redis_asyncio.UnixDomainSocketConnection,
                    path=str(self._socket_path),
                    **common,
                )
            else:
                pool = redis_asyncio.BlockingConnectionPool(
                    host=self._host,
                    port=self._port,
                    password=self._password,
                    username=self._username,
                    **common,
                )
            db = FalkorDB.__new__(FalkorDB)
            conn = redis_asyncio.Redis(connection_pool=pool)
            # What FalkorDB.__init__ sets after its probe (falkordb 1.x).
            db.connection = conn
            db.flushdb = conn.flushdb
            db.execute_command = conn.execute_command
            self._db = db
        return self._db

    async def run(self, statement: Statement, params: Params | None = None) -> list[Row]:
        values = check_params(statement, params)
        self.stats.count(statement.name)
        graph = await self._graph()
        query = params_header(values) + statement.text
        try:
            if statement.write:
                result = await graph.query(query, timeout=self._query_timeout_ms)
            else:
                # ro_query's command, its reply read by falkordb_reply when it can (the
                # client's parser awaits a coroutine per value); anything else is parsed by
                # ro_query's own steps, schema refresh on a version mismatch included.
                response = await graph.execute_command(
                    _RO_QUERY, graph.name, query, "--compact", "timeout", self._query_timeout_ms
                )
                fast = falkordb_reply.rows(response)
                if fast is not None:
                    return fast
                result = QueryResult(graph)
                try:
                    await result.parse(response)
                except SchemaVersionMismatchException as exc:
                    await graph.schema.refresh(exc.version)
                    raise
        except redis_errors.ResponseError as exc:
            if _EMPTY_GRAPH in str(exc) and not statement.write:
                return []  # nothing written yet: the graph key does not exist, so no rows
            self.stats.errors += 1
            if _BAD_PARAMETER in str(exc) and _has_nul(values):
                # FalkorDB's client sends parameters as a text header its C parser reads, so a
                # NUL character ends the value early. It is the caller's input, not our fault.
                raise InvalidInput("text values may not contain the NUL character (\\0)") from exc
            raise GraphQueryError(str(exc), statement=statement.name) from exc
        except _UNAVAILABLE as exc:
            self.stats.errors += 1
            raise await self._unavailable(exc) from exc
        return _rows(result)

    async def run_in_transaction(self, steps: Sequence[Step]) -> list[list[Row]]:
        graph = await self._graph()
        self.stats.count("transaction")
        pipe = self._connect().connection.pipeline(transaction=True)
        for statement, params in steps:
            values = check_params(statement, params)
            query = params_header(values) + statement.text
            pipe.execute_command(
                "GRAPH.QUERY",
                self._graph_name,
                query,
                "--compact",
                "timeout",
                self._query_timeout_ms,
            )
        try:
            responses = await pipe.execute()
        except redis_errors.ResponseError as exc:
            self.stats.errors += 1
            raise GraphQueryError(str(exc), statement="transaction") from exc
        except _UNAVAILABLE as exc:
            self.stats.errors += 1
            raise await self._unavailable(exc) from exc
        out: list[list[Row]] = []
        for response in responses:
            result = QueryResult(graph)
            await result.parse(response)
            out.append(_rows(result))
        return out

    async def ensure_schema(self, element: SchemaElement) -> bool:
        existing = await self._existing_indexes()
        match element:
            case RangeIndex(label=label, prop=prop) | UniqueKey(label=label, prop=prop):
                created = False
                if "RANGE" not in existing.get((label, prop), ()):
                    await self.run(_index_statement(self, RangeIndex(label, prop)))
                    created = True
                if isinstance(element, UniqueKey):
                    created = await self._ensure_unique(label, prop) or created
                return created
            case FulltextIndex(label=label, props=props):
                if all("FULLTEXT" in existing.get((label, p), ()) for p in props):
                    return False
                await self.run(_index_statement(self, element))
                return True
        return False

    async def _existing_indexes(self) -> dict[tuple[str, str], set[str]]:
        rows = await self.run(_LIST_INDEXES)
        found: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            for prop, kinds in (row["types"] or {}).items():
                found.setdefault((row["label"], prop), set()).update(kinds)
        return found

    async def _ensure_unique(self, label: str, prop: str) -> bool:
        self.stats.count("schema.constraint")
        client = self._connect().connection
        try:
            await client.execute_command(
                "GRAPH.CONSTRAINT",
                "CREATE",
                self._graph_name,
                "UNIQUE",
                "NODE",
                label,
                "PROPERTIES",
                1,
                prop,
            )
        except redis_errors.ResponseError as exc:
            if "already exists" in str(exc).lower():
                return False
            raise GraphQueryError(str(exc), statement=f"constraint {label}.{prop}") from exc
        except _UNAVAILABLE as exc:
            raise await self._unavailable(exc) from exc
        return True

    async def wait_until_indexed(self, timeout_s: float) -> int:
        # After loading its AOF, FalkorDB rebuilds indexes in a background thread (about 1.5 s
        # for the hubei-scale graph); until then db.indexes() says UNDER CONSTRUCTION.
        deadline = time.monotonic() + timeout_s
        first: int | None = None
        while True:
            rows = await self.run(_INDEX_STATUS)
            building = [r["label"] for r in rows if r["status"] != "OPERATIONAL"]
            first = len(building) if first is None else first
            if not building:
                return first
            if time.monotonic() > deadline:
                raise GraphUnavailable(
                    f"indexes still building after {timeout_s:.0f} s: {', '.join(building)}"
                )
            await asyncio.sleep(0.1)

    async def ping(self) -> None:
        await self._graph()
        try:
            await self._connect().connection.ping()
        except _UNAVAILABLE as exc:
            raise await self._unavailable(exc) from exc

    async def _graph(self) -> Any:
        if self._closed:
            raise GraphUnavailable(f"{self.describe()} is closed")
        if self._server is not None and self._server.exit_code() is not None:
            await self._revive()
        return self._connect().select_graph(self._graph_name)

    async def _unavailable(self, exc: BaseException) -> GraphUnavailable:
        if self._server is not None:
            code = self._server.exit_code()
            if code is not None:
                return GraphUnavailable(
                    f"embedded FalkorDB server (pid {self._server.pid}) exited with code {code}: "
                    f"{self._server.log_tail()}"
                )
        return GraphUnavailable(f"{self.describe()} is unreachable: {exc}")

    async def _revive(self) -> None:
        # The embedded server died (killed, OOM): report it, and start it again at most every
        # couple of seconds so the hub recovers without a restart.
        assert self._server is not None
        async with self._restart_lock:
            if self._server.exit_code() is None:
                return
            now = time.monotonic()
            if now - self._last_restart < _RESTART_INTERVAL_S:
                raise GraphUnavailable(
                    f"embedded FalkorDB server stopped (exit {self._server.exit_code()}); "
                    "restarting"
                )
            self._last_restart = now
            await self._drop_connections()
            try:
                await asyncio.to_thread(self._server.restart)
            except OSError as exc:
                raise GraphUnavailable(f"could not restart embedded FalkorDB: {exc}") from exc

    async def _drop_connections(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.connection.aclose()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[FalkorDBStore]:
        """A point-in-time copy of the graph to read at leisure: ``GRAPH.COPY`` runs as one
        command, so no write lands halfway through it. The copy shares this store's
        connections and is deleted on exit; it costs as much memory as the graph while it
        lives."""
        connection = self._connect().connection
        lost: list[str] = []
        # GRAPH.COPY forks, and Redis runs one child at a time: while a background save or
        # AOF rewrite runs (after a bulk load, say) it fails with "could not fork"; wait.
        deadline = time.monotonic() + _FORK_WAIT_S
        while True:
            name = f"{self._graph_name}__snapshot_{secrets.token_hex(6)}"
            try:
                if await self._copy(connection, name):
                    break
                lost.append(name)
                if len(lost) >= _COPY_ATTEMPTS:
                    await self._forget(connection, lost)
                    raise GraphUnavailable(
                        f"FalkorDB lost GRAPH.COPY of {self._graph_name!r} {len(lost)} times "
                        f"(blocked with no copy under way for {_COPY_STALL_S:.0f} s each)"
                    )
                log.warning("GRAPH.COPY of %r was lost by the server; asking again",
                            self._graph_name)  # fmt: skip
            except redis_errors.ResponseError as exc:
                text = str(exc)
                if "fork" in text and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    continue
                if _EMPTY_GRAPH not in text.lower() and "doesn't exist" not in text:
                    raise GraphQueryError(text, statement="GRAPH.COPY") from exc
                name = self._graph_name  # nothing written yet: the empty graph is its own copy
                break
            except _UNAVAILABLE as exc:
                raise await self._unavailable(exc) from exc
        view = FalkorDBStore(graph=name, query_timeout_ms=self._query_timeout_ms)
        view._db = self._db
        view._borrowed = True
        try:
            yield view
        finally:
            # A lost copy may still be written late: delete it too.
            await self._forget(connection, [*lost, name] if name != self._graph_name else lost)

    async def _copy(self, connection: Any, name: str) -> bool:
        """Run GRAPH.COPY into ``name``; False when the server lost it (blocked, while for
        _COPY_STALL_S no forked child ran and ``name`` did not appear)."""
        copy = asyncio.ensure_future(
            connection.execute_command("GRAPH.COPY", self._graph_name, name)
        )
        stalled_since: float | None = None
        try:
            while True:
                done, _ = await asyncio.wait({copy}, timeout=_COPY_POLL_S)
                if done:
                    copy.result()
                    return True
                persistence = await connection.info("persistence")
                if persistence.get("module_fork_in_progress") or await connection.exists(name):
                    stalled_since = None
                    continue
                now = time.monotonic()
                stalled_since = now if stalled_since is None else stalled_since
                if now - stalled_since >= _COPY_STALL_S:
                    return False
        finally:
            if not copy.done():
                copy.cancel()  # redis-py drops the connection: the server unblocks it
                with contextlib.suppress(asyncio.CancelledError, *_UNAVAILABLE):
                    await copy

    async def _forget(self, connection: Any, names: Sequence[str]) -> None:
        for name in names:
            with contextlib.suppress(*_UNAVAILABLE, redis_errors.ResponseError):
                await connection.execute_command("GRAPH.DELETE", name)

    async def close(self) -> None:
        self._closed = True
        if self._borrowed:
            return
        await self._drop_connections()
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)


def _index_statement(store: FalkorDBStore, element: SchemaElement) -> Statement:
    statement = store.rules.schema_statement(element)
    assert statement is not None
    return statement


_LIST_INDEXES = Statement(
    "schema.list_indexes",
    "CALL db.indexes() YIELD label, properties, types RETURN label, properties, types",
)


_INDEX_STATUS = Statement(
    "schema.index_status", "CALL db.indexes() YIELD label, status RETURN label, status"
)


_BAD_PARAMETER = "Failed to parse query parameter"


def params_header(params: dict[str, Any]) -> str:
    """The ``CYPHER name=value ...`` header that carries a statement's parameters, exactly as
    ``falkordb``'s client spells it (``Graph._build_params_header``; a test compares them).
    A bulk import's rows are hundreds of thousands of values; this spells them in about two
    thirds of the client's time (22 against 34 ms for 5,000 rows of four properties): leaves
    are spelled in place instead of through a call each with a chain of ``isinstance``."""
    if not params:
        return ""
    return "CYPHER " + "".join(f"{_name(k)}={_literal(v)} " for k, v in params.items())


def _name(key: Any) -> str:
    if not isinstance(key, str) or key == "" or "`" in key:
        raise ValueError(f"{key!r} cannot be a Cypher parameter or map key")
    return f"`{key}`"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return "null"
    if kind is list or kind is tuple:
        return "[" + ",".join([_literal(v) for v in value]) + "]"
    if kind is dict:
        parts = []
        for key, item in value.items():
            if type(key) is not str or key == "" or "`" in key:
                _name(key)  # raises
            kind = type(item)
            if kind is str:
                parts.append(f'`{key}`:"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"')
            elif kind is int or kind is float:
                parts.append(f"`{key}`:{item}")
            else:
                parts.append(f"`{key}`:{_literal(item)}")
        return "{" + ",".join(parts) + "}"
    return str(stringify_param_value(value))  # bools, str and dict subclasses, bytes: the client's


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) or _has_nul(k) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _rows(result: Any) -> list[Row]:
    header = [column[1] if isinstance(column, list) else column for column in result.header]
    return [dict(zip(header, values, strict=True)) for values in result.result_set]
