"""Per-project schedules (一表二图): the responsibility table, the Gantt chart (planned against
actual) and the investment-progress curve (planned against actual cumulative, by month) with
deviation warnings.

Task status at ``today``: *done* (actual end given), *late* (not done and planned end before
today), *in progress* (started), *not started*. Gantt bars: the actual bar of an unfinished
task runs to ``today``; start and finish delays are in calendar days (a finish delay of an
unfinished task counts to ``today`` once its planned end has passed).

Curve: months from the first to the last planned or reported month; cumulative planned and
cumulative actual (actual stops at the last reported month). Deviation in points is
(actual − planned cumulative) ÷ total planned × 100. Warnings follow the published
pro-rated-plan rule (序时进度, e.g. Yinchuan's): green when on or ahead or less than
``yellow_points`` behind, yellow from ``yellow_points`` to ``red_points`` behind, red beyond.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from graph_schema.cypher import Statement
from graph_schema.model import SPECS
from graph_schema.patch import for_new, overlay
from graph_schema.statements import schedules as ss
from graph_schema.statements.entities import existing_keys
from graph_schema.store import GraphStore
from hub.batch import ItemOutcome, problems_of, rejected

_PROJECT_EXISTS = existing_keys(SPECS["project"])


# The fields a schedule record's id is made of ("/"-joined), and how to read stored ones back.
_IDS: Final[dict[type[BaseModel], tuple[tuple[str, ...], Statement]]] = {
    ss.ScheduleTask: (("project_code", "code"), ss.TASKS_BY_ID),
    ss.InvestmentMonth: (("project_code", "month"), ss.MONTHS_BY_ID),
    ss.ApprovalItem: (("project_code", "code"), ss.APPROVALS_BY_ID),
}


async def _stored(
    store: GraphStore, record: type[BaseModel], items: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The stored fields of the records the items name, by id."""
    parts, statement = _IDS[record]
    ids = sorted({i for raw in items if (i := _id(parts, raw)) is not None})
    if not ids:
        return {}
    rows = await store.run(statement, {"ids": ids})
    fields = record.model_fields
    return {
        row["id"]: {k: v for k, v in row["props"].items() if k in fields and v is not None}
        for row in rows
    }


def _id(parts: tuple[str, ...], raw: Mapping[str, Any]) -> str | None:
    values = [raw.get(f) for f in parts]
    if any(v in (None, "") for v in values):
        return None
    return "/".join(str(v).strip() for v in values)


async def upsert[R: BaseModel](
    store: GraphStore,
    record: type[R],
    statement: Statement,
    items: Sequence[Mapping[str, Any]],
    key_of: Callable[[R], str],
    *,
    partial: bool = False,
) -> list[ItemOutcome]:
    """Validate and write schedule records item by item (``key_of(record)`` names the node).

    With ``partial`` an item holds only the fields a client sent (``graph_schema.patch``'s
    rule): a field left out keeps its stored value, None clears it to the model's default,
    the merged record is validated whole, and only the sent fields are written over a stored
    node; a new one needs every required field."""
    stored = await _stored(store, record, items) if partial else {}
    parts = _IDS[record][0]
    outcomes: list[ItemOutcome] = []
    valid: list[tuple[int, R, dict[str, Any]]] = []  # record, properties to set
    for i, raw in enumerate(items):
        before = stored.get(_id(parts, raw) or "") if partial else None
        data, cleared = overlay(record, before, raw) if partial else (dict(raw), [])
        try:
            rec = record.model_validate(data)
        except ValidationError as exc:
            new = partial and before is None
            problems = [for_new(record.__name__, p) if new else p for p in problems_of(exc)]
            outcomes.append(ItemOutcome(i, None, (*cleared, *problems)))
            continue
        if cleared:
            outcomes.append(ItemOutcome(i, str(key_of(rec)), tuple(cleared)))
            continue
        props = rec.model_dump(mode="json")
        if before is not None:
            props = {k: v for k, v in props.items() if k in raw}
        valid.append((i, rec, props))
    codes = sorted({str(getattr(r, "project_code")) for _, r, _ in valid})  # noqa: B009
    existing = await store.run(_PROJECT_EXISTS, {"keys": codes}) if codes else []
    found = {r["key"] for r in existing}
    rows = []
    seen: set[str] = set()
    for i, rec, props in valid:
        key = str(key_of(rec))
        project = str(getattr(rec, "project_code"))  # noqa: B009
        if project not in found:
            outcomes.append(rejected(i, key, "project_code", f"no project {project}", "NOT_FOUND"))
        elif key in seen:
            outcomes.append(rejected(i, key, "", "given twice in this batch", "BAD_USER_INPUT"))
        else:
            seen.add(key)
            rows.append({"id": key, "project_code": project, "props": props})
            outcomes.append(ItemOutcome(i, key))
    if rows:
        await store.run(statement, {"rows": rows})
    return sorted(outcomes, key=lambda o: o.index)


