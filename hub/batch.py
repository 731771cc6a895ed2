"""Per-item outcomes of batch writes (needs, credit, land nodes, schedules): each item is
applied or rejected on its own, with every reason and one stable code."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from graph_schema.errors import Problem
from graph_schema.model import pydantic_problems


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    index: int
    key: str | None
    problems: tuple[Problem, ...] = ()
    # BAD_USER_INPUT (invalid value) or NOT_FOUND (a referenced object is missing).
    code: str = "BAD_USER_INPUT"

    @property
    def ok(self) -> bool:
        return not self.problems


def rejected(index: int, key: str | None, field: str, message: str, code: str) -> ItemOutcome:
    return ItemOutcome(index, key, (Problem(field, message),), code)


def problems_of(exc: ValidationError) -> tuple[Problem, ...]:
    return tuple(pydantic_problems(exc))
