"""Weighted draws on an explicit ``random.Random``: the generator never touches global random."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence


class Picker[T]:
    # Cumulative weights once, then one bisect per draw: the hot path of the HUBEI scale.
    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if not items or len(items) != len(weights):
            raise ValueError("need as many positive weights as items")
        self._items = list(items)
        self._cumulative = list(itertools.accumulate(weights))
        if self._cumulative[-1] <= 0:
            raise ValueError("weights must not all be zero")

    def __len__(self) -> int:
        return len(self._items)

    def pick(self, rng: random.Random) -> T:
        point = rng.random() * self._cumulative[-1]
        return self._items[bisect.bisect_right(self._cumulative, point)]


def weighted_sample[T](
    rng: random.Random, items: Sequence[T], weights: Sequence[float], k: int
) -> list[T]:
    """``k`` distinct items, each more likely the heavier it is (Efraimidis–Spirakis)."""
    # log(u) / w orders the same as u ** (1 / w) without underflowing for tiny weights.
    keys = sorted(
        ((math.log(1.0 - rng.random()) / w, i) for i, w in enumerate(weights) if w > 0),
        reverse=True,
    )
    return [items[i] for _, i in keys[:k]]


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))
