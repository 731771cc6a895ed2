"""The hub's exception tree.

It is drawn here, in the lowest layer, so that every package raises the same family and the API
can map each class to one stable error code (``HubError.code``) without knowing which adapter
failed::

    HubError                      INTERNAL
    ├── InvalidInput              BAD_USER_INPUT
    │   ├── InvalidRecord         BAD_USER_INPUT  (one record, with field-level reasons)
    │   └── UnstorableText        INVALID_TEXT    (NUL or a lone surrogate in a parameter)
    ├── NotFound                  NOT_FOUND
    ├── ConfigurationError        INTERNAL        (bad settings; raised at start)
    └── GraphError                INTERNAL
        ├── GraphUnavailable      UNAVAILABLE     (store down, crashed or unreachable)
        └── GraphQueryError       INTERNAL        (the store refused a statement)
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class HubError(Exception):
    """Base of every error the hub raises on purpose; ``code`` is its stable error code."""

    code = "INTERNAL"


class InvalidInput(HubError):
    """The caller sent something the hub cannot accept."""

    code = "BAD_USER_INPUT"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a record was rejected: the field (dotted path, or ``""``) and what is wrong."""

    field: str
    message: str
    code: str | None = None  # a more precise error code than the exception's, e.g. INVALID_TEXT

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidRecord(InvalidInput):
    """One record failed validation; ``problems`` lists every reason, not just the first."""

    def __init__(self, entity: str, key: str | None, problems: Sequence[Problem]) -> None:
        self.entity = entity
        self.key = key
        self.problems = tuple(problems)
        reasons = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid {entity} {key or '(no key)'}: {reasons}")


class UnstorableText(InvalidInput):
    """A statement parameter holds text no graph store accepts (checked before it is sent)."""

    code = "INVALID_TEXT"


# Text the graph stores refuse: FalkorDB rejects a parameter holding NUL (failing the whole
# statement, so a whole batch), and a lone surrogate (JSON "\ud800") cannot be encoded as UTF-8
# for any store. Records refuse it per field (``graph_schema.model``); statements refuse it
# before they are sent.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# In JSON (ASCII) both come out as escapes: ``\u0000`` and ``\ud800``-``\udfff``.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|d[89a-f])")


def unstorable_text(value: Any) -> str | None:
    """Why ``value`` (a string, or lists and maps of them) cannot be stored; ``None`` if it can."""
    if isinstance(value, dict | list | tuple):
        # A statement's parameters are thousands of values: one pass of the JSON encoder (C)
        # clears nearly all of them. A hit (or a value JSON cannot spell) takes the walk below,
        # which also says where; a backslash typed before "u0000" is a hit the walk clears.
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = None
        if text is not None and _ESCAPED_UNSTORABLE.search(text) is None:
            return None
    return _unstorable(value)


UNPORTABLE = "UNPORTABLE"  # a Problem code: a parameter of a type the stores treat differently
# A run of 19 digits in a JSON text may be an integer beyond 64 bits (or digits in a string).
_SUSPECT = re.compile(r"\\u(?:0000|d[89a-f])|\d{19}")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def unstorable_value(value: Any) -> Problem | None:
    """Why a statement parameter cannot be sent, or ``None``: text ``unstorable_text`` refuses
    (code ``INVALID_TEXT``), an integer beyond 64 bits, which neither store holds (Neo4j's
    driver cannot encode it; FalkorDB silently stores a different number), or a value of a
    type the stores treat differently (code ``UNPORTABLE``: a program error, not input)."""
    if isinstance(value, dict | list | tuple):
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = None
        if text is not None and _SUSPECT.search(text) is None:
            return None
    return _unsendable(value)


def _first[T](value: Any, leaf: Callable[[Any], T | None]) -> T | None:
    """``leaf`` of the first value in ``value`` (a map's keys and values, a list's items, at
    any depth, in order) for which it is not ``None``."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = _first(k, leaf)
            if found is None:
                found = _first(v, leaf)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for v in value:
            found = _first(v, leaf)
            if found is not None:
                return found
        return None
    return leaf(value)


def _unsendable(value: Any) -> Problem | None:
    return _first(value, _unsendable_scalar)


def _unsendable_scalar(value: Any) -> Problem | None:
    if isinstance(value, str):
        problem = _unstorable_text(value)
        return None if problem is None else Problem("", problem, UnstorableText.code)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):  # numpy's too
        if _INT64_MIN <= int(value) <= _INT64_MAX:
            return None
        return Problem("", f"the integer {value} does not fit in 64 bits")
    if isinstance(value, numbers.Real) and type(value).__module__ == "numpy":
        return None  # numpy's floats (float64 is a float already): both stores take them
    if value is not None and not isinstance(value, float | bool):
        # Neo4j's driver sends a date or datetime as a temporal value that Neo4j stores;
        # FalkorDB's client spells it unquoted and the statement fails to parse. Bytes, sets
        # and the like differ the same way: one store takes them, the other refuses.
        return Problem(
            "",
            f"a {type(value).__name__} value is not portable between graph stores: "
            "send text (ISO-8601 for dates and times), numbers, booleans, lists or maps",
            UNPORTABLE,
        )
    return None


def _unstorable(value: Any) -> str | None:
    return _first(value, _unstorable_text)


def _unstorable_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    what = "a NUL character" if found.group() == "\x00" else "a lone UTF-16 surrogate"
    return f"text contains {what} (at position {found.start()}), which cannot be stored"


class NotFound(HubError):
    """A referenced entity does not exist."""

    code = "NOT_FOUND"


class Unauthenticated(HubError):
    """The caller did not say who it is, or its credentials are not valid."""

    code = "UNAUTHENTICATED"


class Forbidden(HubError):
    """The caller's role may not do this."""

    code = "FORBIDDEN"


class ConfigurationError(HubError):
    """Settings are wrong; raised while the hub starts, naming the variable."""


class GraphError(HubError):
    """Something went wrong talking to the graph store."""


class GraphUnavailable(GraphError):
    """The graph store cannot be reached: not started, crashed, or the network is down."""

    code = "UNAVAILABLE"


class GraphQueryError(GraphError):
    """The graph store refused or failed a statement (syntax, constraint, runtime error)."""

    def __init__(self, message: str, *, statement: str | None = None) -> None:
        self.statement = statement
        super().__init__(message if statement is None else f"{statement}: {message}")
