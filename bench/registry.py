"""The benchmark registry: each benchmark is an async function returning named figures."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

Figures = dict[str, float | int | str]
Benchmark = Callable[[], Coroutine[Any, Any, Figures]]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    description: str
    run: Benchmark


BENCHMARKS: dict[str, Entry] = {}


def benchmark(name: str, description: str) -> Callable[[Benchmark], Benchmark]:
    def register(func: Benchmark) -> Benchmark:
        BENCHMARKS[name] = Entry(name, description, func)
        return func

    return register
