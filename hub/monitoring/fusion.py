"""Fusion: from readings to daily evidence per project, an activity status, and mismatches
between what a project reports and what its feeds show.

Every feed gives a day a *level* (active, low, idle) or no evidence at all:

- **power**: the day's kWh over the project's own baseline (median kWh of its active days,
  ``connectors.power.baseline``). At or above ``resumption_share`` (30%, the rule grid
  companies use for their resumption index) the site counts as resumed: active; above
  ``low_share`` low; below idle. A meter that sent nothing that day is no evidence.
- **labor**: distinct workers at the gates over the project's median headcount (days with
  workers). Nobody at the gate is idle only where attendance is expected: under construction
  from ``permit_grace_days`` after the construction permit; before that it is no evidence.
  A gate that has not reported since the day is no evidence either.
- **camera**: the day's mean ``active_fraction`` of the best healthy camera (``camera_health``
  0 or unknown) against ``camera_active`` and ``camera_low``.
- **satellite**: the newest ``change_state`` within ``satellite_days``: 1 (detected) or 2
  (confirmed) is active, 0 idle; -1 (parcel too small) or a pass with ``valid_share`` under
  0.5 (clouds) is no evidence.

The current day is in progress: its kWh and headcount so far are lower bounds, so they can
show a site at work (at or above its share of the baseline already) but not idle or low;
until the day ends they are no evidence of that. Idle runs and mismatches are therefore
judged on complete days, while resumption counts a day in progress that already crossed 30%.

The status weighs the levels (active 1, low ½, idle 0) by the feed weights over the feeds
with evidence: ACTIVE from ``active_score``, LOW from ``low_score``, else IDLE; NO_DATA when no
feed has evidence. Confidence is coverage × agreement: the weight of the feeds with evidence
over all four weights, times the share of that weight whose own level matches the status.

Evidence is derived, not stored: it is recomputed from the telemetry store's rollups, which
stay the source of truth (``Watch`` keeps the last ``window_days`` in memory).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectors import camera, feeds, labor, power, satellite
from connectors.spec import FusionRole
from graph_schema.statements import fusion as gf
from graph_schema.store import GraphStore
from hub.settings import FusionSettings
from ingest.rollups import median
from ingest.store import DailyRollup, Headcount, Latest, TelemetryStore

# Metric names of the camera and satellite feeds (the contract with issues 6 and 7).
CAMERA_ACTIVE = "active_fraction"
CAMERA_HEALTH = "camera_health"
SATELLITE_STATE = "change_state"
SATELLITE_SCORE = "change_score"
SATELLITE_VALID = "valid_share"
CAMERA_HEALTH_NAMES = {
    0: "ok",
    1: "offline",
    2: "frozen",
    3: "dark",
    4: "overexposed",
    5: "blurred",
    6: "tampered",
    7: "moved",
    8: "damaged",
}
# The feeds that are evidence (``connectors.feeds``), and those of them seen on the site.
FEEDS = feeds.fusion_kinds(FusionRole.SITE, FusionRole.REMOTE)
SITE_FEEDS = frozenset(feeds.fusion_kinds(FusionRole.SITE))


class Level(StrEnum):
    ACTIVE = "active"
    LOW = "low"
    IDLE = "idle"


class Activity(StrEnum):
    ACTIVE = "ACTIVE"
    LOW = "LOW"
    IDLE = "IDLE"
    NO_DATA = "NO_DATA"


_VALUE = {Level.ACTIVE: 1.0, Level.LOW: 0.5, Level.IDLE: 0.0}
_MATCH = {Activity.ACTIVE: Level.ACTIVE, Activity.LOW: Level.LOW, Activity.IDLE: Level.IDLE}


class MismatchKind(StrEnum):
    NO_ACTIVITY = "NO_ACTIVITY"  # reported under construction, nothing on site for N days
    INVESTMENT_JUMP = "INVESTMENT_JUMP"  # reported investment jumped, the site did not
    SATELLITE_CONSTRUCTION = "SATELLITE_CONSTRUCTION"  # reported not started, satellite disagrees


@dataclass(frozen=True, slots=True)
class FeedEvidence:
    kind: str
    level: Level | None  # None: nothing from this feed that day
    value: float | None
    baseline: float | None
    note: str

    @property
    def share(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass(frozen=True, slots=True)
class DayEvidence:
    project_code: str
    day: dt.date
    status: Activity
    score: float | None
    confidence: float
    feeds: tuple[FeedEvidence, ...]
    partial: bool = False  # the day is still in progress

    def feed(self, kind: str) -> FeedEvidence | None:
        return next((f for f in self.feeds if f.kind == kind), None)

    @property
    def power_resumed(self) -> bool | None:
        """The 30% rule: None without a power reading that day."""
        f = self.feed(power.KIND)
        return None if f is None or f.level is None else f.level is Level.ACTIVE


@dataclass(frozen=True, slots=True)
class Mismatch:
    project_code: str
    kind: MismatchKind
    since: dt.date
    explanation: str
    # The explanation as data (hub.texts code MISMATCH_<kind>): rendered per language.
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Project:
    """What a project reports (graph properties)."""

    code: str
    name: str
    stage: str
    kind: str | None
    level: str | None
    leader_project: bool
    region_code: str | None
    permit_date: dt.date | None
    planned_start: dt.date | None
    actual_start: dt.date | None
    actual_end: dt.date | None
    annual_plan: float
    year_completed: float

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Project:
        return cls(
            code=str(row["code"]),
            name=str(row.get("name") or row["code"]),
            stage=str(row.get("stage") or ""),
            kind=row.get("kind"),
            level=row.get("level"),
            leader_project=bool(row.get("leader_project")),
            region_code=row.get("region_code"),
            permit_date=_date(row.get("permit_date")),
            planned_start=_date(row.get("planned_start")),
            actual_start=_date(row.get("actual_start")),
            actual_end=_date(row.get("actual_end")),
            annual_plan=float(row.get("annual_plan_investment") or 0),
            year_completed=float(row.get("year_completed_investment") or 0),
        )


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True, slots=True)
class SensorRef:
    id: str
    kind: str
    project_code: str
    stale_after_s: float | None


@dataclass
class Inputs:
    """One project's readings, as fusion needs them."""

    power: dict[dt.date, float] = field(default_factory=dict)  # kWh per day, all meters
    labor: dict[dt.date, int] = field(default_factory=dict)  # distinct workers per day
    gate_seen: dt.datetime | None = None  # newest gate reading
    has_gate: bool = False
    camera: dict[str, dict[dt.date, float]] = field(default_factory=dict)  # active_fraction
    camera_health: dict[str, int] = field(default_factory=dict)  # newest, per camera
    satellite: dict[dt.date, float] = field(default_factory=dict)  # change_state per pass day
    satellite_valid: dict[dt.date, float] = field(default_factory=dict)
    months: dict[str, float] = field(default_factory=dict)  # reported investment, YYYY-MM