def task_key(t: ss.ScheduleTask) -> str:
    return f"{t.project_code}/{t.code}"


def month_key(m: ss.InvestmentMonth) -> str:
    return f"{m.project_code}/{m.month}"


def approval_key(a: ss.ApprovalItem) -> str:
    return f"{a.project_code}/{a.code}"


async def load[T: BaseModel](
    store: GraphStore, statement: Statement, record: type[T], projects: Sequence[str]
) -> dict[str, list[T]]:
    rows = await store.run(statement, {"projects": list(projects)})
    out: dict[str, list[T]] = {}
    for row in rows:
        props = {k: v for k, v in row["props"].items() if k in record.model_fields}
        out.setdefault(row["code"], []).append(record.model_validate(props))
    return out


# --- responsibility table and Gantt -------------------------------------------------------------


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Bar:
    task: ss.ScheduleTask
    status: TaskStatus
    actual_start: dt.date | None
    actual_end: dt.date | None  # today for a started, unfinished task
    start_delay_days: int | None  # None: not started and not yet due to
    finish_delay_days: int | None


def bar(task: ss.ScheduleTask, today: dt.date) -> Bar:
    if task.actual_end is not None:
        status = TaskStatus.DONE
    elif task.planned_end < today:
        status = TaskStatus.LATE
    elif task.actual_start is not None:
        status = TaskStatus.IN_PROGRESS
    else:
        status = TaskStatus.NOT_STARTED
    if task.actual_start is not None:
        start_delay: int | None = (task.actual_start - task.planned_start).days
    elif task.planned_start < today:
        start_delay = (today - task.planned_start).days
    else:
        start_delay = None
    if task.actual_end is not None:
        finish_delay: int | None = (task.actual_end - task.planned_end).days
    elif task.planned_end < today:
        finish_delay = (today - task.planned_end).days
    else:
        finish_delay = None
    running_to = task.actual_end or (today if task.actual_start is not None else None)
    return Bar(task, status, task.actual_start, running_to, start_delay, finish_delay)


def gantt(tasks: Sequence[ss.ScheduleTask], today: dt.date) -> list[Bar]:
    ordered = sorted(tasks, key=lambda t: (t.position, t.planned_start, t.code))
    return [bar(t, today) for t in ordered]


# --- investment curve ---------------------------------------------------------------------------


class Warning(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class CurvePoint:
    month: str
    planned: float
    actual: float | None
    planned_cumulative: float
    actual_cumulative: float | None
    deviation: float | None  # 万元, actual − planned cumulative
    deviation_points: float | None
    warning: Warning | None


@dataclass(frozen=True, slots=True)
class Curve:
    total_planned: float
    points: tuple[CurvePoint, ...]

    @property
    def latest(self) -> CurvePoint | None:
        """The last month with an actual figure."""
        return next((p for p in reversed(self.points) if p.actual_cumulative is not None), None)


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def warning(points: float, yellow_points: float, red_points: float) -> Warning:
    if points < -red_points:
        return Warning.RED
    if points <= -yellow_points:
        return Warning.YELLOW
    return Warning.GREEN


def curve(
    months: Sequence[ss.InvestmentMonth],
    *,
    yellow_points: float = 10.0,
    red_points: float = 30.0,
    through: str | None = None,
) -> Curve:
    """The cumulative curve; actual figures after ``through`` (a YYYY-MM, e.g. the as-of
    month) are left out, as not yet due."""
    by_month = {m.month: m for m in months}
    if not by_month:
        return Curve(0.0, ())
    total = sum(m.planned for m in by_month.values())
    reported = [m.month for m in by_month.values() if m.actual is not None]
    if through is not None:
        reported = [m for m in reported if m <= through]
    last_reported = max(reported) if reported else None
    points = []
    planned_cum = actual_cum = 0.0
    for month in _months(min(by_month), max(by_month)):
        row = by_month.get(month)
        planned = row.planned if row else 0.0
        actual = row.actual if row and last_reported and month <= last_reported else None
        planned_cum += planned
        if last_reported is not None and month <= last_reported:
            actual_cum += actual or 0.0
            deviation = actual_cum - planned_cum
            pts = deviation / total * 100 if total else None
            level = warning(pts, yellow_points, red_points) if pts is not None else None
            points.append(
                CurvePoint(month, planned, actual, planned_cum, actual_cum, deviation, pts, level)
            )
        else:
            points.append(CurvePoint(month, planned, None, planned_cum, None, None, None, None))
    return Curve(total, tuple(points))
