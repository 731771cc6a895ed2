"""Approval stages: the three phases (前期工作, 施工建设, 竣工验收) run in parallel, each with its
approval items, and elapsed working days against the committed limit.

Limits in working days: 55 for government-invested projects, 45 for enterprise projects, 40
under the commitment system (承诺制). Working days are Monday to Friday, less the State
Council's public holidays, plus its make-up working weekends (调休), for the years in
``HOLIDAYS``; other years count Monday to Friday only (add each year's notice when published).

Elapsed working days of an item are counted after its start day up to and including its
completion (or ``today`` while open); an item opened and closed the same day took 0. A phase,
and the whole process, count the working days on which at least one of their items was under
review: parallel items and phases are not added up, and days when nothing was under review
(the owner building, between construction and acceptance) do not count against the limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from graph_schema.statements.schedules import ApprovalItem, ApprovalPhase, ApprovalRegime

LIMITS: Final = {
    ApprovalRegime.GOVERNMENT: 55,
    ApprovalRegime.ENTERPRISE: 45,
    ApprovalRegime.COMMITMENT: 40,
}
# Share of the limit used beyond which an unfinished process is at risk.
AT_RISK_SHARE: Final = 0.8


def _span(first: str, last: str) -> list[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


# 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号).
HOLIDAYS: Final[frozenset[dt.date]] = frozenset(
    [
        dt.date(2025, 1, 1),
        *_span("2025-01-28", "2025-02-04"),
        *_span("2025-04-04", "2025-04-06"),
        *_span("2025-05-01", "2025-05-05"),
        *_span("2025-05-31", "2025-06-02"),
        *_span("2025-10-01", "2025-10-08"),
    ]
)
MAKE_UP_WORKDAYS: Final[frozenset[dt.date]] = frozenset(
    dt.date.fromisoformat(d)
    for d in ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11")
)


def is_working_day(day: dt.date) -> bool:
    if day in MAKE_UP_WORKDAYS:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS


def working_days(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    days = (end - start).days
    return sum(1 for i in range(1, days + 1) if is_working_day(start + dt.timedelta(days=i)))


class ItemStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class LimitStatus(StrEnum):
    WITHIN = "within"
    AT_RISK = "at_risk"  # unfinished and past AT_RISK_SHARE of the limit
    EXCEEDED = "exceeded"


@dataclass(frozen=True, slots=True)
class ItemProgress:
    item: ApprovalItem
    status: ItemStatus
    elapsed_working_days: int | None


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    phase: ApprovalPhase
    items: tuple[ItemProgress, ...]
    started_on: dt.date | None
    completed_on: dt.date | None  # when every item is done
    elapsed_working_days: int | None

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.status is ItemStatus.DONE)

    @property
    def share(self) -> float:
        return self.done / len(self.items) if self.items else 0.0


@dataclass(frozen=True, slots=True)
class ApprovalProgress:
    project_code: str
    regime: ApprovalRegime
    limit_working_days: int
    phases: tuple[PhaseProgress, ...]
    elapsed_working_days: int | None
    completed: bool
    status: LimitStatus

    @property
    def remaining_working_days(self) -> int | None:
        if self.elapsed_working_days is None:
            return None
        return self.limit_working_days - self.elapsed_working_days


def _window(
    items: Iterable[ApprovalItem], today: dt.date
) -> tuple[dt.date | None, dt.date | None, int | None]:
    """First start, last completion (None while any item is open or not started) and the
    working days on which at least one item was under review."""
    items = list(items)
    started = [i for i in items if i.started_on is not None]
    if not started:
        return None, None, None
    covered: set[dt.date] = set()
    for item in started:
        assert item.started_on is not None
        end = item.completed_on or today
        for n in range(1, (end - item.started_on).days + 1):
            day = item.started_on + dt.timedelta(days=n)
            if is_working_day(day):
                covered.add(day)
    done = all(i.completed_on is not None for i in items)
    finish = max(i.completed_on for i in items if i.completed_on is not None) if done else None
    return min(i.started_on for i in started if i.started_on), finish, len(covered)


def progress(project: str, items: Sequence[ApprovalItem], today: dt.date) -> ApprovalProgress:
    """Where a project's approvals stand at ``today``."""
    if not items:
        raise ValueError("no approval items")
    regimes = {i.regime for i in items}
    # Items disagreeing on the regime: the strictest (shortest) limit applies.
    regime = min(regimes, key=lambda r: LIMITS[r])
    phases = []
    for phase in ApprovalPhase:
        mine = sorted((i for i in items if i.phase is phase), key=lambda i: (i.position, i.code))
        rows = []
        for item in mine:
            if item.completed_on is not None:
                status = ItemStatus.DONE
            elif item.started_on is not None:
                status = ItemStatus.IN_PROGRESS
            else:
                status = ItemStatus.NOT_STARTED
            end = item.completed_on or today
            elapsed = working_days(item.started_on, end) if item.started_on else None
            rows.append(ItemProgress(item, status, elapsed))
        start, finish, elapsed = _window(mine, today)
        phases.append(PhaseProgress(phase, tuple(rows), start, finish, elapsed))
    _, _, total = _window(items, today)
    completed = all(i.completed_on is not None for i in items)
    limit = LIMITS[regime]
    if total is not None and total > limit:
        state = LimitStatus.EXCEEDED
    elif total is not None and not completed and total >= AT_RISK_SHARE * limit:
        state = LimitStatus.AT_RISK
    else:
        state = LimitStatus.WITHIN
    return ApprovalProgress(project, regime, limit, tuple(phases), total, completed, state)
