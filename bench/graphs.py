"""The graph stores a benchmark runs on (``python -m bench --graph falkordb|neo4j|both``).

FalkorDB is the embedded one under a data directory, as ``hub serve`` runs it by default. Neo4j
is a real Neo4j 5.26 server the benchmark starts itself (``tests.neo4j``, the launcher under
``tools/neo4j-server``) in a temporary directory, sized for a benchmark rather than for the
test suite: the full JIT (C1 and C2) and a page cache that holds the whole Hubei-scale graph.
With ``both`` a benchmark loads the same data into each and measures them in one run, so the
Neo4j ÷ FalkorDB ratios it prints are side by side on the same machine load.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hub.settings import Settings, load_settings

if TYPE_CHECKING:
    from tests.neo4j import Neo4jProcess

FALKORDB = "falkordb"
NEO4J = "neo4j"
CHOICES = {"falkordb": (FALKORDB,), "neo4j": (NEO4J,), "both": (FALKORDB, NEO4J)}
# The Neo4j JVM of a benchmark: 2 GiB of heap and a 512 MiB page cache (the Hubei-scale store
# is about 300 MB on disk); the parallel collector with its threads capped at the two cores.
NEO4J_HEAP = "2g"
NEO4J_PAGECACHE_MB = 512
NEO4J_JVM_FLAGS = ("-XX:+UseParallelGC", "-XX:ParallelGCThreads=2")

# The benchmark's load generator is one caller with one key: the hub is told so, through its own
# settings, as an operator would raise them for a trusted batch client (the defaults, 50/s
# sustained and 8 in flight per key, would answer most of a window with 429).
LOAD_GENERATOR = {
    "HUB_HTTP_RATE_PER_S": "100000",
    "HUB_HTTP_RATE_BURST": "1000000",
    "HUB_HTTP_CONCURRENCY": "64",
}

_selected: tuple[str, ...] = (FALKORDB,)


def select(choice: str) -> None:
    """Set the stores for this run: ``falkordb`` (default), ``neo4j`` or ``both``."""
    global _selected
    if choice not in CHOICES:
        raise ValueError(f"--graph must be one of {', '.join(CHOICES)}, not {choice!r}")
    _selected = CHOICES[choice]


def selected() -> tuple[str, ...]:
    return _selected


_lent: Neo4jProcess | None = None


@contextlib.contextmanager
def lend_neo4j(server: Neo4jProcess) -> Iterator[None]:
    """Quick runs inside the test suite use the suite's running Neo4j server instead of
    starting one of their own (a JVM start is most of a quick Neo4j benchmark's CPU). The
    lender hands over an emptied database and treats it as dirty afterwards."""
    global _lent
    _lent = server
    try:
        yield
    finally:
        _lent = None


def label(name: str) -> str:
    """What the figures call a store's own process."""
    return "FalkorDB" if name == FALKORDB else "Neo4j JVM"


@dataclass(slots=True)
class Graph:
    """One store a benchmark runs on: the settings a hub process opens it with (also as
    ``HUB_*`` variables, for a uvicorn subprocess) and, for Neo4j, the JVM's pid. FalkorDB's
    server is the serving process's own child: its pid is in ``<data_dir>/graph/falkordb.pid``."""

    name: str
    data_dir: Path
    env: dict[str, str]
    jvm_pid: int | None = None
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = load_settings(self.env)

    def prefix(self, graphs: Sequence[Graph]) -> str:
        """Figure names keep their old form on a FalkorDB-only run."""
        return "" if [g.name for g in graphs] == [FALKORDB] else f"{self.name} "

    def store_pid(self) -> int:
        if self.jvm_pid is not None:
            return self.jvm_pid
        return int((self.data_dir / "graph" / "falkordb.pid").read_text())


@contextlib.asynccontextmanager
async def open_graphs(
    root: Path, names: Sequence[str] | None = None, *, quick: bool = False
) -> AsyncIterator[list[Graph]]:
    """The selected stores under ``root``, a Neo4j server started for the run and stopped after:
    sized for a benchmark, or for a ``quick`` run as the test suite sizes it (its small heap,
    C1 only and the class archive: a third of the CPU to start)."""
    from tests.neo4j import Neo4jProcess

    graphs: list[Graph] = []
    async with contextlib.AsyncExitStack() as stack:
        for name in names or selected():
            data_dir = root / name
            data_dir.mkdir(parents=True, exist_ok=True)
            env = {"HUB_DATA_DIR": str(data_dir), "HUB_LOG_LEVEL": "WARNING", **LOAD_GENERATOR}
            if name == FALKORDB:
                graphs.append(Graph(name, data_dir, {**env, "HUB_GRAPH_URL": "embedded://"}))
                continue
            if quick and _lent is not None:
                env |= {
                    "HUB_GRAPH_URL": _lent.uri,
                    "HUB_GRAPH_USER": _lent.user,
                    "HUB_GRAPH_PASSWORD": _lent.password,
                }
                graphs.append(Graph(name, data_dir, env, jvm_pid=_lent.pid))
                continue
            server = (
                Neo4jProcess(root / "neo4j-server")
                if quick
                else Neo4jProcess(
                    root / "neo4j-server",
                    heap=NEO4J_HEAP,
                    pagecache_mb=NEO4J_PAGECACHE_MB,
                    jvm_flags=NEO4J_JVM_FLAGS,
                )
            )
            await asyncio.to_thread(server.start)
            stack.callback(server.stop)
            env |= {
                "HUB_GRAPH_URL": server.uri,
                "HUB_GRAPH_USER": server.user,
                "HUB_GRAPH_PASSWORD": server.password,
            }
            graphs.append(Graph(name, data_dir, env, jvm_pid=server.pid))
        yield graphs


def hub_env(graph: Graph) -> dict[str, str]:
    """This process's environment without its own ``HUB_*`` settings, plus ``graph``'s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | graph.env
