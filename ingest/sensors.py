"""The sensor registry: which sensor ids exist, their kind and the project they monitor.

The graph is the source of truth (``(:Sensor {id, kind})-[:MONITORS]->(:Project)``).
``GraphSensors`` asks it in one statement per batch of unknown ids and caches answers: known
sensors for a while, unknown ones briefly, so a sensor registered later is picked up soon and a
dead-letter replay (``fresh=True``) sees it at once. ``ids`` lists every registered sensor: a
partitioned worker subscribes to its share of their topics (ingest/mqtt.py).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from graph_schema.model import SPECS
from graph_schema.statements.entities import export_page, fetch_existing
from graph_schema.store import GraphStore
from ingest.model import SensorInfo


class SensorRegistry(Protocol):
    async def resolve(
        self, ids: Collection[str], *, fresh: bool = False
    ) -> dict[str, SensorInfo]: ...

    async def ids(self) -> list[str]: ...


class GraphSensors:
    """Sensors read from the graph store, cached."""

    def __init__(
        self, graph: GraphStore, *, ttl_s: float = 300.0, unknown_ttl_s: float = 10.0
    ) -> None:
        self._graph = graph
        self._ttl = ttl_s
        self._unknown_ttl = unknown_ttl_s
        self._cache: dict[str, tuple[float, SensorInfo | None]] = {}

    async def ids(self, page: int = 5000) -> list[str]:
        """Every registered sensor id, in pages (keyset, stable while sensors are added); the
        answers also refresh the cache."""
        out: list[str] = []
        after = ""
        while True:
            rows = await self._graph.run(
                export_page(SPECS["sensor"]), {"after": after, "limit": page}
            )
            now = time.monotonic()
            for row in rows:
                info = _info(row)
                self._cache[info.id] = (now + self._ttl, info)
                out.append(info.id)
            if len(rows) < page:
                return out
            after = out[-1]

    async def resolve(self, ids: Collection[str], *, fresh: bool = False) -> dict[str, SensorInfo]:
        now = time.monotonic()
        out: dict[str, SensorInfo] = {}
        missing: list[str] = []
        for sensor_id in ids:
            hit = None if fresh else self._cache.get(sensor_id)
            if hit is not None and hit[0] > now:
                if hit[1] is not None:
                    out[sensor_id] = hit[1]
            else:
                missing.append(sensor_id)
        if missing:
            rows = await self._graph.run(fetch_existing(SPECS["sensor"]), {"keys": missing})
            found = {}
            for row in rows:
                info = _info(row)
                found[info.id] = info
            for sensor_id in missing:
                hit_info = found.get(sensor_id)
                ttl = self._ttl if hit_info else self._unknown_ttl
                self._cache[sensor_id] = (now + ttl, hit_info)
                if hit_info is not None:
                    out[sensor_id] = hit_info
        return out


def _info(row: Mapping[str, Any]) -> SensorInfo:
    projects = row.get("project_code") or []
    return SensorInfo(row["key"], row["props"]["kind"], projects[0] if projects else None)


class StaticSensors:
    """A fixed set of sensors, e.g. from a file for a worker that runs without the graph."""

    def __init__(self, sensors: Mapping[str, SensorInfo]) -> None:
        self._sensors = dict(sensors)

    def add(self, info: SensorInfo) -> None:
        self._sensors[info.id] = info

    async def resolve(self, ids: Collection[str], *, fresh: bool = False) -> dict[str, SensorInfo]:
        return {i: self._sensors[i] for i in ids if i in self._sensors}

    async def ids(self) -> list[str]:
        return list(self._sensors)
