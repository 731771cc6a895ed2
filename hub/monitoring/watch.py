"""The hub's watch: keeps every project's evidence current, computes the MPI, and raises and
clears alerts, as readings arrive and on schedule.

- **On readings** (the live bus, right after each commit): a reading from a sensor with an
  active FEED_STALE clears it; ``camera_health`` and ``change_state`` readings raise or clear
  CAMERA_HEALTH and SATELLITE_CHANGE at once; the reading's project is marked dirty.
- **Every** ``HUB_ALERTS_DEBOUNCE_S``: dirty projects' evidence is recomputed from the
  telemetry store (one query per project), their PROJECT_IDLE and VERIFICATION_MISMATCH
  alerts are reconciled, and the MPI boards are recomputed from the cached evidence (cheap:
  sums over projects).
- **Every** ``HUB_ALERTS_CHECK_INTERVAL_S``: stale feeds (newest reading older than the
  sensor's timeout), camera health, satellite change and overdue land nodes are checked, and
  supervision cases past their reply deadline escalate (``hub.monitoring.supervision``).
- **Every** ``HUB_MPI_INTERVAL_S``: everything is re-read (the graph's reported side may have
  changed through mutations or imports) and the current period's MPI is stored as history.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from connectors import camera, feeds, labor, satellite
from graph_schema.errors import HubError
from graph_schema.model import ProjectStage
from graph_schema.statements import alerts as ga
from graph_schema.statements.chains import REGIONS
from graph_schema.store import GraphStore
from hub.clock import Clock, system_clock
from hub.monitoring import fusion, mpi
from hub.monitoring.alerts import AlertFeed, Alerts, AlertType, Finding, Severity, active_key
from hub.monitoring.supervision import Supervision
from hub.projects import land
from hub.projects.financing import RegionTree
from hub.settings import AlertsSettings, FusionSettings, MpiSettings, Settings
from ingest.bus import EventFilter, ReadingEvent
from ingest.rollups import zone
from ingest.store import Latest, TelemetryStore

log = logging.getLogger(__name__)

_PARTIAL_MAX = 50
_CAMERA_SEVERITY = {1: Severity.MAJOR, 6: Severity.CRITICAL}
# Satellite changes that contradict the report (the others are evidence, not alerts).
_SATELLITE_SEVERITY = {
    fusion.SatelliteVerdict.WHILE_SUSPENDED: Severity.MAJOR,
    fusion.SatelliteVerdict.AFTER_COMPLETION: Severity.MINOR,
    fusion.SatelliteVerdict.BEFORE_REPORTED_START: Severity.MINOR,
    fusion.SatelliteVerdict.REPORTED_STANDSTILL: Severity.MINOR,
}
_SATELLITE_WHY = {
    fusion.SatelliteVerdict.WHILE_SUSPENDED: "the project is reported suspended",
    fusion.SatelliteVerdict.AFTER_COMPLETION: "the project is reported completed before it",
    fusion.SatelliteVerdict.BEFORE_REPORTED_START: "the reported start is later",
    fusion.SatelliteVerdict.REPORTED_STANDSTILL: "no investment was reported for the month",
}


class Watch:
    def __init__(
        self,
        store: GraphStore,
        telemetry: TelemetryStore,
        *,
        fusion_rules: FusionSettings,
        mpi_settings: MpiSettings,
        alert_settings: AlertsSettings,
        inactivity_timeout_s: float,
        timezone: str = "Asia/Shanghai",
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.telemetry = telemetry
        self.rules = fusion_rules
        self.mpi_settings = mpi_settings
        self.alert_settings = alert_settings
        self.inactivity_timeout_s = inactivity_timeout_s
        self.tz = zone(timezone)
        self.clock = clock
        self.feed = AlertFeed(queue=alert_settings.queue)
        self.alerts = Alerts(store, self.feed)
        self.supervision = Supervision(store)
        self.snapshot: fusion.Snapshot | None = None
        self.regions: list[dict[str, Any]] = []
        self.version = 0
        self._boards: dict[tuple[str, str, dt.date], mpi.Board] = {}
        self._dirty: set[str] = set()
        self._stale: set[str] = set()
        # Per camera: its health code and when that code was first seen, so an alert says
        # when the condition began, not when the newest reading of it came.
        self._camera_since: dict[str, tuple[int, dt.datetime]] = {}
        self._lock = asyncio.Lock()
        self._project_lock = asyncio.Lock()
        self.mirroring = False  # set by mirror(): a worker's watch, which raises nothing

    @classmethod
    def of(
        cls, settings: Settings, store: GraphStore, telemetry: TelemetryStore, **kwargs: Any
    ) -> Watch:
        return cls(
            store,
            telemetry,
            fusion_rules=settings.fusion,
            mpi_settings=settings.mpi,
            alert_settings=settings.alerts,
            inactivity_timeout_s=settings.telemetry.inactivity_timeout_s,
            timezone=settings.telemetry.timezone,
            **kwargs,
        )

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return self.now().astimezone(self.tz).date()

    # --- evidence ---------------------------------------------------------------------------

    async def refresh(self, codes: Iterable[str] | None = None) -> fusion.Snapshot:
        """Recompute evidence: of every project (re-reading the graph), or of ``codes``."""
        async with self._lock:
            today = self.today()
            snap = self.snapshot
            wanted = None if codes is None else sorted(set(codes))
            if snap is None or snap.today != today or wanted is None:
                snap = await self._full(today)
            elif wanted:
                await self._partial(snap, [c for c in wanted if c in snap.projects])
            self.snapshot = snap
            self.version += 1
            self._boards.clear()
            return snap

    async def _full(self, today: dt.date) -> fusion.Snapshot:
        projects, sensors, months = await fusion.read_graph(self.store)
        self.regions = await self.store.run(REGIONS)
        self.alerts.tree = RegionTree(self.regions)
        self.alerts.project_regions = {c: p.region_code for c, p in projects.items()}
        rollups, heads, latest = await fusion.read_telemetry(self.telemetry, today, self.rules)

        def work() -> fusion.Snapshot:
            inputs = fusion.inputs_of(projects, sensors, rollups, heads, latest, months)
            history, found = fusion.assess(projects, inputs, today, self.tz, self.rules)
            return fusion.Snapshot(today, projects, sensors, inputs, history, found, latest)

        # Seconds of Python at hubei scale: off the event loop, so the API keeps answering
        # (the GIL is shared, so it slows down, it does not stop).
        return await asyncio.to_thread(work)

    async def _partial(self, snap: fusion.Snapshot, codes: Sequence[str]) -> None:
        if not codes:
            return
        rollups, heads, latest = await fusion.read_telemetry(
            self.telemetry, snap.today, self.rules, codes
        )
        months = [
            {"code": c, "month": m, "actual": v}
            for c in codes
            for m, v in snap.inputs.get(c, fusion.Inputs()).months.items()
        ]
        sensors = [s for s in snap.sensors if s.project_code in set(codes)]
        inputs = fusion.inputs_of(codes, sensors, rollups, heads, latest, months)
        subset = {c: snap.projects[c] for c in codes}
        history, found = fusion.assess(subset, inputs, snap.today, self.tz, self.rules)
        snap.inputs.update(inputs)
        snap.history.update(history)
        snap.mismatches.update(found)

    async def current(self) -> fusion.Snapshot:
        if self.snapshot is None or self.snapshot.today != self.today():
            return await self.refresh()
        return self.snapshot

    # --- MPI --------------------------------------------------------------------------------

    async def board(
        self, period: mpi.HalfMonth | None = None, *, list_id: str | None = None,
        as_of: dt.date | None = None,
    ) -> mpi.Board:  # fmt: skip
        snap = await self.current()
        period = period or mpi.HalfMonth.of(snap.today)
        as_of = min(as_of or snap.today, snap.today)
        key = (period.key, list_id or self.mpi_settings.list, as_of)
        found = self._boards.get(key)
        if found is None:
            found = mpi.compute(
                snap.projects, snap.history, snap.mismatches, self.regions, period, as_of,
                self.mpi_settings, self.rules, list_id,
            )  # fmt: skip
            self._boards[key] = found
        return found

    async def boards(self, *, list_id: str | None = None) -> list[mpi.Board]:
        """Every half-month of the year so far."""
        snap = await self.current()
        return [await self.board(p, list_id=list_id) for p in mpi.year_periods(snap.today)]

    async def save_snapshot(self, board: mpi.Board) -> int:
        """Store every region's MPI of ``board`` (history: one node per list, region, period)."""
        at = self.now().astimezone(dt.UTC).isoformat(timespec="seconds")
        rows = []
        for r in board.regions.values():
            rates = {
                k.value: {"basis": x.basis, "counted": x.counted, "rate": x.rate, "score": x.score}
                for k, x in r.rates.items()
            }
            rows.append(
                {
                    "id": f"{board.list_id}/{r.code}/{board.period.key}",
                    "props": {
                        "list_id": board.list_id,
                        "region_code": r.code,
                        "period": board.period.key,
                        "computed_at": at,
                        "mpi": r.mpi,
                        "warning": r.warning.value if r.warning else None,
                        "level": r.level,
                        "rank": r.rank,
                        "end": board.end.isoformat(),
                        "rates": json.dumps(rates),
                    },
                }
            )
        await self.store.run(ga.UPSERT_MPI, {"rows": rows})
        return len(rows)

    async def history(self, region: str, list_id: str | None = None) -> list[dict[str, Any]]:
        rows = await self.store.run(
            ga.MPI_HISTORY, {"list": list_id or self.mpi_settings.list, "region": region}
        )
        return [dict(r["props"]) for r in rows]

    # --- checks -----------------------------------------------------------------------------

    async def check_stale(self, now: dt.datetime | None = None) -> None:
        """Raise and clear FEED_STALE by ``stale_findings``."""
        now = now or self.now()
        findings = await self.stale_findings(now)
        await self.alerts.reconcile(AlertType.FEED_STALE, findings, now, reason="data returned")
        self._stale = {f.subject for f in findings}

    async def stale_findings(self, now: dt.datetime) -> list[Finding]:
        """Every sensor whose newest reading is older than its timeout (a sensor that never
        reported is NO_DATA, not stale). A labor gate is not stale while its project is idle
        (an idle run of complete days, judged from its other feeds): a gate reports passes, a
        stopped site has none, and the stop is the news (PROJECT_IDLE, or 非施工期), not the
        gate. A gate silent on a site whose meter shows work, or shows nothing, is stale."""
        snap = await self.current()
        latest = await self.telemetry.latest()
        newest: dict[str, dt.datetime] = {}
        for row in latest:
            if row.sensor_id not in newest or row.ts > newest[row.sensor_id]:
                newest[row.sensor_id] = row.ts
        findings = []
        for s in snap.sensors:
            ts = newest.get(s.id)
            timeout = s.stale_after_s or self.inactivity_timeout_s
            if ts is None or (now - ts).total_seconds() <= timeout:
                continue
            history = snap.history.get(s.project_code or "")
            if s.kind == labor.KIND and history and fusion.idle_run(history, snap.today) > 0:
                continue
            silent = now - ts
            findings.append(
                Finding(
                    AlertType.FEED_STALE,
                    s.id,
                    _stale_severity(s.kind),
                    f"{s.kind} sensor {s.id} silent for {_span(silent)} "
                    f"(timeout {_span_s(timeout)})",
                    project_code=s.project_code,
                    sensor_id=s.id,
                    details={"last_reading": ts.isoformat(), "timeout_s": timeout},
                    params={
                        "kind": s.kind,
                        "sensor": s.id,
                        "silent": round(silent.total_seconds()),
                        "timeout": timeout,
                    },
                )
            )
        return findings

    async def check_projects(self, codes: Iterable[str] | None = None) -> None:
        """PROJECT_IDLE and VERIFICATION_MISMATCH for ``codes`` (default: every project)."""
        async with self._project_lock:
            await self._check_projects(codes)

    async def _check_projects(self, codes: Iterable[str] | None) -> None:
        now = self.now()
        snap = await self.current()
        scope = list(snap.projects) if codes is None else [c for c in codes if c in snap.projects]
        idle, mismatched = await self.project_findings(scope)
        subjects = None if codes is None else scope
        await self.alerts.reconcile(AlertType.PROJECT_IDLE, idle, now, subjects=subjects)
        mismatch_subjects = (
            None
            if codes is None
            else [f"{c}/{k.value}" for c in scope for k in fusion.MismatchKind]
        )
        await self.alerts.reconcile(
            AlertType.VERIFICATION_MISMATCH, mismatched, now, subjects=mismatch_subjects
        )

    async def project_findings(
        self, codes: Iterable[str] | None = None
    ) -> tuple[list[Finding], list[Finding]]:
        """PROJECT_IDLE and VERIFICATION_MISMATCH findings of ``codes`` (default: every
        project), without raising anything."""
        snap = await self.current()
        scope = list(snap.projects) if codes is None else [c for c in codes if c in snap.projects]
        idle, mismatched = [], []
        for code in scope:
            # Idle is news only where work is reported: a completed, suspended or not yet
            # started project is quiet by its own account.
            construction = snap.projects[code].stage == ProjectStage.CONSTRUCTION
            run = fusion.idle_run(snap.history.get(code, {}), snap.today) if construction else 0
            if run >= self.rules.idle_days:
                idle.append(
                    Finding(
                        AlertType.PROJECT_IDLE,
                        code,
                        Severity.MAJOR if run >= self.rules.mismatch_days else Severity.MINOR,
                        f"{snap.projects[code].name}: IDLE for {run} days",
                        project_code=code,
                        details={"idle_days": run},
                        params={"project": snap.projects[code].name, "days": run},
                    )
                )
            for m in snap.mismatches.get(code, []):
                mismatched.append(
                    Finding(
                        AlertType.VERIFICATION_MISMATCH,
                        f"{code}/{m.kind.value}",
                        Severity.MAJOR,
                        f"{snap.projects[code].name}: {m.explanation}",
                        project_code=code,
                        details={"kind": m.kind.value, "since": m.since.isoformat()},
                        code=f"MISMATCH_{m.kind.value}",
                        params={"project": snap.projects[code].name, **m.params},
                    )
                )
        return idle, mismatched

    async def check_devices(self) -> None:
        """CAMERA_HEALTH and SATELLITE_CHANGE from every sensor's newest reading."""
        now = self.now()
        cams, sats = await self.device_findings(now)
        await self.alerts.reconcile(AlertType.CAMERA_HEALTH, cams, now, reason="camera healthy")
        await self.alerts.reconcile(
            AlertType.SATELLITE_CHANGE, sats, now, reason="no change against the report"
        )

    async def device_findings(self, now: dt.datetime) -> tuple[list[Finding], list[Finding]]:
        """CAMERA_HEALTH and SATELLITE_CHANGE findings, without raising anything."""
        latest = await self.telemetry.latest()
        cams = [f for row in latest if (f := self._camera(row)) is not None]
        snap = await self.current()
        since = now - dt.timedelta(days=self.rules.satellite_days)
        sats = [f for row in latest if row.ts >= since and (f := self._satellite(row, snap))]
        return cams, sats

    async def check_land(self) -> None:
        """One LAND_NODE_OVERDUE per project, listing its overdue nodes (most overdue first);
        cleared when the project has none left."""
        now = self.now()
        findings = await self.land_findings(now)
        await self.alerts.reconcile(
            AlertType.LAND_NODE_OVERDUE, findings, now, reason="nodes completed"
        )

    async def land_findings(self, now: dt.datetime) -> list[Finding]:
        """LAND_NODE_OVERDUE findings, one per project, without raising anything."""
        found = await land.overdue(self.store, now.astimezone(self.tz).date())
        by_project: dict[str, list[land.Overdue]] = {}
        for o in found:
            by_project.setdefault(o.project_code, []).append(o)
        findings = []
        for code, nodes in by_project.items():
            nodes.sort(key=lambda o: (-o.days_overdue, o.node.id))
            worst = nodes[0].days_overdue
            listed = "; ".join(f"{o.stage_name} / {o.node.name} {o.days_overdue} d" for o in nodes)
            findings.append(
                Finding(
                    AlertType.LAND_NODE_OVERDUE,
                    code,
                    Severity.MAJOR if worst > 30 else Severity.MINOR,
                    f"{nodes[0].project_name}: {len(nodes)} land nodes overdue ({listed})",
                    project_code=code,
                    params={
                        "project": nodes[0].project_name,
                        "count": len(nodes),
                        "nodes": [
                            {"name": o.node.name, "days_overdue": o.days_overdue} for o in nodes
                        ],
                    },
                    details={
                        "count": len(nodes),
                        "max_days_overdue": worst,
                        "nodes": [
                            {
                                "node": o.node.id,
                                "key": o.key,
                                "stage": o.stage_code,
                                "name": o.node.name,
                                "due_on": o.node.due_on.isoformat(),
                                "days_overdue": o.days_overdue,
                            }
                            for o in nodes
                        ],
                    },
                )
            )
        return findings

    async def check_cases(self) -> None:
        """Escalate supervision cases past their reply deadline (county → city → province)."""
        await self.supervision.escalate_due(self.now())

    async def check_all(self) -> None:
        await self.check_stale()
        await self.check_projects()
        await self.check_devices()
        await self.check_land()
        await self.check_cases()

    def _camera(self, row: Latest) -> Finding | None:
        if row.kind != camera.KIND or row.metric != fusion.CAMERA_HEALTH:
            return None
        code = round(row.value)
        if code == 0:
            self._camera_since.pop(row.sensor_id, None)
            return None
        known = self._camera_since.get(row.sensor_id)
        if known is None or known[0] != code or row.ts < known[1]:
            known = (code, row.ts)
            self._camera_since[row.sensor_id] = known
        since = known[1]
        what = fusion.CAMERA_HEALTH_NAMES.get(code, f"fault {code}")
        return Finding(
            AlertType.CAMERA_HEALTH,
            row.sensor_id,
            _CAMERA_SEVERITY.get(code, Severity.MINOR),
            f"camera {row.sensor_id}: {what} since {since.isoformat()}",
            project_code=row.project_code,
            sensor_id=row.sensor_id,
            details={"health": code, "at": row.ts.isoformat(), "since": since.isoformat()},
            params={"camera": row.sensor_id, "fault": code, "since": since.isoformat()},
        )

    def _satellite(self, row: Latest, snap: fusion.Snapshot) -> Finding | None:
        """A change is an alert only where it contradicts the project's report
        (``fusion.satellite_verdict``); on a construction site whose report agrees it is
        evidence, shown in the project's activity, not an alert."""
        if row.kind != satellite.KIND or row.metric != fusion.SATELLITE_STATE or row.value < 1:
            return None
        project = snap.projects.get(row.project_code or "")
        if project is None:
            return None
        day = row.ts.astimezone(self.tz).date()
        verdict = fusion.satellite_verdict(
            project, snap.inputs.get(project.code) or fusion.Inputs(), day
        )
        severity = _SATELLITE_SEVERITY.get(verdict)
        if severity is None:
            return None
        word = "confirmed" if row.value >= 2 else "detected"
        return Finding(
            AlertType.SATELLITE_CHANGE,
            row.sensor_id,
            severity,
            f"satellite {row.sensor_id}: change {word} on {day.isoformat()}, "
            f"but {_SATELLITE_WHY[verdict]} ({project.stage})",
            project_code=row.project_code,
            sensor_id=row.sensor_id,
            details={
                "change_state": round(row.value),
                "at": row.ts.isoformat(),
                "reason": verdict.value,
                "stage": project.stage,
            },
            params={
                "sensor": row.sensor_id,
                "state": round(row.value),
                "day": day.isoformat(),
                "reason": verdict.value,
                "stage": project.stage,
            },
        )

    # --- readings as they commit ------------------------------------------------------------

    async def on_reading(self, event: ReadingEvent) -> None:
        now = self.now()
        if event.project_code is not None:
            self._dirty.add(event.project_code)
        if event.sensor_id in self._stale:
            self._stale.discard(event.sensor_id)
            key = active_key(AlertType.FEED_STALE, event.sensor_id)
            await self.alerts.clear_keys([key], now, "data returned")
        if event.metric not in (fusion.CAMERA_HEALTH, fusion.SATELLITE_STATE):
            return
        row = Latest(
            event.sensor_id, event.project_code, event.kind, event.metric, event.ts,
            event.value, event.unit, now,
        )  # fmt: skip
        if event.kind == camera.KIND:
            finding = self._camera(row)
        else:
            finding = self._satellite(row, await self.current())
        kind = AlertType.CAMERA_HEALTH if event.kind == camera.KIND else AlertType.SATELLITE_CHANGE
        if finding is not None:
            await self.alerts.raise_all([finding], now)
        elif event.kind in (camera.KIND, satellite.KIND):
            await self.alerts.clear_keys([active_key(kind, event.sensor_id)], now, "recovered")

    async def follow(self, bus: Any) -> None:
        """Handle committed readings until cancelled."""
        async with bus.subscribe(EventFilter(), maxsize=100_000) as sub:
            async for event in sub:
                if not isinstance(event, ReadingEvent):
                    if event.project_code is not None:
                        self._dirty.add(event.project_code)
                    continue
                try:
                    await self.on_reading(event)
                except HubError as exc:
                    log.error("alert on reading %s failed: %s", event.sensor_id, exc)

    async def mirror(self, bus: Any) -> None:
        """A worker's watch (``hub serve --workers``): the supervisor's watch raises and
        clears alerts; this one keeps the evidence and MPI the API reads current with the
        relayed events, on the same clocks, and writes nothing."""
        self.mirroring = True

        async def note() -> None:
            async with bus.subscribe(EventFilter(), maxsize=100_000) as sub:
                async for event in sub:
                    if event.project_code is not None:
                        self._dirty.add(event.project_code)

        async def recompute() -> None:
            if self._dirty and self.snapshot is not None:
                codes, self._dirty = self._dirty, set()
                await self.refresh(codes if len(codes) <= _PARTIAL_MAX else None)

        async def full() -> None:
            if self.snapshot is not None:  # computed on first use, not at start
                await self.refresh()

        a = self.alert_settings
        await asyncio.gather(
            note(),
            self._every(max(a.debounce_s, 0.05), "incremental refresh", recompute),
            self._every(self.mpi_settings.interval_s, "scheduled refresh", full),
        )

    async def settle(self) -> None:
        """Recompute dirty projects and their alerts (incremental)."""
        if not self._dirty:
            return
        codes, self._dirty = self._dirty, set()
        # Per-project reads pay off for a few projects; a burst (a backlog, an import) is
        # cheaper as one full read.
        await self.refresh(codes if len(codes) <= _PARTIAL_MAX else None)
        await self.check_projects(codes)

    async def run(self) -> None:
        """Evidence, alerts and MPI until cancelled; a failed round is logged and retried.

        Three fixed-rate loops: feed checks every ``check_interval_s`` (so a stale feed is
        raised at most one interval after its timeout), incremental recomputation every
        ``debounce_s``, and the full refresh with an MPI snapshot every ``interval_s``."""
        await self._guard("first refresh", self.refresh())
        await self._guard("first check", self.check_all())
        await self._guard("first MPI snapshot", self._snapshot())
        a = self.alert_settings
        await asyncio.gather(
            self._every(a.check_interval_s, "feed checks", self._feed_checks),
            self._every(max(a.debounce_s, 0.05), "incremental refresh", self.settle),
            self._every(self.mpi_settings.interval_s, "scheduled refresh", self._scheduled),
        )

    async def _every(self, interval: float, what: str, work: Any) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self._guard(what, work())
            due += interval
            if due < loop.time():  # fell behind: skip the missed rounds
                due = loop.time() + interval

    async def _feed_checks(self) -> None:
        await self.check_stale()
        await self.check_devices()
        await self.check_land()
        await self.check_cases()

    async def _scheduled(self) -> None:
        await self.refresh()
        await self._snapshot()
        await self.check_projects()

    async def _snapshot(self) -> None:
        await self.save_snapshot(await self.board())

    async def _guard(self, what: str, work: Any) -> None:
        try:
            await work
        except HubError as exc:
            log.error("watch: %s failed: %s", what, exc)


def _stale_severity(kind: str) -> Severity:
    """The feed's own (``connectors.feeds``); a kind the table lacks warns."""
    feed = feeds.BY_KIND.get(kind)
    return Severity(feed.stale.value) if feed is not None else Severity.WARNING


def _span(delta: dt.timedelta) -> str:
    return _span_s(delta.total_seconds())


def _span_s(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
