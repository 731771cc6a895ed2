"""`hub export DIR` and `hub restore DIR` as commands: beside a running embedded hub, into a
fresh data directory, with `hub counts` the same on both sides."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from graph_schema.falkordb_server import EmbeddedServer
from hub.cli import main
from tests.hub.test_monitoring import _seed


def _use(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("HUB_CAMERA_ENABLED", "false")
    data.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(data.parent)  # no stray .env


def _counts(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["counts"]) == 0
    return capsys.readouterr().out


def test_export_beside_a_running_hub_then_restore_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target, out = tmp_path / "a" / "data", tmp_path / "b" / "data", tmp_path / "backup"
    asyncio.run(_seed(source / "graph"))
    _use(monkeypatch, source)
    before = _counts(capsys)
    running = EmbeddedServer(source / "graph")  # what `hub serve` holds while it runs
    running.start()
    try:
        assert main(["export", str(out)]) == 0  # attaches to the running server
    finally:
        running.stop()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["graph"]["consistent"] is True
    assert manifest["graph"]["nodes"]["ApiKey"] == 1
    # Exporting over a backup is refused: a backup is never overwritten.
    assert main(["export", str(out)]) == 1

    _use(monkeypatch, target)
    assert main(["restore", str(out)]) == 0
    assert _counts(capsys) == before
    assert main(["restore", str(out)]) == 1  # the store is not empty any more
    assert "not empty" in capsys.readouterr().err
    assert main(["import", str(out)]) == 1
    assert "hub restore" in capsys.readouterr().err
