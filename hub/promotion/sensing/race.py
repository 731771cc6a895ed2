"""The quarterly regional race (投资赛马): normalised scores, a weighted composite, ranks.

For one quarter, each region has a value per race indicator. Scores put indicators of
different units on one scale, across the regions in the race:

- ``MIN_MAX`` (default): ``100 × (x − min) / (max − min)``; the best region scores 100 and the
  worst 0 on each indicator, and equal values everywhere score 100 (nobody is behind). Easy to
  read, bounded, but one outlier squeezes everyone else together.
- ``Z_SCORE``: ``(x − mean) / sd`` (population sd; 0 when all are equal): unbounded, but an
  outlier does not compress the rest.

For an indicator where lower is better the score is mirrored (``100 − …``, or ``−z``). A region
that did not report an indicator gets the lowest score any region got on it, so every region's
composite uses the same weights and not reporting never pays. An indicator no region reported
drops out and the weights of the rest are renormalised. The composite is ``Σ w·score / Σ w``.

Ranks are standard competition ranks, highest composite first: 1, 2, 2, 4 (composites within
1e-9 of each other tie). Regions with no value at all have no composite and no rank. The
leaders are the regions ranked within the first ``leaders`` places, ties at the boundary
included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Normalisation(StrEnum):
    MIN_MAX = "min_max"
    Z_SCORE = "z_score"


@dataclass(frozen=True, slots=True)
class Entry:
    region: str
    composite: float | None
    rank: int | None
    leader: bool
    scores: Mapping[str, float | None]  # indicator → score (None: dropped from the race)
    values: Mapping[str, float | None]  # indicator → the region's value (None: not reported)


def scores(
    values: Mapping[str, float | None], higher_is_better: bool, normalisation: Normalisation
) -> dict[str, float]:
    """Normalised scores of the regions that reported; missing ones get the lowest score."""
    known = {r: v for r, v in values.items() if v is not None}
    if not known:
        return {}
    xs = list(known.values())
    out: dict[str, float] = {}
    if normalisation is Normalisation.MIN_MAX:
        lo, hi = min(xs), max(xs)
        for region, x in known.items():
            if hi == lo:
                out[region] = 100.0
            else:
                share = (x - lo) / (hi - lo)
                out[region] = 100.0 * (share if higher_is_better else 1.0 - share)
    else:
        mean = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
        for region, x in known.items():
            z = 0.0 if sd == 0 else (x - mean) / sd
            out[region] = z if higher_is_better else -z
    floor = min(out.values())
    for region in values:
        out.setdefault(region, floor)
    return out


def competition_ranks(composites: Sequence[float | None]) -> list[int | None]:
    """Highest first; ties (within 1e-9) share the best rank and skip the next: 1, 2, 2, 4."""
    known = {i: c for i, c in enumerate(composites) if c is not None}
    order = sorted(known, key=lambda i: -known[i])
    ranks: list[int | None] = [None] * len(composites)
    for place, i in enumerate(order):
        if place > 0:
            prev = order[place - 1]
            if abs(known[prev] - known[i]) <= 1e-9 * max(1.0, abs(known[i])):
                ranks[i] = ranks[prev]
                continue
        ranks[i] = place + 1
    return ranks


def race(
    values: Mapping[str, Mapping[str, float | None]],
    weights: Mapping[str, float],
    higher_is_better: Mapping[str, bool],
    *,
    normalisation: Normalisation = Normalisation.MIN_MAX,
    leaders: int = 3,
) -> list[Entry]:
    """``values``: region → indicator → value. Entries in rank order (unranked last, by region)."""
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise ValueError("weights must be non-negative with at least one positive")
    regions = sorted(values)
    per_indicator: dict[str, dict[str, float]] = {}
    for indicator in sorted(weights):
        column = {r: values[r].get(indicator) for r in regions}
        per_indicator[indicator] = scores(
            column, higher_is_better.get(indicator, True), normalisation
        )
    live = {i: w for i, w in weights.items() if per_indicator[i] and w > 0}
    total = sum(live.values())
    composites: list[float | None] = []
    for region in regions:
        if total == 0 or all(values[region].get(i) is None for i in live):
            composites.append(None)
            continue
        composites.append(sum(w * per_indicator[i][region] for i, w in live.items()) / total)
    ranks = competition_ranks(composites)
    entries = [
        Entry(
            region=region,
            composite=composites[k],
            rank=ranks[k],
            leader=(ranks[k] or leaders + 1) <= leaders,
            scores={
                i: per_indicator[i].get(region) if i in live else None for i in sorted(weights)
            },
            values={i: values[region].get(i) for i in sorted(weights)},
        )
        for k, region in enumerate(regions)
    ]
    return sorted(entries, key=lambda e: (e.rank is None, e.rank or 0, e.region))
