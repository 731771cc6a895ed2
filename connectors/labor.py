"""Real-name attendance at site gates: MQTT events and daily CSV/JSON exports; daily headcount.

Personal data is minimised at the door. A worker's id (badge number, or the ID-card number some
gate systems send) is replaced by ``HMAC-SHA256(salt, id)`` before anything is stored or logged;
names, ID numbers, phone numbers and any field not listed here are dropped. A rejected payload is
kept as a dead letter only in that redacted form. Without the salt the hashes cannot be linked to
people, and with another salt they cannot be linked across deployments.

MQTT ``hub/v1/labor/<gate_id>``: ``{"ts": ISO-8601, "worker_id": "...", "direction": "in"|"out"}``,
or a list of them, or ``{"events": [...]}``. The project is the gate's, from the sensor registry.

Daily export (CSV with a header, or a JSON array of objects), one pass per row (Chinese headers
in brackets): ``gate_id (闸机编号)``, ``worker_id (工号)``, ``direction (方向: in/out, 进/出)``,
``timestamp (时间: ISO-8601 or local YYYY-MM-DD HH:MM:SS)``; ``project_code (项目代码)``,
``name (姓名)`` and ``id_number (身份证号)`` may be present and are ignored or dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from connectors.spec import DecoderOptions, FeedSpec, FusionRole, StaleLevel
from ingest.imports import ImportReport, import_rows, read_csv
from ingest.model import Attendance, Observation, Problem, Reason
from ingest.payloads import Decoded, Decoder, InvalidReading, check_time, parse_time
from ingest.pipeline import Pipeline
from ingest.rollups import zone
from ingest.store import DEFAULT_TZ, Headcount, TelemetryStore

KIND = "labor"
EXPORT_SCHEME = "labor-export"
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_DIRECTIONS = {"in": "in", "out": "out", "进": "in", "出": "out", "1": "in", "0": "out"}
_HEADERS = {
    "项目代码": "project_code",
    "闸机编号": "gate_id",
    "工号": "worker_id",
    "姓名": "name",
    "身份证号": "id_number",
    "方向": "direction",
    "时间": "timestamp",
}


def hash_worker(worker_id: str, salt: bytes) -> str:
    """The only form in which a worker's identity is kept."""
    if not salt:
        raise ValueError("the labor salt must not be empty")
    normalized = worker_id.strip().upper().encode()
    return hmac.new(salt, normalized, hashlib.sha256).hexdigest()


def _direction(value: Any) -> str:
    direction = _DIRECTIONS.get(str(value).strip().lower())
    if direction is None:
        raise InvalidReading(Reason.INVALID, f"direction {value!r} is not in|out")
    return direction


def redact_event(item: Any, salt: bytes) -> Any:
    """The event with its worker id hashed into ``worker`` and every other personal field gone."""
    if not isinstance(item, dict):
        return "<redacted>"
    out: dict[str, Any] = {}
    for key in ("ts", "timestamp", "direction", "gate_id", "sensor_id", "project_code", "tz"):
        if key in item:
            out[key] = item[key]
    if isinstance(item.get("worker"), str) and _HASH_RE.match(item["worker"]):
        out["worker"] = item["worker"]
    elif item.get("worker_id") not in (None, ""):
        out["worker"] = hash_worker(str(item["worker_id"]), salt)
    return out


class LaborOff:
    """Stands in for ``AttendanceDecoder`` when no salt is configured: every event is refused.

    Without a salt a worker id cannot be hashed, so nothing of the payload is kept: the dead
    letter records only that labor ingest is off. Such messages cannot be replayed; the gate
    system has to resend them once ``HUB_TELEMETRY_LABOR_SALT`` is set.
    """

    kind = KIND

    def redact(self, payload: bytes) -> bytes:
        return f"<labor payload of {len(payload)} bytes withheld: no salt to hash ids>".encode()

    def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Decoded:
        return [], [
            Problem(
                Reason.INVALID,
                "labor ingest is off: set HUB_TELEMETRY_LABOR_SALT so worker ids can be hashed",
            )
        ]


