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
from collections.abc import Mapping
from enum import Enum
from typing import Any, Final

import strawberry

from graph_schema.errors import InvalidInput
from graph_schema.statements.reads import Branch, Term
from hub.api.enums import SortDirection
from hub.api.paging import key_of

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


# The fields of every where that combine others rather than filter (OR, NOT).
COMBINATORS = ("or_", "not_")
# How deep OR/NOT may nest and how many filters one where may hold in all: the statement grows
# with both, and its shape is cached.
MAX_NESTING = 4
MAX_TERMS = 50


# The GraphQL type of each entity a related filter anchors on, for global ids in filters
# (a test holds it to the schema's surface).
TYPE_OF_ENTITY: Final = {
    "region": "Region",
    "chain": "IndustryChain",
    "segment": "ChainSegment",
    "product": "Product",
    "enterprise": "Enterprise",
    "parcel": "LandParcel",
    "project": "Project",
    "bank": "Bank",
    "sensor": "Sensor",
    "project_list": "ProjectList",
}


def anchored(values: dict[str, Any], anchors: Mapping[str, str], path: str) -> dict[str, Any]:
    """``values`` with each related filter's value (filter name → anchor entity in ``anchors``)
    turned into the business key: a filter naming an object takes its global id, or its key."""
    out = dict(values)
    for name, entity in anchors.items():
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = key_of(value, TYPE_OF_ENTITY[entity])
            except InvalidInput as exc:
                raise InvalidInput(f"{path}.{name}: {exc}") from None
    return out


def filters(
    where: Any, path: str = "where", anchors: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Filter name → parameter value for every field set on a ``where`` input (not its OR/NOT,
    see ``branches``); ``anchors`` (related filter → anchor entity) lets those take global ids."""
    out: dict[str, Any] = {}
    if where is None:
        return out
    if anchors:
        return anchored(filters(where, path), anchors, path)
    for f in dataclasses.fields(where):
        value = getattr(where, f.name)
        if value is None or f.name in COMBINATORS:
            continue
        ends: dict[str, Any]
        if isinstance(value, FloatRange | IntRange):
            ends = {"min": value.min, "max": value.max}
        elif isinstance(value, DateRange):
            ends = {"min": value.from_, "max": value.to}
        else:
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise InvalidInput(f"{path}.{f.name}: at most {MAX_TEXT} characters")
            if isinstance(value, list) and len(value) > MAX_LIST:
                raise InvalidInput(f"{path}.{f.name}: at most {MAX_LIST} values")
            out[f.name] = plain(value)
            continue
        for end, bound in ends.items():
            if bound is not None:
                out[f"{f.name}_{end}"] = plain(bound)
    return out


def branches(
    where: Any, anchors: Mapping[str, str] | None = None
) -> tuple[tuple[Branch, ...], dict[str, Any]]:
    """The ``OR`` and ``NOT`` of a ``where`` (nested ones included) as statement branches, and
    the parameters they use (``f_<prefix><filter>``, values only ever as parameters)."""
    params: dict[str, Any] = {}
    counted = [0]

    def conjunction(item: Any, prefix: str, path: str, depth: int) -> tuple[str, tuple[Term, ...]]:
        values = filters(item, path, anchors)
        if "search" in values:
            raise InvalidInput(f"{path}.search: full-text search cannot be inside OR or NOT")
        counted[0] += len(values)
        if counted[0] > MAX_TERMS:
            raise InvalidInput(f"where: at most {MAX_TERMS} filters in all")
        params.update({f"f_{prefix}{name}": value for name, value in values.items()})
        nested = below(item, prefix, path, depth + 1)
        return prefix, (*sorted(values), *nested)

    def below(item: Any, prefix: str, path: str, depth: int) -> tuple[Branch, ...]:
        if item is None:
            return ()
        either, negated = getattr(item, "or_", None), getattr(item, "not_", None)
        if either is None and negated is None:
            return ()
        if depth > MAX_NESTING:
            raise InvalidInput(f"{path}: OR and NOT nest at most {MAX_NESTING} deep")
        out = []
        if either is not None:
            if len(either) > MAX_TERMS:
                raise InvalidInput(f"{path}.OR: at most {MAX_TERMS} alternatives")
            alternatives = tuple(
                conjunction(alt, f"{prefix}or{i}_", f"{path}.OR[{i}]", depth)
                for i, alt in enumerate(either)
            )
            out.append(Branch(False, alternatives))
        if negated is not None:
            out.append(Branch(True, (conjunction(negated, f"{prefix}not_", f"{path}.NOT", depth),)))
        return tuple(out)

    return below(where, "", "where", 1), params


_USCC = "Unified social credit code (GB 32100-2015), with a valid check character."
_REGION_CODE = "GB/T 2260 code of the region."
_REGION = "Region code (GB/T 2260) or the region's global id; includes every sub-region."
_CHAIN = "Industry chain id or its global id; matches when any of its segments does."
_NAME = "Case-insensitive substring of the name."
_OR = (
    "Matches when any of these holds (each a where of its own, its filters all holding); "
    "ANDed with the other filters given here. An empty list matches nothing."
)
_NOT = "Matches when this where does not hold; ANDed with the other filters given here."
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
