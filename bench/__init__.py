"""Benchmarks: ``python -m bench [name ...]`` runs them and prints figures (not pass/fail)."""

# Importing a benchmark module registers it, so the package imports every one: `python -m bench`
# offers what is registered.
from bench import (  # noqa: F401
    alerts,
    api,
    backup,
    camera_fleet,
    chains,
    ingest,
    ingest_shipped,
    load,
    peer_neo4j,
    probe,
    satellite,
    sensing,
    telemetry,
    vision,
)
