"""``GraphStore`` on Neo4j 5 through the official async driver (bolt, neo4j, +s schemes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import neo4j
import neo4j.exceptions as neo4j_errors

from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect, SchemaElement
from graph_schema.errors import GraphQueryError, GraphUnavailable
from graph_schema.store import GraphStore, Params, Row, Step, check_params

_UNAVAILABLE = (
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
    neo4j_errors.AuthError,
    neo4j_errors.DriverError,
    OSError,
)


class Neo4jStore(GraphStore):
    """Neo4j: autocommit for single statements, managed write transactions for several."""

    dialect = Dialect.NEO4J

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        max_pool_size: int = 50,
        acquisition_timeout_s: float = 30.0,
        query_timeout_s: float = 30.0,
    ) -> None:
        super().__init__()
        self._uri = uri
        self._database = database
        self._query_timeout_s = query_timeout_s
        auth = (user, password or "") if user is not None else None
        self._driver = neo4j.AsyncGraphDatabase.driver(
            uri,
            auth=auth,
            max_connection_pool_size=max_pool_size,
            connection_acquisition_timeout=acquisition_timeout_s,
            # The server annotates a statement naming a label or property no node has yet
            # ("label does not exist") and the driver logs each as a WARNING: on an empty or
            # young graph, most reads. Our statements are linted; the notes are noise.
            notifications_min_severity="OFF",
        )

    def describe(self) -> str:
        return f"Neo4j at {self._uri} (database {self._database or 'default'})"

    async def run(self, statement: Statement, params: Params | None = None) -> list[Row]:
        values = check_params(statement, params)
        self.stats.count(statement.name)
        query = neo4j.Query(statement.text, timeout=self._query_timeout_s)
        try:
            if statement.write:
                # A managed transaction: the driver retries a deadlock or a leader switch
                # (concurrent upserts of the same keys deadlock; see the store contract tests).
                records, _, _ = await self._driver.execute_query(
                    query, values, database_=self._database, routing_=neo4j.RoutingControl.WRITE
                )
                return [record.data() for record in records]
            return await self._read(query, values)
        except neo4j_errors.Neo4jError as exc:
            self.stats.errors += 1
            raise _translate(exc, statement.name) from exc
        except _UNAVAILABLE as exc:
            self.stats.errors += 1
            raise GraphUnavailable(f"{self.describe()} is unreachable: {exc}") from exc

    async def _read(self, query: neo4j.Query, values: Params) -> list[Row]:
        """A read as an auto-commit transaction: RUN and PULL go out together and the answer
        comes back in one exchange, where a managed transaction (``execute_query``) adds a
        COMMIT and a second exchange with the server for every statement (issue 25's profile:
        the hub paid it on every read). Causal consistency is kept through the driver's own
        bookmark manager, which ``execute_query`` writes use too; a retryable failure (a leader
        switch, a transient error) is asked again, as the managed path would."""
        for attempt in range(_READ_ATTEMPTS):
            try:
                async with self._driver.session(
                    database=self._database,
                    default_access_mode=neo4j.READ_ACCESS,
                    bookmark_manager=self._driver.execute_query_bookmark_manager,
                ) as session:
                    result = await session.run(query, dict(values))
                    return [record.data() async for record in result]
            except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
                if attempt + 1 == _READ_ATTEMPTS or not exc.is_retryable():
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def run_in_transaction(self, steps: Sequence[Step]) -> list[list[Row]]:
        checked = [(statement, check_params(statement, params)) for statement, params in steps]
        self.stats.count("transaction")

        # The same ceiling as a single statement's: without it a transaction waits for ever.
        @neo4j.unit_of_work(timeout=self._query_timeout_s)
        async def work(tx: neo4j.AsyncManagedTransaction) -> list[list[Row]]:
            out: list[list[Row]] = []
            for statement, values in checked:
                result = await tx.run(statement.text, values)
                out.append([record.data() async for record in result])
            return out

        try:
            async with self._driver.session(database=self._database) as session:
                return await session.execute_write(work)
        except neo4j_errors.Neo4jError as exc:
            self.stats.errors += 1
            raise _translate(exc, "transaction") from exc
        except _UNAVAILABLE as exc:
            self.stats.errors += 1
            raise GraphUnavailable(f"{self.describe()} is unreachable: {exc}") from exc

    async def ensure_schema(self, element: SchemaElement) -> bool:
        statement = self.rules.schema_statement(element)
        assert statement is not None  # every Neo4j schema element is Cypher DDL
        before = await self.run(_SCHEMA_NAMES, {"name": element.name})
        await self.run(statement)
        return not before

    async def wait_until_indexed(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        first: int | None = None
        while True:
            building = [row["name"] for row in await self.run(_INDEXES_NOT_ONLINE)]
            first = len(building) if first is None else first
            if not building:
                return first
            if time.monotonic() > deadline:
                raise GraphUnavailable(
                    f"indexes not online after {timeout_s:.0f} s: {', '.join(building)}"
                )
            await asyncio.sleep(0.2)

    async def ping(self) -> None:
        try:
            await self._driver.verify_connectivity()
        except _UNAVAILABLE as exc:
            raise GraphUnavailable(f"{self.describe()} is unreachable: {exc}") from exc
        except neo4j_errors.Neo4jError as exc:
            raise GraphUnavailable(f"{self.describe()} refused the connection: {exc}") from exc

    async def close(self) -> None:
        await self._driver.close()


# A read that fails retryably (SessionExpired, a TransientError) is asked this many times.
_READ_ATTEMPTS = 3
# A uniqueness constraint's backing index carries the constraint's name, so one SHOW suffices.
_SCHEMA_NAMES = Statement("schema.exists", "SHOW INDEXES YIELD name WHERE name = $name RETURN name")
_INDEXES_NOT_ONLINE = Statement(
    "schema.index_state",
    "SHOW INDEXES YIELD name, state WHERE state <> 'ONLINE' RETURN name, state",
)
# The adapter's own statements, for the catalog the Neo4j linter checks.
STATEMENTS = (_SCHEMA_NAMES, _INDEXES_NOT_ONLINE)


# Neo4j says "Node(5) already exists with label `Bank` and property `id` = 'b1'"; FalkorDB
# says "unique constraint violation on node of type Bank". Callers (and a rejected record's
# reason) see the same words from both.
_CONSTRAINT_FAILED = "Neo.ClientError.Schema.ConstraintValidationFailed"


def _translate(exc: neo4j_errors.Neo4jError, name: str) -> Exception:
    if isinstance(exc, neo4j_errors.TransientError | neo4j_errors.DatabaseUnavailable):
        return GraphUnavailable(f"{name}: {exc.message or exc}")
    message = str(exc.message or exc)
    if exc.code == _CONSTRAINT_FAILED:
        message = f"unique constraint violation: {message}"
    return GraphQueryError(message, statement=name)