class AttendanceDecoder:
    """Attendance events from MQTT payloads or export rows, hashed before they leave here."""

    kind = KIND

    def __init__(
        self,
        salt: bytes,
        *,
        tz: str = DEFAULT_TZ,
        future_tolerance_s: float = 300.0,
        max_age_s: float | None = None,
    ) -> None:
        if not salt:
            raise ValueError("the labor salt must not be empty")
        self._salt = salt
        self._tz = zone(tz)
        self._future_ms = int(future_tolerance_s * 1000)
        self._max_age_ms = int(max_age_s * 1000) if max_age_s else None

    def redact(self, payload: bytes) -> bytes:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            return f"<undecodable labor payload of {len(payload)} bytes>".encode()
        if isinstance(data, dict) and "events" in data:
            data = data["events"]
        items = data if isinstance(data, list) else [data]
        return json.dumps([redact_event(i, self._salt) for i in items], ensure_ascii=False).encode()

    def __call__(self, payload: bytes, sensor_id: str | None, now_ms: int) -> Decoded:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError) as exc:
            return [], [Problem(Reason.UNDECODABLE, f"not JSON: {exc}")]
        if isinstance(data, dict) and "events" in data:
            data = data["events"]
        items = data if isinstance(data, list) else [data]
        out: list[Observation] = []
        problems: list[Problem] = []
        for item in items:
            try:
                out.append(self._event(item, sensor_id, now_ms))
            except InvalidReading as exc:
                problems.append(exc.problem)
        if not items:
            problems.append(Problem(Reason.UNDECODABLE, "no events"))
        return out, problems

    def _event(self, item: Any, sensor_id: str | None, now_ms: int) -> Attendance:
        if not isinstance(item, dict):
            raise InvalidReading(Reason.UNDECODABLE, "an attendance event must be an object")
        gate = item.get("gate_id") or item.get("sensor_id") or sensor_id
        if not isinstance(gate, str) or not gate.strip():
            raise InvalidReading(Reason.INVALID, "no gate_id")
        if sensor_id is not None and gate != sensor_id:
            raise InvalidReading(Reason.INVALID, f"gate_id {gate!r} differs from the topic's")
        if isinstance(item.get("worker"), str) and _HASH_RE.match(item["worker"]):
            worker = item["worker"]  # hashed already (export rows, redacted dead letters)
        elif item.get("worker_id") not in (None, ""):
            worker = hash_worker(str(item["worker_id"]), self._salt)
        else:
            raise InvalidReading(Reason.INVALID, "no worker_id")
        raw_ts = item.get("ts", item.get("timestamp"))
        if isinstance(raw_ts, str) and re.search(r"(Z|[+-]\d\d:?\d\d)$", raw_ts.strip()) is None:
            try:  # export files carry local time without an offset
                local = dt.datetime.fromisoformat(raw_ts.strip()).replace(tzinfo=self._tz)
            except ValueError:
                raise InvalidReading(
                    Reason.INVALID, f"timestamp {raw_ts!r} is not ISO-8601"
                ) from None
            ts = round(local.timestamp() * 1000)
        else:
            ts = parse_time(raw_ts)
        check_time(ts, now_ms, self._future_ms, self._max_age_ms)
        return Attendance(gate.strip(), ts, worker, _direction(item.get("direction")))


def export_rows(text: str, content_type: str, salt: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a daily export, already redacted: nothing personal goes further than this."""
    if "json" in content_type:
        data = json.loads(text)
        if isinstance(data, dict) and "events" in data:
            data = data["events"]
        if not isinstance(data, list):
            raise ValueError("a JSON export must be an array of events")
        rows = list(enumerate(data, start=1))
    else:
        rows = read_csv(text, _HEADERS)
    return [(line, redact_event(row, salt)) for line, row in rows]


async def import_export(
    pipeline: Pipeline, name: str, text: str, content_type: str, salt: bytes
) -> ImportReport:
    """Import one daily export (CSV or JSON text)."""
    return await import_rows(pipeline, EXPORT_SCHEME, name, export_rows(text, content_type, salt))


async def import_directory(
    pipeline: Pipeline, directory: Path, salt: bytes, *, archive: Path | None = None
) -> dict[str, ImportReport]:
    """Import every ``*.csv`` and ``*.json`` export in ``directory`` (idempotent: re-importing
    a file stores nothing new); move each imported file to ``archive`` when given."""
    reports: dict[str, ImportReport] = {}
    for path in sorted([*directory.glob("*.csv"), *directory.glob("*.json")]):
        kind = "application/json" if path.suffix == ".json" else "text/csv"
        reports[path.name] = await import_export(
            pipeline, path.name, path.read_text(encoding="utf-8"), kind, salt
        )
        if archive is not None:
            archive.mkdir(parents=True, exist_ok=True)
            path.rename(archive / path.name)
    return reports


async def pull_http(
    pipeline: Pipeline, client: httpx.AsyncClient, url: str, day: dt.date, salt: bytes
) -> ImportReport:
    """Fetch one day's export from ``url?date=YYYY-MM-DD`` (CSV or JSON by content type)."""
    response = await client.get(url, params={"date": day.isoformat()})
    response.raise_for_status()
    content_type = response.headers.get("content-type", "text/csv")
    return await import_export(
        pipeline, f"{url}?date={day.isoformat()}", response.text, content_type, salt
    )


@dataclass(frozen=True, slots=True)
class ProjectHeadcount:
    project_code: str
    days: dict[dt.date, int]


async def headcount(
    store: TelemetryStore, project_codes: Sequence[str], start: dt.date, end: dt.date
) -> list[ProjectHeadcount]:
    """Daily distinct workers per project over [start, end]."""
    rows: list[Headcount] = await store.headcount(start=start, end=end, project_codes=project_codes)
    days: dict[str, dict[dt.date, int]] = {code: {} for code in project_codes}
    for h in rows:
        days.setdefault(h.project_code, {})[h.day] = h.workers
    return [ProjectHeadcount(code, d) for code, d in days.items()]


def _decoders(o: DecoderOptions) -> dict[str, Decoder]:
    """Without a salt, labor messages are refused (``LaborOff``) rather than stored with
    unhashed or unhashable worker ids."""
    attendance: Decoder = (
        AttendanceDecoder(
            o.labor_salt, tz=o.tz, future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s
        )
        if o.labor_salt
        else LaborOff()
    )
    return {KIND: attendance, EXPORT_SCHEME: attendance}


# Attendance is kept in its own table (hashed workers), so the feed declares no metrics.
FEED = FeedSpec(
    KIND,
    "Real-name attendance gate (people).",
    "劳务闸机",
    "person",
    {},
    _decoders,
    FusionRole.SITE,
    StaleLevel.MINOR,
    fields=("headcount",),
)
