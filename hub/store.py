"""Opening the configured graph store, migrated and indexed: what the app and every CLI command
do first. Its own module, so that a command such as ``hub keys list`` opens the store without
importing the app (the GraphQL schema, the camera and satellite stacks)."""

from __future__ import annotations

import logging

from graph_schema import GraphStore, migrate, open_graph_store
from hub.settings import Settings

log = logging.getLogger(__name__)


async def open_store(
    settings: Settings, *, attach: bool = False, migrated: bool = False
) -> GraphStore:
    """The graph store, migrated and with its indexes built. ``attach`` uses the embedded
    server of a hub already running on the data dir (tools such as ``hub export``).
    ``migrated``: another process (the supervisor of ``hub serve --workers``) has migrated
    it and waited for its indexes, so this one only connects."""
    g = settings.graph
    store = await open_graph_store(
        g.url,
        attach=attach,
        data_dir=settings.data_dir,
        user=g.user,
        password=g.password.get_secret_value() if g.password else None,
        database=g.database,
        graph_name=g.name,
        pool_size=g.pool_size,
        query_timeout_s=g.timeout_s,
    )
    if migrated:
        return store
    try:
        report = await migrate(store)
        if report.to_version != report.from_version:
            log.info("graph schema migrated %s -> %s", report.from_version, report.to_version)
        # Serve only once indexes answer: a full-text search on a rebuilding index finds nothing.
        building = await store.wait_until_indexed(timeout_s=max(g.timeout_s * 10, 120))
        if building:
            log.info("waited for %d indexes to finish building", building)
    except BaseException:
        await store.close()  # an embedded server must not outlive a start that failed
        raise
    return store
