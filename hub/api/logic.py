"""OR and NOT for the ``where`` inputs of lists the hub filters in Python.

The graph entities' wheres compile OR/NOT into Cypher (``hub.api.inputs.branches``); the other
lists (alerts' own statement aside) filter their rows in Python, so one evaluator serves them
all: a module gives ``keep(item, where)``, whether one where's own fields hold, and ``holds``
adds its ``OR`` (any alternative holds) and ``NOT`` (the negated where does not). ``check``
refuses a where past the same caps, with the same messages, as the entity inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from hub.api.inputs import branches
from hub.api.paging import key_of


def check(where: Any) -> None:
    """Refuse (InvalidInput) OR/NOT nested deeper than ``MAX_NESTING``, an OR of more than
    ``MAX_TERMS`` alternatives or more than ``MAX_TERMS`` filters inside OR/NOT in all."""
    if where is not None:
        branches(where)


def combined(where: Any) -> bool:
    """Whether ``where`` has an OR or a NOT (top level)."""
    return where is not None and (
        getattr(where, "or_", None) is not None or getattr(where, "not_", None) is not None
    )


def holds[T, W](item: T, where: W | None, keep: Callable[[T, W], bool]) -> bool:
    """Whether ``item`` matches ``where``: its own fields (``keep``), any of its OR (an empty OR
    matches nothing) and not its NOT."""
    if where is None:
        return True
    if not keep(item, where):
        return False
    either: list[W] | None = getattr(where, "or_", None)
    if either is not None and not any(holds(item, alt, keep) for alt in either):
        return False
    negated: W | None = getattr(where, "not_", None)
    return negated is None or not holds(item, negated, keep)


def matching[T, W](items: Iterable[T], where: W | None, keep: Callable[[T, W], bool]) -> list[T]:
    """The items ``where`` selects, in their order; the where checked against the caps first."""
    check(where)
    return [item for item in items if holds(item, where, keep)]


def fields(where: Any) -> set[str]:
    """The names of the filters set anywhere in ``where`` (OR and NOT included): a list that
    loads extra data for one filter (a region tree) loads it only when some where uses it."""
    out: set[str] = set()
    if where is None:
        return out
    for f in dataclasses.fields(where):
        name, value = f.name, getattr(where, f.name)
        if value is None:
            continue
        if name == "or_":
            for alt in value:
                out |= fields(alt)
        elif name == "not_":
            out |= fields(value)
        else:
            out.add(name)
    return out


def within(tree: Any, region: str, code: str | None) -> bool:
    """Whether the region ``code`` is ``region`` (its code or global id) or below it in
    ``tree`` (a ``RegionTree``)."""
    return tree is not None and key_of(region, "Region") in tree.up(code)
