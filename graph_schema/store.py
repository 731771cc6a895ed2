"""The ``GraphStore`` port: the whole of what the hub asks of a graph database."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_schema.cypher import Statement
from graph_schema.dialect import RULES, Dialect, DialectRules, SchemaElement
from graph_schema.errors import UNPORTABLE, InvalidInput, UnstorableText, unstorable_value

Row = dict[str, Any]
Params = Mapping[str, Any]
Step = tuple[Statement, Params]


@dataclass
class StoreStats:
    """Round trips to the store, counted so tests can prove batching bounds."""

    round_trips: int = 0
    errors: int = 0
    by_statement: Counter[str] = field(default_factory=Counter)

    def count(self, name: str) -> None:
        self.round_trips += 1
        self.by_statement[name] += 1


class GraphStore(ABC):
    """A graph database that runs parameterized Cypher.

    ``run`` sends one statement and returns its rows as dicts keyed by the RETURN names.
    ``run_in_transaction`` sends several statements that commit together or not at all (see the
    adapter for the store's exact guarantee). Every call is one round trip in ``stats``. Errors
    arrive as ``GraphUnavailable`` (cannot reach the store) or ``GraphQueryError`` (the store
    refused the statement); no library exception leaks out.
    """

    dialect: Dialect

    def __init__(self) -> None:
        self.stats = StoreStats()

    @property
    def rules(self) -> DialectRules:
        return RULES[self.dialect]

    @abstractmethod
    async def run(self, statement: Statement, params: Params | None = None) -> list[Row]:
        """Run one statement and return its rows."""

    @abstractmethod
    async def run_in_transaction(self, steps: Sequence[Step]) -> list[list[Row]]:
        """Run several statements as one transaction; returns each statement's rows."""

    @abstractmethod
    async def ensure_schema(self, element: SchemaElement) -> bool:
        """Create an index or uniqueness rule if missing; ``True`` when it was created."""

    @abstractmethod
    async def wait_until_indexed(self, timeout_s: float) -> int:
        """Wait until every index serves queries; return how many were still building.

        Stores build indexes in the background after a restart, and until then a full-text
        search silently finds nothing. Raise ``GraphUnavailable`` after ``timeout_s``."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``GraphUnavailable`` unless the store answers."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections (and stop an embedded server)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for logs: no secrets."""


def check_params(statement: Statement, params: Params | None) -> dict[str, Any]:
    """Fail early, and clearly, when a statement's parameters are not all supplied."""
    given = dict(params or {})
    missing = statement.params - given.keys()
    if missing:
        raise ValueError(f"{statement.name}: missing parameters {sorted(missing)}")
    for name, value in given.items():
        problem = unstorable_value(value)
        if problem is not None:
            where = f"{statement.name}: parameter {name}: {problem.message}"
            if problem.code == UNPORTABLE:
                raise TypeError(where)
            error = UnstorableText if problem.code == UnstorableText.code else InvalidInput
            raise error(where)
    return given
