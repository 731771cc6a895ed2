"""Labor: worker ids hashed with the salt, personal data dropped, distinct daily headcount."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import feeds, labor
from ingest.model import Message, Reason, SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore

pytestmark = pytest.mark.anyio

SALT = b"labor-salt"
P1, P2 = "2024-330102-04-01-00001X", "2024-330102-04-01-00002Y"
GATES = {
    "lab-g1": SensorInfo("lab-g1", "labor", P1),
    "lab-g2": SensorInfo("lab-g2", "labor", P1),
    "lab-g3": SensorInfo("lab-g3", "labor", P2),
}
ID_NUMBER = "330102199001011234"
NAME = "张建国"
D1, D2 = dt.date(2025, 3, 3), dt.date(2025, 3, 4)


def test_worker_ids_are_hmac_sha256_with_the_salt() -> None:
    expected = hmac.new(SALT, b"W-0042", hashlib.sha256).hexdigest()
    assert labor.hash_worker(" w-0042 ", SALT) == expected
    assert labor.hash_worker("W-0042", b"other-salt") != expected
    with pytest.raises(ValueError, match="salt"):
        labor.hash_worker("W-0042", b"")


@pytest.fixture
async def pipeline(tmp_path: Path) -> AsyncIterator[Pipeline]:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    yield Pipeline(store, StaticSensors(GATES), feeds.decoders(labor_salt=SALT))
    await store.close()


def _files(store_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in store_path.parent.glob("t.db*"))


async def test_headcount_counts_each_worker_once_per_project_and_day(pipeline: Pipeline) -> None:
    def event(gate: str, worker: str, direction: str, day: dt.date, hour: int) -> Message:
        ts = dt.datetime.combine(day, dt.time(hour), dt.timezone(dt.timedelta(hours=8)))
        body = {"ts": ts.isoformat(), "worker_id": worker, "direction": direction}
        return Message(f"hub/v1/labor/{gate}", json.dumps(body).encode(), 0)

    messages = [
        event("lab-g1", "W1", "in", D1, 7),
        event("lab-g2", "W1", "out", D1, 12),  # another gate of the same project
        event("lab-g1", "W1", "in", D1, 13),
        event("lab-g1", "W2", "in", D1, 8),
        event("lab-g3", "W1", "in", D1, 9),  # the same person on another project
        event("lab-g1", "W2", "in", D2, 8),
        event("lab-g1", "W2", "in", D2, 8),  # redelivered
    ]
    result = await pipeline.process(messages)
    assert (len(result.attendance_stored), result.attendance_duplicates) == (6, 1)
    counts = await labor.headcount(pipeline.store, [P1, P2], D1, D2)
    assert {c.project_code: c.days for c in counts} == {P1: {D1: 2, D2: 1}, P2: {D1: 1}}


CSV = f"""项目代码,闸机编号,工号,姓名,身份证号,方向,时间
{P1},lab-g1,{ID_NUMBER},{NAME},{ID_NUMBER},进,2025-03-03 07:58:12
{P1},lab-g1,W-7,李四,330102198502023456,出,2025-03-03 17:02:00
{P1},lab-g1,W-8,王五,330102198502023457,sideways,2025-03-03 17:03:00
{P1},lab-gX,W-9,赵六,330102198502023458,进,2025-03-03 17:04:00
"""


async def test_exports_keep_no_names_or_id_numbers(pipeline: Pipeline, tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "done"
    inbox.mkdir()
    (inbox / "gate-2025-03-03.csv").write_text(CSV, encoding="utf-8")
    reports = await labor.import_directory(pipeline, inbox, SALT, archive=archive)
    report = reports["gate-2025-03-03.csv"]
    assert (report.rows, report.stored) == (4, 2)
    assert sorted(code for _, code, _ in report.rejected) == [
        Reason.INVALID,
        Reason.UNKNOWN_SENSOR,
    ]
    assert not list(inbox.iterdir()) and (archive / "gate-2025-03-03.csv").exists()
    store = pipeline.store
    assert isinstance(store, SQLiteTelemetryStore)
    on_disk = _files(store.path)
    for personal in (NAME, "李四", "王五", "赵六", ID_NUMBER, "330102198502023458", "W-8"):
        assert personal.encode() not in on_disk, personal
    assert labor.hash_worker(ID_NUMBER, SALT).encode() in on_disk
    letters = await store.dead_letters()
    assert letters and all(NAME.encode() not in d.payload for d in letters)
    assert all("worker_id" not in json.loads(d.payload) for d in letters)


async def test_mqtt_dead_letters_are_redacted_too(pipeline: Pipeline) -> None:
    body = {"ts": "2025-03-03T08:00:00+08:00", "worker_id": "W-1", "name": NAME, "direction": "up"}
    await pipeline.process([Message("hub/v1/labor/lab-g1", json.dumps(body).encode(), 0)])
    [letter] = await pipeline.store.dead_letters()
    kept = json.loads(letter.payload)
    assert kept == [{"ts": body["ts"], "direction": "up", "worker": labor.hash_worker("W-1", SALT)}]


async def test_pull_from_an_http_endpoint(pipeline: Pipeline) -> None:
    asked: list[str] = []

    async def export(request: Request) -> Response:
        asked.append(request.query_params["date"])
        return JSONResponse(
            [
                {"gate_id": "lab-g3", "worker_id": "W-1", "name": NAME, "direction": "in",
                 "timestamp": "2025-03-04T08:00:00+08:00"},
                {"gate_id": "lab-g3", "worker_id": "W-2", "id_number": ID_NUMBER,
                 "direction": "in", "timestamp": "2025-03-04 08:01:00"},
            ]
        )  # fmt: skip

    app = Starlette(routes=[Route("/attendance", export)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vendor") as client:
        report = await labor.pull_http(pipeline, client, "/attendance", D2, SALT)
    assert asked == ["2025-03-04"]
    assert (report.rows, report.stored, report.rejected) == (2, 2, [])
    [count] = await labor.headcount(pipeline.store, [P2], D2, D2)
    assert count.days == {D2: 2}
