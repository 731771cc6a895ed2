"""What ``hub doctor`` asks a graph store about itself: which server it is, and which of its
indexes do not serve queries (still building, or failed). Read-only statements."""

from __future__ import annotations

from dataclasses import dataclass

from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect
from graph_schema.store import GraphStore


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The server's product name, version and edition (``Neo4j Kernel``, ``5.26.30``,
    ``community``)."""

    product: str
    version: str
    edition: str

    @property
    def major(self) -> int | None:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else None


@dataclass(frozen=True, slots=True)
class IndexState:
    """One index as the store reports it: ``online`` when it serves queries; ``state`` is the
    store's own word (Neo4j ONLINE, POPULATING, FAILED; FalkorDB OPERATIONAL, UNDER
    CONSTRUCTION); ``failure`` the store's reason for a failed one."""

    name: str
    state: str
    online: bool
    failed: bool
    failure: str = ""


_NEO4J_COMPONENTS = Statement(
    "health.components",
    "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition",
)
_NEO4J_INDEXES = Statement(
    "health.indexes",
    "SHOW INDEXES YIELD name, state, failureMessage "
    "RETURN name, state, failureMessage AS failure ORDER BY name",
)
_FALKORDB_INDEXES = Statement(
    "health.indexes",
    "CALL db.indexes() YIELD label, properties, status RETURN label, properties, status",
)


async def server_info(store: GraphStore) -> ServerInfo | None:
    """The Neo4j server's version; ``None`` for FalkorDB (its version is not asked in Cypher)."""
    if store.dialect is not Dialect.NEO4J:
        return None
    for row in await store.run(_NEO4J_COMPONENTS):
        versions = row.get("versions") or [""]
        return ServerInfo(str(row["name"]), str(versions[0]), str(row.get("edition") or ""))
    return None


async def index_states(store: GraphStore) -> list[IndexState]:
    """Every index of the store and whether it serves queries."""
    if store.dialect is Dialect.NEO4J:
        return [
            IndexState(
                name=str(row["name"]),
                state=str(row["state"]),
                online=row["state"] == "ONLINE",
                failed=row["state"] == "FAILED",
                failure=str(row.get("failure") or ""),
            )
            for row in await store.run(_NEO4J_INDEXES)
        ]
    return [
        IndexState(
            name=f"{row['label']}({', '.join(str(p) for p in row['properties'])})",
            state=str(row["status"]),
            online=row["status"] == "OPERATIONAL",
            failed=False,
        )
        for row in await store.run(_FALKORDB_INDEXES)
    ]


def catalog(dialect: Dialect) -> list[Statement]:
    if dialect is Dialect.NEO4J:
        return [_NEO4J_COMPONENTS, _NEO4J_INDEXES]
    return [_FALKORDB_INDEXES]
