"""Relay pagination arguments, opaque cursors and global ids.

A cursor holds the row's sort values and key (keyset pagination), tagged with the list and sort
order it came from, so it stays valid while rows are added or removed and is refused, with
BAD_USER_INPUT, when used on another list or order.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from graph_schema.errors import InvalidInput, Problem

DEFAULT_PAGE = 20
# The largest offset a list takes (page-N tables); hub.api.cost prices what it skips.
MAX_OFFSET = 10_000


def _b64encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _b64decode(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode()


def encode_cursor(signature: str, values: list[Any]) -> str:
    return _b64encode(json.dumps([signature, values], ensure_ascii=False, separators=(",", ":")))


def decode_cursor(cursor: str, signature: str, length: int, argument: str) -> list[Any]:
    try:
        tag, values = json.loads(_b64decode(cursor))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise InvalidInput(f"{argument}: not a cursor this API issued") from None
    if tag != signature:
        raise InvalidInput(f"{argument}: the cursor comes from another list or sort order")
    if (
        not isinstance(values, list)
        or len(values) != length
        or not all(isinstance(v, str | int | float) for v in values)
    ):
        raise InvalidInput(f"{argument}: not a cursor this API issued")
    return values


@dataclass(frozen=True, slots=True)
class Window:
    """Which slice of a list one request wants."""

    size: int
    backward: bool
    cursor: str | None  # still encoded; decoded against the list's signature


def window(
    first: int | None, after: str | None, last: int | None, before: str | None, max_size: int
) -> Window:
    problems = []
    if first is not None and last is not None:
        problems.append(Problem("first", "pass first or last, not both"))
    if first is not None and before is not None:
        problems.append(
            Problem("before", "page forward with first/after, backward with last/before")
        )
    if last is not None and after is not None:
        problems.append(
            Problem("after", "page forward with first/after, backward with last/before")
        )
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_size:
            problems.append(Problem(name, f"must be between 0 and {max_size}"))
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and len(cursor) > 2000:
            problems.append(Problem(name, "not a cursor this API issued"))
    if problems:
        raise InvalidInput("; ".join(str(p) for p in problems))
    if last is not None or before is not None:
        return Window(last if last is not None else min(DEFAULT_PAGE, max_size), True, before)
    return Window(first if first is not None else min(DEFAULT_PAGE, max_size), False, after)


def args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> dict[str, Any]:
    """The four Relay pagination arguments as keywords, for passing on."""
    return {"first": first, "after": after, "last": last, "before": before}


def encode_global_id(type_name: str, key: str) -> str:
    return _b64encode(f"{type_name}:{key}")


def decode_global_id(global_id: str) -> tuple[str, str]:
    try:
        type_name, key = _b64decode(global_id).split(":", 1)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidInput(f"{global_id[:80]!r} is not a global id this API issued") from None
    if not type_name or not key:
        raise InvalidInput(f"{global_id[:80]!r} is not a global id this API issued")
    return type_name, key


def key_of(value: str, type_name: str) -> str:
    """The business key an argument naming a ``type_name`` object stands for: the key inside its
    global id (from an ``id`` field), or, for one release, the bare business key itself (the
    arguments took keys before they took global ids; CHANGELOG). A global id of another type is
    refused (BAD_USER_INPUT), never looked up as a key."""
    try:
        decoded_type, key = decode_global_id(value)
    except InvalidInput:
        return value
    if decoded_type == type_name:
        return key
    if decoded_type.isidentifier() and decoded_type[:1].isupper():
        raise InvalidInput(f"{value[:80]!r} is the id of a {decoded_type}, not of a {type_name}")
    return value
