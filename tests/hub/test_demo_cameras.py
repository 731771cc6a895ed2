"""The demo's cameras: each clip shows what it claims (checked through the real source and
analyser), and ``configure`` gives one camera per site under construction a clip, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import SPECS, CameraConfig, validate
from graph_schema.statements.entities import fetch_existing
from hub.bulk import import_records
from hub.demo import cameras
from tests.connectors.test_camera import analyse, series
from tests.hub.test_monitoring import A, B, _seed
from vision.health import CameraHealth


@pytest.mark.parametrize(
    ("kind", "active", "health"),
    [
        ("busy", True, CameraHealth.OK),
        ("idle", False, CameraHealth.OK),
        ("night", False, CameraHealth.DARK),
        ("frozen", False, CameraHealth.FROZEN),
    ],
)
def test_each_clip_shows_what_it_claims(
    tmp_path: Path, kind: str, active: bool, health: CameraHealth
) -> None:
    video = cameras.write_clip(tmp_path / f"{kind}.avi", kind, seconds=30)
    readings = analyse(video, CameraConfig(url=str(video), fps=2, interval_s=10))
    fractions = [v for _, v in series(readings, "active_fraction")]
    if active:
        # The first window holds the warm-up: motion counts only once a track has lasted three
        # frames, so its first frames are quiet. After it, the machines work all the time.
        assert fractions[0] > 0.6 and min(fractions[1:]) > 0.9, fractions
    else:
        assert max(fractions) == 0.0, fractions
    assert series(readings, "camera_health")[-1][1] == health


@pytest.mark.anyio
async def test_configure_gives_one_camera_per_site_a_clip_once(tmp_path: Path) -> None:
    await _seed(tmp_path / "graph")
    graph = await FalkorDBStore.embedded(tmp_path / "graph")
    try:
        cams = [
            {"id": f"cam-{p[-3:]}-{n}", "kind": "camera", "project_code": p, "name": f"{p} {n}"}
            for p in (A, B)
            for n in (1, 2)
        ]
        await import_records(graph, "sensor", [validate("sensor", c) for c in cams])
        configured = await cameras.configure(graph, tmp_path / "data")
        assert configured == ["cam-001-1", "cam-002-1"]
        rows = await graph.run(fetch_existing(SPECS["sensor"]), {"keys": configured})
        for row in rows:
            config = CameraConfig.model_validate_json(row["props"]["camera"])
            assert Path(config.url).is_file() and row["props"]["name"]  # name kept
        assert await cameras.configure(graph, tmp_path / "data") == []  # already configured
    finally:
        await graph.close()
