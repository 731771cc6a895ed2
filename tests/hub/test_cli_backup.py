"""`hub export DIR` and `hub restore DIR` as commands: beside a running embedded hub, into a
fresh data directory, with `hub counts` the same on both sides."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import pytest

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from hub.cli import main
from hub.settings import load_settings
from hub.telemetry import open_telemetry
from ingest.model import Message
from ingest.store import Bucket, SeriesPoint, TableCounts
from tests.hub.test_monitoring import SALT, _seed, reading


async def _readings(data: Path) -> None:
    """Telemetry beside the seeded graph: six meter readings, a gate pass, a dead letter."""
    graph = await FalkorDBStore.embedded(data / "graph")
    settings = load_settings({"HUB_DATA_DIR": str(data), "HUB_TELEMETRY_LABOR_SALT": SALT})
    telemetry = await open_telemetry(settings, graph, ingest_mqtt=False)
    now = int(time.time() * 1000)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    messages = [
        Message("hub/v1/power/pwr-mon-a", reading(start + dt.timedelta(minutes=15 * i), i), now)
        for i in range(6)
    ]
    gate = {"ts": start.isoformat(), "worker_id": "badge-1", "direction": "in"}
    messages.append(Message("hub/v1/labor/lab-mon-a", json.dumps(gate).encode(), now))
    messages.append(Message("hub/v1/power/pwr-mon-a", b"not json", now))
    try:
        await telemetry.pipeline.process(messages)
    finally:
        await telemetry.close()
        await graph.close()


async def _telemetry_view(data: Path) -> tuple[TableCounts, list[SeriesPoint]]:
    from hub.backup import open_telemetry_store

    store = await open_telemetry_store(load_settings({"HUB_DATA_DIR": str(data)}))
    try:
        end = dt.datetime.now(dt.UTC)
        series = await store.series(start=end - dt.timedelta(days=1), end=end, bucket=Bucket.HOUR)
        return await store.counts(), series
    finally:
        await store.close()


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
    asyncio.run(_readings(source))
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
    assert manifest["telemetry"]["tables"]["readings"] == 6
    assert manifest["telemetry"]["tables"]["dead_letters"] == 1
    # Exporting over a backup is refused: a backup is never overwritten.
    assert main(["export", str(out)]) == 1

    _use(monkeypatch, target)
    # API keys come back only when asked for: a backup must not bring its own admin key.
    assert main(["restore", "--with-keys", str(out)]) == 0
    assert _counts(capsys) == before
    readings = asyncio.run(_telemetry_view(target))
    assert readings == asyncio.run(_telemetry_view(source))
    counts, series = readings
    assert (counts.readings, counts.attendance, counts.dead_letters_pending) == (6, 1, 1)
    assert sum(p.count for p in series) == 6
    assert main(["restore", str(out)]) == 1  # the store is not empty any more
    assert "not empty" in capsys.readouterr().err
    assert main(["import", str(out)]) == 1
    assert "hub restore" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("regions.csv", b"\xff\xfe not utf-8\n", "utf-8"),
        ("regions.jsonl", b'{"code": "330000", "name": "\\u6d59"\n', "JSON"),
        ("regions.csv", None, "No such file"),
    ],
)
def test_a_bad_file_is_one_clean_error_line_not_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    says: str,
) -> None:
    _use(monkeypatch, tmp_path / "data")
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    capsys.readouterr()
    code = main(["import", str(path)])
    out = capsys.readouterr()
    assert code in (1, 3), out
    assert "Traceback" not in out.out + out.err
    said = " ".join((out.out + out.err).split())
    if code == 1:
        assert "error (BAD_INPUT)" in said
        assert says.lower() in said.lower(), said


def test_keys_are_revoked_beside_a_running_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hub keys revoke` goes through the running hub's embedded server: no downtime."""
    data = tmp_path / "data"
    key = asyncio.run(_seed(data / "graph"))
    key_id = key.split("_")[1]
    _use(monkeypatch, data)
    running = EmbeddedServer(data / "graph")  # what `hub serve` holds while it runs
    running.start()
    try:
        capsys.readouterr()
        assert main(["keys", "revoke", key_id]) == 0
        said = capsys.readouterr()
        assert f"key {key_id} revoked" in said.out + said.err
        assert main(["keys", "list"]) == 0
        said = capsys.readouterr()
        listed = said.out + said.err
    finally:
        running.stop()
    assert key_id in listed and "20" in listed.split(key_id, 1)[1].splitlines()[0]
