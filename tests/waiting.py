"""Waiting in tests: on a condition, with a generous ceiling, and saying how long it took.

Tests assert behaviour, never speed (speed lives in ``bench/``). Where a test must wait for
something to happen (a server to answer, a message to arrive, a call to return), it waits on
the condition itself with a ceiling about ten times the idle figure, so a machine with every
core busy still passes, and prints the time taken so a regression shows in the output
(``pytest -s`` or the captured output of a failure). ``tests/test_no_timed_assertions.py``
keeps wall-clock assertions from coming back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


def wait_until(
    check: Callable[[], bool], *, ceiling: float, what: str, interval: float = 0.05
) -> float:
    """Poll ``check`` until it is true; return the seconds waited. Fails after ``ceiling``."""
    started = time.monotonic()
    while not check():
        waited = time.monotonic() - started
        if waited > ceiling:
            raise AssertionError(f"{what}: still not true after {waited:.1f} s")
        time.sleep(interval)
    waited = time.monotonic() - started
    print(f"{what}: after {waited:.2f} s")
    return waited


async def finishes[T](awaitable: Awaitable[T], *, ceiling: float, what: str) -> T:
    """Await ``awaitable``, failing (not hanging) if it takes more than ``ceiling`` seconds."""
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(awaitable, ceiling)
    except TimeoutError:
        raise AssertionError(f"{what}: did not finish in {ceiling:.0f} s") from None
    print(f"{what}: took {time.monotonic() - started:.2f} s")
    return result