def inputs_of(
    projects: Iterable[str],
    sensors: Iterable[SensorRef],
    rollups: Iterable[DailyRollup],
    headcounts: Iterable[Headcount],
    latest: Iterable[Latest],
    months: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Inputs]:
    """Group telemetry rows by project."""
    out = {code: Inputs() for code in projects}
    for s in sensors:
        if s.kind == labor.KIND and s.project_code in out:
            out[s.project_code].has_gate = True
    by_project_power: dict[str, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    power_rows = [r for r in rollups if r.kind == power.KIND and r.project_code in out]
    best = power.pick_daily(power_rows)
    project_of = {r.sensor_id: r.project_code for r in power_rows}
    for (meter, day), kwh in best.items():
        by_project_power[str(project_of[meter])][day] += kwh
    for code, days in by_project_power.items():
        out[code].power = dict(days)
    for r in rollups:
        if r.project_code not in out:
            continue
        target = out[r.project_code]
        if r.kind == camera.KIND and r.metric == CAMERA_ACTIVE:
            target.camera.setdefault(r.sensor_id, {})[r.day] = r.value
        elif r.kind == satellite.KIND and r.metric == SATELLITE_STATE:
            target.satellite[r.day] = r.value
        elif r.kind == satellite.KIND and r.metric == SATELLITE_VALID:
            target.satellite_valid[r.day] = r.value
    for h in headcounts:
        if h.project_code in out:
            out[h.project_code].labor[h.day] = h.workers
    for row in latest:
        if row.project_code not in out:
            continue
        target = out[row.project_code]
        if row.kind == labor.KIND:
            if target.gate_seen is None or row.ts > target.gate_seen:
                target.gate_seen = row.ts
        elif row.kind == camera.KIND and row.metric == CAMERA_HEALTH:
            target.camera_health[row.sensor_id] = round(row.value)
    for m in months:
        if m["code"] in out and m.get("actual") is not None:
            out[m["code"]].months[str(m["month"])] = float(m["actual"])
    return out


# --- per-feed levels --------------------------------------------------------------------------


def _by_share(share: float, rules: FusionSettings) -> Level:
    if share >= rules.resumption_share:
        return Level.ACTIVE
    if share >= rules.low_share:
        return Level.LOW
    return Level.IDLE


def _so_far(found: FeedEvidence, unit: str) -> FeedEvidence:
    """A day in progress: below the active share is not yet evidence of anything."""
    if found.level is Level.ACTIVE or found.level is None:
        return found
    value = f"{found.value:g}" if found.value is not None else "nothing"
    return FeedEvidence(found.kind, None, found.value, found.baseline,
                        f"day in progress: {value} {unit} so far")  # fmt: skip


def power_evidence(inputs: Inputs, day: dt.date, rules: FusionSettings) -> FeedEvidence | None:
    if not inputs.power:
        return None
    base = power.baseline(inputs.power)
    kwh = inputs.power.get(day)
    if kwh is None:
        return FeedEvidence(power.KIND, None, None, base, "no meter reading that day")
    if base is None:
        return FeedEvidence(power.KIND, Level.IDLE, kwh, None, f"{kwh:.1f} kWh; never active")
    level = _by_share(kwh / base, rules)
    note = f"{kwh:.1f} kWh, {kwh / base:.0%} of its {base:.1f} kWh baseline"
    return FeedEvidence(power.KIND, level, kwh, base, note)


def labor_evidence(
    inputs: Inputs, project: Project, day: dt.date, tz: dt.tzinfo, rules: FusionSettings
) -> FeedEvidence | None:
    if not inputs.has_gate:
        return None
    workers = inputs.labor.get(day, 0)
    base = median([float(v) for v in inputs.labor.values() if v > 0])
    if workers > 0:
        share = workers / base if base else 1.0
        level = Level.ACTIVE if share >= rules.resumption_share else Level.LOW
        return FeedEvidence(labor.KIND, level, workers, base, f"{workers} workers at the gates")
    day_start = dt.datetime.combine(day, dt.time(), tz)
    if inputs.gate_seen is None or inputs.gate_seen < day_start:
        return FeedEvidence(labor.KIND, None, None, base, "the gate has not reported since")
    if project.stage != "construction":
        return FeedEvidence(
            labor.KIND, None, 0, base, f"no workers; not expected ({project.stage})"
        )
    if project.permit_date is None:
        return FeedEvidence(
            labor.KIND, None, 0, base, "no workers; no construction permit on record"
        )
    expected_from = project.permit_date + dt.timedelta(days=rules.permit_grace_days)
    if day < expected_from:
        return FeedEvidence(labor.KIND, None, 0, base, f"no workers; expected from {expected_from}")
    return FeedEvidence(
        labor.KIND, Level.IDLE, 0, base, f"no workers; expected since {expected_from}"
    )


def camera_evidence(inputs: Inputs, day: dt.date, rules: FusionSettings) -> FeedEvidence | None:
    if not inputs.camera and not inputs.camera_health:
        return None
    unhealthy = {c: h for c, h in inputs.camera_health.items() if h != 0}
    values = [
        days[day] for cam, days in inputs.camera.items() if cam not in unhealthy and day in days
    ]
    faults = ", ".join(
        f"{c} {CAMERA_HEALTH_NAMES.get(h, str(h))}" for c, h in sorted(unhealthy.items())
    )
    suffix = f" (not used: {faults})" if faults else ""
    if not values:
        return FeedEvidence(camera.KIND, None, None, None, "no healthy camera reported" + suffix)
    best = max(values)
    if best >= rules.camera_active:
        level = Level.ACTIVE
    elif best >= rules.camera_low:
        level = Level.LOW
    else:
        level = Level.IDLE
    return FeedEvidence(camera.KIND, level, best, None, f"activity {best:.0%} of the day" + suffix)


def satellite_evidence(inputs: Inputs, day: dt.date, rules: FusionSettings) -> FeedEvidence | None:
    if not inputs.satellite:
        return None
    since = day - dt.timedelta(days=rules.satellite_days - 1)
    passes = [d for d in inputs.satellite if since <= d <= day]
    if not passes:
        return FeedEvidence(satellite.KIND, None, None, None, "no pass in the last "
                            f"{rules.satellite_days} days")  # fmt: skip
    # A cloudy pass says nothing: the newest clear one within the window stands.
    clear = [d for d in passes if inputs.satellite_valid.get(d, 1.0) >= 0.5]
    if not clear:
        last = max(passes)
        valid = inputs.satellite_valid[last]
        state = round(inputs.satellite[last])
        return FeedEvidence(satellite.KIND, None, state, None, f"{last}: {valid:.0%} clear, clouds")
    last = max(clear)
    state = round(inputs.satellite[last])
    if state < 0:
        return FeedEvidence(
            satellite.KIND, None, state, None, f"{last}: parcel too small to resolve"
        )
    if state >= 1:
        word = "confirmed" if state >= 2 else "detected"
        return FeedEvidence(satellite.KIND, Level.ACTIVE, state, None, f"{last}: change {word}")
    return FeedEvidence(satellite.KIND, Level.IDLE, state, None, f"{last}: no change")


def _weight(kind: str, rules: FusionSettings) -> float:
    return float(getattr(rules, f"weight_{kind}"))


def combine(
    project_code: str,
    day: dt.date,
    feeds: Sequence[FeedEvidence],
    rules: FusionSettings,
    *,
    partial: bool = False,
) -> DayEvidence:
    """The day's status and confidence from its feeds' levels."""
    present = [f for f in feeds if f.level is not None and _weight(f.kind, rules) > 0]
    if not present:
        return DayEvidence(project_code, day, Activity.NO_DATA, None, 0.0, tuple(feeds), partial)
    weight = sum(_weight(f.kind, rules) for f in present)
    score = sum(_weight(f.kind, rules) * _VALUE[f.level] for f in present if f.level) / weight
    if score >= rules.active_score:
        status = Activity.ACTIVE
    elif score >= rules.low_score:
        status = Activity.LOW
    else:
        status = Activity.IDLE
    total = sum(_weight(k, rules) for k in FEEDS)
    agree = sum(_weight(f.kind, rules) for f in present if f.level is _MATCH[status])
    confidence = (weight / total) * (agree / weight)
    return DayEvidence(
        project_code, day, status, round(score, 4), round(confidence, 4), tuple(feeds), partial
    )


def evidence(
    project: Project,
    inputs: Inputs,
    day: dt.date,
    tz: dt.tzinfo,
    rules: FusionSettings,
    *,
    partial: bool = False,
) -> DayEvidence:
    """One day's evidence; ``partial`` for the day in progress."""
    power_day = power_evidence(inputs, day, rules)
    labor_day = labor_evidence(inputs, project, day, tz, rules)
    if partial:
        power_day = power_day and _so_far(power_day, "kWh")
        labor_day = labor_day and _so_far(labor_day, "workers")
    found = [
        power_day,
        labor_day,
        camera_evidence(inputs, day, rules),
        satellite_evidence(inputs, day, rules),
    ]
    return combine(project.code, day, [f for f in found if f is not None], rules, partial=partial)


def last_complete(history: Mapping[dt.date, DayEvidence], today: dt.date) -> dt.date:
    """``today``, unless it is in progress with nothing shown on site yet: then yesterday.
    (A day in progress whose meters, gates or cameras already show work ends an idle run; the
    satellite's newest pass, up to ``satellite_days`` old, says nothing about today.)"""
    e = history.get(today)
    if e is not None and e.partial:
        site = [f for f in e.feeds if f.kind in SITE_FEEDS and f.level is not None]
        if e.status is Activity.NO_DATA or not site:
            return today - dt.timedelta(days=1)
    return today


def days(end: dt.date, n: int) -> list[dt.date]:
    return [end - dt.timedelta(days=i) for i in range(n - 1, -1, -1)]


# --- big-data verification --------------------------------------------------------------------


def mismatches(
    project: Project,
    inputs: Inputs,
    history: Mapping[dt.date, DayEvidence],
    today: dt.date,
    rules: FusionSettings,
) -> list[Mismatch]:
    """Where reported progress and the evidence disagree, each with its explanation."""
    out: list[Mismatch] = []
    last = last_complete(history, today)
    recent = [history.get(d) for d in days(last, rules.mismatch_days)]
    if project.stage == "construction" and all(e is not None and _silent_site(e) for e in recent):
        first = last - dt.timedelta(days=rules.mismatch_days - 1)
        seen = sorted({f.kind for e in recent if e for f in e.feeds if f.level is Level.IDLE})
        out.append(
            Mismatch(
                project.code,
                MismatchKind.NO_ACTIVITY,
                first,
                f"reported under construction, but {', '.join(seen)} showed no activity on "
                f"any of the {rules.mismatch_days} days from {first} to {last}",
                {
                    "feeds": seen,
                    "days": rules.mismatch_days,
                    "first": first.isoformat(),
                    "last": last.isoformat(),
                },
            )
        )
    jump = _investment_jump(project, inputs, history, rules)
    if jump is not None:
        out.append(jump)
    if project.actual_start is None and project.stage in ("planning", "preparation"):
        sat = satellite_evidence(inputs, today, rules)
        if sat is not None and sat.level is Level.ACTIVE:
            since = max(d for d in inputs.satellite if d <= today)
            out.append(
                Mismatch(
                    project.code,
                    MismatchKind.SATELLITE_CONSTRUCTION,
                    since,
                    f"reported not started ({project.stage}), but the satellite shows "
                    f"construction on its parcel ({sat.note})",
                    {"stage": project.stage, "day": since.isoformat(), "state": sat.value},
                )
            )
    return out


def _silent_site(e: DayEvidence) -> bool:
    """Evidence from power, labor or camera, and none of it active or low."""
    site = [f for f in e.feeds if f.kind in SITE_FEEDS and f.level is not None]
    return bool(site) and all(f.level is Level.IDLE for f in site)


def _investment_jump(
    project: Project,
    inputs: Inputs,
    history: Mapping[dt.date, DayEvidence],
    rules: FusionSettings,
) -> Mismatch | None:
    if len(inputs.months) < 3:
        return None
    ordered = sorted(inputs.months.items())
    month, amount = ordered[-1]
    before = median([v for _, v in ordered[:-1]])
    if not before or amount <= rules.jump_factor * before:
        return None
    year, mon = int(month[:4]), int(month[5:7])
    in_month = [
        e for d, e in history.items() if (d.year, d.month) == (year, mon) and e.status
        is not Activity.NO_DATA
    ]  # fmt: skip
    if not in_month:
        return None
    active = sum(e.status is Activity.ACTIVE for e in in_month) / len(in_month)
    if active >= rules.jump_active_share:
        return None
    return Mismatch(
        project.code,
        MismatchKind.INVESTMENT_JUMP,
        dt.date(year, mon, 1),
        f"reported {amount:g} 万元 in {month}, {amount / before:.1f}× the median {before:g} of "
        f"earlier months, but only {active:.0%} of that month's {len(in_month)} observed days "
        "were ACTIVE",
        {
            "amount": f"{amount:g}",
            "month": month,
            "ratio": f"{amount / before:.1f}",
            "median": f"{before:g}",
            "active_share": round(active, 4),
            "days": len(in_month),
        },
    )


# --- satellite change against the reported stage -------------------------------------------------


class SatelliteVerdict(StrEnum):
    """What a satellite change on a project's parcel means, given what the project reports."""

    EVIDENCE = "EVIDENCE"  # under construction and the report agrees: change is expected
    PRE_START = "PRE_START"  # reported not started: VERIFICATION_MISMATCH SATELLITE_CONSTRUCTION
    AFTER_COMPLETION = "AFTER_COMPLETION"  # reported completed before the pass
    WHILE_SUSPENDED = "WHILE_SUSPENDED"  # reported suspended (停缓建)
    BEFORE_REPORTED_START = "BEFORE_REPORTED_START"  # change before the reported start
    REPORTED_STANDSTILL = "REPORTED_STANDSTILL"  # no investment reported for the pass's month


def satellite_verdict(project: Project, inputs: Inputs, pass_day: dt.date) -> SatelliteVerdict:
    """Stage-aware reading of a satellite change seen on ``pass_day``.

    Change on a project under construction is evidence of the work it reports. It contradicts
    the report when the stage says no work should happen (completed before the pass,
    suspended), or when the reported progress disagrees: the reported start is after the
    pass, or the month of the pass (else the month before) was reported with no investment.
    A project reported not started (planning, preparation, no actual start) is the
    verification mismatch SATELLITE_CONSTRUCTION, so it is not a second alert."""
    stage = project.stage
    if stage == "suspended":
        return SatelliteVerdict.WHILE_SUSPENDED
    if stage == "completed":
        if project.actual_end is None or project.actual_end < pass_day:
            return SatelliteVerdict.AFTER_COMPLETION
        return SatelliteVerdict.EVIDENCE
    if project.actual_start is None and stage in ("planning", "preparation"):
        return SatelliteVerdict.PRE_START
    if project.actual_start is not None and project.actual_start > pass_day:
        return SatelliteVerdict.BEFORE_REPORTED_START
    month = f"{pass_day.year:04d}-{pass_day.month:02d}"
    first = pass_day.replace(day=1) - dt.timedelta(days=1)
    previous = f"{first.year:04d}-{first.month:02d}"
    reported = inputs.months.get(month, inputs.months.get(previous))
    if reported is not None and reported <= 0:
        return SatelliteVerdict.REPORTED_STANDSTILL
    return SatelliteVerdict.EVIDENCE


# --- loading ------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """Every project's evidence over a window of days, its mismatches, and what it read."""

    today: dt.date
    projects: dict[str, Project]
    sensors: list[SensorRef]
    inputs: dict[str, Inputs]
    history: dict[str, dict[dt.date, DayEvidence]]
    mismatches: dict[str, list[Mismatch]]
    latest: list[Latest]


async def read_graph(store: GraphStore) -> tuple[dict[str, Project], list[SensorRef], list[Any]]:
    rows = await store.run(gf.PROJECTS)
    sensors = await store.run(gf.SENSORS)
    months = await store.run(gf.MONTHS)
    projects = {str(r["code"]): Project.of(r) for r in rows}
    refs = [
        SensorRef(str(s["id"]), str(s["kind"]), str(s["project_code"]), s.get("stale_after_s"))
        for s in sensors
    ]
    return projects, refs, months


async def read_telemetry(
    telemetry: TelemetryStore,
    today: dt.date,
    rules: FusionSettings,
    codes: Sequence[str] | None = None,
) -> tuple[list[DailyRollup], list[Headcount], list[Latest]]:
    """Rollups over the baseline window, headcounts and newest readings: of every project,
    or of ``codes`` (one query per project)."""
    start = today - dt.timedelta(days=max(rules.baseline_days, rules.window_days) - 1)
    if codes is None:
        rollups = await telemetry.daily(start=start, end=today)
        latest = await telemetry.latest()
    else:
        rollups, latest = [], []
        for code in codes:
            rollups += await telemetry.daily(start=start, end=today, project_code=code)
            latest += await telemetry.latest(project_code=code)
    heads = await telemetry.headcount(start=start, end=today, project_codes=codes)
    return rollups, heads, latest


def assess(
    projects: Mapping[str, Project],
    inputs: Mapping[str, Inputs],
    today: dt.date,
    tz: dt.tzinfo,
    rules: FusionSettings,
) -> tuple[dict[str, dict[dt.date, DayEvidence]], dict[str, list[Mismatch]]]:
    """Evidence for the last ``window_days`` days and mismatches as of ``today``."""
    window = days(today, rules.window_days)
    history: dict[str, dict[dt.date, DayEvidence]] = {}
    found: dict[str, list[Mismatch]] = {}
    for code, project in projects.items():
        data = inputs.get(code) or Inputs()
        history[code] = {
            d: evidence(project, data, d, tz, rules, partial=d == today) for d in window
        }
        found[code] = mismatches(project, data, history[code], today, rules)
    return history, found


def idle_run(history: Mapping[dt.date, DayEvidence], today: dt.date) -> int:
    """Consecutive IDLE days up to the last one that can be judged (``last_complete``)."""
    n = 0
    day = last_complete(history, today)
    while (e := history.get(day)) is not None and e.status is Activity.IDLE:
        n += 1
        day -= dt.timedelta(days=1)
    return n
