"""Chain statistics for the demo: quarterly and yearly figures per chain, segment and region.

Drawn from the demo's own enterprises and projects, so the series agree with the graph: a
segment's output in a city grows from about what its enterprises there report today, back
through seven quarters (2025-Q1 to 2026-Q3) with a drawn growth rate and seasonality; project
count is the segment's projects under construction in the quarter; employment and patents
grow towards today's head count and patents. Each year 2025 row sums (output) or closes
(the others) its quarters. Also one stored project list, the spring signing (春季集中签约).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Final

from graph_schema.periods import parse_period
from hub.demo.enterprises import Firm
from hub.demo.projects import Draft
from hub.demo.regions import PROVINCE

QUARTERS: Final = ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
_SEASON: Final = (0.86, 1.0, 1.02, 1.12)
_QUARTER_END: Final = {q: parse_period(q).end for q in QUARTERS}
_QUARTER_START: Final = {q: parse_period(q).start for q in QUARTERS}


def chain_stat_dicts(rng: random.Random, firms: list[Firm], drafts: list[Draft]) -> list[Any]:
    # (chain, segment or None, region) → today's totals of its enterprises.
    output: dict[tuple[str, str | None, str], float] = defaultdict(float)
    staff: dict[tuple[str, str | None, str], int] = defaultdict(int)
    patents: dict[tuple[str, str | None, str], int] = defaultdict(int)
    for firm in firms:
        for key in _scopes(firm.chain.id, [s.id for s in firm.segments], firm.city_code):
            output[key] += firm.output
            staff[key] += firm.employees
            patents[key] += firm.patents
    sites: dict[tuple[str, str | None, str], list[Draft]] = defaultdict(list)
    for draft in drafts:
        segments = [s.id for s in draft.segments]
        for key in _scopes(draft.chain.id, segments, draft.county.city_code):
            sites[key].append(draft)
    rows: list[Any] = []
    for key in sorted(output.keys() | sites.keys(), key=lambda k: (k[0], k[1] or "", k[2])):
        rows += _series(rng, key, output[key], staff[key], patents[key], sites[key])
    return rows


def _scopes(chain: str, segments: list[str], city: str) -> Iterator[tuple[str, str | None, str]]:
    for region in (PROVINCE.code, city):
        yield chain, None, region
        for segment in segments:
            if segment.startswith(chain + "."):
                yield chain, segment, region


def _series(
    rng: random.Random,
    key: tuple[str, str | None, str],
    output: float,
    staff: int,
    patents: int,
    sites: list[Draft],
) -> list[dict[str, Any]]:
    chain, segment, region = key
    growth = rng.uniform(0.02, 0.16)  # a year
    base = {"chain_id": chain, "segment_id": segment, "region_code": region}
    rows = []
    last = len(QUARTERS) - 1
    for i, quarter in enumerate(QUARTERS):
        back = (last - i) / 4  # years before 2026-Q3
        shrink = (1 + growth) ** -back
        noise = rng.uniform(0.97, 1.03)
        active = sum(1 for d in sites if _active(d, quarter))
        rows.append(
            {
                **base,
                "period": quarter,
                "output": round(output / 4 * _SEASON[int(quarter[-1]) - 1] * shrink * noise, 1),
                "project_count": active,
                "employment": round(staff * (1 + growth / 2) ** -back),
                "patents": round(patents * (1 + growth) ** -back),
            }
        )
    year = [r for r in rows if str(r["period"]).startswith("2025")]
    rows.append(
        {
            **base,
            "period": "2025",
            "output": round(sum(r["output"] for r in year), 1),
            "project_count": sum(1 for d in sites if _active_in_2025(d)),
            "employment": year[-1]["employment"],
            "patents": year[-1]["patents"],
        }
    )
    return rows


def _active(draft: Draft, quarter: str) -> bool:
    start, end = draft.actual_start, draft.actual_end
    return (
        start is not None
        and start <= _QUARTER_END[quarter]
        and (end is None or end >= _QUARTER_START[quarter])
    )


def _active_in_2025(draft: Draft) -> bool:
    start, end = draft.actual_start, draft.actual_end
    return (
        start is not None
        and start <= dt.date(2025, 12, 31)
        and (end is None or end >= dt.date(2025, 1, 1))
    )


def project_list_dicts(drafts: list[Draft]) -> list[dict[str, Any]]:
    """The spring signing: new projects planned to start from March to May of this year."""
    spring = sorted(
        d.code
        for d in drafts
        if d.kind.value == "new" and dt.date(2026, 3, 1) <= d.planned_start <= dt.date(2026, 5, 31)
    )
    return [
        {
            "id": "spring-signing",
            "name": "2026年春季集中签约项目",
            "description": "New projects signed in the spring drive, due to start March to May.",
            "project_codes": spring[:60],
        }
    ]
