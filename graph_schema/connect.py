"""Open the graph store a URL names: embedded FalkorDB, a FalkorDB server, or Neo4j."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from graph_schema.errors import ConfigurationError
from graph_schema.store import GraphStore

NEO4J_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})
FALKORDB_SCHEMES = frozenset({"falkordb", "redis"})
EMBEDDED_SCHEME = "embedded"


def check_graph_url(url: str) -> str:
    """Raise ``ValueError`` naming what is wrong with a graph URL; return it unchanged."""
    scheme = urlsplit(url).scheme if "://" in url else url.rstrip(":")
    if scheme not in NEO4J_SCHEMES | FALKORDB_SCHEMES | {EMBEDDED_SCHEME}:
        raise ValueError(
            f"unsupported scheme {scheme!r}: use embedded://, falkordb://host:port/graph, "
            "bolt:// or neo4j://"
        )
    if scheme in NEO4J_SCHEMES | FALKORDB_SCHEMES and not urlsplit(url).hostname:
        raise ValueError(f"{url!r} needs a host")
    return url


async def open_graph_store(
    url: str,
    *,
    data_dir: Path,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    graph_name: str = "hub",
    pool_size: int = 16,
    query_timeout_s: float = 30.0,
    attach: bool = False,
) -> GraphStore:
    """Connect (and for ``embedded://`` start the server); the store answers ``ping``.

    With ``attach``, an embedded directory a running hub holds is used through that hub's
    server instead of refused (tools such as ``hub doctor`` and ``hub export``)."""
    check_graph_url(url)
    parts = urlsplit(url)
    scheme = parts.scheme if "://" in url else url.rstrip(":")
    if scheme == EMBEDDED_SCHEME:
        from graph_schema.falkordb_server import in_use
        from graph_schema.falkordb_store import FalkorDBStore

        path = Path(unquote(parts.path)) if parts.path not in ("", "/") else data_dir / "graph"
        if attach and in_use(path):
            return await FalkorDBStore.attached(
                path,
                graph=graph_name,
                query_timeout_ms=int(query_timeout_s * 1000),
                max_connections=pool_size,
            )
        return await FalkorDBStore.embedded(
            path,
            graph=graph_name,
            query_timeout_ms=int(query_timeout_s * 1000),
            max_connections=pool_size,
        )
    user = unquote(parts.username) if parts.username else user
    password = unquote(parts.password) if parts.password else password
    if scheme in FALKORDB_SCHEMES:
        from graph_schema.falkordb_store import FalkorDBStore

        falkor = FalkorDBStore(
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            username=user,
            password=password,
            graph=parts.path.strip("/") or graph_name,
            query_timeout_ms=int(query_timeout_s * 1000),
            max_connections=pool_size,
        )
        await falkor.ping()
        return falkor
    from graph_schema.neo4j_store import Neo4jStore

    if user is None and password is not None:
        raise ConfigurationError("a Neo4j password needs a user (HUB_GRAPH_USER)")
    plain = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    neo = Neo4jStore(
        plain.geturl(),
        user=user,
        password=password,
        database=database or (parts.path.strip("/") or None),
        max_pool_size=pool_size,
        query_timeout_s=query_timeout_s,
    )
    await neo.ping()
    return neo
