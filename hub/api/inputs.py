"""What the filter (``where``) and sort inputs of every list share: ranges, descriptions, and
the helpers that turn them into statement parameters; each entity's own inputs live in its
module under ``hub.api.entities``.

Field names are the filter names of ``graph_schema.statements.reads.NODE_SETS`` (ranges become
``<name>_min``/``<name>_max``), so ``filters()`` turns an input into statement parameters with
no per-field code, and a test checks the two tables agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from graph_schema.errors import InvalidInput
from hub.api.enums import SortDirection

MAX_TEXT = 200
MAX_LIST = 1000


@strawberry.input(description="An inclusive range of amounts; either end may be left open.")
class FloatRange:
    min: float | None = strawberry.field(default=None, description="Smallest value included.")
    max: float | None = strawberry.field(default=None, description="Largest value included.")


@strawberry.input(description="An inclusive range of counts; either end may be left open.")
class IntRange:
    min: int | None = strawberry.field(default=None, description="Smallest value included.")
    max: int | None = strawberry.field(default=None, description="Largest value included.")


@strawberry.input(description="An inclusive range of dates; either end may be left open.")
class DateRange:
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="Earliest date included."
    )
    to: dt.date | None = strawberry.field(default=None, description="Latest date included.")


def plain(value: Any) -> Any:
    """A GraphQL input value as the model stores it: enum values, ISO dates."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a nested input
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    return value


def filters(where: Any) -> dict[str, Any]:
    """Filter name → parameter value for every field set on a ``where`` input."""
    out: dict[str, Any] = {}
    if where is None:
        return out
    for f in dataclasses.fields(where):
        value = getattr(where, f.name)
        if value is None:
            continue
        ends: dict[str, Any]
        if isinstance(value, FloatRange | IntRange):
            ends = {"min": value.min, "max": value.max}
        elif isinstance(value, DateRange):
            ends = {"min": value.from_, "max": value.to}
        else:
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise InvalidInput(f"where.{f.name}: at most {MAX_TEXT} characters")
            if isinstance(value, list) and len(value) > MAX_LIST:
                raise InvalidInput(f"where.{f.name}: at most {MAX_LIST} values")
            out[f.name] = plain(value)
            continue
        for end, bound in ends.items():
            if bound is not None:
                out[f"{f.name}_{end}"] = plain(bound)
    return out


_USCC = "Unified social credit code (GB 32100-2015), with a valid check character."
_REGION_CODE = "GB/T 2260 code of the region."
_REGION = "Region code (GB/T 2260); includes every sub-region."
_CHAIN = "Industry chain id; matches when any of its segments does."
_NAME = "Case-insensitive substring of the name."
_SEARCH = (
    "Full-text search on the name (top-level lists only). Results sort by relevance unless a "
    "sort is given; every word must match."
)
_DIRECTION = "Ascending (default) or descending."


def sort_keys(sort: list[Any] | None) -> tuple[tuple[str, bool], ...]:
    """(reads sort name, descending) per key of a ``sort`` argument."""
    if not sort:
        return ()
    if len(sort) > 3:
        raise InvalidInput("sort: at most 3 keys")
    keys = tuple((s.field.value, s.direction is SortDirection.DESC) for s in sort)
    if len({name for name, _ in keys}) != len(keys):
        raise InvalidInput("sort: each field at most once")
    return keys
