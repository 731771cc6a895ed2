"""Demo cameras fed from synthetic site videos, so ``hub demo`` shows camera observations
without any outside footage: one busy site (machines and workers), one still site, one idle
site at night (dark) and one frozen camera, each a looping clip the hub's camera poller reads.

Only cameras without a configuration are given one, so an operator's edits survive restarts.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import cv2

from graph_schema.model import SPECS, validate
from graph_schema.statements.entities import fetch_existing
from graph_schema.statements.monitoring import SENSORS_OF_KIND
from graph_schema.store import GraphStore
from graph_schema.writer import upsert
from vision.synthetic import CLIPS, clip

log = logging.getLogger(__name__)
FPS = 5.0


def write_clip(path: Path, kind: str, *, seconds: float = 20.0) -> Path:
    """Write one demo clip as an MJPEG AVI (every OpenCV build decodes it)."""
    frames = clip(kind, seconds=seconds, fps=FPS, seed=len(kind))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.avi")
    size = (frames[0].shape[1], frames[0].shape[0])
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"MJPG"), FPS, size)
    for frame in frames:
        writer.write(frame)
    writer.release()
    tmp.replace(path)
    return path


async def configure(graph: GraphStore, data_dir: Path) -> list[str]:
    """Give the first cameras of sites under construction a demo clip; return their ids."""
    rows = await graph.run(SENSORS_OF_KIND, {"kinds": ["camera"]})
    # One camera per site, from different sites, in a stable order.
    chosen: dict[str, str] = {}
    for row in rows:
        if row["stage"] == "construction" and row["project_code"] not in chosen:
            chosen[row["project_code"]] = row["id"]
        if len(chosen) == len(CLIPS):
            break
    ids = list(chosen.values())
    if not ids:
        return []
    found = await graph.run(fetch_existing(SPECS["sensor"]), {"keys": ids})
    records = []
    for row, kind in zip(sorted(found, key=lambda r: ids.index(r["key"])), CLIPS, strict=False):
        props = dict(row["props"])
        if props.get("camera"):
            continue
        path = data_dir.resolve() / "demo-cameras" / f"{kind}.avi"
        if not path.is_file():
            await asyncio.to_thread(write_clip, path, kind)
        props["project_code"] = row["project_code"][0]
        props["camera"] = {"url": str(path), "fps": 2, "interval_s": 60, "persons": kind == "busy"}
        records.append(validate("sensor", props))
    if records:
        await upsert(graph, "sensor", records)
        log.info("demo cameras: %s", ", ".join(r.key() for r in records))
    return [r.key() for r in records]
