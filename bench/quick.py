"""What the quick mode of the benchmarks shares (``python -m bench --quick``): the tiny data,
generated once per process, and the check that fails a quick run on a wrong answer."""

from __future__ import annotations

import dataclasses
import functools

from hub.demo import Scale, generate
from hub.demo.generator import DemoData


class WrongAnswer(Exception):
    """A benchmark got an answer that is not the right one: it is broken, whatever its figures."""


def check(ok: bool, what: str) -> None:
    """Raise ``WrongAnswer`` saying ``what`` was expected unless ``ok``."""
    if not ok:
        raise WrongAnswer(what)


@functools.cache
def _demo() -> DemoData:
    return generate(Scale.DEMO)


@functools.cache
def _tiny() -> DemoData:
    # Four fifths of the demo records are statistics (indicator values, chain statistics) that
    # only the analytics read; nothing else refers to them.
    return dataclasses.replace(_demo(), indicator_value=(), indicator_target=(), chain_stat=())


def province(quick: bool, *, statistics: bool = False) -> DemoData:
    """The hubei-scale province, or for a quick run the demo one (924 projects, 2,000
    enterprises, 3,537 sensors), without its statistics unless ``statistics``; generated once
    per process and shared by every quick benchmark."""
    if not quick:
        return generate(Scale.HUBEI)
    return _demo() if statistics else _tiny()
