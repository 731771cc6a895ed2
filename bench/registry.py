"""The benchmark registry: each benchmark is an async function returning named figures.

A benchmark takes ``quick``: ``python -m bench --quick`` (and ``tests/bench/test_quick.py``) runs
it on tiny data with a few requests, where it must still check its answers and raise on a wrong
one, so a benchmark that no longer runs fails the suite instead of rotting until someone needs
its figures. A benchmark registered without the parameter has no quick mode (``Entry.quick``
is false) and ``--quick`` refuses it by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

Figures = dict[str, float | int | str]
Benchmark = Callable[..., Coroutine[Any, Any, Figures]]


class NoQuickMode(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    description: str
    func: Benchmark
    quick: bool  # whether the benchmark has a quick mode

    def run(self, *, quick: bool = False) -> Coroutine[Any, Any, Figures]:
        if not quick:
            return self.func()
        if not self.quick:
            raise NoQuickMode(f"benchmark {self.name!r} has no quick mode")
        return self.func(quick=True)


BENCHMARKS: dict[str, Entry] = {}


def benchmark(name: str, description: str) -> Callable[[Benchmark], Benchmark]:
    def register(func: Benchmark) -> Benchmark:
        quick = "quick" in inspect.signature(func).parameters
        BENCHMARKS[name] = Entry(name, description, func, quick)
        return func

    return register


def quick_names() -> list[str]:
    """The registered benchmarks that have a quick mode."""
    return [name for name, entry in BENCHMARKS.items() if entry.quick]
