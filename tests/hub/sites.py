"""A small hand-built province with every feed, for the fusion, MPI and alert tests.

Readings go through the real ingest pipeline into a real SQLite telemetry store; the graph is
a real embedded FalkorDB. Camera and satellite metrics follow the contract with issues 6 and 7
(``active_fraction``, ``camera_health``, ``change_state``, ``valid_share``); their specs are
declared here until those feeds land in ``connectors.feeds``.

Day D is 2026-11-20 (the second half of November), in progress at 12:30; every reading is
at local noon.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from connectors import feeds
from graph_schema.identifiers import make_uscc
from graph_schema.model import validate
from graph_schema.store import GraphStore
from hub.bulk import import_records
from hub.clock import ZONE
from ingest.bus import LiveBus
from ingest.model import Attendance, MetricSpec, Reading, Rollup, SensorInfo, to_ms
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore

D = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 12, 30, tzinfo=ZONE)
OWNER = make_uscc("330106", "000000008")

CONTRACT_METRICS = {
    "active_fraction": MetricSpec("active_fraction", "1", 0.0, 1.0, Rollup.MEAN),
    "motion_area": MetricSpec("motion_area", "1", 0.0, 1.0, Rollup.MEAN),
    "camera_health": MetricSpec("camera_health", "1", 0.0, 6.0, Rollup.MEAN),
    "change_state": MetricSpec("change_state", "1", -1.0, 2.0, Rollup.MEAN),
    "change_score": MetricSpec("change_score", "1", 0.0, 1.0, Rollup.MEAN),
    "valid_share": MetricSpec("valid_share", "1", 0.0, 1.0, Rollup.MEAN),
}

# County A (西湖区) and county B (上城区) of Hangzhou.
A, B = "330106", "330102"
ACT = "2026-330106-48-01-FUS001"  # continuing, everything busy
IDLE = "2026-330106-48-01-FUS002"  # continuing, power down to 2% for the last 8 days
LATE = "2026-330106-48-01-FUS003"  # new, due 2026-10-01, not started; satellite sees works
LOW = "2026-330102-48-01-FUS004"  # continuing, power 20% and a quiet camera on D-1
STARTED = "2026-330102-48-01-FUS005"  # new, started 2026-03-10, no sensors
NODATA = "2026-330102-48-01-FUS006"  # continuing, under construction, no sensors
CITYLIST = "2026-330102-48-01-FUS007"  # on the city list: not in the provincial MPI


def _project(code: str, region: str, **extra: Any) -> Any:
    row = {
        "code": code,
        "name": f"融合测试项目{code[-3:]}",
        "owner_uscc": OWNER,
        "region_code": region,
        "kind": "continuing",
        "level": "provincial",
        "stage": "construction",
        "total_investment": 1000,
        "planned_start": "2025-03-01",
        "actual_start": "2025-03-10",
        "permit_date": "2025-02-20",
        **extra,
    }
    row.setdefault("completed_investment", row.get("year_completed_investment", 0))
    return validate("project", row)


PROJECTS = [
    _project(ACT, A, annual_plan_investment=100, year_completed_investment=90),
    _project(IDLE, A, annual_plan_investment=100, year_completed_investment=20),
    _project(
        LATE,
        A,
        kind="new",
        stage="preparation",
        planned_start="2026-10-01",
        actual_start=None,
        permit_date=None,
    ),
    _project(LOW, B, annual_plan_investment=200, year_completed_investment=180),
    _project(
        STARTED,
        B,
        kind="new",
        planned_start="2026-03-01",
        actual_start="2026-03-10",
        annual_plan_investment=50,
        year_completed_investment=40,
    ),
    _project(NODATA, B, annual_plan_investment=50, year_completed_investment=50),
    _project(CITYLIST, B, level="city", stage="suspended", annual_plan_investment=500),
]

SENSORS = {
    "pwr-act": ("power", ACT, {}),
    "lab-act": ("labor", ACT, {"stale_after_s": 86400}),
    "cam-act": ("camera", ACT, {}),
    "pwr-idle": ("power", IDLE, {}),
    "lab-idle": ("labor", IDLE, {"stale_after_s": 86400}),
    "sat-late": ("satellite", LATE, {"stale_after_s": 12 * 86400}),
    "pwr-low": ("power", LOW, {}),
    "cam-low-1": ("camera", LOW, {}),
    "cam-low-2": ("camera", LOW, {}),
}


async def build_graph(graph: GraphStore) -> None:
    regions = [
        ("330000", "浙江省", "province", None),
        ("330100", "杭州市", "city", "330000"),
        (A, "西湖区", "county", "330100"),
        (B, "上城区", "county", "330100"),
    ]
    await import_records(
        graph,
        "region",
        [validate("region", {"code": c, "name": n, "level": lv, "parent_code": p})
         for c, n, lv, p in regions],
    )  # fmt: skip
    firm = {"uscc": OWNER, "name": "杭州融合建设有限公司", "region_code": A}
    await import_records(graph, "enterprise", [validate("enterprise", firm)])
    await import_records(graph, "project", PROJECTS)
    await import_records(
        graph,
        "sensor",
        [validate("sensor", {"id": s, "kind": k, "project_code": p, **x})
         for s, (k, p, x) in SENSORS.items()],
    )  # fmt: skip


def sensor_infos() -> dict[str, SensorInfo]:
    return {s: SensorInfo(s, k, p) for s, (k, p, _) in SENSORS.items()}


async def open_telemetry(path: Path) -> SQLiteTelemetryStore:
    return await SQLiteTelemetryStore.open(
        path, {**feeds.metrics(), **CONTRACT_METRICS}, tz="Asia/Shanghai", synchronous="NORMAL"
    )


def pipeline(graph: GraphStore, store: SQLiteTelemetryStore, bus: LiveBus) -> Pipeline:
    return Pipeline(store, GraphSensors(graph), {}, bus=bus)


def noon(day: dt.date) -> int:
    return to_ms(dt.datetime.combine(day, dt.time(12), ZONE))


def worker(n: int) -> str:
    return hashlib.sha256(f"worker-{n}".encode()).hexdigest()


def history() -> list[Reading | Attendance]:
    """Thirty days of readings up to D."""
    out: list[Reading | Attendance] = []
    for back in range(30):
        day = D - dt.timedelta(days=back)
        ts = noon(day)
        out.append(Reading("pwr-act", ts, "energy_kwh", 100.0, "kWh"))
        out.append(Reading("pwr-idle", ts, "energy_kwh", 2.0 if back < 8 else 100.0, "kWh"))
        out.append(Reading("pwr-low", ts, "energy_kwh", 20.0 if back == 1 else 100.0, "kWh"))
        if back < 10:
            morning = to_ms(dt.datetime.combine(day, dt.time(8), ZONE))
            out += [Attendance("lab-act", morning + n, worker(n), "in", ACT) for n in range(20)]
        if 8 <= back < 30:
            morning = to_ms(dt.datetime.combine(day, dt.time(8), ZONE))
            out += [Attendance("lab-idle", morning + n, worker(n), "in", IDLE) for n in range(10)]
    out.append(Reading("cam-act", noon(D), "active_fraction", 0.5, "1"))
    out.append(Reading("cam-act", noon(D), "camera_health", 0.0, "1"))
    yesterday = noon(D - dt.timedelta(days=1))
    out.append(Reading("cam-low-1", yesterday, "active_fraction", 0.1, "1"))
    out.append(Reading("cam-low-1", noon(D), "camera_health", 0.0, "1"))
    out.append(Reading("cam-low-2", yesterday, "active_fraction", 0.9, "1"))
    out.append(Reading("cam-low-2", noon(D), "camera_health", 6.0, "1"))
    sat_day = D - dt.timedelta(days=2)
    out.append(Reading("sat-late", noon(sat_day), "change_state", 2.0, "1"))
    out.append(Reading("sat-late", noon(sat_day), "valid_share", 0.9, "1"))
    return out
